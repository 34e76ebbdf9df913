"""房天下 Fang.com rentals (``{city}.zu.fang.com/house/``).

UNVERIFIED: no saved 房天下 page was found (a person's report on real pages, issue 21, says
the facts line, 合租 cards, promoted cards and the total differ from the first reading). The markup follows what public scrapers
describe (``div.houseList dl`` cards) and the hand-written pages in
``tests/fixtures/fang``; a real page that does not match raises LayoutChanged or
NotAListingPage, never an empty list.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scrapers.errors import BlockedPage, NotAListingPage
from scrapers.htmltext import (
    clean_text,
    decode_html,
    find_area_text,
    find_layout_text,
    finish_list_page,
    followed_link,
    node_text,
    page_title,
    parse_area,
    parse_floor,
    parse_int,
    parse_layout,
    parse_page,
    parse_range,
    tenure_from_text,
    title_block_reason,
    url_block_reason,
)
from scrapers.record import ListingRecord, ListPage
from scrapers.source import Capabilities, Politeness, Source

ITEM_SELECTOR = "div.houseList dl"
TITLE_SELECTOR = "dd p.title a"
FACTS_SELECTOR = "dd p.font15"
PLACE_SELECTOR = "dd p.gray6 a"
PRICE_SELECTOR = "dd div.moreInfo p.mt5 span.price"
PAGER_SELECTOR = "div.fanye"
EMPTY_RESULT_MARKERS = ("没有找到", "暂无房源", "抱歉，没有")
BLOCK_BODY_MARKERS = ("滑动验证", "拖动滑块", "请完成验证")

# Whole flats link /chuzu/, rooms in shared flats (合租) /hezu/; newer pages put the city
# first (/hz/chuzu/…).
_LISTING_URL = re.compile(r"/(chuzu|hezu)/(\d+_\d+_-?\d+)\.htm")
_TOTAL = re.compile(r"找到\s*([\d,]+)\s*(?:套|条)")
#: Words a promoted card shows instead of (or beside) an ordinary ad's.
PROMOTED_MARKERS = ("推广", "广告", "置顶")
_COMMUNITY_URL = re.compile(r"/house-xm(\d+)/")
_ORIENTATION = re.compile(r"^朝?([东南西北]+)$")


class FangSource(Source):
    name = "fang"
    title = "房天下 Fang"
    hosts = ("{city}.zu.fang.com",)
    politeness = Politeness(delay=5.0, jitter=0.4, concurrency=1)
    capabilities = Capabilities(list=True)
    max_pages = 100
    unverified = True

    city_list_path = "/house/"

    def page_kind(self, url: str) -> str:
        return "detail" if _LISTING_URL.search(urlsplit(url).path) else "list"

    def markup_block_reason(self, body: bytes, url: str) -> str | None:
        text = decode_html(body)
        return _markup_block_reason(text, LexborHTMLParser(text))

    def parse_list(self, body: bytes, url: str) -> ListPage:
        text, tree = parse_page(body, url, self.name)
        reason = url_block_reason(url) or _markup_block_reason(text, tree)
        if reason:
            raise BlockedPage(f"{self.name}: {reason}", url)
        if tree.css_first("div.houseList") is None:
            raise NotAListingPage(
                f"{self.name}: not a 房天下 rental list page, no div.houseList "
                f"(title {page_title(tree)!r})",
                url,
            )
        cards = tree.css(ITEM_SELECTOR)
        records = [r for r in (self._parse_card(c, url) for c in cards) if r is not None]
        total_count = parse_int(node_text(tree.css_first(".findplotNum")))
        if total_count is None and (m := _TOTAL.search(node_text(tree.css_first("body")))):
            total_count = parse_int(m.group(1))
        current_page, total_pages = _paging(tree.css_first(PAGER_SELECTOR))
        next_urls = followed_link(_next_link(tree.css_first(PAGER_SELECTOR)), url)

        return finish_list_page(
            self.name,
            url,
            records,
            len(cards),
            honest_empty=lambda: (
                total_count == 0
                or (
                    total_count is None
                    and any(
                        m in node_text(tree.css_first("div.houseList"))
                        for m in EMPTY_RESULT_MARKERS
                    )
                )
            ),
            item_selector=ITEM_SELECTOR,
            link_selector=TITLE_SELECTOR,
            link_what="a /chuzu/ link",
            required=(("rent", PRICE_SELECTOR), ("community", PLACE_SELECTOR)),
            total_count=total_count,
            current_page=current_page,
            total_pages=total_pages,
            next_urls=next_urls,
        )

    def _parse_card(self, card: LexborNode, page_url: str) -> ListingRecord | None:
        link = card.css_first(TITLE_SELECTOR)
        if link is None or not _LISTING_URL.search(link.attributes.get("href") or ""):
            link = next(
                (a for a in card.css("a") if _LISTING_URL.search(a.attributes.get("href") or "")),
                None,
            )
        href = (link.attributes.get("href") or "") if link is not None else ""
        m = _LISTING_URL.search(href)
        if link is None or m is None:
            return None
        title = node_text(link) or clean_text(link.attributes.get("title"))
        record = ListingRecord(
            source=self.name,
            listing_id=m.group(2),
            url=urljoin(page_url, href),
            title=title,
            tenure="shared" if m.group(1) == "hezu" else tenure_from_text(title),
        )
        for seg in _fact_segments(card):
            _read_fact(seg, record)
        # Titles often repeat the layout and area ("整租 · 金色海岸 2室1厅"): a second source.
        for seg in title.replace("·", " ").replace("|", " ").split():
            if record.area is None or record.layout_text is None:
                _read_fact(seg, record, tenure=False)
        _read_place(card, record)
        price = card.css_first(PRICE_SELECTOR)
        if price is not None:
            record.rent, record.rent_high = parse_range(node_text(price))
            record.rent_text = node_text(price.parent) or None
        note = node_text(card.css_first("dd span.note"))
        if note:
            record.extra["note"] = note
        badges = node_text(card).replace(title, "")  # a title may say anything
        if any(marker in badges for marker in PROMOTED_MARKERS):
            record.is_promoted = True
        return record


def _fact_segments(card: LexborNode) -> list[str]:
    """The "整租 | 2室1厅 | 86㎡ | 朝南" line split into its parts.

    The parts sit between separator spans (empty or "|"), or in spans of their own; the
    paragraph is ``p.font15`` where public scrapers saw it, else whichever line of the card
    names an area.
    """
    facts = card.css_first(FACTS_SELECTOR)
    if facts is None:
        facts = next((p for p in card.css("dd p") if "㎡" in node_text(p)), None)
    if facts is None:
        return []
    html = facts.html or ""
    text = LexborHTMLParser(re.sub(r"<[^>]+>", "|", html)).text(deep=True)
    return [clean_text(seg) for seg in re.split(r"[|｜/]", text) if clean_text(seg)]


def _read_place(card: LexborNode, record: ListingRecord) -> None:
    """区-板块-小区: links, or plain text between the links (``浦东</a>-张江-<a…``)."""
    line = card.css_first("dd p.gray6")
    if line is None:
        return
    for a in line.css("a"):
        cm = _COMMUNITY_URL.search(a.attributes.get("href") or "")
        if cm:
            record.community = node_text(a) or None
            record.community_id = cm.group(1)
    parts = [clean_text(p) for p in node_text(line).split("-") if clean_text(p)]
    if record.community is not None and parts and parts[-1] == record.community:
        parts = parts[:-1]
    if parts:
        record.district = parts[0]
    if len(parts) > 1:
        record.subdistrict = parts[1]
    if record.community is None and len(parts) > 2:
        record.community = parts[2]  # 小区 without a /house-xm id


def _markup_block_reason(text: str, tree: LexborHTMLParser) -> str | None:
    if tree.css_first("div.houseList") is not None:
        return None
    reason = title_block_reason(page_title(tree))
    if reason:
        return reason
    for marker in BLOCK_BODY_MARKERS:
        if marker in text:
            return f"page shows {marker!r} and no listings"
    return None


def _read_fact(seg: str, record: ListingRecord, *, tenure: bool = True) -> None:
    if not seg:
        return
    kind = tenure_from_text(seg)
    orient = _ORIENTATION.match(seg)
    if kind and len(seg) <= 4:
        if tenure and record.tenure is None:
            record.tenure = kind
    elif record.area_text is None and find_area_text(seg):
        record.area_text, record.area = seg, parse_area(seg)
    elif "层" in seg and tenure:
        record.floor_text = seg
        record.floor_band, record.total_floors = parse_floor(seg)
    elif record.layout_text is None and find_layout_text(seg):
        record.layout_text = seg
        record.rooms, record.halls, record.baths = parse_layout(seg)
    elif orient:
        record.orientation = orient.group(1)


def _paging(pager: LexborNode | None) -> tuple[int | None, int | None]:
    if pager is None:
        return None, None
    total_m = re.search(r"共\s*(\d+)\s*页", node_text(pager))
    current = parse_int(node_text(pager.css_first("a.pageNow, span.on, a.on")))
    return current, int(total_m.group(1)) if total_m else None


def _next_link(pager: LexborNode | None) -> LexborNode | None:
    if pager is None:
        return None
    for a in pager.css("a"):
        if node_text(a) == "下一页":
            return a
    return None
