"""Is this response a block page rather than content? Generic checks plus the source's own.

A blocked page must never be read as "no vacancies", so every response goes through
:func:`block_reason` before it reaches a parser. The checks, in order:

1. the status: 401, 403, 418 (Lianjia answers 418 to scrapers);
2. a redirect that ended on a login, passport, captcha or verification URL;
3. a captcha or verification page served with status 200, told by its ``<title>``
   (or, for short pages only, by its visible text: real listing pages carry a login
   dialog with "请输入验证码" in their markup, so long pages are judged by title alone);
4. the source's statuses and block URLs (:attr:`Source.block_statuses`,
   ``url_block_reason``).

The source's *markup* checks (``Source.markup_block_reason``) are not run here: each
source's ``parse_list`` makes them on the tree it builds anyway and raises
``BlockedPage``, so a page is parsed once, not once to look for a block and again to
read it. A source that overrides ``Source.block_reason`` itself is still asked here.

The answer is a reason in words, e.g. ``"captcha page (title '访问验证-安居客')"``.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from urllib.parse import urlsplit

from scrapers.source import Source
from scrapers.urls import url_block_reason

BLOCK_STATUSES = frozenset({401, 403, 418})

#: Words in a redirect target's host or path that mean "log in / prove you are human".
URL_MARKERS = ("passport", "login", "signin", "captcha", "verify", "validate", "antibot")

#: Titles (and short pages' texts) of captcha and verification pages.
PAGE_MARKERS = (
    "访问验证",
    "人机认证",
    "人机验证",
    "安全验证",
    "滑动验证",
    "请输入验证码",
    "验证码",
    "访问过于频繁",
    "访问频繁",
    "captcha",
    "are you a robot",
    "unusual traffic",
)

#: Visible text shorter than this is searched for markers beyond the title.
SHORT_PAGE_CHARS = 3000
#: Pages longer than this (markup included) are judged by their title alone.
SHORT_PAGE_LIMIT = 30000

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
# A regex is enough to measure visible text and far cheaper than a parse of every page.
_INVISIBLE = re.compile(
    r"<(script|style|noscript|template)\b.*?</\1\s*>|<head\b.*?</head\s*>|<!--.*?-->", re.I | re.S
)
_TAG = re.compile(r"<[^>]*>")


def status_reason(status: int | None) -> str | None:
    if status not in BLOCK_STATUSES:
        return None
    try:
        phrase = "I'm a teapot" if status == 418 else HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP {status} {phrase}: the site refused the request".replace("  ", " ")


def redirect_reason(url: str, final_url: str | None) -> str | None:
    """A redirect that ended on a login or captcha URL; the requested URL itself is not judged."""
    if not final_url or final_url == url:
        return None
    parts = urlsplit(final_url)
    where = f"{parts.hostname or ''}{parts.path}".lower()
    for marker in URL_MARKERS:
        if marker in where:
            return f"redirected to a {marker} page: {final_url}"
    return None


def page_reason(text: str | None) -> str | None:
    """A captcha or verification page served as an ordinary 200 page."""
    if not text:
        return None
    match = _TITLE.search(text[:20000])
    title = " ".join(match.group(1).split()) if match else ""
    lowered = title.lower()
    for marker in PAGE_MARKERS:
        if marker in lowered:
            return f"captcha or verification page (title {title!r})"
    # Cheap tests first: most pages carry no marker at all, and long pages are judged by title.
    if len(text) > SHORT_PAGE_LIMIT:
        return None
    lowered = text.lower()
    if not any(marker in lowered for marker in PAGE_MARKERS):
        return None
    visible = " ".join(_TAG.sub(" ", _INVISIBLE.sub(" ", text)).split())
    if len(visible) > SHORT_PAGE_CHARS:
        return None
    lowered = visible.lower()
    for marker in PAGE_MARKERS:
        if marker in lowered:
            return f"captcha or verification page (text contains {marker!r})"
    return None


def block_reason(
    *,
    url: str,
    final_url: str | None,
    status: int | None,
    body: bytes | None,
    text: str | None,
    source: Source | None = None,
) -> str | None:
    """Why this response is a block page, in words; None for a content page."""
    reason = status_reason(status) or redirect_reason(url, final_url)
    if reason:
        return reason
    if status is not None and 200 <= status < 300:
        reason = page_reason(text)
        if reason:
            return reason
    if source is not None and body is not None and status is not None:
        if type(source).block_reason is not Source.block_reason:
            return source.block_reason(body, final_url or url, status)
        if status in source.block_statuses:
            return f"HTTP {status}"
        return url_block_reason(final_url or url)
    return None
