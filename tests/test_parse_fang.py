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


def _card(href: str, title: str, facts: str, place: str, price: str, extra: str = "") -> str:
    return f"""<dl class="list hiddenMap rel" dataflag="bg"><dd class="info rel">
<p class="title"><a href="{href}" title="{title}">{title}</a></p>
<p class="font15 mt12 bold">{facts}</p>
<p class="gray6 mt12">{place}</p>{extra}
<div class="moreInfo"><p class="mt5 alingC"><span class="price">{price}</span>元/月</p></div>
</dd></dl>"""


SPLIT = '<span class="splitline"></span>'
PLACE = (
    '<a href="//hz.zu.fang.com/house-a0151/"><span>上城</span></a>-九堡-'
    '<a href="//hz.zu.fang.com/house-xm1010111111/"><span>丽晶国际</span></a>'
)


def _page(cards: list[str], total: str = "共找到 35 套杭州租房") -> bytes:
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>杭州租房</title></head><body>'
        f'<p class="findplot">{total}</p><div class="houseList">{"".join(cards)}</div>'
        "</body></html>"
    ).encode()


def test_cards_in_the_markup_of_later_pages():
    """Empty separator spans, a 板块 as plain text, protocol-relative links, the total only
    in words, a 合租 card linking /hezu/ and a promoted card: all read, none dropped."""
    page = _page(
        [
            _card("/chuzu/3_1_1.htm", "九堡 丽晶国际 精装", f"整租{SPLIT}2室1厅{SPLIT}86㎡{SPLIT}朝南", PLACE, "3500"),
            _card("/hezu/3_2_1.htm", "丽晶国际 主卧", f"合租{SPLIT}3室1厅{SPLIT}15㎡{SPLIT}朝北{SPLIT}高层(共30层)", PLACE, "1600"),
            _card("//hz.zu.fang.com/chuzu/3_3_1.htm", "丽晶国际 2室1厅 89㎡", f"整租{SPLIT}朝南", PLACE, "3600", '<span class="tg">推广</span>'),
        ]
    )  # fmt: skip
    listed = fang.parse_list(page, "https://hz.zu.fang.com/house/")
    whole, room, promoted = listed.records
    assert listed.total_count == 35
    assert (whole.tenure, whole.area, whole.rooms, whole.halls, whole.orientation) == (
        "whole",
        86.0,
        2,
        1,
        "南",
    )
    assert (whole.district, whole.subdistrict, whole.community, whole.community_id) == (
        "上城",
        "九堡",
        "丽晶国际",
        "1010111111",
    )
    assert (room.listing_id, room.tenure, room.area, room.floor_band, room.total_floors) == (
        "3_2_1",
        "shared",
        15.0,
        "高楼层",
        30,
    )
    assert room.url == "https://hz.zu.fang.com/hezu/3_2_1.htm"
    # The layout and area only in the title still count; the card is kept, marked promoted.
    assert (promoted.is_promoted, promoted.area, promoted.rooms) == (True, 89.0, 2)
    assert promoted.url == "https://hz.zu.fang.com/chuzu/3_3_1.htm"
    assert not whole.is_promoted and not room.is_promoted


def test_saved_page_links_stay_on_the_site_and_missing_facts_raise_the_alarm(tmp_path, db_path):
    from tests.cli_helpers import rows, run_cli

    good = _page(
        [_card("/chuzu/3_1_1.htm", "丽晶国际", f"整租{SPLIT}2室1厅{SPLIT}86㎡", PLACE, "3500")]
    )
    (tmp_path / "good.html").write_bytes(good)  # saved without any saved-from comment
    bare = [_card(f"/chuzu/3_{i}_1.htm", "丽晶国际", "整租", PLACE, "3500") for i in (2, 3, 4)]
    bare.append(_card("/chuzu/3_5_1.htm", "丽晶国际", f"整租{SPLIT}1室{SPLIT}40㎡", PLACE, "3000"))
    (tmp_path / "bare.html").write_bytes(_page(bare))
    result = run_cli(
        "ingest", tmp_path, "--source", "fang", "--as-of", "2026-11-20", db_path=db_path
    )
    assert result.exit_code == 1
    assert "3 of 4 cards have no area or no layout" in result.output
    assert rows(db_path, "SELECT url FROM listings") == [
        ("https://hz.zu.fang.com/chuzu/3_1_1.htm",)
    ]
    assert rows(db_path, "SELECT city FROM runs") == [("hz",)]
