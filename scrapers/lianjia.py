"""Lianjia (链家) and Beike (贝壳): one rental template since about 2018, two hosts.

List pages are ``/zufang/``, ``/zufang/{district}/`` and ``/zufang/c{resblock_id}/``,
paged as ``…/pg{n}/`` up to 100 pages; detail pages are ``/zufang/{house_code}.html``.
Verified against the saved pages in ``../shared/fixtures/real/lianjia`` (Beike
Shenzhen 2020-03, Hangzhou 2019-09 list and detail).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scrapers.errors import BlockedPage, LayoutChanged, NotAListingPage, NotARentalPage
from scrapers.htmltext import (
    _AREA,
    _LAYOUT,
    agent_key,
    check_required,
    clean_text,
    declared_charset,
    decode_html,
    find_area_text,
    find_layout_text,
    join_prefix,
    join_url,
    node_text,
    page_is_closed,
    page_title,
    parse_area,
    parse_floor,
    parse_int,
    parse_layout,
    parse_page,
    parse_range,
    suspect_number,
    tenure_from_clean_text,
    tenure_from_text,
    title_block_reason,
    url_block_reason,
)
from scrapers.htmltext import BLOCK_TITLE_MARKERS as COMMON_BLOCK_TITLE_MARKERS
from scrapers.htmltext import clean_text as _clean
from scrapers.record import SHANGHAI, ListingRecord, ListPage
from scrapers.source import Capabilities, Politeness, Source, rebase

log = logging.getLogger(__name__)

ITEM_SELECTOR = "div.content__list > div.content__list--item"
TITLE_SELECTOR = "p.content__list--item--title a"
DES_SELECTOR = "p.content__list--item--des"
PRICE_SELECTOR = "span.content__list--item-price em"
COMMUNITY_SELECTOR = 'p.content__list--item--des a[href*="/zufang/c"]'
ASIDE_SELECTOR = "a.content__list--item--aside"
TIME_SELECTOR = ".content__list--item--time"
BRAND_LINE_SELECTOR = "p.content__list--item--brand"
TAG_SELECTOR = "p.content__list--item--bottom i"
TOTAL_SELECTOR = "span.content__title--hl"
PAGER_SELECTOR = "div.content__pg"
# A 小区 (building) page or list: names and ids of buildings, no rental listings.
XIAOQU_SELECTOR = (
    ".xiaoquInfoItem, .xiaoquOverview, .xiaoquDetailHeader, li.xiaoquListItem, .xiaoquListItem"
)
# The site's sale (二手房) list and detail pages, and new-home (楼盘) pages.
SALE_LIST_SELECTOR = "ul.sellListContent, .sellListContent li.clear"
SALE_DETAIL_SELECTOR = ".houseRecord, div.overview div.price span.total, .sellDetailHeader"
# Paths of the site's other sections, for pages whose markup says nothing more.
OTHER_SECTIONS = (
    ("/ershoufang/", "sale (二手房)"),
    ("/chengjiao/", "sold (成交)"),
    ("/xiaoqu/", "小区"),
    ("/loupan/", "new-home (楼盘)"),
)

MAX_PAGES = 100
PROMOTED_AD_TYPES = frozenset({"40", "50"})
# Words seen on the sites' captcha, verification and login interstitials.
BLOCK_TITLE_MARKERS = (*COMMON_BLOCK_TITLE_MARKERS, "登录")
# Words a verification page *shows*. Script URLs are no evidence: real 2020–21 pages of
# every kind load the captcha SDK in <head>, and a login dialog sits in every page's markup.
BLOCK_TEXT_MARKERS = ("人机认证", "访问验证", "请完成验证", "完成验证后继续访问")
#: A page showing more visible text than this is content, whatever words it also shows.
BLOCK_PAGE_MAX_TEXT = 2000
# What the list shows instead of cards when a query matches nothing.
EMPTY_RESULT_MARKERS = ("没有找到相关房源", "没有找到相关", "暂无房源", "content__empty")

_HOUSE_CODE_URL = re.compile(r"/zufang/([A-Za-z]*\d+)\.html")
_RESBLOCK = re.compile(r"/zufang/c(\d+)/?")
_PAGE_SEGMENT = re.compile(r"pg\d+/?$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_ORIENTATION = re.compile(r"^[东南西北\s]+$")
_FLOORS = re.compile(r"\d+\s*层")
_LISTED_DATE = re.compile(r"房源上架时间\s*(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})")
# The required fields: if most cards lack one, the markup changed rather than the data.
_REQUIRED_SHARE = 0.5


def _attr(node: LexborNode, name: str) -> str | None:
    """Attribute by name regardless of case (the site writes data-totalPage, HTML lowercases)."""
    attrs = node.attributes
    if name in attrs:
        return attrs[name]
    lowered = name.lower()
    for key, value in attrs.items():
        if key.lower() == lowered:
            return value
    return None


def _strip_suffix(text: str, suffix: str) -> str:
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


class LianjiaSource(Source):
    name = "lianjia"
    title = "链家 Lianjia"
    hosts = ("{city}.lianjia.com",)
    politeness = Politeness(delay=3.0, jitter=0.4, concurrency=1)
    capabilities = Capabilities(list=True, detail=True, building_query=True, district_query=True)
    max_pages = MAX_PAGES
    #: How the site names itself in page titles; used to tell its other pages from foreign ones.
    site_words: tuple[str, ...] = ("链家", "贝壳", "lianjia", "ke.com")
    #: A resblock (小区) number, as in ``/zufang/c1811043464378/``.
    site_id_pattern = r"c?\d+"

    def created_on(self, listing_id: str) -> str | None:
        created = house_code_time(listing_id)
        return created.date().isoformat() if created is not None else None

    # -- URLs ---------------------------------------------------------------
    def list_urls(
        self,
        city: str,
        *,
        district: str | None = None,
        building: str | None = None,
        base_url: str | None = None,
    ) -> list[str]:
        root = self.base_url(city)
        paths: list[str] = []
        if district:
            if not _SLUG.match(district):
                raise ValueError(
                    f"{self.name}: district must be the site's slug such as 'xihu', got {district!r}"
                )
            paths.append(f"/zufang/{district}/")
        if building:
            resblock = building.strip().removeprefix("c")
            if not resblock.isdigit():
                raise ValueError(
                    f"{self.name}: building must be a resblock id such as 'c1811043464378', "
                    f"got {building!r}"
                )
            paths.append(f"/zufang/c{resblock}/")
        if not paths:
            paths.append("/zufang/")
        return [rebase(root + p, base_url) for p in paths]

    def following_urls(self, page: ListPage) -> list[str]:
        if page.next_urls:
            return list(page.next_urls)
        if page.current_page not in (None, 1) or not page.total_pages:
            return []
        return _page_urls(page.url, _url_template(page.url), page.total_pages)

    def page_kind(self, url: str) -> str:
        return "detail" if _HOUSE_CODE_URL.search(urlsplit(url).path) else "list"

    # -- block pages ----------------------------------------------------------
    def markup_block_reason(self, body: bytes, url: str) -> str | None:
        text = decode_html(body)
        return _markup_block_reason(text, LexborHTMLParser(text))

    def _check_blocked(self, text: str, tree: LexborHTMLParser, url: str) -> None:
        reason = url_block_reason(url) or _markup_block_reason(text, tree)
        if reason:
            raise BlockedPage(f"{self.name}: {reason}", url)

    # -- list pages -----------------------------------------------------------
    def parse_list(self, body: bytes, url: str) -> ListPage:
        url_reason = url_block_reason(url)
        region = _list_region(body) if url_reason is None else None
        if region is not None:
            page = self._parse_list_region(region, url)
            if page is not None:
                return page
        text, tree = parse_page(body, url, self.name)
        is_list = _is_list_page(tree)
        reason = url_reason or (None if is_list else _markup_block_reason(text, tree))
        if reason:
            raise BlockedPage(f"{self.name}: {reason}", url)
        if not is_list:
            raise self._not_a_list(tree, url)
        return self._list_page(tree, url)

    def _parse_list_region(self, region: bytes, url: str) -> ListPage | None:
        """The page read from its list region alone, or None when the whole page must decide.

        Anything short of a list whose cards all read well (no cards, missing fields, a
        region that is not a list, text that is not UTF-8) goes to the whole-page parse,
        which gives the verdict and its message; a good page is read here at well under
        half the cost.
        """
        tree = LexborHTMLParser(region)
        if not _is_list_page(tree):
            return None
        try:
            page = self._list_page(tree, url)
        except LayoutChanged:
            return None
        if not page.records or _has_replaced_bytes(page.records):
            return None
        return page

    def _list_page(self, tree: LexborHTMLParser, url: str) -> ListPage:
        total_count = parse_int(node_text(tree.css_first(TOTAL_SELECTOR)))
        pager = tree.css_first(PAGER_SELECTOR)
        current_page = total_pages = None
        template = None
        if pager is not None:
            current_page = parse_int(_attr(pager, "data-curPage"))
            total_pages = parse_int(_attr(pager, "data-totalPage"))
            template = _attr(pager, "data-url")

        cards = tree.css(ITEM_SELECTOR)
        if not cards:
            if total_count == 0 or (total_count is None and _shows_empty_result(tree)):
                return ListPage([], url, total_count or 0, current_page, total_pages or 0)
            raise LayoutChanged(
                f"{self.name}: list page says {total_count} listings but {ITEM_SELECTOR!r} "
                "matched no card",
                url,
                selector=ITEM_SELECTOR,
            )

        records = [r for r in (self._parse_card(card, url) for card in cards) if r is not None]
        self._check_required(records, len(cards), url)

        next_urls: list[str] = []
        if current_page in (None, 1) and total_pages and total_pages > 1:
            if not template or "{page}" not in template:
                template = _url_template(url)
            next_urls = _page_urls(url, template, total_pages)
        return ListPage(records, url, total_count, current_page, total_pages, next_urls)

    def _parse_card(self, card: LexborNode, page_url: str) -> ListingRecord | None:
        title_a = card.css_first(TITLE_SELECTOR) or card.css_first(ASIDE_SELECTOR)
        record = self._new_record(card, title_a, page_url)
        if record is None:
            return None
        des = card.css_first(DES_SELECTOR)
        if des is not None:
            _read_description(des, des.css("a"), record)
        _read_price(card.css_first(PRICE_SELECTOR), record)
        line = card.css_first(BRAND_LINE_SELECTOR)
        brand_node = line.css_first("span.brand") if line is not None else None
        _read_brand(card.css_first(TIME_SELECTOR), line, brand_node, record)
        _read_tags(card.css(TAG_SELECTOR), record)
        return record

    def _new_record(
        self, card: LexborNode, title_a: LexborNode | None, page_url: str
    ) -> ListingRecord | None:
        """The record of a card from its attributes and title link, or None (logged)."""
        attrs = card.attrs
        code = attrs.get("data-house_code")
        listing_id = _clean(code if code is not None else _attr(card, "data-house_code"))
        if not listing_id or title_a is None:
            log.warning("%s: card without data-house_code or title link on %s", self.name, page_url)
            return None
        a_attrs = title_a.attrs
        href = a_attrs.get("href") or ""
        title = _text(title_a) or _clean(a_attrs.get("title"))
        is_apartment = "/apartment/" in href
        ad_type = attrs.get("data-ad_type")
        return ListingRecord(
            source=self.name,
            listing_id=listing_id,
            url=join_url(page_url, href),
            title=title,
            created_on=self.created_on(listing_id),
            tenure="building" if is_apartment else tenure_from_clean_text(title),
            is_apartment=is_apartment,
            is_promoted=_clean(ad_type if ad_type is not None else _attr(card, "data-ad_type"))
            in PROMOTED_AD_TYPES,
        )

    def _check_required(self, records: list[ListingRecord], n_cards: int, url: str) -> None:
        if len(records) < n_cards * _REQUIRED_SHARE:
            raise LayoutChanged(
                f"{self.name}: {n_cards - len(records)} of {n_cards} cards lack data-house_code "
                f"or {TITLE_SELECTOR!r}",
                url,
                selector=TITLE_SELECTOR,
            )
        flats = [r for r in records if not r.is_apartment]
        check_required(
            self.name, flats, (("rent", PRICE_SELECTOR), ("community", COMMUNITY_SELECTOR)), url
        )

    def _not_a_list(self, tree: LexborHTMLParser, url: str) -> NotAListingPage | LayoutChanged:
        """Why a page without the rental list is not read, from what it positively is.

        Another kind of the site's page (told by its markup, else by its URL's section) is
        "not a rental page"; the site's rental list page without its list is a changed layout;
        a page nothing ties to the site is not its page at all.
        """
        title = page_title(tree)
        kind = self._other_kind(tree, url)
        if kind is not None:
            wanted = "list" if kind == "rental detail" else "rental list"
            return NotARentalPage(
                f"{self.name}: a {kind} page, not a {wanted} page (title {title!r})", url, kind
            )
        if self._is_own_page(tree, title) and self._is_rental_list_url(url, title):
            return LayoutChanged(
                f"{self.name}: a {self.title} rental list page without its list "
                f"({ITEM_SELECTOR!r}, {PAGER_SELECTOR!r} and {TOTAL_SELECTOR!r} all missing; "
                f"title {title!r})",
                url,
                selector=ITEM_SELECTOR,
            )
        if self._is_own_page(tree, title):
            return NotARentalPage(
                f"{self.name}: a {self.title} page but not a rental list page (title {title!r})",
                url,
            )
        return NotAListingPage(
            f"{self.name}: not a {self.title} rental list page (title {title!r})", url
        )

    def _other_kind(self, tree: LexborHTMLParser, url: str) -> str | None:
        """The kind of the site's non-rental page, by its markup first, then its URL."""
        if _is_detail_page(tree):
            return "rental detail"
        if tree.css_first(XIAOQU_SELECTOR) is not None:
            return "小区 (xiaoqu)"
        if tree.css_first(SALE_LIST_SELECTOR) is not None:
            return "sale (二手房) list"
        if tree.css_first(SALE_DETAIL_SELECTOR) is not None:
            return "sale (二手房) detail"
        path = urlsplit(url).path if url.startswith(("http://", "https://")) else ""
        for section, kind in OTHER_SECTIONS:
            if path.startswith(section):
                return kind
        return None

    def _is_own_page(self, tree: LexborHTMLParser, title: str) -> bool:
        return any(word in title.lower() for word in self.site_words)

    def _is_rental_list_url(self, url: str, title: str) -> bool:
        if url.startswith(("http://", "https://")):
            path = urlsplit(url).path
            return path.startswith("/zufang") and not _HOUSE_CODE_URL.search(path)
        return "租房" in title and "二手房" not in title

    # -- detail pages ---------------------------------------------------------
    def parse_detail(self, body: bytes, url: str) -> ListingRecord:
        text, tree = parse_page(body, url, self.name)
        self._check_blocked(text, tree, url)
        if not _is_detail_page(tree):
            title = page_title(tree)
            if _is_list_page(tree):
                raise NotARentalPage(
                    f"{self.name}: a rental list page, not a detail page (title {title!r})",
                    url,
                    "rental list",
                )
            kind = self._other_kind(tree, url)
            if kind is not None:
                raise NotARentalPage(
                    f"{self.name}: a {kind} page, not a rental detail page (title {title!r})",
                    url,
                    kind,
                )
            raise NotAListingPage(
                f"{self.name}: not a {self.title} rental detail page (title {title!r})", url
            )

        code_text = node_text(tree.css_first("div.content__subtitle i.house_code"))
        code_m = re.search(r"([A-Za-z]*\d{6,})", code_text) or _HOUSE_CODE_URL.search(url)
        if code_m is None:
            raise LayoutChanged(
                f"{self.name}: detail page shows no 房源编号 and its URL has no house code",
                url,
                selector="div.content__subtitle i.house_code",
            )
        title = node_text(tree.css_first("p.content__title"))
        record = ListingRecord(
            source=self.name,
            listing_id=code_m.group(1),
            url=url,
            title=title,
            tenure=tenure_from_text(title),
            created_on=self.created_on(code_m.group(1)),
        )
        subtitle = node_text(tree.css_first("div.content__subtitle"))
        date_m = _LISTED_DATE.search(subtitle)
        if date_m:
            y, m, d = (int(g) for g in date_m.groups())
            record.listed_date = f"{y:04d}-{m:02d}-{d:02d}"
            record.listed_text = clean_text(date_m.group(0))

        aside = tree.css_first("p.content__aside--title")
        if aside is not None:
            record.rent_text = node_text(aside) or None
            record.rent, record.rent_high = parse_range(node_text(aside.css_first("span")))
        if record.rent is None:
            raise LayoutChanged(
                f"{self.name}: detail page has no rent at 'p.content__aside--title span'",
                url,
                selector="p.content__aside--title span",
            )

        for span in tree.css("p.content__article__table span"):
            _read_table_cell(node_text(span), record)

        info: dict[str, str] = {}
        for li in tree.css("div.content__article__info li"):
            key, sep, value = node_text(li).partition("：")
            if sep and value:
                info[key] = value
        if "楼层" in info:
            record.floor_text = info["楼层"]
            record.floor_band, record.total_floors = parse_floor(info["楼层"])
        if info:
            record.extra["info"] = info

        _read_breadcrumbs(tree.css("div.bread__nav--bottom a"), record)
        return record


class BeikeSource(LianjiaSource):
    name = "beike"
    title = "贝壳找房 Beike"
    hosts = ("{city}.zu.ke.com",)


# -- house codes -----------------------------------------------------------------
# A house code is two letters for the city and a time-ordered 64-bit id: the id shifted
# right by 23 bits counts milliseconds from Twitter's snowflake epoch (2010-11-04
# 01:42:54.657 UTC). The day an id gives agrees with the day the card says it was
# published ("3天前发布") on the saved pages (tests/test_parse_lianjia.py; the check is in
# docs/units-method.md, Units). So a list page tells when each ad was created, also for
# ads that were up long before we first saw them.
_HOUSE_CODE = re.compile(r"([A-Z]{2})(\d{1,19})")
_CODE_EPOCH = datetime(2010, 11, 4, 1, 42, 54, 657000, tzinfo=UTC)
_CODE_TIME_SHIFT = 23
#: Ids whose time falls outside these years are not time-ordered ids (old numeric codes).
_CODE_YEARS = (2014, 2100)


def house_code_time(code: str) -> datetime | None:
    """When the site created the ad with this house code (Asia/Shanghai), or None."""
    m = _HOUSE_CODE.fullmatch(code)
    if m is None:
        return None
    moment = _CODE_EPOCH + timedelta(milliseconds=int(m.group(2)) >> _CODE_TIME_SHIFT)
    local = moment.astimezone(SHANGHAI)
    return local if _CODE_YEARS[0] <= local.year < _CODE_YEARS[1] else None


def house_code_at(city: str, moment: datetime, sequence: int) -> str:
    """The house code the site gives an ad created at ``moment`` (the inverse of
    house_code_time; ``sequence`` tells apart ids of one millisecond)."""
    ms = (moment - _CODE_EPOCH) // timedelta(milliseconds=1)
    return f"{city.upper()}{(ms << _CODE_TIME_SHIFT) | (sequence & ((1 << _CODE_TIME_SHIFT) - 1))}"


# -- helpers -------------------------------------------------------------------
# The list region: from the list's article (title with the total, sorting, the cards) to
# the end of its pager. It is about half of a list page, and the cheaper half to parse:
# the rest is the site's head, filters and footer, which the list parser never reads.
_ARTICLE_MARK = b'class="content__article"'
_PAGER_MARK = b'class="content__pg"'
_CARD_MARK = b"content__list--item"


def _list_region(body: bytes) -> bytes | None:
    """The bytes of the list region, or None unless the page plainly has one.

    The region is given the page's doctype (see _doctype). Plainly means: a complete
    page declared UTF-8 or not declared at all, one
    ``div.content__article`` opening tag found by its exact class attribute, a pager
    after it (the last one), and no card markup outside the two. Lexbor then builds the same subtree
    from the region as from the whole page, as long as what comes before the region
    leaves only ``div`` and ``body`` elements open, as on every page of the site seen
    (tests compare both ways on the real pages). Whether the text is UTF-8 is checked
    on what the region yields (_has_replaced_bytes).
    """
    if not page_is_closed(body):
        return None
    mark = body.find(_ARTICLE_MARK)
    if mark < 0:
        return None
    start = body.rfind(b"<", 0, mark)
    if start < 0 or body[start : start + 5].lower() != b"<div " or b">" in body[start:mark]:
        return None
    # From the end: the footer after the pager is short, the cards before it are long.
    pager = body.rfind(_PAGER_MARK, mark)
    end = body.find(b"</div>", pager) if pager > 0 else -1
    if end < 0:
        return None
    end += len(b"</div>")
    if body.find(_CARD_MARK, 0, start) >= 0 or body.find(_CARD_MARK, end) >= 0:
        return None
    if declared_charset(body) not in (None, "utf-8"):
        return None
    return _doctype(body) + body[start:end]


_DOCTYPE = re.compile(rb"\s*(<!doctype[^>]*>)", re.IGNORECASE)


def _doctype(body: bytes) -> bytes:
    """The page's own ``<!DOCTYPE …>``, or b"" without one.

    It decides whether Lexbor parses in quirks mode, where CSS classes match in any
    case; the region keeps the page's, so that its selectors match what the whole
    page's do (a ``class="Content__list--item-price"`` is no price under a doctype).
    """
    m = _DOCTYPE.match(body, 3 if body.startswith(b"\xef\xbb\xbf") else 0)
    return m.group(1) if m else b""


def _has_replaced_bytes(records: list[ListingRecord]) -> bool:
    """Whether Lexbor met bytes that are not UTF-8 in the texts of the records.

    It reads the region as UTF-8 and puts U+FFFD for each byte that is not; a page in
    GBK without a declaration shows it in every Chinese word, and every card's title
    (整租·…) and layout (…室…厅) has some. The whole-page parse then decodes the page by
    its charset guesses. This costs a tenth of decoding the region to validate it.
    """
    texts = [r.title for r in records]
    texts += [r.community or "" for r in records]
    texts += [r.layout_text or "" for r in records]
    return "\ufffd" in "".join(texts)


def _is_list_page(tree: LexborHTMLParser) -> bool:
    return any(
        tree.css_first(sel) is not None
        for sel in ("div.content__list", PAGER_SELECTOR, TOTAL_SELECTOR)
    )


def _is_detail_page(tree: LexborHTMLParser) -> bool:
    return (
        tree.css_first("p.content__title") is not None
        and tree.css_first(TOTAL_SELECTOR) is None
        and (
            tree.css_first("p.content__aside--title") is not None
            or tree.css_first("div.content__subtitle") is not None
        )
    )


def _shows_empty_result(tree: LexborHTMLParser) -> bool:
    area = tree.css_first("div.content__article") or tree.body
    area_text = node_text(area) if area is not None else ""
    return any(m in area_text for m in EMPTY_RESULT_MARKERS) or any(
        tree.css_first(f"div.{cls}") is not None for cls in ("content__empty", "content__empty1")
    )


def _markup_block_reason(text: str, tree: LexborHTMLParser) -> str | None:
    # Normal pages carry a login form and a captcha container, so listing markup wins.
    if _is_list_page(tree) or _is_detail_page(tree):
        return None
    reason = title_block_reason(page_title(tree), BLOCK_TITLE_MARKERS)
    if reason:
        return reason
    body = tree.body
    if body is None or not any(marker in text for marker in BLOCK_TEXT_MARKERS):
        return None
    for node in body.css("script, style, noscript, template"):
        node.decompose()
    shown = node_text(body)
    if len(shown) > BLOCK_PAGE_MAX_TEXT:
        return None
    for marker in BLOCK_TEXT_MARKERS:
        if marker in shown:
            return f"page shows {marker!r} and no listings"
    return None


def _url_template(url: str) -> str:
    path = urlsplit(url).path or "/zufang/"
    if not path.endswith("/"):
        path += "/"
    path = _PAGE_SEGMENT.sub("", path)
    return path + "pg{page}/"


def _page_urls(url: str, template: str, total_pages: int) -> list[str]:
    last = min(total_pages, MAX_PAGES)
    head, found, tail = template.partition("{page}")
    if found and "{page}" not in tail:
        prefix = join_prefix(url, f"{head}0{tail}")
        if prefix is not None:
            return [f"{prefix}{head}{n}{tail}" for n in range(2, last + 1)]
    return [join_url(url, template.replace("{page}", str(n))) for n in range(2, last + 1)]


def _text(node: LexborNode) -> str:
    """node_text for a node known to exist (clean_text inlined: this runs ~12 times a card)."""
    text = node.text()
    if "\u200b" in text or "\ufeff" in text:
        return _clean(text)
    return " ".join(text.split())


def _read_description(des: LexborNode, links: list[LexborNode], record: ListingRecord) -> None:
    """区, 板块 and 小区 from the description's links (``des.css("a")``), then its text."""
    _read_links(links, record)
    # Once read, the links go; what remains is "/"-separated area, orientation, layout, floor.
    for a in links:
        a.decompose()
    # The text is clean already (single spaces only), so a segment needs only strip().
    _read_des_segments(_text(des).split("/"), record, cleaned=True)


def _read_des_segments(
    segments: Iterable[str], record: ListingRecord, *, cleaned: bool = False
) -> None:
    other: list[str] = []
    for raw in segments:
        seg, (area, floor, layout, is_orientation) = _segment(raw if cleaned else _clean(raw))
        if not seg:
            continue
        if record.area_text is None and area is not None:
            record.area_text = seg
            record.area = area[0]
        elif floor is not None:
            record.floor_text = seg
            record.floor_band, record.total_floors = floor
        elif record.layout_text is None and layout is not None:
            record.layout_text = seg
            record.rooms, record.halls, record.baths = layout
        elif is_orientation:
            record.orientation = seg
        else:
            other.append(seg)
    if other:
        record.extra["des_other"] = other


_Facts = tuple[
    tuple[float | None] | None,
    tuple[str | None, int | None] | None,
    tuple[int | None, int | None, int | None] | None,
    bool,
]


# Description segments come from a small vocabulary ("南", "1室1厅1卫", "中楼层 （28层）",
# "35㎡"), repeated over cards and pages; what each says is worked out once.
@lru_cache(maxsize=4096)
def _segment(raw: str) -> tuple[str, _Facts]:
    """A segment without its blanks and dashes, and (area,) if it is an area, (band,
    floors) if a floor, (rooms, halls, baths) if a layout, and whether an orientation.

    ``raw`` has single spaces only (clean text), so strip() does what clean_text would.
    """
    seg = raw.strip().strip("-").strip()
    area_m = _AREA.search(seg)
    area = None
    if area_m and not suspect_number(raw):  # "-35㎡" (the dash is stripped above), "1e309㎡"
        value = float(area_m.group(1))
        area = (value if value > 0 else None,)
    is_floor = "楼层" in seg or "地下室" in seg or _FLOORS.search(seg) is not None
    floor = parse_floor(seg) if is_floor else None
    layout = parse_layout(seg) if _LAYOUT.search(seg) else None
    return seg, (area, floor, layout, _ORIENTATION.match(seg) is not None)


def _read_price(price: LexborNode | None, record: ListingRecord) -> None:
    if price is not None:
        record.rent, record.rent_high = parse_range(_text(price))
        record.rent_text = (_text(price.parent) if price.parent is not None else "") or None


def _read_brand(
    time_node: LexborNode | None,
    line: LexborNode | None,
    brand_node: LexborNode | None,
    record: ListingRecord,
) -> None:
    """Listed text from the time node; brand from ``span.brand`` in the brand line, or the line."""
    listed = _text(time_node) if time_node is not None else ""
    record.listed_text = listed or None
    if line is None:
        return
    if brand_node is not None:
        brand = _text(brand_node)
    else:
        # The 2019 markup puts the brand straight into the line, sometimes beside the time.
        brand = _text(line)
        if listed and brand.endswith(listed):
            brand = brand[: -len(listed)].strip()
    record.brand = brand or None
    record.agent_key = agent_key(brand)


def _read_tags(tags: list[LexborNode], record: ListingRecord) -> None:
    if tags:
        record.extra["tags"] = [t for t in map(_text, tags) if t]


def _read_links(links: list[LexborNode], record: ListingRecord) -> None:
    """区, 板块 and 小区 from a description's links; an unnamed 小区 link is named by its title."""
    places: list[str] = []
    for a in links:
        text = _text(a)
        href = a.attrs.get("href") or ""
        # Two of a card's three links are places (区, 板块): no regex for those.
        m = _RESBLOCK.search(href) if "/zufang/c" in href else None
        if m:
            record.community = text or _clean(a.attrs.get("title")) or None
            record.community_id = m.group(1)
        elif text:
            places.append(text)
    if places:
        record.district = places[0]
    if len(places) > 1:
        record.subdistrict = places[1]


def _read_table_cell(cell: str, record: ListingRecord) -> None:
    if not cell:
        return
    tenure = tenure_from_text(cell)
    if tenure and record.tenure is None:
        record.tenure = tenure
    elif find_area_text(cell) and record.area_text is None:
        record.area_text = cell
        record.area = parse_area(cell)
    elif find_layout_text(cell) and record.layout_text is None:
        record.layout_text = cell
        record.rooms, record.halls, record.baths = parse_layout(cell)
    elif cell.startswith("朝") or _ORIENTATION.match(cell):
        record.orientation = cell.removeprefix("朝").strip() or None


def _read_breadcrumbs(links: list[LexborNode], record: ListingRecord) -> None:
    places: list[str] = []
    for a in links:
        href = a.attributes.get("href") or ""
        name = _strip_suffix(node_text(a), "租房")
        m = _RESBLOCK.search(href)
        if m:
            record.community = name or None
            record.community_id = m.group(1)
        elif re.search(r"/zufang/[a-z0-9-]+/?$", urlsplit(href).path) and name:
            places.append(name)
    if places:
        record.district = places[0]
    if len(places) > 1:
        record.subdistrict = places[1]
