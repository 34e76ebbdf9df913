"""Lianjia / Beike parsers against the real saved pages and hand-written pages in the same markup."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from scrapers.errors import BlockedPage, EmptyPage, LayoutChanged, NotAListingPage
from scrapers.lianjia import (
    ITEM_SELECTOR,
    PRICE_SELECTOR,
    BeikeSource,
    LianjiaSource,
    house_code_at,
    house_code_time,
)
from scrapers.registry import get_source
from tests.realpages import real_page

FIXTURES = Path(__file__).parent / "fixtures" / "lianjia"
SZ_LIST = "lianjia/beike_zufang_list_sz_2020-03.html"
HZ_LIST = "lianjia/beike_zufang_list_hz_2019-09_localized.html"
HZ_DETAIL = "lianjia/beike_zufang_detail_hz_2019-09_localized.html"
HZ_XIAOQU = "lianjia/beike_xiaoqu_detail_hz_2019-09_localized.html"
SZ_URL = "https://sz.zu.ke.com/zufang/"
HZ_URL = "https://hz.zu.ke.com/zufang/"
DETAIL_URL = "https://hz.zu.ke.com/zufang/HZ2335418578318671872.html"

beike = BeikeSource()
lianjia = LianjiaSource()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def by_id(page):
    return {r.listing_id: r for r in page.records}


@pytest.fixture(scope="module")
def sz_page():
    return beike.parse_list(real_page(SZ_LIST), SZ_URL)


@pytest.fixture(scope="module")
def hz_page():
    return beike.parse_list(real_page(HZ_LIST), HZ_URL)


# -- real list pages -------------------------------------------------------------
def test_sz_list_counts_and_paging(sz_page):
    assert len(sz_page.records) == 33
    assert sz_page.total_count == 33038
    assert (sz_page.current_page, sz_page.total_pages) == (1, 100)
    assert len(sz_page.next_urls) == 99
    assert sz_page.next_urls[0] == "https://sz.zu.ke.com/zufang/pg2/"
    assert sz_page.next_urls[-1] == "https://sz.zu.ke.com/zufang/pg100/"
    assert {r.tenure for r in sz_page.records} == {"whole", "shared", "building"}
    assert sum(r.tenure == "whole" for r in sz_page.records) == 17
    assert sum(r.tenure == "shared" for r in sz_page.records) == 15


def test_sz_first_card_values(sz_page):
    r = sz_page.records[0]
    assert r.source == "beike"
    assert r.listing_id == "SZ2414358417079803904"
    assert r.url == "https://sz.zu.ke.com/zufang/SZ2414358417079803904.html"
    assert r.title == "整租·御锦公馆 1室1厅 南"
    assert r.tenure == "whole"
    assert (r.district, r.subdistrict, r.community) == ("福田区", "梅林", "御锦公馆")
    assert r.community_id == "2411049999882"
    assert (r.rent, r.rent_high, r.rent_text) == (4800.0, None, "4800 元/月")
    assert (r.area, r.area_text) == (28.0, "28㎡")
    assert (r.rooms, r.halls, r.baths, r.layout_text) == (1, 1, 1, "1室1厅1卫")
    assert (r.floor_band, r.total_floors, r.floor_text) == ("低楼层", 30, "低楼层 （30层）")
    assert r.orientation == "南"
    assert r.brand == "贝壳优选"
    assert r.agent_key is not None and len(r.agent_key) == 12
    assert r.listed_text == "今天维护"
    assert r.is_promoted is False and r.is_apartment is False
    assert r.extra["tags"] == ["近地铁", "精装", "随时看房"]


def test_sz_shared_room_and_promoted_cards(sz_page):
    cards = by_id(sz_page)
    shared = cards["SZ2405566315105894400"]  # data-ad_type="50"
    assert shared.is_promoted is True
    assert shared.tenure == "shared"
    assert (shared.community, shared.community_id) == ("溪山", "2411050409962")
    assert (shared.rent, shared.area, shared.rooms, shared.baths) == (1433.0, 6.0, 5, 2)
    assert (shared.floor_band, shared.total_floors) == ("低楼层", 28)
    assert shared.brand == "租房邦"

    promoted = cards["SZ2383229536746602496"]  # data-ad_type="40": kept, a normal listing
    assert promoted.is_promoted is True and promoted.is_apartment is False
    assert (promoted.district, promoted.subdistrict) == ("龙华区", "龙华中心")
    assert promoted.community == "百富汇工业园"
    assert promoted.rent == 2525.0

    assert sum(r.is_promoted for r in sz_page.records) == 14
    assert cards["SZ2414358417079803904"].is_promoted is False


def test_sz_apartment_card_is_flagged_not_dropped(sz_page):
    apt = by_id(sz_page)["242188"]
    assert apt.is_apartment is True
    assert apt.tenure == "building"
    assert apt.url == "https://sz.zu.ke.com/apartment/24223.html"
    assert apt.title == "独栋·69号公寓 上塘1店 近地铁特惠短租房 开间"
    assert (apt.rent, apt.area, apt.layout_text) == (1780.0, 20.0, "1室0厅1卫")
    assert apt.community is None
    assert apt.extra["des_other"] == ["仅剩1间", "1间在租"]
    assert [r.listing_id for r in sz_page.records if r.is_apartment] == ["242188"]


def test_sz_one_tower_many_ads(sz_page):
    """The de-duplication problem in real data: one tower, many near-identical ads."""
    shekou = [r for r in sz_page.records if r.community == "万科蛇口公馆"]
    assert len(shekou) == 12
    assert sum(r.title == "整租·万科蛇口公馆 2室1厅 南" for r in shekou) == 9
    assert {r.community_id for r in shekou} == {shekou[0].community_id}


@pytest.mark.parametrize("page_name", ["sz_page", "hz_page"])
def test_every_flat_card_has_the_required_fields(page_name, request):
    page = request.getfixturevalue(page_name)
    flats = [r for r in page.records if not r.is_apartment]
    assert flats
    for r in flats:
        missing = [
            f
            for f in (
                "listing_id",
                "title",
                "district",
                "subdistrict",
                "community",
                "community_id",
                "rent",
                "area_text",
                "layout_text",
                "floor_band",
                "total_floors",
                "tenure",
                "brand",
                "agent_key",
                "listed_text",
            )
            if getattr(r, f) in (None, "")
        ]
        assert not missing, (r.listing_id, missing)
        assert r.url.startswith(("https://sz.zu.ke.com/zufang/", "https://hz.zu.ke.com/zufang/"))


def test_hz_list_values(hz_page):
    assert len(hz_page.records) == 32
    assert hz_page.total_count == 43879
    assert (hz_page.current_page, hz_page.total_pages) == (1, 100)
    assert sum(r.is_promoted for r in hz_page.records) == 3
    assert sum(r.tenure == "whole" for r in hz_page.records) == 8
    cards = by_id(hz_page)

    first = hz_page.records[0]
    assert first.listing_id == "HZ2317828051674865664"
    assert (first.district, first.subdistrict, first.community) == ("西湖", "转塘", "云溪印象")
    assert first.community_id == "1811043641113"
    assert (first.rent, first.area, first.floor_band, first.total_floors) == (
        2400.0,
        53.0,
        "低楼层",
        9,
    )
    # 2019 markup: the brand is the line's own text and the time is a separate <p>.
    assert (first.brand, first.listed_text) == ("贝壳优选", "1个月前发布")

    g193 = cards["HZ2351274914700328960"]
    assert g193.is_promoted is True
    assert g193.title == "整租·新天地G193广场 1室1厅 北"
    assert (g193.district, g193.subdistrict, g193.community) == ("下城", "三塘", "新天地G193广场")
    assert (g193.rent, g193.area, g193.orientation) == (2300.0, 30.0, "北")
    assert (g193.floor_band, g193.total_floors) == ("中楼层", 20)
    assert g193.brand == "房友阳光城店"

    two_ways = cards["HZ2351196466292195328"]
    assert two_ways.orientation == "东 东南"
    assert two_ways.community_id == "18000000000731"

    detail_card = cards["HZ2335418578318671872"]
    assert (detail_card.community, detail_card.rent, detail_card.area) == (
        "钱江之江新天地",
        2300.0,
        35.0,
    )


def test_hz_zero_area_is_no_area(hz_page):
    # The site prints "0㎡" when it does not know the area: kept as text, not as a value.
    r = by_id(hz_page)["HZ2321112930550022144"]
    assert r.area_text == "0㎡"
    assert r.area is None
    assert r.orientation is None
    assert (r.rooms, r.halls, r.baths) == (2, 1, 1)


def test_same_brand_same_agent_key(hz_page):
    keys = {r.brand: r.agent_key for r in hz_page.records}
    assert keys["职业房东"] != keys["贝壳优选"]
    assert len({r.agent_key for r in hz_page.records if r.brand == "贝壳优选"}) == 1


def test_house_codes_tell_when_each_ad_was_created(hz_page):
    # The Hangzhou page says when each card was published, to the day under a month: the
    # day its house code gives plus those days is the day the page was saved (within the
    # site's rounding of "N天前"), on every such card but one. That one was put up again
    # under an id of 2019-07-11.
    saved_on: dict[str, date] = {}
    for record in hz_page.records:
        m = re.fullmatch(r"(\d+)天前发布", record.listed_text or "")
        created = house_code_time(record.listing_id)
        assert created is not None and created.utcoffset() == timedelta(hours=8)
        if m:
            saved_on[record.listing_id] = created.date() + timedelta(days=int(m.group(1)))
    odd = {
        code for code, day in saved_on.items() if not date(2019, 9, 23) <= day <= date(2019, 9, 25)
    }
    assert len(saved_on) == 22
    assert odd == {"HZ2298573552796049408"}
    assert lianjia.created_on("HZ2351983958486687744") == "2019-09-23"  # "1天前发布"
    assert beike.created_on("HZ2335418578318671872") == "2019-08-31"  # "24天前发布"
    # Older numeric ids (the Shenzhen page's apartment card) carry no time.
    assert lianjia.created_on("242188") is None
    assert lianjia.created_on("not a code") is None
    moment = house_code_time("SZ2433249053300236288")
    assert moment is not None and moment.date() == date(2020, 1, 13)
    code = house_code_at("sz", moment, 77)
    assert code.startswith("SZ") and house_code_time(code) == moment


def test_next_urls_stay_on_a_local_base_url():
    page = beike.parse_list(real_page(HZ_LIST), "http://127.0.0.1:8765/zufang/")
    assert page.next_urls[0] == "http://127.0.0.1:8765/zufang/pg2/"
    assert beike.following_urls(page) == page.next_urls
    assert page.records[0].url == "http://127.0.0.1:8765/zufang/HZ2317828051674865664.html"


# -- real detail page ------------------------------------------------------------
def test_detail_page_values():
    r = beike.parse_detail(real_page(HZ_DETAIL), DETAIL_URL)
    assert r.listing_id == "HZ2335418578318671872"
    assert r.title == "整租·钱江之江新天地 1室1厅 南"
    assert r.tenure == "whole"
    assert (r.listed_date, r.listed_text) == ("2019-08-31", "房源上架时间 2019-08-31")
    assert (r.rent, r.rent_high, r.rent_text) == (2300.0, None, "2300元/月 (季付价)")
    assert (r.layout_text, r.rooms, r.halls, r.baths) == ("1室1厅1卫", 1, 1, 1)
    assert (r.area_text, r.area) == ("35㎡", 35.0)
    assert r.orientation == "南"
    assert (r.floor_text, r.floor_band, r.total_floors) == ("高楼层/7层", "高楼层", 7)
    assert (r.district, r.subdistrict) == ("西湖", "转塘")
    assert (r.community, r.community_id) == ("钱江之江新天地", "1816141657607845")
    assert r.extra["info"]["电梯"] == "无"
    # Agent names exist in the markup (title attributes) but never reach the record.
    assert "王樟" not in repr(r.as_dict())


# -- rejections ---------------------------------------------------------------------
def test_xiaoqu_page_is_not_a_listing_page():
    body = real_page(HZ_XIAOQU)
    with pytest.raises(NotAListingPage, match="小区"):
        beike.parse_list(body, "https://hz.ke.com/xiaoqu/1811043464378/")
    with pytest.raises(NotAListingPage, match="小区"):
        beike.parse_detail(body, "https://hz.ke.com/xiaoqu/1811043464378/")


def test_detail_and_list_pages_are_not_swapped():
    with pytest.raises(NotAListingPage, match="detail page, not a list page"):
        beike.parse_list(real_page(HZ_DETAIL), DETAIL_URL)
    with pytest.raises(NotAListingPage, match="list page, not a detail page"):
        beike.parse_detail(real_page(SZ_LIST), SZ_URL)


def test_anjuke_captcha_is_blocked():
    with pytest.raises(BlockedPage, match="访问验证"):
        lianjia.parse_list(real_page("anjuke/anjuke_captcha_verify_2024-10.html"), HZ_URL)


def test_ziroom_page_is_not_a_lianjia_page():
    with pytest.raises(NotAListingPage, match="lianjia: not a .*Lianjia rental list page"):
        lianjia.parse_list(real_page("ziroom/ziroom_list_sh_2016-11.html"), HZ_URL)


@pytest.mark.parametrize("body", [b"", b"   \n  "])
def test_empty_body(body):
    with pytest.raises(EmptyPage, match="empty body"):
        beike.parse_list(body, SZ_URL)


def test_truncated_list_page_is_an_error_not_a_short_list():
    body = real_page(SZ_LIST)
    with pytest.raises(EmptyPage, match="cut short"):
        beike.parse_list(body[: len(body) // 2], SZ_URL)


def test_cards_gone_while_total_says_many_is_layout_changed():
    body = real_page(SZ_LIST).replace(b'class="content__list--item"', b'class="content__card"')
    with pytest.raises(LayoutChanged, match="33038 listings") as exc:
        beike.parse_list(body, SZ_URL)
    assert exc.value.selector == ITEM_SELECTOR


def test_price_markup_gone_is_layout_changed():
    body = real_page(HZ_LIST).replace(b"content__list--item-price", b"content__list--item-cost")
    with pytest.raises(LayoutChanged) as exc:
        beike.parse_list(body, HZ_URL)
    assert exc.value.selector == PRICE_SELECTOR
    assert "no rent" in str(exc.value)


def test_login_modal_on_a_real_page_is_not_a_block():
    # The 2020 page carries a hidden login form ("请输入验证码"): the cards decide.
    assert beike.block_reason(real_page(SZ_LIST), SZ_URL, 200) is None
    assert beike.block_reason(real_page(HZ_DETAIL), DETAIL_URL, 200) is None


def test_block_reasons():
    assert "418" in beike.block_reason(b"", SZ_URL, 418)
    assert "login" in beike.block_reason(b"<html></html>", "https://clogin.ke.com/login?x=1", 200)
    assert "captcha" in lianjia.block_reason(b"", "https://hip.lianjia.com/captcha?x=1", 200)
    assert "人机认证" in beike.block_reason(fixture("captcha.html"), SZ_URL, 200)
    with pytest.raises(BlockedPage, match="人机认证"):
        beike.parse_list(fixture("captcha.html"), SZ_URL)
    with pytest.raises(BlockedPage, match="login"):
        beike.parse_list(real_page(SZ_LIST), "https://clogin.ke.com/login?service=zufang")


# -- hand-written pages in the same markup ------------------------------------------
def test_rent_range_page():
    page = lianjia.parse_list(fixture("list_xihu_range.html"), "http://127.0.0.1:5000/zufang/xihu/")
    assert page.total_count == 63
    assert (page.current_page, page.total_pages) == (1, 3)
    assert page.next_urls == [
        "http://127.0.0.1:5000/zufang/xihu/pg2/",
        "http://127.0.0.1:5000/zufang/xihu/pg3/",
    ]
    ranged, room = page.records
    assert ranged.source == "lianjia"
    assert (ranged.rent, ranged.rent_high, ranged.rent_text) == (2300.0, 2500.0, "2300-2500 元/月")
    assert (ranged.area, ranged.orientation) == (78.5, "南 北")
    assert (ranged.community, ranged.community_id) == ("测试花园", "1811043464378")
    assert (ranged.floor_band, ranged.total_floors) == ("高楼层", 18)
    assert room.rent == 1650.0 and room.rent_high is None
    assert room.is_promoted is True and room.tenure == "shared"
    assert (room.brand, room.listed_text) == ("自如", "3天前维护")


def test_gb18030_encoded_page_decodes_the_same():
    utf8 = fixture("list_xihu_range.html")
    gbk = utf8.decode().replace("charset=utf-8", "charset=gbk").encode("gb18030")
    a = lianjia.parse_list(utf8, "https://hz.lianjia.com/zufang/xihu/")
    b = lianjia.parse_list(gbk, "https://hz.lianjia.com/zufang/xihu/")
    assert [r.as_dict() for r in a.records] == [r.as_dict() for r in b.records]


def test_zero_total_is_a_real_empty_result():
    page = lianjia.parse_list(
        fixture("list_empty.html"), "https://hz.lianjia.com/zufang/c1811043464378/"
    )
    assert page.records == []
    assert page.total_count == 0
    assert page.next_urls == []


def test_no_cards_but_a_positive_total_is_not_empty():
    body = fixture("list_empty.html").replace(
        b'<span class="content__title--hl">0</span>', b'<span class="content__title--hl">12</span>'
    )
    with pytest.raises(LayoutChanged, match="12 listings"):
        lianjia.parse_list(body, "https://hz.lianjia.com/zufang/c1811043464378/")


# -- URLs -------------------------------------------------------------------------
def test_urls():
    assert lianjia.base_url("hz") == "https://hz.lianjia.com"
    assert beike.base_url("sz") == "https://sz.zu.ke.com"
    assert lianjia.list_urls("hz") == ["https://hz.lianjia.com/zufang/"]
    assert lianjia.list_urls("hz", district="xihu") == ["https://hz.lianjia.com/zufang/xihu/"]
    assert lianjia.list_urls("hz", building="c1811043464378") == [
        "https://hz.lianjia.com/zufang/c1811043464378/"
    ]
    assert beike.list_urls("hz", building="1811043464378", base_url="http://127.0.0.1:9000") == [
        "http://127.0.0.1:9000/zufang/c1811043464378/"
    ]
    with pytest.raises(ValueError, match="resblock id"):
        lianjia.list_urls("hz", building="金地自在城")
    with pytest.raises(ValueError, match="slug"):
        lianjia.list_urls("hz", district="西湖")


def test_following_urls_from_the_url_pattern():
    from scrapers.record import ListPage

    first = ListPage([], "http://127.0.0.1:9000/zufang/c1811043464378/pg1/", 80, 1, 3)
    assert lianjia.following_urls(first) == [
        "http://127.0.0.1:9000/zufang/c1811043464378/pg2/",
        "http://127.0.0.1:9000/zufang/c1811043464378/pg3/",
    ]
    later = ListPage([], "https://hz.lianjia.com/zufang/pg2/", 80, 2, 3)
    assert lianjia.following_urls(later) == []
    huge = ListPage([], "https://hz.lianjia.com/zufang/", 9999, 1, 400)
    assert len(lianjia.following_urls(huge)) == lianjia.max_pages - 1


def test_page_kind_and_declaration():
    assert lianjia.page_kind("https://hz.lianjia.com/zufang/HZ2335418578318671872.html") == "detail"
    assert lianjia.page_kind("https://hz.lianjia.com/zufang/xihu/pg2/") == "list"
    assert (
        lianjia.politeness.delay,
        lianjia.politeness.jitter,
        lianjia.politeness.concurrency,
    ) == (
        3.0,
        0.4,
        1,
    )
    caps = beike.capabilities
    assert caps.list and caps.detail and caps.building_query and caps.district_query
    assert isinstance(get_source("beike"), BeikeSource)
    assert get_source("lianjia").hosts == ("{city}.lianjia.com",)
    assert get_source("beike").hosts == ("{city}.zu.ke.com",)
