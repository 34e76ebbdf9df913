"""自如 Ziroom: rooms and flats let by Ziroom itself.

Parses the 2016–17 markup (``ul#houseList > li``, plain-text prices), verified against
the saved Shanghai 2016-11 and Beijing 2017-08 list pages and three Shanghai detail
pages in ``../shared/fixtures/real/ziroom``. Unverified against the post-2019 markup
(``div.Z_list-box``, prices drawn as image sprites): such a page raises LayoutChanged.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scrapers.errors import BlockedPage, LayoutChanged, NotAListingPage, NotARentalPage
from scrapers.htmltext import (
    agent_key,
    clean_text,
    decode_html,
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

ITEM_SELECTOR = "ul#houseList > li"
TITLE_SELECTOR = "div.txt h3 a"
PRICE_SELECTOR = "p.price"
DETAIL_SPANS_SELECTOR = "div.detail p span"
NEXT_SELECTOR = "#page a.next"
#: Every listing is let by Ziroom itself: the brand is the advertiser.
BRAND = "自如"
EMPTY_RESULT_MARKERS = ("没有找到", "暂无房源", "没有符合")
ICON_TENURE = {"合": "shared", "整": "whole"}

_ROOM_URL = re.compile(r"/z/vr/(\d+)\.html")
# "和祥佳园2居室-南卧": the 小区 name, the suite's rooms, the room's orientation.
_TITLE = re.compile(r"^(?P<community>.+?)(?P<rooms>\d+)居室(?:-(?P<rest>.*))?$")
_TENURE_PREFIX = re.compile(r"^(?:整租|合租|独栋)\s*[·・|]?\s*")
_ORIENTATION = re.compile(r"^([东南西北]+)")
_BRACKET = re.compile(r"\[([^\]]+)\]\s*(.*)")
_FLOOR = re.compile(r"(\d+)\s*/\s*(\d+)\s*层")
_DISTRICT_LINK = re.compile(r"/z/nl/[a-z0-9-]*-d\d+\.html$")


class ZiroomSource(Source):
    name = "ziroom"
    title = "自如 Ziroom"
    hosts = ("{city}.ziroom.com",)
    politeness = Politeness(delay=3.0, jitter=0.4, concurrency=1)
    # District and building filters use site codes this project has not verified.
    capabilities = Capabilities(list=True, detail=True)
    max_pages = None
    city_list_path = "/z/nl/"
    # The real pages are of the 2016–17 markup; today's (Z_list-box, sprite prices) is not read.
    verified_note = "old pages only (2016–17); current markup unsupported"

    def base_url(self, city: str) -> str:
        # Ziroom's own links write city codes in either case ("SH", "sh").
        return super().base_url(city.lower() if city else city)

    def page_kind(self, url: str) -> str:
        return "detail" if _ROOM_URL.search(urlsplit(url).path) else "list"

    def markup_block_reason(self, body: bytes, url: str) -> str | None:
        tree = LexborHTMLParser(decode_html(body))
        if _is_list(tree) or _is_detail(tree):
            return None
        return title_block_reason(page_title(tree))

    def _check(self, tree: LexborHTMLParser, url: str) -> None:
        if _is_list(tree) or _is_detail(tree):
            return
        reason = url_block_reason(url) or title_block_reason(page_title(tree))
        if reason:
            raise BlockedPage(f"{self.name}: {reason}", url)

    # -- list pages -----------------------------------------------------------
    def parse_list(self, body: bytes, url: str) -> ListPage:
        _text, tree = parse_page(body, url, self.name)
        self._check(tree, url)
        if not _is_list(tree):
            title = page_title(tree)
            if _is_detail(tree):
                raise NotARentalPage(
                    f"{self.name}: a room detail page, not a list page (title {title!r})",
                    url,
                    "rental detail",
                )
            if tree.css_first("div.Z_list-box") is not None:
                raise LayoutChanged(
                    f"{self.name}: post-2019 list markup (div.Z_list-box, sprite prices) is not "
                    f"supported; {ITEM_SELECTOR!r} found nothing",
                    url,
                    selector=ITEM_SELECTOR,
                )
            raise NotAListingPage(f"{self.name}: not a Ziroom list page (title {title!r})", url)

        districts = _district_names(tree)
        cards = tree.css(ITEM_SELECTOR)
        records = [r for r in (self._parse_card(c, url, districts) for c in cards) if r]
        current_page, total_pages = _paging(tree)
        next_urls = followed_link(tree.css_first(NEXT_SELECTOR), url)

        return finish_list_page(
            self.name,
            url,
            records,
            len(cards),
            honest_empty=lambda: any(
                m in node_text(tree.css_first("ul#houseList")) + node_text(tree.css_first("#page"))
                for m in EMPTY_RESULT_MARKERS
            ),
            item_selector=ITEM_SELECTOR,
            link_selector=TITLE_SELECTOR,
            link_what="a room link",
            required=(("rent", PRICE_SELECTOR),),
            current_page=current_page,
            total_pages=total_pages,
            next_urls=next_urls,
        )

    def _parse_card(
        self, card: LexborNode, page_url: str, districts: list[str]
    ) -> ListingRecord | None:
        link = card.css_first(TITLE_SELECTOR)
        href = (link.attributes.get("href") or "") if link is not None else ""
        m = _ROOM_URL.search(href)
        if link is None or m is None:
            return None
        title = node_text(link)
        record = self._record(m.group(1), urljoin(page_url, href), title)

        location = node_text(card.css_first("div.txt h4 a"))
        _read_location(location, record, districts)

        spans = [node_text(s) for s in card.css(DETAIL_SPANS_SELECTOR)]
        for text in spans:
            _read_fact(text, record)
        icon = node_text(card.css_first("div.detail span.icons"))
        if icon in ICON_TENURE:
            record.tenure = ICON_TENURE[icon]  # type: ignore[assignment]
        price = card.css_first(PRICE_SELECTOR)
        if price is not None:
            record.rent_text = node_text(price) or None
            record.rent, record.rent_high = parse_range(node_text(price, deep=False))
        tags = [node_text(t) for t in card.css("p.room_tags span")]
        if tags:
            record.extra["tags"] = [t for t in tags if t]
        left = node_text(card.css_first("div.detail p.leave"))
        if left:
            record.extra["rooms_left_text"] = left
        return record

    def _record(self, listing_id: str, url: str, title: str) -> ListingRecord:
        record = ListingRecord(
            source=self.name,
            listing_id=listing_id,
            url=url,
            title=title,
            tenure=tenure_from_text(title),
            brand=BRAND,
            agent_key=agent_key(BRAND),
        )
        m = _TITLE.match(_TENURE_PREFIX.sub("", title))
        if m:
            record.community = m.group("community").strip() or None
            rest = m.group("rest") or ""
            orient = _ORIENTATION.match(rest)
            if orient:
                record.orientation = orient.group(1)
            # "-南卧"/"-02卧" is a room of a shared suite; "-南" alone is the whole flat.
            if record.tenure is None and rest:
                record.tenure = "shared" if rest.endswith("卧") else "whole"
        return record

    # -- detail pages ---------------------------------------------------------
    def parse_detail(self, body: bytes, url: str) -> ListingRecord:
        _text, tree = parse_page(body, url, self.name)
        self._check(tree, url)
        if not _is_detail(tree):
            title = page_title(tree)
            if _is_list(tree):
                raise NotARentalPage(
                    f"{self.name}: a list page, not a room detail page (title {title!r})",
                    url,
                    "rental list",
                )
            raise NotAListingPage(
                f"{self.name}: not a Ziroom room detail page (title {title!r})", url
            )
        room_id = _input_value(tree, "room_id")
        if not room_id:
            m = _ROOM_URL.search(url)
            room_id = m.group(1) if m else None
        if not room_id:
            raise LayoutChanged(
                f"{self.name}: detail page has no input#room_id and its URL has no room id",
                url,
                selector="input#room_id",
            )
        title = node_text(tree.css_first("div.room_name h2"))
        record = self._record(room_id, url, title)
        _read_location(node_text(tree.css_first("div.room_name span.ellipsis")), record, [])

        price = tree.css_first("span.room_price")
        if price is None:
            raise LayoutChanged(
                f"{self.name}: detail page has no rent at 'span.room_price'",
                url,
                selector="span.room_price",
            )
        record.rent, record.rent_high = parse_range(node_text(price))
        record.rent_text = node_text(price.parent) or None

        for li in tree.css("ul.detail_room > li"):
            key, _, value = node_text(li).partition("：")
            value = value.strip()
            if key == "面积":
                record.area_text, record.area = value, parse_area(value)
            elif key == "朝向":
                record.orientation = value or record.orientation
            elif key == "户型":
                icon = node_text(li.css_first("span.icons"))
                if icon in ICON_TENURE:
                    record.tenure = ICON_TENURE[icon]  # type: ignore[assignment]
                _read_fact(value.removesuffix(icon).strip(), record)
            elif key == "楼层":
                _read_fact(value, record)
        record.community_id = _input_value(tree, "resblock_id")
        house_id = _input_value(tree, "house_id")
        if house_id:
            record.extra["house_id"] = house_id  # the suite a room belongs to
        return record


# -- helpers -------------------------------------------------------------------
def _is_list(tree: LexborHTMLParser) -> bool:
    return tree.css_first("ul#houseList") is not None


def _is_detail(tree: LexborHTMLParser) -> bool:
    return (
        tree.css_first("div.room_name") is not None and tree.css_first("ul.detail_room") is not None
    )


def _input_value(tree: LexborHTMLParser, input_id: str) -> str | None:
    node = tree.css_first(f"input#{input_id}")
    value = clean_text(node.attributes.get("value")) if node is not None else ""
    return value or None


def _district_names(tree: LexborHTMLParser) -> list[str]:
    """District names from the page's own area filter, longest first (for prefix matching)."""
    names = {
        node_text(a)
        for a in tree.css("a[href]")
        if _DISTRICT_LINK.search(a.attributes.get("href") or "")
    }
    names.discard("全部")
    names.discard("")
    return sorted(names, key=len, reverse=True)


def _read_location(text: str, record: ListingRecord, districts: list[str]) -> None:
    """ "[浦东 金杨] 6号线 云山路" (detail) or "[浦东外高桥] 6号线港城路" (list)."""
    m = _BRACKET.search(text)
    if not m:
        return
    inside = clean_text(m.group(1))
    if m.group(2):
        record.extra["transit"] = clean_text(m.group(2))
    if " " in inside:
        record.district, record.subdistrict = inside.split(" ", 1)
        return
    for name in districts:
        if inside.startswith(name) and len(inside) > len(name):
            record.district, record.subdistrict = name, inside[len(name) :]
            return
    record.extra["area_text"] = inside  # 区 and 板块 run together; no filter names to split on


def _read_fact(text: str, record: ListingRecord) -> None:
    if not text:
        return
    if "㎡" in text and record.area_text is None:
        record.area_text, record.area = text, parse_area(text)
    elif "层" in text and (floor_m := _FLOOR.search(text)):
        record.floor_text = text
        record.floor_band, record.total_floors = parse_floor(text)
        record.extra["floor"] = parse_int(floor_m.group(1))
    elif "室" in text and record.layout_text is None:
        record.layout_text = text
        record.rooms, record.halls, record.baths = parse_layout(text)
    elif text.startswith(("距", "距离")):
        record.extra["distance_text"] = text


def _paging(tree: LexborHTMLParser) -> tuple[int | None, int | None]:
    pager = tree.css_first("#page")
    if pager is None:
        return None, None
    total_m = re.search(r"共\s*(\d+)\s*页", node_text(pager))
    total = int(total_m.group(1)) if total_m else None
    current = parse_int(node_text(pager.css_first("a.active")))
    if current is None:
        current = parse_int(_input_value(tree, "JumpToPage"))
    return current, total
