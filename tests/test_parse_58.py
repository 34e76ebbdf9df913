"""58同城 list pages: both real markups, and the pages that must be refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from scrapers.errors import BlockedPage, EmptyPage, LayoutChanged, NotAListingPage
from scrapers.fiftyeight import FiftyEightSource
from scrapers.registry import get_source
from tests.realpages import real_page

FIXTURES = Path(__file__).parent / "fixtures" / "58"
SZ_2020 = "58/58_chuzu_list_sz_2020-03_fontsecret.html"
SZ_URL = "https://sz.58.com/chuzu/"
BJ_2018 = "58/58_chuzu_list_bj_dashanzi_2018-05.html"
BJ_URL = "http://bj.58.com/dashanzi/chuzu/"


@pytest.fixture(scope="module")
def source() -> FiftyEightSource:
    return FiftyEightSource()


@pytest.fixture(scope="module")
def sz(source):
    return source.parse_list(real_page(SZ_2020), SZ_URL)


@pytest.fixture(scope="module")
def bj(source):
    return source.parse_list(real_page(BJ_2018), BJ_URL)


def by_id(page, listing_id):
    (record,) = [r for r in page.records if r.listing_id == listing_id]
    return record


def test_registry_finds_58():
    assert isinstance(get_source("58"), FiftyEightSource)


def test_urls(source):
    assert source.base_url("hz") == "https://hz.58.com"
    assert source.list_urls("hz") == ["https://hz.58.com/chuzu/"]
    assert source.list_urls("sz", district="longhua") == ["https://sz.58.com/longhua/chuzu/"]
    assert source.list_urls("sz", building="minlexincunsz") == [
        "https://sz.58.com/xiaoqu/minlexincunsz/chuzu/"
    ]
    assert source.list_urls("sz", base_url="http://127.0.0.1:8000") == [
        "http://127.0.0.1:8000/chuzu/"
    ]
    assert source.page_url("https://sz.58.com/chuzu/", 3) == "https://sz.58.com/chuzu/pn3/"
    assert source.page_url("https://sz.58.com/chuzu/pn3/", 1) == "https://sz.58.com/chuzu/"
    assert source.page_kind("https://sz.58.com/zufang/41414355584669x.shtml") == "detail"
    assert source.page_kind(SZ_URL) == "list"


# -- 2020 markup, digits drawn by the embedded font -----------------------------


def test_2020_every_card_is_read(sz):
    assert len(sz.records) == 139
    assert len({r.listing_id for r in sz.records}) == 139
    for r in sz.records:
        assert r.listing_id.isdigit() and len(r.listing_id) == 14, r
        assert r.title.startswith(("整租 | ", "单间 | ")), r.title
        assert r.rent is not None and 500 <= r.rent <= 20000, r
        assert r.area is not None and 5 <= r.area <= 300, r
        assert r.layout_text and r.rooms, r
        assert r.tenure in ("whole", "shared")
        assert "2020-03-01" <= (r.listed_date or "") <= "2020-03-07", r
        assert r.url.startswith("https://sz.58.com/") and r.url.endswith("x.shtml")
    # One card on the page names no 小区 (its 板块 link is empty too).
    assert sum(r.listed_date == "2020-03-07" for r in sz.records) == 125
    missing = [r.listing_id for r in sz.records if r.community is None]
    assert missing == ["40864247585669"]
    assert sum(r.tenure == "whole" for r in sz.records) == 78
    # 置顶 cards link through short.58.com; their id comes from the logr attribute.
    promoted = [r for r in sz.records if r.is_promoted]
    assert len(promoted) == 60
    assert all(r.extra.get("id_from") == "logr" for r in promoted)


def test_2020_first_card(sz):
    r = sz.records[0]
    assert r.source == "58"
    assert r.listing_id == "41406025862694"
    assert r.url == "https://sz.58.com/hezu/41406025862694x.shtml"
    assert r.title == "单间 | 商品小区 好房源 龙华 民乐新村 看房方便 大户型"
    assert r.tenure == "shared"
    assert (r.rent_text, r.rent, r.rent_high) == ("1360元/月", 1360.0, None)
    assert (r.area_text, r.area) == ("15.00㎡", 15.0)
    assert (r.layout_text, r.rooms, r.halls, r.baths) == ("主卧(3室)", 3, None, None)
    assert r.extra["room_kind"] == "主卧"
    assert (r.subdistrict, r.community, r.community_id) == ("龙华", "民乐新村", "minlexincunsz")
    assert r.listed_date == "2020-03-07"
    assert r.extra["postdate_ms"] == 1583545137797
    assert r.is_promoted is False


def test_2020_font_digits_in_title_and_layout(sz):
    r = by_id(sz, "41405621468568")
    assert r.title == "单间 | 豪峰园 减免1月租金!无中芥费 返程帮解决入住问题"
    assert (r.rent, r.area, r.rooms) == (1640.0, 17.0, 2)
    r = by_id(sz, "41414355584669")
    assert r.title == "整租 | 首月0元! 登良花园 返程帮报备 精装 家电齐全"
    assert (r.rent, r.area, r.area_text) == (2320.0, 37.8, "37.80㎡")
    assert (r.layout_text, r.rooms, r.halls, r.baths) == ("1室0厅0卫", 1, 0, 0)
    assert r.community == "登良花园"


def test_2020_promoted_card_gets_its_id_from_logr(sz):
    r = by_id(sz, "40662046272411")
    assert r.is_promoted is True
    assert r.extra["id_from"] == "logr"
    assert r.url == "https://sz.58.com/zufang/40662046272411x.shtml"
    assert r.title == "整租 | 五和地铁口 豪装三房 全屋轻奢细软 房东直租 拎包入"
    assert (r.rent, r.area, r.rooms, r.halls, r.baths) == (7000.0, 106.0, 3, 2, 1)
    assert (r.subdistrict, r.community) == ("坂田", "创兴时代")


def test_2020_advertisers_leave_no_personal_data(sz):
    first = sz.records[0]
    # The agency name is hashed; the broker's name (苏娜) is nowhere in the record.
    assert first.agent_key == "0ac20a368143"
    assert "苏娜" not in repr(first.as_dict())
    assert "怡岚" not in repr(first.as_dict())
    assert first.brand is None
    # The same agency on another card gives the same key.
    assert by_id(sz, "41363878868110").agent_key == "0ac20a368143"
    personal = by_id(sz, "39058387019684")
    assert personal.extra["advertiser"] == "personal"
    assert personal.agent_key is None
    # A broker without an agency gets no key rather than a hash of a person's name.
    assert by_id(sz, "40864247585669").agent_key is None


def test_2020_paging(sz):
    assert sz.next_urls == ["https://sz.58.com/chuzu/pn2/"]
    assert sz.current_page == 1


# -- 2018 markup, plain digits ------------------------------------------------------


def test_2018_every_card_is_read(bj):
    assert len(bj.records) == 51
    assert len({r.listing_id for r in bj.records}) == 51
    for r in bj.records:
        assert r.listing_id.isdigit() and len(r.listing_id) == 14, r
        assert r.title.startswith(("整租 | ", "单间 | ")), r.title
        assert r.rent is not None and r.area is not None and r.layout_text, r
        assert r.subdistrict == "大山子"
        assert r.url.startswith("http://bj.58.com/")
    # 13 cards (private advertisers, mostly) link only the 板块, no 小区.
    assert sum(r.community is None for r in bj.records) == 13
    assert bj.next_urls == ["http://bj.58.com/dashanzi/chuzu/pn2/"]


def test_2018_cards(bj):
    r = bj.records[0]
    assert r.listing_id == "34015099751866"
    assert r.extra["id_from"] == "logr"  # a jxjump.58.com link; its entinfo= holds the same id
    assert r.url == "http://bj.58.com/zufang/34015099751866x.shtml"
    assert r.title == "整租 | 业主直租京旺家园金盏嘉园精装两居室出租拎包入住"
    assert (r.rent, r.area, r.rooms, r.halls, r.baths) == (5200.0, 80.0, 2, 1, 1)
    # The 2018 list cuts 小区 names with "..."; the cut is noted, the dots dropped.
    assert (r.community, r.community_id) == ("金盏嘉园A区", "jinzhanjiayuanbj")
    assert r.extra["community_truncated"] is True
    assert r.listed_date == "2018-05-10"

    r = by_id(bj, "33982666693432")
    assert r.url == "http://bj.58.com/zufang/33982666693432x.shtml"
    assert "id_from" not in r.extra
    assert (r.rent, r.area, r.layout_text) == (6000.0, 35.0, "1室0厅1卫")
    assert r.community == "大山子南里"
    assert r.listed_date == "2018-05-05"

    r = by_id(bj, "33011890206909")
    assert r.tenure == "shared"
    assert r.url == "http://bj.58.com/hezu/33011890206909x.shtml"
    assert (r.rent, r.area, r.layout_text, r.rooms) == (1728.0, 18.0, "主卧(3室)", 3)

    r = bj.records[-1]
    assert r.listing_id == "33445090015417"
    assert (r.rent, r.area, r.rooms, r.halls, r.baths) == (2600.0, 15.0, 4, 1, 2)
    assert r.listed_date == "2018-04-27"


def test_2018_private_advertiser_names_are_not_kept(bj):
    # Private ads show "来自个人房源：李生"; no record may carry such a name.
    text = repr([r.as_dict() for r in bj.records])
    assert "来自个人房源" not in text
    assert "李生" not in text
    assert sum(r.extra.get("advertiser") == "personal" for r in bj.records) == 12


# -- pages that are not 58 lists -------------------------------------------------------


def test_own_captcha_fixture_is_blocked(source):
    with pytest.raises(BlockedPage, match="请输入验证码"):
        source.parse_list((FIXTURES / "captcha_verify.html").read_bytes(), SZ_URL)
    body = (FIXTURES / "captcha_verify.html").read_bytes()
    assert "请输入验证码" in (source.block_reason(body, SZ_URL, 200) or "")
    assert source.block_reason(b"", SZ_URL, 418) == "HTTP 418"
    assert source.block_reason(real_page(SZ_2020), SZ_URL, 200) is None


def test_anjuke_captcha_is_blocked(source):
    # 58 and 安居客 share one verification service.
    with pytest.raises(BlockedPage, match="访问验证-安居客"):
        source.parse_list(real_page("anjuke/anjuke_captcha_verify_2024-10.html"), SZ_URL)


def test_lianjia_page_is_not_a_58_list(source):
    with pytest.raises(NotAListingPage, match="not a 58同城 page"):
        source.parse_list(real_page("lianjia/beike_zufang_list_sz_2020-03.html"), SZ_URL)


@pytest.mark.parametrize("body", [b"", b"   \n  "])
def test_empty_body(source, body):
    with pytest.raises(EmptyPage, match="58: empty body"):
        source.parse_list(body, SZ_URL)


def test_cut_short_body(source):
    with pytest.raises(EmptyPage, match="cut short"):
        source.parse_list(real_page(SZ_2020)[:200_000], SZ_URL)


def test_58_page_in_new_markup_names_the_selector(source):
    body = (FIXTURES / "list_layout_changed.html").read_bytes()
    with pytest.raises(LayoutChanged) as info:
        source.parse_list(body, SZ_URL)
    assert info.value.selector == "ul.house-list > li.house-cell"
    assert "ul.listUl > li" in str(info.value)


def test_detail_url_is_not_a_list(source):
    with pytest.raises(NotAListingPage, match="detail page"):
        source.parse_list(real_page(SZ_2020), "https://sz.58.com/zufang/41414355584669x.shtml")


def test_card_without_any_id_is_skipped_with_a_warning(source, caplog):
    card = (
        '<li logr="{logr}"><div class="des"><h2><a href="{href}">整租 | 某小区 1室1厅1卫</a></h2>'
        '<p class="room">1室1厅1卫 40㎡</p><p class="add"><a href="/dashanzi/chuzu/">大山子</a></p>'
        '</div><div class="money"><b>3000</b>元/月</div></li>'
    )
    body = (
        "<html><head><title>北京58同城</title></head><body><ul class='listUl'>"
        + card.format(logr="", href="http://jxjump.58.com/service?target=x")
        + card.format(logr="gz_2_1_33000000000001_sortid:1@postdate:1525881605000",
                      href="http://bj.58.com/zufang/33000000000001x.shtml")
        + "<li id='bottom_ad_li'><div class='pager'></div></li></ul></body></html>"
    ).encode()  # fmt: skip
    with caplog.at_level("WARNING", logger="scrapers.fiftyeight"):
        page = source.parse_list(body, BJ_URL)
    assert [r.listing_id for r in page.records] == ["33000000000001"]
    assert "skipped 1 card(s) without a listing id" in caplog.text
