"""Lianjia's batched card reader (_read_cards_together) against the card-by-card reader.

parse_list reads a page's cards together, through the C extension's bulk reads where it
is built and through selectolax otherwise (scrapers/domread.py), and card by card when
the batched reader declines; all must give the same records. These tests compare them
on the real saved pages, the hand-written fixtures and the pages of the two local test
sites, each way of reading, and check that pages with altered cards still parse to the
right values, whichever path takes them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rentwatch.sim import pages as sim_pages
from rentwatch.sim.market import Market
from scrapers import domread
from scrapers.htmltext import parse_page
from scrapers.lianjia import ITEM_SELECTOR, BeikeSource, _read_cards_together
from tests import lianjia_site
from tests.realpages import real_page

FIXTURES = Path(__file__).parent / "fixtures" / "lianjia"
SITE_URL = "http://127.0.0.1:8000/zufang/"
beike = BeikeSource()


@pytest.fixture(params=[True, False], ids=["compiled", "selectolax"], autouse=True)
def reading_mode(request, monkeypatch) -> None:
    """Each test runs with the batched reader reading both ways (parse_list included)."""
    if request.param:
        if domread.COMPILED_MISSING is not None:
            pytest.skip(domread.COMPILED_MISSING)  # test_domread.py fails on this in CI
        monkeypatch.delenv(domread.NO_COMPILED_ENV, raising=False)
    else:
        monkeypatch.setenv(domread.NO_COMPILED_ENV, "1")


def both_ways(body: bytes, url: str) -> tuple[list[dict] | None, list[dict]]:
    """Records of the batched reader (None when it declines) and of _parse_card, as dicts."""
    _, tree = parse_page(body, url, beike.name)
    together = _read_cards_together(beike, tree.css(ITEM_SELECTOR), url)
    # A fresh tree: the batched reader removes the description links once read.
    _, tree = parse_page(body, url, beike.name)
    cards = tree.css(ITEM_SELECTOR)
    one_by_one = [r for r in (beike._parse_card(c, url) for c in cards) if r is not None]
    fast = None if together is None else [dataclasses.asdict(r) for r in together]
    return fast, [dataclasses.asdict(r) for r in one_by_one]


def site_cards() -> list[lianjia_site.Card]:
    """Cards with awkward values: markup characters, nbsp, blanks, ranges, no area."""
    cards = []
    for i, (community, rent, area, brand) in enumerate(
        [
            ("云溪印象", "2400", "53", "链家"),
            ('A&B <x> "q"', "2400-2600", "0", ""),
            ("之江\u00a0富城", "", "12.5", "自如&co"),
            (" ", "3100", "88", "链家"),
        ]
    ):
        cards.append(
            lianjia_site.Card(
                house_code=f"HZ{2300000000000000000 + i}",
                community=community,
                rent=rent,
                area=area,
                floor=("中楼层", "低楼层", "地下室", "高楼层")[i],
                brand=brand,
            )
        )
    return cards


def site_page(cards: list[lianjia_site.Card]) -> bytes:
    return lianjia_site.list_page(cards, page=1, total_pages=1, total=len(cards))


@pytest.mark.parametrize(
    ("page", "url"),
    [
        ("lianjia/beike_zufang_list_sz_2020-03.html", "https://sz.zu.ke.com/zufang/"),
        ("lianjia/beike_zufang_list_hz_2019-09_localized.html", "https://hz.zu.ke.com/zufang/"),
    ],
)
def test_real_pages_read_together_as_card_by_card(page, url):
    fast, careful = both_ways(real_page(page), url)
    assert fast is not None, "the batched reader should take the real pages"
    assert len(careful) in (32, 33)
    assert fast == careful


def test_fixture_page_read_together_as_card_by_card():
    fast, careful = both_ways(
        (FIXTURES / "list_xihu_range.html").read_bytes(), "https://hz.lianjia.com/zufang/xihu/"
    )
    assert careful
    assert fast == careful


def test_local_site_pages_read_together_as_card_by_card():
    fast, careful = both_ways(site_page(site_cards()), SITE_URL)
    assert fast is not None
    assert len(careful) == 4
    assert fast == careful
    by_code = {r["listing_id"]: r for r in careful}
    awkward = by_code["HZ2300000000000000001"]
    assert awkward["community"] == 'A&B <x> "q"'
    assert (awkward["rent"], awkward["rent_high"]) == (2400.0, 2600.0)
    assert by_code["HZ2300000000000000002"]["community"] == "之江 富城"
    assert by_code["HZ2300000000000000002"]["rent"] is None
    assert by_code["HZ2300000000000000002"]["brand"] == "自如&co"
    assert by_code["HZ2300000000000000003"]["floor_band"] == "高楼层"


def test_simulated_market_pages_read_together_as_card_by_card():
    market = Market(seed=3, scale=0.2, days=2)
    market.advance()
    ads = market.live_ads()
    compared = 0
    for page in (1, 2):
        body = sim_pages.list_page(market, ads, "/zufang/", page)
        fast, careful = both_ways(body, SITE_URL)
        assert fast is not None
        assert fast == careful
        compared += len(careful)
    assert compared > 30


# -- altered cards -----------------------------------------------------------------
def altered_page(old: str, new: str) -> tuple[bytes, str]:
    """The local site's page with one change made in the second card only."""
    cards = site_cards()
    first, second, *rest = (lianjia_site.card_html(c) for c in cards)
    assert old in second
    items = first + second.replace(old, new, 1) + "".join(rest)
    body = (
        site_page(cards).decode().replace("".join(lianjia_site.card_html(c) for c in cards), items)
    )
    return body.encode(), "HZ2300000000000000001"


def test_extra_span_in_description_is_one_more_segment():
    body, code = altered_page(" <i>/</i>南", ' <i>/</i><span class="x">精装</span> <i>/</i>南')
    fast, careful = both_ways(body, SITE_URL)
    assert fast == careful
    record = next(r for r in beike.parse_list(body, SITE_URL).records if r.listing_id == code)
    assert record.extra["des_other"] == ["精装"]
    assert (record.area, record.orientation, record.rooms) == (None, "南", 2)
    assert (record.floor_band, record.total_floors) == ("低楼层", 28)


def test_missing_floor_span_leaves_floor_empty():
    body, code = altered_page('<span class="hide"><i>/</i> 低楼层 （28层）</span>', "")
    fast, careful = both_ways(body, SITE_URL)
    assert fast == careful
    record = next(r for r in beike.parse_list(body, SITE_URL).records if r.listing_id == code)
    assert (record.floor_text, record.floor_band, record.total_floors) == (None, None, None)
    assert (record.layout_text, record.community_id) == ("2室1厅1卫", "1811000000001")


def test_stray_element_between_cards_changes_nothing():
    # The batched reader runs each card's own queries, so markup between the cards
    # (here a rule before the first) leaves the records as they were.
    plain = site_page(site_cards())
    body = plain.replace(b'<div class="content__list">', b'<div class="content__list"><hr>', 1)
    fast, careful = both_ways(body, SITE_URL)
    assert fast == careful
    assert careful == [dataclasses.asdict(r) for r in beike.parse_list(plain, SITE_URL).records]


def test_class_in_another_case_is_read_card_by_card(request):
    # Lexbor matches classes ignoring case in quirks mode only; the compiled reader
    # declines rather than guess which, and the cards are read one by one.
    body, code = altered_page(
        'class="content__list--item-price"', 'class="Content__list--item-price"'
    )
    fast, careful = both_ways(body, SITE_URL)
    compiled = request.node.callspec.params["reading_mode"]
    assert (fast is None) if compiled else (fast == careful)
    records = {r.listing_id: r for r in beike.parse_list(body, SITE_URL).records}
    assert [dataclasses.asdict(records[r["listing_id"]]) for r in careful] == careful
    assert records[code].rent is None  # the page declares no quirks: case counts
    assert records["HZ2300000000000000000"].rent == 2400.0
