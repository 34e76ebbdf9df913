"""Lianjia's card reader on awkward and altered cards.

Cards of the local test site with markup characters, nbsp, blanks and ranges, the
simulated market's pages, and pages with one card altered must all parse to the right
values; the real pages are covered in test_parse_lianjia.py.
"""

from __future__ import annotations

import dataclasses

from rentwatch.sim import pages as sim_pages
from rentwatch.sim.market import Market
from scrapers.lianjia import BeikeSource
from scrapers.record import ListingRecord
from tests import lianjia_site

SITE_URL = "http://127.0.0.1:8000/zufang/"
beike = BeikeSource()


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


def records(body: bytes) -> dict[str, ListingRecord]:
    return {r.listing_id: r for r in beike.parse_list(body, SITE_URL).records}


def test_awkward_card_values_are_read_as_written():
    by_code = records(site_page(site_cards()))
    assert len(by_code) == 4
    awkward = by_code["HZ2300000000000000001"]
    assert awkward.community == 'A&B <x> "q"'
    assert (awkward.rent, awkward.rent_high) == (2400.0, 2600.0)
    assert by_code["HZ2300000000000000002"].community == "之江 富城"
    assert by_code["HZ2300000000000000002"].rent is None
    assert by_code["HZ2300000000000000002"].brand == "自如&co"
    assert by_code["HZ2300000000000000003"].floor_band == "高楼层"


def test_simulated_market_pages_read_as_the_ads_shown():
    market = Market(seed=3, scale=0.2, days=2)
    market.advance()
    ads = {a.house_code: a for a in market.live_ads()}
    read = 0
    for page in (1, 2):
        for record in beike.parse_list(
            sim_pages.list_page(market, list(ads.values()), "/zufang/", page), SITE_URL
        ).records:
            ad = ads[record.listing_id]
            assert (record.community, record.rent, record.area) == (ad.spelling, ad.rent, ad.area)
            read += 1
    assert read > 30


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
    record = records(body)[code]
    assert record.extra["des_other"] == ["精装"]
    assert (record.area, record.orientation, record.rooms) == (None, "南", 2)
    assert (record.floor_band, record.total_floors) == ("低楼层", 28)


def test_missing_floor_span_leaves_floor_empty():
    body, code = altered_page('<span class="hide"><i>/</i> 低楼层 （28层）</span>', "")
    record = records(body)[code]
    assert (record.floor_text, record.floor_band, record.total_floors) == (None, None, None)
    assert (record.layout_text, record.community_id) == ("2室1厅1卫", "1811000000001")


def test_stray_element_between_cards_changes_nothing():
    plain = site_page(site_cards())
    body = plain.replace(b'<div class="content__list">', b'<div class="content__list"><hr>', 1)
    read = [dataclasses.asdict(r) for r in beike.parse_list(body, SITE_URL).records]
    assert read == [dataclasses.asdict(r) for r in beike.parse_list(plain, SITE_URL).records]
    assert len(read) == 4


def test_class_in_another_case_is_no_match_under_a_doctype():
    # Lexbor matches classes ignoring case in quirks mode only; the page declares a
    # doctype, so a price in another case is no price.
    body, code = altered_page(
        'class="content__list--item-price"', 'class="Content__list--item-price"'
    )
    by_code = records(body)
    assert by_code[code].rent is None
    assert by_code["HZ2300000000000000000"].rent == 2400.0
