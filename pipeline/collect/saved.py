"""What a page saved in a browser says about itself: its HTML, its URL and the day it was saved.

Savers leave different traces. Chrome and Firefox ("Save page as", complete or HTML only)
write ``<!-- saved from url=(0042)https://… -->`` and no date; SingleFile writes a comment
with ``url:`` and ``saved date:``; an MHTML file (Chrome's "Webpage, single file") is a MIME
message with ``Snapshot-Content-Location`` and ``Date`` headers around the HTML. Where the
page names no URL, the host most of its own links point to still says which site and city
it is. Reading is pure: bytes and a file time in, a SavedPage out.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from scrapers.record import SHANGHAI

_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->", re.I)
_LINK_TAG = re.compile(rb"<link\b[^>]*>", re.I)
_META_TAG = re.compile(rb"<meta\b[^>]*>", re.I)
_REL_CANONICAL = re.compile(rb"\brel\s*=\s*[\"']?canonical\b", re.I)
_OG_URL = re.compile(rb"\bproperty\s*=\s*[\"']?og:url\b", re.I)
_HREF = re.compile(rb"\bhref\s*=\s*[\"']([^\"']+)", re.I)
_CONTENT = re.compile(rb"\bcontent\s*=\s*[\"']([^\"']+)", re.I)
_SINGLEFILE = re.compile(rb"<!--\s*Page saved with SingleFile(.*?)-->", re.S | re.I)
_SF_URL = re.compile(rb"^\s*url:\s*(\S+)", re.M)
_SF_DATE = re.compile(rb"^\s*saved date:\s*(.+?)\s*$", re.M)
_ABSOLUTE_HOST = re.compile(rb"(?:https?:)?//([a-z0-9][a-z0-9.-]*\.[a-z]{2,})(?=[/\"'?#:])", re.I)

#: Bytes of the top of a page searched for the savers' traces (they sit in the <head>).
HEAD_BYTES = 60_000


@dataclass(slots=True)
class SavedPage:
    body: bytes  # the HTML (taken out of its MIME wrapping for an MHTML file)
    url: str | None  # the URL the page says it was saved from, if it says
    url_from: str | None  # which trace gave the URL
    hosts: Counter[str]  # hosts of the page's own absolute links, most named first
    saved_day: str | None  # the day (Asia/Shanghai) the page says it was saved
    day_from: str | None  # which trace gave the day


def read_saved(path: Path) -> SavedPage:
    """A saved file as a SavedPage; the file's time stands in when the page names no day."""
    raw = path.read_bytes()
    page = parse_saved(raw)
    if page.saved_day is None:
        page.saved_day = datetime.fromtimestamp(path.stat().st_mtime, SHANGHAI).date().isoformat()
        page.day_from = "the file's time"
    return page


def parse_saved(raw: bytes) -> SavedPage:
    if is_mhtml(raw):
        return _parse_mhtml(raw)
    head = raw[:HEAD_BYTES]
    url, url_from = _declared_url(head)
    day = day_from = None
    sf = _SINGLEFILE.search(head)
    if sf:
        if url is None and (m := _SF_URL.search(sf.group(1))):
            url, url_from = _http(m.group(1)), "SingleFile's comment"
        if (m := _SF_DATE.search(sf.group(1))) and (day := singlefile_day(m.group(1).decode())):
            day_from = "SingleFile's saved date"
    return SavedPage(raw, url, url_from, link_hosts(raw), day, day_from)


def is_mhtml(raw: bytes) -> bool:
    head = raw[:4000].lower()
    return b"multipart/related" in head and b"mime-version" in head


def _parse_mhtml(raw: bytes) -> SavedPage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    url = day = None
    location = message.get("Snapshot-Content-Location")
    html = _html_part(message)
    if html is None:
        return SavedPage(b"", None, None, Counter(), None, None)
    body = html.get_payload(decode=True)
    assert isinstance(body, bytes)
    charset = html.get_content_charset()
    if charset:
        # The HTML may still declare the site's own charset in a <meta>; a BOM wins over it.
        body = b"\xef\xbb\xbf" + body.decode(charset, "replace").encode("utf-8")
    url = _http((location or html.get("Content-Location") or "").encode()) or None
    if message.get("Date"):
        try:
            day = parsedate_to_datetime(str(message["Date"])).astimezone(SHANGHAI).date()
        except (TypeError, ValueError):
            day = None
    return SavedPage(
        body,
        url,
        "the MHTML header" if url else None,
        link_hosts(body),
        day.isoformat() if day else None,
        "the MHTML Date header" if day else None,
    )


def _html_part(message: EmailMessage) -> EmailMessage | None:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part
    return None


def _declared_url(head: bytes) -> tuple[str | None, str | None]:
    if (m := _SAVED_FROM.search(head)) and (url := _http(m.group(1))):
        return url, "the browser's saved-from comment"
    for tag in _LINK_TAG.findall(head):
        if _REL_CANONICAL.search(tag) and (m := _HREF.search(tag)) and (url := _http(m.group(1))):
            return url, "the canonical link"
    for tag in _META_TAG.findall(head):
        if _OG_URL.search(tag) and (m := _CONTENT.search(tag)) and (url := _http(m.group(1))):
            return url, "og:url"
    return None, None


def _http(value: bytes) -> str | None:
    url = value.decode("ascii", "replace").strip()
    if url.startswith("//"):
        url = "https:" + url
    return url if url.startswith(("http://", "https://")) else None


def link_hosts(raw: bytes) -> Counter[str]:
    return Counter(m.group(1).decode("ascii").lower() for m in _ABSOLUTE_HOST.finditer(raw))


def singlefile_day(text: str) -> str | None:
    """SingleFile's date ("Mon Mar 04 2024 10:15:23 GMT+0800 (China Standard Time)") as a day."""
    text = re.sub(r"\s*\(.*\)\s*$", "", text).strip()
    for fmt in ("%a %b %d %Y %H:%M:%S GMT%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return (
                datetime.strptime(text.replace("Z", "+0000"), fmt)
                .astimezone(SHANGHAI)
                .date()
                .isoformat()
            )
        except ValueError:
            continue
    return None
