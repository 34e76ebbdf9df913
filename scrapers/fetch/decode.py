"""Bytes to text: which charset a page really uses.

Chinese listing sites mix UTF-8 and GBK, and some declare one while sending the
other. The declared charset (BOM, then the HTTP header, then ``<meta>``) is only a
hint that is verified: bytes that are valid UTF-8 and not plain ASCII are UTF-8
whatever the page claims (GBK text is practically never valid UTF-8), and a
declared charset that fails to decode is replaced by GB18030 when that decodes
cleanly. GBK and GB2312 are read as GB18030, their superset.
"""

from __future__ import annotations

import codecs
import re

#: Declared names read as a superset that decodes everything they do and more.
_SUPERSETS = {
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "gb_2312": "gb18030",
    "euc-cn": "gb18030",
    "iso-8859-1": "cp1252",  # as browsers do (WHATWG)
    "latin-1": "cp1252",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
# <meta charset="gbk"> and <meta http-equiv="Content-Type" content="text/html; charset=gbk">
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
#: Browsers look for <meta charset> in the first 1024 bytes; pages with long heads need more.
_META_SCAN = 4096


def normalize_charset(name: str | None) -> str | None:
    """Python codec name for a declared charset, superset applied; None when unknown."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return normalize_charset(match.group(1)) if match else None


def meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:_META_SCAN])
    return normalize_charset(match.group(1).decode("ascii", "replace")) if match else None


def _clean(body: bytes, encoding: str) -> str | None:
    """The text if ``body`` decodes strictly without replacement characters, else None."""
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    return None if "\ufffd" in text else text


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page: returns ``(text, encoding)`` with the codec name that was used."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace"), encoding

    declared = header_charset(content_type) or meta_charset(body)
    if body.isascii():
        encoding = declared or "utf-8"
        return body.decode(encoding, errors="replace"), encoding

    text = _clean(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    if declared and declared != "utf-8":
        text = _clean(body, declared)
        if text is not None:
            return text, declared
    text = _clean(body, "gb18030")
    if text is not None:
        return text, "gb18030"
    encoding = declared or "utf-8"
    return body.decode(encoding, errors="replace"), encoding
