"""Small shared helpers for the site parsers: decoding bytes, cleaning text, reading numbers.

Every site module parses with ``selectolax.lexbor`` and uses these helpers so that a
page's bytes, whitespace and number formats are handled the same way everywhere.
Everything here is pure.
"""

from __future__ import annotations

import codecs
import hashlib
import math
import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scrapers.errors import EmptyPage, LayoutChanged
from scrapers.record import ListingRecord, ListPage, Tenure
from scrapers.urls import rebase, url_block_reason  # noqa: F401 (re-exported for the site modules)

# Only the head of a page is searched for a declared charset, as browsers do.
_CHARSET_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# Chinese sites declare gb2312/gbk but send characters only gb18030 has; gb18030 is a superset.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn"}


def declared_charset(body: bytes) -> str | None:
    """The charset a page declares in a ``<meta>`` tag near its top, normalized, or None."""
    m = _META_CHARSET.search(body[:_CHARSET_SNIFF_BYTES])
    if not m:
        return None
    name = m.group(1).decode("ascii", "ignore").lower()
    if name in _GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_html(body: bytes) -> str:
    """Text of an HTML page: BOM, then the declared charset, then utf-8, then gb18030.

    A page whose declared charset does not fit its bytes (a saved copy re-encoded by an
    editor, say) falls through to the next guess instead of failing; the last resort
    replaces undecodable bytes so that the parser still sees the markup.
    """
    return _decode(body)[0]


def _decode(body: bytes) -> tuple[str, bytes | str]:
    """The page's text and what to hand Lexbor: the body itself when it is valid UTF-8.

    Lexbor reads UTF-8 bytes; a ``str`` it first encodes back to UTF-8, which costs
    as much as decoding. Strict UTF-8 decoding round-trips, so the tree is the same.
    """
    for bom, enc in _BOMS:
        if body.startswith(bom):
            text = body[len(bom) :].decode(enc, "replace")
            return text, text
    candidates = [c for c in (declared_charset(body), "utf-8", "gb18030") if c]
    for enc in dict.fromkeys(candidates):
        try:
            text = body.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        return text, (body if enc == "utf-8" else text)
    text = body.decode("utf-8", "replace")
    return text, text


def looks_truncated(text: str) -> bool:
    """True when an HTML page ends before its closing ``</body>`` or ``</html>``.

    Real pages (fetched or saved by a browser) always close at least one of the two;
    a body cut by a dropped connection closes neither.
    """
    tail = text[-_TAIL:].lower()
    return "</html" not in tail and "</body" not in tail


_TAIL = 4096


def _closes(tail: bytes) -> bool:
    lowered = tail.lower()
    return b"</html" in lowered or b"</body" in lowered


def page_is_closed(body: bytes) -> bool:
    """Whether the bytes of a page end with its closing ``</body>`` or ``</html>``."""
    return _closes(body[-_TAIL:])


def parse_page(body: bytes, url: str, source: str) -> tuple[str, LexborHTMLParser]:
    """Decode and parse a page, raising EmptyPage for an empty or cut-short body."""
    # isspace() stops at the first non-blank byte; strip() would copy the whole body.
    if not body or body.isspace():
        raise EmptyPage(f"{source}: empty body", url)
    text, markup = _decode(body)
    # For a UTF-8 body the closing tag can be found in the bytes, without lowering 4096
    # characters of text; the text check still decides every other case.
    if not (markup is body and page_is_closed(body)) and looks_truncated(text):
        raise EmptyPage(f"{source}: body cut short (no closing </body> or </html>)", url)
    return text, LexborHTMLParser(markup)


_SPACE = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")


def clean_text(text: str | None) -> str:
    """Collapse every run of whitespace (including nbsp, ideographic space) to one space."""
    if not text:
        return ""
    # str.split() and the regex's \s both split on exactly the str.isspace() characters;
    # only the zero-width space and the BOM need the (four times slower) regex.
    if "\u200b" in text or "\ufeff" in text:
        return _SPACE.sub(" ", text).strip()
    return " ".join(text.split())


def node_text(node: LexborNode | None, *, deep: bool = True) -> str:
    """Cleaned text of a node, or "" when the node is missing."""
    if node is None:
        return ""
    return clean_text(node.text(deep=deep))


def page_title(tree: LexborHTMLParser) -> str:
    return node_text(tree.css_first("title"))


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
#: A minus sign before a number (not a range's dash between two), or an exponent: no rent,
#: area or count a listing site shows is either, so "-3000" and "1e309" are not read as
#: 3000 and 1 (or 309).
_SUSPECT = re.compile(r"(?:^|[^\d\s.])\s*[-−－]\s*\d|\d\s*[eE][-+]?\d")


def suspect_number(text: str | None) -> bool:
    return text is not None and _SUSPECT.search(text) is not None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def parse_number(text: str | None) -> float | None:
    """The first number in a text ("￥ 1,560" -> 1560.0), or None (also for a negative
    or exponent number: see _SUSPECT)."""
    if not text or suspect_number(text):
        return None
    m = _NUMBER.search(text.replace(",", "").replace("，", ""))
    return _finite(float(m.group())) if m else None


def parse_int(text: str | None) -> int | None:
    n = parse_number(text)
    return int(n) if n is not None else None


_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*[-~～—–至]\s*(\d+(?:\.\d+)?)")


def parse_range(text: str | None) -> tuple[float | None, float | None]:
    """(low, high) of "2300-2500"; (value, None) for a single number; (None, None) for none."""
    if not text:
        return None, None
    if text.isdigit() and text.isascii():
        return _finite(float(text)), None  # the common "2400": what the regexes below find too
    if suspect_number(text):
        return None, None
    cleaned = text.replace(",", "")
    m = _RANGE.search(cleaned)
    if m:
        return _finite(float(m.group(1))), _finite(float(m.group(2)))
    return parse_number(cleaned), None


_AREA = re.compile(r"(\d+(?:\.\d+)?)\s*(?:㎡|m²|m2|平米|平方米|平)", re.I)


def parse_area(text: str | None) -> float | None:
    """Floor area in ㎡ from "35㎡", "35.5平米"; None for no area or a 0 the site shows for unknown."""
    if not text or suspect_number(text):
        return None
    m = _AREA.search(text)
    if not m:
        return None
    value = float(m.group(1))
    return value if 0 < value < math.inf else None


def find_area_text(text: str) -> str | None:
    m = _AREA.search(text)
    return m.group(0) if m else None


_LAYOUT = re.compile(r"(\d+)\s*[室房居](?:\s*(\d+)\s*厅)?(?:\s*(\d+)\s*[卫])?")
_CN_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_DIGIT_TABLE = str.maketrans({ch: str(n) for ch, n in _CN_DIGITS.items()})


def parse_layout(text: str | None) -> tuple[int | None, int | None, int | None]:
    """(rooms, halls, baths) from "1室1厅1卫", "3房2厅", "2居室" (halls/baths None when absent)."""
    if not text:
        return None, None, None
    m = _LAYOUT.search(text.translate(_CN_DIGIT_TABLE))
    if not m:
        return None, None, None
    rooms, halls, baths = (int(g) if g is not None else None for g in m.groups())
    return rooms, halls, baths


def find_layout_text(text: str) -> str | None:
    m = _LAYOUT.search(text)
    return m.group(0) if m else None


_FLOOR_BAND = re.compile(r"(低楼层|中楼层|高楼层|底层|顶层|地下室|低层|中层|高层)")
_TOTAL_FLOORS = re.compile(r"(?:共|/|／|（|\()\s*(\d+)\s*层")
_BAND_NAMES = {"低层": "低楼层", "中层": "中楼层", "高层": "高楼层"}


def parse_floor(text: str | None) -> tuple[str | None, int | None]:
    """(band, total floors) from "中楼层 （28层）", "高楼层/7层", "中层/共6层", "6/18层"."""
    if not text:
        return None, None
    band_m = _FLOOR_BAND.search(text)
    band = _BAND_NAMES.get(band_m.group(1), band_m.group(1)) if band_m else None
    total_m = _TOTAL_FLOORS.search(text)
    total = int(total_m.group(1)) if total_m else None
    return band, total


def agent_key(text: str | None) -> str | None:
    """A short, non-personal key for an advertiser's brand or agency text (never a name)."""
    cleaned = clean_text(text)
    if not cleaned:
        return None
    return _brand_key(cleaned)


# A list page repeats a handful of brands over its cards; hash each once.
@lru_cache(maxsize=4096)
def _brand_key(cleaned: str) -> str:
    return hashlib.sha1(cleaned.encode("utf-8")).hexdigest()[:12]


def tenure_from_text(text: str | None) -> Tenure | None:
    """whole / shared / building from the words a title starts with (整租, 合租, 单间, 独栋)."""
    if not text:
        return None
    return tenure_from_clean_text(clean_text(text))


def tenure_from_clean_text(text: str) -> Tenure | None:
    """tenure_from_text for text already cleaned (the parsers' hot path skips cleaning twice)."""
    head = text[:6]
    if "独栋" in head:
        return "building"
    if "合租" in head or "单间" in head:
        return "shared"
    if "整租" in head:
        return "whole"
    return None


# Words on captcha, verification and login interstitials across the Chinese listing sites.
BLOCK_TITLE_MARKERS = ("人机认证", "验证码", "访问验证", "安全验证", "验证中心", "captcha")


def title_block_reason(title: str, markers: tuple[str, ...] = BLOCK_TITLE_MARKERS) -> str | None:
    """Why a page title names a verification or login page, or None."""
    lowered = title.lower()
    if any(m.lower() in lowered for m in markers):
        return f"page title {title!r} is a verification/login page"
    return None


def followed_link(node: LexborNode | None, page_url: str) -> list[str]:
    """The link of a "next page" node, on the host of the page itself (or [] without one).

    Sites print absolute links to their real host; keeping the page's own host lets a
    crawl against a local copy (``--base-url``) stay local.
    """
    href = node.attributes.get("href") if node is not None else None
    if not href or href.startswith(("javascript:", "#")):
        return []
    return [rebase(urljoin(page_url, href), page_url)]


# Links urljoin would hand back unchanged, or only prefixed with the page's origin:
# no dot segments, query, params, fragment, escapes or blanks for it to rework.
_PLAIN_ROOT_PATH = re.compile(r"/(?!/)[A-Za-z0-9_.~/-]*")
_PLAIN_ABSOLUTE = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9_.~/-]*)?")


def join_prefix(base: str, href: str) -> str | None:
    """What join_url puts before ``href`` when its shortcut applies ("" or the origin), else None.

    Digits put anywhere into such an href keep the shortcut: a caller can join many
    numbered links ("/zufang/pg2/", "/zufang/pg3/", …) by checking one of them.
    """
    if "/." not in href:
        if _PLAIN_ROOT_PATH.fullmatch(href):
            return _origin(base)
        if base and _PLAIN_ABSOLUTE.fullmatch(href):
            return ""
    return None


def join_url(base: str, href: str) -> str:
    """``urljoin(base, href)``, with a shortcut for the plain links that list pages repeat.

    urljoin parses both URLs on every call; a list page has a few hundred links that are
    plain root-relative paths ("/zufang/SZ1.html") of one page URL.
    """
    if "/." not in href:
        if _PLAIN_ROOT_PATH.fullmatch(href):
            origin = _origin(base)
            if origin is not None:
                return origin + href
        elif base and _PLAIN_ABSOLUTE.fullmatch(href):
            return href
    return urljoin(base, href)


@lru_cache(maxsize=256)
def _origin(base: str) -> str | None:
    """``scheme://host`` of an http(s) URL as urljoin reads it, or None for anything else."""
    parts = urlsplit(base)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def finish_list_page(
    source: str,
    url: str,
    records: list[ListingRecord],
    cards: int,
    *,
    honest_empty: Callable[[], bool],
    item_selector: str,
    link_selector: str,
    link_what: str,
    required: tuple[tuple[str, str], ...],
    total_count: int | None = None,
    current_page: int | None = None,
    total_pages: int | None = None,
    next_urls: list[str] | None = None,
) -> ListPage:
    """The end of a list parser: its records, an honest "no results" page, or the alarm.

    A page without records is a real zero only when ``honest_empty()`` says the site
    itself shows "no results"; otherwise the markup changed and LayoutChanged names the
    selector that found nothing (the cards', or the link inside them).
    """
    if not records:
        if honest_empty():
            return ListPage([], url, 0, current_page, total_pages, [])
        total = f" (total says {total_count})" if total_count is not None else ""
        raise LayoutChanged(
            f"{source}: {cards} cards at {item_selector!r}, none with {link_what} at "
            f"{link_selector!r}{total}",
            url,
            selector=link_selector if cards else item_selector,
        )
    check_required(source, records, required, url)
    return ListPage(records, url, total_count, current_page, total_pages, next_urls or [])


def check_required(
    source: str, records: list, required: tuple[tuple[str, str], ...], url: str
) -> None:
    """Raise LayoutChanged when most records lack a field: the markup moved, not the data.

    ``required`` holds (record field, selector that fills it) pairs.
    """
    if not records:
        return
    for field_name, selector in required:
        missing = sum(1 for r in records if getattr(r, field_name) is None)
        if missing > len(records) / 2:
            raise LayoutChanged(
                f"{source}: {missing} of {len(records)} cards have no {field_name} at {selector!r}",
                url,
                selector=selector,
            )
