"""Lianjia's list region: parse_list reads a good page from its list region alone.

The region runs from ``div.content__article`` to the end of the pager. These tests
check that the region path gives exactly what the whole-page parse gives, on the real
saved pages, the hand-written fixtures, the local test site and the simulated market;
that it declines every page that does not plainly have a region; and that a page it
declines still gets the whole page's verdict and message.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rentwatch.sim import pages as sim_pages
from rentwatch.sim.market import Market
from scrapers.errors import EmptyPage, LayoutChanged
from scrapers.htmltext import parse_page
from scrapers.lianjia import ITEM_SELECTOR, BeikeSource, _list_region
from tests import lianjia_site
from tests.realpages import real_page

FIXTURES = Path(__file__).parent / "fixtures" / "lianjia"
SITE_URL = "http://127.0.0.1:8000/zufang/"
beike = BeikeSource()


def whole_page(body: bytes, url: str) -> dict:
    """The page as the whole-page parse reads it (the path taken without a region)."""
    _, tree = parse_page(body, url, beike.name)
    return dataclasses.asdict(beike._list_page(tree, url))


def by_region(body: bytes, url: str) -> dict:
    region = _list_region(body)
    assert region is not None, "the page should have a list region"
    assert len(region) < len(body)
    page = beike._parse_list_region(region, url)
    assert page is not None, "the region path should read this page"
    return dataclasses.asdict(page)


def site_page(n: int = 3, total_pages: int = 2) -> bytes:
    cards = [
        lianjia_site.Card(
            house_code=f"HZ{2400000000000000000 + i}",
            community=("云溪印象", "之江\u00a0富城", 'A&B <x> "q"')[i % 3],
            rent=("2400", "2400-2600", "3100")[i % 3],
            area="53",
            floor="中楼层",
            brand="链家",
        )
        for i in range(n)
    ]
    return lianjia_site.list_page(cards, page=1, total_pages=total_pages, total=n * total_pages)


@pytest.mark.parametrize(
    ("page", "url", "cards"),
    [
        ("lianjia/beike_zufang_list_sz_2020-03.html", "https://sz.zu.ke.com/zufang/", 33),
        ("lianjia/beike_zufang_list_hz_2019-09_localized.html", "https://hz.zu.ke.com/zufang/", 32),
    ],
)
def test_real_pages_read_from_region_as_whole(page, url, cards):
    body = real_page(page)
    region = by_region(body, url)
    assert len(region["records"]) == cards
    assert region == whole_page(body, url)
    assert region["total_pages"] == 100 and len(region["next_urls"]) == 99
    # parse_list takes the region path and gives the same page.
    assert dataclasses.asdict(beike.parse_list(body, url)) == region


def test_fixture_and_site_pages_read_from_region_as_whole():
    fixture = (FIXTURES / "list_xihu_range.html").read_bytes()
    xihu = "https://hz.lianjia.com/zufang/xihu/"
    assert by_region(fixture, xihu) == whole_page(fixture, xihu)
    site = site_page()
    read = by_region(site, SITE_URL)
    assert read == whole_page(site, SITE_URL)
    assert [r["community"] for r in read["records"]] == ["云溪印象", "之江 富城", 'A&B <x> "q"']


def test_simulated_market_pages_read_from_region_as_whole():
    market = Market(seed=5, scale=0.2, days=2)
    market.advance()
    ads = market.live_ads()
    compared = 0
    for page in (1, 2, 3):
        body = sim_pages.list_page(market, ads, "/zufang/", page)
        read = by_region(body, SITE_URL)
        assert read == whole_page(body, SITE_URL)
        compared += len(read["records"])
    assert compared > 50


# -- pages without a plain region go to the whole-page parse ----------------------
def test_region_declined_when_card_markup_lies_outside_it():
    body = site_page()
    # A second card after the pager: only the whole page sees it.
    card = lianjia_site.card_html(
        lianjia_site.Card(house_code="HZ2499999999999999999", community="外面", rent="999")
    )
    outside = body.replace(b"</body>", f'<div class="content__list">{card}</div></body>'.encode())
    assert _list_region(outside) is None
    codes = [r.listing_id for r in beike.parse_list(outside, SITE_URL).records]
    assert "HZ2499999999999999999" in codes and len(codes) == 4


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ((b"<head>", b'<head><meta charset="gbk">'), "declared GBK"),
        ((b'<div class="content__article">', b'<div x=">" class="content__article">'), "odd tag"),
        ((b'class="content__pg"', b'class="pager"'), "no pager"),
    ],
)
def test_region_declined_for_pages_it_cannot_vouch_for(change, why):
    body = site_page()
    assert change[0] in body, why
    changed = body.replace(*change, 1)
    assert _list_region(changed) is None, why


def test_undeclared_gbk_page_is_read_whole_and_decoded_as_gbk():
    # No charset declared: the region is cut out, but its texts show bytes that are
    # not UTF-8, so the whole page is decoded by the charset guesses instead.
    text = site_page().decode("utf-8").replace('<meta charset="utf-8">', "", 1)
    body = text.encode("gb18030")
    region = _list_region(body)
    assert region is not None
    assert beike._parse_list_region(region, SITE_URL) is None
    communities = [r.community for r in beike.parse_list(body, SITE_URL).records]
    assert communities == ["云溪印象", "之江 富城", 'A&B <x> "q"']


def test_declared_gbk_page_still_parses_as_gbk():
    text = site_page().decode("utf-8").replace("<head>", '<head><meta charset="gbk">', 1)
    body = text.encode("gb18030")
    assert _list_region(body) is None
    communities = [r.community for r in beike.parse_list(body, SITE_URL).records]
    assert communities == ["云溪印象", "之江 富城", 'A&B <x> "q"']


def test_truncated_page_is_refused_as_before():
    body = site_page()
    cut = body[: body.index(b"</body>")]
    assert _list_region(cut) is None
    with pytest.raises(EmptyPage, match="cut short"):
        beike.parse_list(cut, SITE_URL)


def test_renamed_card_class_still_names_the_selector():
    # The region holds no card any more: the whole page decides, and says which
    # selector found nothing, as it did before the region path existed.
    body = site_page().replace(b"content__list--item", b"content__list--card")
    assert _list_region(body) is not None
    assert beike._parse_list_region(_list_region(body), SITE_URL) is None
    with pytest.raises(LayoutChanged) as info:
        beike.parse_list(body, SITE_URL)
    assert info.value.selector == ITEM_SELECTOR


def test_missing_prices_in_region_still_raise_layout_changed():
    body = site_page().replace(b"content__list--item-price", b"content__list--item-cost")
    assert beike._parse_list_region(_list_region(body), SITE_URL) is None
    with pytest.raises(LayoutChanged, match="rent"):
        beike.parse_list(body, SITE_URL)
