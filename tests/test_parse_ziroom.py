"""Ziroom parsers against the real 2016–17 pages and hand-written pages in the same markup."""

from __future__ import annotations

from pathlib import Path

import pytest

from scrapers.errors import BlockedPage, EmptyPage, LayoutChanged, NotAListingPage
from scrapers.htmltext import agent_key
from scrapers.registry import get_source
from scrapers.ziroom import ITEM_SELECTOR, PRICE_SELECTOR, ZiroomSource
from tests.realpages import real_page

FIXTURES = Path(__file__).parent / "fixtures" / "ziroom"
SH_LIST = "ziroom/ziroom_list_sh_2016-11.html"
SH_PAGE100 = "ziroom/ziroom_list_sh_2016-11_page100.html"
BJ_LIST = "ziroom/ziroom_list_bj_2017-08.html"
SH_URL = "https://sh.ziroom.com/z/nl/z2-s6%E5%8F%B7%E7%BA%BF.html"

ziroom = ZiroomSource()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def by_id(page):
    return {r.listing_id: r for r in page.records}


def test_sh_list_page():
    page = ziroom.parse_list(real_page(SH_LIST), SH_URL)
    assert len(page.records) == 18
    assert (page.current_page, page.total_pages, page.total_count) == (1, 18, None)
    assert page.next_urls == ["https://sh.ziroom.com/z/nl/z2-s6%E5%8F%B7%E7%BA%BF.html?p=2"]
    assert all(r.tenure == "shared" for r in page.records)
    assert all(r.district == "浦东" for r in page.records)

    first = page.records[0]
    assert first.source == "ziroom"
    assert first.listing_id == "60275552"
    assert first.url == "https://sh.ziroom.com/z/vr/60275552.html"
    assert first.title == "和祥佳园2居室-南卧"
    assert (first.district, first.subdistrict, first.community) == ("浦东", "外高桥", "和祥佳园")
    assert (first.rent, first.rent_text) == (1560.0, "￥ 1560 (每月)")
    assert (first.area, first.area_text) == (9.35, "9.35 ㎡")
    assert (first.rooms, first.halls, first.layout_text) == (2, 1, "2室1厅")
    assert (first.floor_text, first.total_floors, first.extra["floor"]) == ("06/11层", 11, 6)
    assert first.orientation == "南"
    assert (first.brand, first.agent_key) == ("自如", agent_key("自如"))

    cards = by_id(page)
    yunshan = cards["60299676"]
    assert (yunshan.community, yunshan.subdistrict) == ("云山星座苑", "金杨")
    assert (yunshan.rent, yunshan.area, yunshan.rooms, yunshan.total_floors) == (
        2890.0,
        15.2,
        4,
        11,
    )
    assert cards["60310524"].extra["rooms_left_text"] == "有2间空房"
    gaoxing = cards["60275020"]
    assert gaoxing.community == "高行绿洲（六期）"
    assert (gaoxing.subdistrict, gaoxing.rent) == ("高东", 1890.0)


def test_page_past_the_end():
    """Page 100 of a 19-page list: the site still serves cards but links to no next page."""
    page = ziroom.parse_list(real_page(SH_PAGE100), "http://127.0.0.1:8000/z/nl/z2.html?p=100")
    assert (page.current_page, page.total_pages) == (100, 19)
    assert page.next_urls == []
    assert ziroom.following_urls(page) == []
    assert [r.listing_id for r in page.records] == [
        "60275552",
        "60310524",
        "60308571",
        "60310527",
        "60293346",
        "60299676",
    ]
    whole = by_id(page)["60308571"]
    assert whole.tenure == "whole"
    assert whole.title == "恒大华城长清苑2居室-南"
    assert (whole.community, whole.subdistrict, whole.rent, whole.area) == (
        "恒大华城长清苑",
        "三林",
        5480.0,
        73.5,
    )


def test_bj_list_page():
    page = ziroom.parse_list(real_page(BJ_LIST), "https://www.ziroom.com/z/nl/")
    assert len(page.records) == 6
    assert page.next_urls == []
    assert [r.tenure for r in page.records] == [
        "shared",
        "whole",
        "whole",
        "shared",
        "whole",
        "shared",
    ]
    kanghong = by_id(page)["60576079"]
    assert (kanghong.district, kanghong.subdistrict, kanghong.community) == (
        "东城",
        "安定门",
        "康鸿家园",
    )
    assert (kanghong.rent, kanghong.area, kanghong.orientation) == (11560.0, 108.96, "南")
    assert (kanghong.floor_text, kanghong.total_floors) == ("6/6层", 6)
    dongfang = by_id(page)["60021912"]
    assert (dongfang.orientation, dongfang.rent, dongfang.total_floors) == ("西南", 5630.0, 18)
    # Two rooms of one 胡同 suite: same 小区, different ids and rents.
    a, b = by_id(page)["60663288"], by_id(page)["60663286"]
    assert a.community == b.community == "仓南胡同"
    assert (a.rent, b.rent, a.area, b.area) == (3390.0, 3460.0, 12.2, 12.1)


@pytest.mark.parametrize(
    ("name", "room_id", "title", "rent", "area", "orientation"),
    [
        ("ziroom_detail_sh_2016-11_1.html", "60300024", "黄山新村3居室-02卧", 2060.0, 11.3, "南"),
        ("ziroom_detail_sh_2016-11_2.html", "60300025", "黄山新村3居室-03卧", 1860.0, 9.1, "北"),
        ("ziroom_detail_sh_2016-11_3.html", "60300023", "黄山新村3居室-01卧", 2560.0, 16.5, "南"),
    ],
)
def test_detail_pages(name, room_id, title, rent, area, orientation):
    r = ziroom.parse_detail(
        real_page(f"ziroom/{name}"), f"https://sh.ziroom.com/z/vr/{room_id}.html"
    )
    assert (r.listing_id, r.title, r.rent, r.area, r.orientation) == (
        room_id,
        title,
        rent,
        area,
        orientation,
    )
    assert r.rent_text == f"￥{int(rent)}/月(季付)"
    assert r.tenure == "shared"
    assert (r.district, r.subdistrict) == ("浦东", "金杨")
    assert (r.community, r.community_id) == ("黄山新村", "5011000014166")
    assert (r.layout_text, r.rooms, r.halls) == ("3室1厅", 3, 1)
    assert (r.floor_text, r.total_floors, r.extra["floor"]) == ("04/6层", 6, 4)
    assert r.extra["house_id"] == "60049455"  # the three rooms share one suite
    assert "牛贵隆" not in repr(r.as_dict())  # the housekeeper's name stays out


def test_rejections():
    with pytest.raises(NotAListingPage, match="ziroom: a room detail page"):
        ziroom.parse_list(real_page("ziroom/ziroom_detail_sh_2016-11_1.html"), SH_URL)
    with pytest.raises(NotAListingPage, match="ziroom: a list page, not a room detail page"):
        ziroom.parse_detail(real_page(SH_LIST), SH_URL)
    with pytest.raises(NotAListingPage, match="not a Ziroom list page"):
        ziroom.parse_list(real_page("lianjia/beike_zufang_list_sz_2020-03.html"), SH_URL)
    with pytest.raises(BlockedPage, match="访问验证"):
        ziroom.parse_list(real_page("anjuke/anjuke_captcha_verify_2024-10.html"), SH_URL)
    with pytest.raises(BlockedPage, match="login"):
        ziroom.parse_list(b"<html><body>x</body></html>", "https://passport.ziroom.com/login.html")
    with pytest.raises(EmptyPage):
        ziroom.parse_list(b"", SH_URL)
    body = real_page(SH_LIST)
    with pytest.raises(EmptyPage, match="cut short"):
        ziroom.parse_list(body[: len(body) // 3], SH_URL)


def test_post_2019_markup_is_layout_changed():
    with pytest.raises(LayoutChanged, match="Z_list-box") as exc:
        ziroom.parse_list(fixture("list_2019_zlistbox.html"), "https://www.ziroom.com/z/")
    assert exc.value.selector == ITEM_SELECTOR


def test_prices_gone_is_layout_changed():
    body = real_page(SH_LIST).replace(b'class="price"', b'class="price-img"')
    with pytest.raises(LayoutChanged, match="no rent") as exc:
        ziroom.parse_list(body, SH_URL)
    assert exc.value.selector == PRICE_SELECTOR


def test_empty_result_page():
    page = ziroom.parse_list(fixture("list_empty.html"), SH_URL)
    assert page.records == [] and page.total_count == 0


def test_gbk_whole_flat_page_with_paging():
    page = ziroom.parse_list(fixture("list_whole.html"), "http://127.0.0.1:7000/z/nl/z1.html?p=2")
    assert (page.current_page, page.total_pages) == (2, 5)
    # The next link names the real host; the crawl stays on the host it fetched from.
    assert page.next_urls == ["http://127.0.0.1:7000/z/nl/z1.html?p=3"]
    (r,) = page.records
    assert (r.listing_id, r.title, r.tenure) == ("61000001", "整租·测试小区1居室-南", "whole")
    assert (r.district, r.subdistrict, r.community) == ("闵行", "莘庄", "测试小区")
    assert (r.rent, r.area, r.total_floors) == (5260.0, 45.6, 18)


def test_declaration_and_urls():
    assert isinstance(get_source("ziroom"), ZiroomSource)
    assert ziroom.base_url("sh") == "https://sh.ziroom.com"
    assert ziroom.list_urls("sh") == ["https://sh.ziroom.com/z/nl/"]
    assert ziroom.list_urls("sh", base_url="http://127.0.0.1:7000") == [
        "http://127.0.0.1:7000/z/nl/"
    ]
    with pytest.raises(ValueError, match="not supported"):
        ziroom.list_urls("sh", building="5011000014166")
    assert ziroom.page_kind("https://sh.ziroom.com/z/vr/60300024.html") == "detail"
    assert ziroom.page_kind(SH_URL) == "list"
    assert ziroom.block_reason(real_page(SH_LIST), SH_URL, 200) is None
    assert ziroom.block_reason(b"", SH_URL, 418) == "HTTP 418"
