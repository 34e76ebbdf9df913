"""安居客 Anjuke rentals (``{city}.zu.anjuke.com/fangyuan/``).

UNVERIFIED: no saved Anjuke rental page was found, so the list markup follows what
public scrapers describe (``div.zu-itemmod`` cards) and the hand-written pages in
``tests/fixtures/anjuke``. What is verified against real saved pages (Wuhan 2024-10):
its 小区 pages are recognised and refused, and its ``访问验证`` captcha page is a block.
Digits drawn with an embedded ``fangchan-secret`` font (58's scheme) are decoded with
:func:`scrapers.fontdigits.decode_font_digits` before parsing.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scrapers.errors import BlockedPage, LayoutChanged, NotAListingPage, NotARentalPage
from scrapers.fontdigits import decode_font_digits
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
from scrapers.source import Capabilities, Politeness, Source, rebase

ITEM_SELECTOR = "div.zu-itemmod"
LINK_SELECTOR = "div.zu-info h3 a"
PRICE_SELECTOR = "div.zu-side strong.price"
COMMUNITY_SELECTOR = "address.details-item a"
NEXT_SELECTOR = "div.multi-page a.aNxt"
# Anjuke 小区 (community) pages: names and ids of buildings, no rental listings.
COMMUNITY_PAGE_SELECTOR = ".li-community-title, div.community-title, a.li-row, .community-tab"
# Anjuke 二手房 (sale) lists and pages: the 2024 Nuxt cards and the older list items.
SALE_PAGE_SELECTOR = (
    "div.property-content, section.list div.property, ul#houselist-mod-new, "
    "li.list-item div.house-details, div.houseInfo-main"
)
SALE_PATHS = ("/sale/", "/prop/view/", "/ershoufang/")
SITE_WORDS = ("安居客", "anjuke")
LIST_MARKERS = (ITEM_SELECTOR, "div.multi-page", "div.zu-sort", "div.list-content")
EMPTY_RESULT_MARKERS = ("没有找到", "暂无房源", "没有符合")
FONT_FAMILY = "fangchan-secret"

_LISTING_URL = re.compile(r"/fangyuan/(\d+)")
_COMMUNITY_URL = re.compile(r"/community/view/(\d+)")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_ORIENTATION = re.compile(r"^(?:朝)?([东南西北]+)$")


class AnjukeSource(Source):
    name = "anjuke"
    title = "安居客 Anjuke"
    hosts = ("{city}.zu.anjuke.com",)
    # Reported: a captcha even with 5 s between requests; ask more gently than elsewhere.
    politeness = Politeness(delay=6.0, jitter=0.4, concurrency=1)
    capabilities = Capabilities(list=True, district_query=True)
    max_pages = 50
    unverified = True

    def list_urls(
        self,
        city: str,
        *,
        district: str | None = None,
        building: str | None = None,
        base_url: str | None = None,
    ) -> list[str]:
        if building:
            raise ValueError(f"{self.name}: building queries are not supported")
        if district and not _SLUG.match(district):
            raise ValueError(f"{self.name}: district must be the site's slug such as 'xihu'")
        path = f"/fangyuan/{district}/" if district else "/fangyuan/"
        return [rebase(self.base_url(city) + path, base_url)]

    def page_kind(self, url: str) -> str:
        return "detail" if _LISTING_URL.search(urlsplit(url).path) else "list"

    def markup_block_reason(self, body: bytes, url: str) -> str | None:
        return _markup_block_reason(LexborHTMLParser(decode_html(body)))

    def parse_list(self, body: bytes, url: str) -> ListPage:
        text, tree = parse_page(body, url, self.name)
        reason = url_block_reason(url) or _markup_block_reason(tree)
        if reason:
            raise BlockedPage(f"{self.name}: {reason}", url)
        title = page_title(tree)
        web_path = urlsplit(url).path if url.startswith(("http://", "https://")) else ""
        if tree.css_first(COMMUNITY_PAGE_SELECTOR) is not None or "/community/" in web_path:
            raise NotARentalPage(
                f"{self.name}: a 小区 (community) page, not a rental list page (title {title!r})",
                url,
                "小区 (community)",
            )
        is_list = any(tree.css_first(sel) is not None for sel in LIST_MARKERS)
        if tree.css_first(ITEM_SELECTOR) is None and (
            tree.css_first(SALE_PAGE_SELECTOR) is not None
            or any(web_path.startswith(p) for p in SALE_PATHS)
        ):
            # Sale lists share the pager and list wrapper with rental ones: the cards decide.
            raise NotARentalPage(
                f"{self.name}: a sale (二手房) page, not a rental list page (title {title!r})",
                url,
                "sale (二手房)",
            )
        if not is_list:
            own = any(word in title.lower() for word in SITE_WORDS)
            if own and (web_path.startswith("/fangyuan") or "租房" in title):
                raise LayoutChanged(
                    f"{self.name}: an Anjuke rental list page without its list (none of "
                    f"{', '.join(LIST_MARKERS)}; title {title!r})",
                    url,
                    selector=ITEM_SELECTOR,
                )
            if own:
                raise NotARentalPage(
                    f"{self.name}: an Anjuke page but not a rental list page (title {title!r})", url
                )
            raise NotAListingPage(
                f"{self.name}: not an Anjuke rental list page (title {title!r})", url
            )
        if FONT_FAMILY in text:
            tree = LexborHTMLParser(decode_font_digits(text))

        cards = tree.css(ITEM_SELECTOR)
        records = [r for r in (self._parse_card(c, url) for c in cards) if r is not None]
        total_count = parse_int(node_text(tree.css_first("div.zu-sort span.tit em")))
        pager = tree.css_first("div.multi-page")
        current_page = parse_int(node_text(pager.css_first("i.curr"))) if pager else None
        next_urls = followed_link(tree.css_first(NEXT_SELECTOR), url)

        return finish_list_page(
            self.name,
            url,
            records,
            len(cards),
            honest_empty=lambda: (
                total_count == 0
                or (
                    total_count is None
                    and any(m in node_text(tree.body) for m in EMPTY_RESULT_MARKERS)
                )
            ),
            item_selector=ITEM_SELECTOR,
            link_selector=LINK_SELECTOR,
            link_what="a /fangyuan/<id> link",
            required=(("rent", PRICE_SELECTOR), ("community", COMMUNITY_SELECTOR)),
            total_count=total_count,
            current_page=current_page,
            next_urls=next_urls,
        )

    def _parse_card(self, card: LexborNode, page_url: str) -> ListingRecord | None:
        link = card.css_first(LINK_SELECTOR)
        href = (link.attributes.get("href") or "") if link is not None else ""
        m = _LISTING_URL.search(href)
        if link is None or m is None:
            return None
        title = node_text(link.css_first("b.strongbox")) or node_text(link)
        title = title or clean_text(link.attributes.get("title"))
        parts = urlsplit(urljoin(page_url, href))
        record = ListingRecord(
            source=self.name,
            listing_id=m.group(1),
            # The query only carries tracking parameters.
            url=urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
            title=title,
            tenure=tenure_from_text(title),
        )
        tag = card.css_first("p.tag")
        if tag is not None:
            for seg in _text_before_broker(tag).split("|"):
                _read_fact(clean_text(seg), record)
        _read_address(card.css_first("address.details-item"), record)
        tags: list[str] = []
        for span in card.css("p.bot-tag span"):
            word = node_text(span)
            tenure = tenure_from_text(word)
            orient = _ORIENTATION.match(word)
            if tenure:
                record.tenure = tenure
            elif orient:
                record.orientation = orient.group(1)
            elif word:
                tags.append(word)
        if tags:
            record.extra["tags"] = tags
        price = card.css_first(PRICE_SELECTOR)
        if price is not None:
            record.rent, record.rent_high = parse_range(node_text(price))
            record.rent_text = node_text(price.parent) or None
        return record


def _markup_block_reason(tree: LexborHTMLParser) -> str | None:
    if tree.css_first(ITEM_SELECTOR) is not None:
        return None
    body = tree.body
    if body is not None and "Captcha" in (body.attributes.get("data-page") or ""):
        return f"captcha page (body data-page={body.attributes.get('data-page')!r})"
    if tree.css_first("#verify_page") is not None:
        return "verification page (#verify_page)"
    return title_block_reason(page_title(tree))


def _text_before_broker(tag: LexborNode) -> str:
    """Text of the facts line up to the broker icon: the broker's name after it is personal."""
    pieces: list[str] = []
    for node in tag.iter(include_text=True):
        classes = "" if node.tag == "-text" else (node.attributes.get("class") or "")
        if node.tag == "i" or "jjr" in classes or "broker" in classes:
            break
        pieces.append(node.text() or "")
    return "".join(pieces)


def _read_fact(seg: str, record: ListingRecord) -> None:
    if not seg:
        return
    if record.area_text is None and find_area_text(seg):
        record.area_text, record.area = seg, parse_area(seg)
    elif "层" in seg:
        record.floor_text = seg
        record.floor_band, record.total_floors = parse_floor(seg)
    elif record.layout_text is None and find_layout_text(seg):
        record.layout_text = seg
        record.rooms, record.halls, record.baths = parse_layout(seg)


def _read_address(address: LexborNode | None, record: ListingRecord) -> None:
    """``<a>小区</a> 区-板块-street``: the link names the 小区, the text places it."""
    if address is None:
        return
    link = address.css_first("a")
    if link is not None:
        record.community = node_text(link) or None
        m = _COMMUNITY_URL.search(link.attributes.get("href") or "")
        if m:
            record.community_id = m.group(1)
        link.decompose()
    place = node_text(address)
    if not place:
        return
    bits = [b.strip() for b in place.split("-")]
    record.district = bits[0] or None
    if len(bits) > 1:
        record.subdistrict = bits[1] or None
    if len(bits) > 2:
        record.extra["address"] = "-".join(bits[2:])
