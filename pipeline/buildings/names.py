"""Building-name normalization: the key two spellings of one 小区 name share.

Sites spell one building many ways: "丽晶国际", "丽晶国际公寓", "杭州丽晶国际(九堡)",
"ＬＪ　国际·公寓". The key folds full/half width (NFKC), drops bracketed parts and
their contents, a leading city name, separators and spaces, then generic suffixes
(大厦/公寓/小区/…) — only when what remains is still a name of its own (two characters
or more), so "中心" alone or "花园" alone is never emptied.
"""

from __future__ import annotations

import re
import unicodedata

#: City code -> names a listing may start with. Codes are Lianjia's (hz.lianjia.com).
CITY_NAMES: dict[str, tuple[str, ...]] = {
    "hz": ("杭州市", "杭州"),
    "sh": ("上海市", "上海"),
    "bj": ("北京市", "北京"),
    "sz": ("深圳市", "深圳"),
    "gz": ("广州市", "广州"),
    "nj": ("南京市", "南京"),
    "su": ("苏州市", "苏州"),
    "cd": ("成都市", "成都"),
    "wh": ("武汉市", "武汉"),
}
_ALL_CITY_PREFIXES = sorted(
    {n for names in CITY_NAMES.values() for n in names}, key=len, reverse=True
)
_CITY_CODE_PREFIX = re.compile(r"^(?:hz|sh|bj|sz|gz)(?=[\u4e00-\u9fff])", re.I)

# Brackets after NFKC: full-width （） become (), but 【】 and 〔〕《》 stay as they are.
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|<[^<>]*>|《[^《》]*》")
_UNCLOSED = re.compile(r"[(\[【〔<《].*$")
_SEPARATORS = re.compile(r"[\s·•・\-_—–,，.。、'\"“”‘’/\\|:：;；!！?？~～#＊*]+")

#: Generic endings, longest first. Removed once, from the end, when >= 2 characters remain.
SUFFIXES: tuple[str, ...] = (
    "服务式公寓",
    "酒店式公寓",
    "商务中心",
    "商住楼",
    "写字楼",
    "住宅区",
    "小区",
    "公寓",
    "大厦",
    "大楼",
    "中心",
)
# Not suffixes: 花园, 家园, 苑, 新村, 广场 are part of names ("阳光花园" and "阳光家园" are
# two estates), so they stay.
_MIN_STEM = 2


def fold(text: str | None) -> str:
    """NFKC (full width -> half width), lower case, whitespace collapsed."""
    if not text:
        return ""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


def strip_brackets(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _BRACKETED.sub("", text)
    return _UNCLOSED.sub("", text)


def strip_city(text: str, city: str | None = None) -> str:
    prefixes = CITY_NAMES.get(city or "", ()) or _ALL_CITY_PREFIXES
    for prefix in sorted(prefixes, key=len, reverse=True):
        if text.startswith(prefix) and len(text) - len(prefix) >= _MIN_STEM:
            return text[len(prefix) :]
    return _CITY_CODE_PREFIX.sub("", text)


def strip_suffix(text: str) -> str:
    """Drop generic endings, repeatedly ("…公寓小区"), keeping at least two characters."""
    stripped = True
    while stripped:
        stripped = False
        for suffix in SUFFIXES:
            if text.endswith(suffix) and len(text) - len(suffix) >= _MIN_STEM:
                text = text[: -len(suffix)]
                stripped = True
                break
    return text


def name_key(name: str | None, city: str | None = None) -> str:
    """The matching key of a building name; "" for an empty name.

    >>> name_key("杭州丽晶国际(九堡)") == name_key("丽晶国际公寓") == "丽晶国际"
    True
    """
    text = fold(name)
    if not text:
        return ""
    text = strip_brackets(text)
    text = _SEPARATORS.sub("", text)
    text = strip_city(text, city)
    text = strip_suffix(text)
    return text


def display_name(name: str | None) -> str:
    """A raw name cleaned for showing and storing (width folded, spaces collapsed, case kept)."""
    if not name:
        return ""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", name)).strip()
