"""Anjuke: hand-written rental pages (no real one exists) and the real 小区 and captcha pages."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from scrapers.anjuke import ITEM_SELECTOR, PRICE_SELECTOR, AnjukeSource
from scrapers.errors import BlockedPage, EmptyPage, LayoutChanged, NotAListingPage
from scrapers.registry import get_source
from tests.realpages import real_page
from tests.test_fontdigits import TEST_CMAP, build_font

FIXTURES = Path(__file__).parent / "fixtures" / "anjuke"
URL = "https://hz.zu.anjuke.com/fangyuan/"

anjuke = AnjukeSource()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="module")
def page():
    return anjuke.parse_list(fixture("list_hz.html"), URL)


def test_list_page_values(page):
    assert (page.total_count, page.current_page) == (1243, 1)
    assert page.next_urls == ["https://hz.zu.anjuke.com/fangyuan/p2/"]
    assert [r.listing_id for r in page.records] == [
        "1700000000000001",
        "1700000000000002",
        "1700000000000003",
    ]
    whole, room, ranged = page.records
    assert whole.url == "https://hz.zu.anjuke.com/fangyuan/1700000000000001"
    assert whole.title == "整租 · 江南豪园 2室1厅 南北通透"
    assert whole.tenure == "whole"
    assert (whole.district, whole.subdistrict, whole.community, whole.community_id) == (
        "滨江",
        "长河",
        "江南豪园",
        "123456",
    )
    assert whole.extra["address"] == "江南大道1000号"
    assert (whole.rent, whole.rent_text) == (2380.0, "2380 元/月")
    assert (whole.area, whole.area_text) == (89.0, "89平米")
    assert (whole.rooms, whole.halls, whole.layout_text) == (2, 1, "2室1厅")
    assert (whole.floor_text, whole.floor_band, whole.total_floors) == (
        "高层(共18层)",
        "高楼层",
        18,
    )
    assert whole.orientation == "南北"
    assert whole.extra["tags"] == ["有电梯", "4号线"]

    assert room.url == "https://hz.zu.anjuke.com/fangyuan/1700000000000002"
    assert (room.tenure, room.orientation, room.area, room.rent) == ("shared", "南", 18.5, 1800.0)
    assert (room.floor_band, room.total_floors) == ("中楼层", 32)

    assert (ranged.rent, ranged.rent_high) == (3000.0, 3200.0)
    assert (ranged.district, ranged.subdistrict) == ("萧山", "钱江世纪城")


def test_broker_name_never_reaches_the_record(page):
    for r in page.records:
        assert "测试经纪人" not in repr(r.as_dict())
        assert r.agent_key is None and r.brand is None


def test_font_drawn_digits_are_decoded():
    """Rents written as private code points with a fangchan-secret font, as 58 does."""
    font = base64.b64encode(build_font(TEST_CMAP)).decode("ascii")
    style = (
        "<style>@font-face{font-family:'fangchan-secret';"
        f"src:url('data:application/font-ttf;charset=utf-8;base64,{font}') format('truetype')}}</style>"
    )
    text = fixture("list_hz.html").decode()
    # 2380 -> 2 3 8 0 and 18 -> 1 8, drawn by the embedded font.
    text = text.replace("</head>", style + "</head>")
    text = text.replace(
        '<b class="strongbox">2380</b>', '<b class="strongbox">&#x9ea3;&#x993c;&#x958f;&#x9f92;</b>'
    )
    text = text.replace(
        '共<b class="strongbox">18</b>层', '共<b class="strongbox">&#x9fa4;&#x958f;</b>层'
    )
    decoded = anjuke.parse_list(text.encode(), URL)
    whole = decoded.records[0]
    assert whole.rent == 2380.0
    assert whole.total_floors == 18


def test_real_community_pages_are_refused():
    with pytest.raises(NotAListingPage, match="小区"):
        anjuke.parse_list(real_page("anjuke/anjuke_community_list_wh_2024-10.html"), URL)
    with pytest.raises(NotAListingPage, match="小区.*融创观澜府"):
        anjuke.parse_list(real_page("anjuke/anjuke_community_detail_wh_2024-10.html"), URL)


def test_real_captcha_page_is_blocked():
    body = real_page("anjuke/anjuke_captcha_verify_2024-10.html")
    with pytest.raises(BlockedPage, match="captcha"):
        anjuke.parse_list(body, URL)
    assert "Captcha" in anjuke.block_reason(body, URL, 200)
    assert anjuke.block_reason(fixture("list_hz.html"), URL, 200) is None
    # The title alone is enough when the body marker is missing.
    bare = b"<html><head><title>\xe8\xae\xbf\xe9\x97\xae\xe9\xaa\x8c\xe8\xaf\x81-\xe5\xae\x89\xe5\xb1\x85\xe5\xae\xa2</title></head><body></body></html>"
    with pytest.raises(BlockedPage, match="访问验证"):
        anjuke.parse_list(bare, URL)


def test_other_pages_and_bad_bodies():
    with pytest.raises(NotAListingPage, match="not an Anjuke rental list page"):
        anjuke.parse_list(real_page("ziroom/ziroom_list_sh_2016-11.html"), URL)
    with pytest.raises(EmptyPage):
        anjuke.parse_list(b"", URL)
    body = fixture("list_hz.html")
    with pytest.raises(EmptyPage, match="cut short"):
        anjuke.parse_list(body[: len(body) // 2], URL)


def test_empty_result_and_layout_changes():
    page = anjuke.parse_list(fixture("list_empty.html"), URL)
    assert page.records == [] and page.total_count == 0

    gone = fixture("list_hz.html").replace(b'class="zu-itemmod"', b'class="zu-card"')
    with pytest.raises(LayoutChanged, match="1243") as exc:
        anjuke.parse_list(gone, URL)
    assert exc.value.selector == ITEM_SELECTOR

    no_price = fixture("list_hz.html").replace(b'class="price"', b'class="cost"')
    with pytest.raises(LayoutChanged, match="no rent") as exc:
        anjuke.parse_list(no_price, URL)
    assert exc.value.selector == PRICE_SELECTOR


def test_declaration_and_urls():
    assert isinstance(get_source("anjuke"), AnjukeSource)
    assert anjuke.unverified is True
    assert anjuke.base_url("hz") == "https://hz.zu.anjuke.com"
    assert anjuke.list_urls("hz") == ["https://hz.zu.anjuke.com/fangyuan/"]
    assert anjuke.list_urls("hz", district="binjiang", base_url="http://127.0.0.1:7001") == [
        "http://127.0.0.1:7001/fangyuan/binjiang/"
    ]
    with pytest.raises(ValueError, match="building"):
        anjuke.list_urls("hz", building="123456")
    assert anjuke.page_kind("https://hz.zu.anjuke.com/fangyuan/1700000000000001") == "detail"
    assert anjuke.page_kind("https://hz.zu.anjuke.com/fangyuan/p2/") == "list"
    # Local crawls stay local when the page links to the real host.
    local = anjuke.parse_list(fixture("list_hz.html"), "http://127.0.0.1:7001/fangyuan/")
    assert local.next_urls == ["http://127.0.0.1:7001/fangyuan/p2/"]
