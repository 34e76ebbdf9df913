"""房天下: hand-written pages in the markup public scrapers describe (no real page exists)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scrapers.errors import BlockedPage, EmptyPage, LayoutChanged, NotAListingPage
from scrapers.fang import ITEM_SELECTOR, PRICE_SELECTOR, FangSource
from scrapers.registry import get_source
from tests.realpages import real_page

FIXTURES = Path(__file__).parent / "fixtures" / "fang"
URL = "https://hz.zu.fang.com/house/"

fang = FangSource()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_list_page_values():
    page = fang.parse_list(fixture("list_hz.html"), URL)  # a GB18030 body declaring gb2312
    assert (page.total_count, page.current_page, page.total_pages) == (2345, 1, 18)
    assert page.next_urls == ["https://hz.zu.fang.com/house/i32/"]
    whole, room = page.records
    assert (whole.listing_id, whole.url) == (
        "3_170000001_1",
        "https://hz.zu.fang.com/chuzu/3_170000001_1.htm",
    )
    assert (whole.title, whole.tenure) == ("整租 · 金色海岸 2室1厅", "whole")
    assert (whole.district, whole.subdistrict, whole.community, whole.community_id) == (
        "滨江",
        "长河",
        "金色海岸",
        "1010123456",
    )
    assert (whole.rent, whole.rent_text) == (4500.0, "4500元/月")
    assert (whole.area, whole.layout_text, whole.rooms, whole.halls) == (86.0, "2室1厅", 2, 1)
    assert whole.orientation == "南北"
    assert whole.extra["note"] == "距4号线江陵路站约800米。"

    assert (room.listing_id, room.tenure, room.orientation) == ("1_61000002_-1", "shared", "北")
    assert (room.rent, room.area, room.community) == (1600.0, 15.0, "星光大道")
    assert (room.floor_text, room.floor_band, room.total_floors) == ("中层(共26层)", "中楼层", 26)


def test_paging_stays_on_a_local_host():
    page = fang.parse_list(fixture("list_hz.html"), "http://127.0.0.1:7002/house/")
    assert page.next_urls == ["http://127.0.0.1:7002/house/i32/"]
    assert fang.following_urls(page) == page.next_urls


def test_block_and_rejections():
    with pytest.raises(BlockedPage, match="安全验证"):
        fang.parse_list(fixture("verify.html"), URL)
    slider = "<html><head><title>房天下</title></head><body>请拖动滑块完成验证</body></html>"
    assert "拖动滑块" in fang.block_reason(slider.encode(), URL, 200)
    assert fang.block_reason(fixture("list_hz.html"), URL, 200) is None
    with pytest.raises(BlockedPage):
        fang.parse_list(real_page("anjuke/anjuke_captcha_verify_2024-10.html"), URL)
    with pytest.raises(NotAListingPage, match="房天下"):
        fang.parse_list(real_page("lianjia/beike_zufang_list_hz_2019-09_localized.html"), URL)
    with pytest.raises(EmptyPage):
        fang.parse_list(b"", URL)
    body = fixture("list_hz.html")
    with pytest.raises(EmptyPage, match="cut short"):
        fang.parse_list(body[: len(body) // 2], URL)


def test_layout_changes():
    gone = fixture("list_hz.html").replace(b"<dl ", b"<div ").replace(b"</dl>", b"</div>")
    with pytest.raises(LayoutChanged, match="2345") as exc:
        fang.parse_list(gone, URL)
    assert exc.value.selector == ITEM_SELECTOR
    no_price = fixture("list_hz.html").replace(b'class="price"', b'class="cost"')
    with pytest.raises(LayoutChanged, match="no rent") as exc:
        fang.parse_list(no_price, URL)
    assert exc.value.selector == PRICE_SELECTOR


def test_zero_total_is_empty():
    body = fixture("list_hz.html")
    start, end = body.index(b'<dl class="list'), body.rindex(b"</dl>") + len(b"</dl>")
    empty = body[:start] + body[end:]
    empty = empty.replace(b'<b class="findplotNum">2,345</b>', b'<b class="findplotNum">0</b>')
    page = fang.parse_list(empty, URL)
    assert page.records == [] and page.total_count == 0


def test_declaration_and_urls():
    assert isinstance(get_source("fang"), FangSource)
    assert fang.unverified is True
    assert fang.base_url("hz") == "https://hz.zu.fang.com"
    assert fang.list_urls("hz", base_url="http://127.0.0.1:7002") == [
        "http://127.0.0.1:7002/house/"
    ]
    with pytest.raises(ValueError, match="not supported"):
        fang.list_urls("hz", district="binjiang")
    assert fang.page_kind("https://hz.zu.fang.com/chuzu/3_170000001_1.htm") == "detail"
    assert fang.page_kind(URL) == "list"
