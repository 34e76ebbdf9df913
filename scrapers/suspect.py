"""Values checked at the edge: numbers no listing can show and names that are mojibake.

A parser reads what a page says; :func:`check_record` then looks at each record's own
words (``rent_text``, ``area_text``) and names (``community``, ``district``,
``subdistrict``) and flags what no real ad can hold: a negative number, an exponent or
a number past what a float holds, a rent or area outside anything a flat can be, a
name decoded with the wrong charset. A flagged value is never kept as if it were
plausible: its parsed number or its name becomes None (the site's text stays in the
``*_text`` field), and the flag names the field and the kind (``"rent:negative"``), so
the run can count them. Everything here is pure.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata

from scrapers.htmltext import parse_number
from scrapers.record import ListingRecord

#: Kinds of suspect value, as they appear after the field name in a flag.
NEGATIVE = "negative"
EXPONENT = "exponent"
NON_FINITE = "non_finite"
ABSURD = "absurd"
MOJIBAKE = "mojibake"

#: Bounds no flat, room or brand-apartment building on a rental site falls outside.
#: Much wider than normalization's plausibility (pipeline/units/normalize.py, 5..500 ㎡,
#: the city's rent floor and ceiling), which flags an ad; these reject a value as unreal.
RENT_RANGE = (1.0, 10_000_000.0)  # 元 per month (a whole building's monthly rent fits)
AREA_RANGE = (1.0, 50_000.0)  # ㎡

_MINUS = re.compile(r"(?:^|[^\d\s.])\s*[-−－]\s*\d")
_EXPONENT = re.compile(r"\d(?:\.\d+)?\s*[eE]\s*[-+]?\d+")
_NON_FINITE_WORD = re.compile(r"(?<![A-Za-z])(?:nan|inf(?:inity)?)(?![A-Za-z])", re.I)


# Cached: a site shows the same rent and area texts ("4800 元/月", "28㎡") on card after
# card, and three searches a text cost more than the dictionary lookup.
@functools.lru_cache(maxsize=4096)
def number_problem(text: str | None) -> str | None:
    """Why the number in a site's text is not a value any ad shows, or None."""
    if not text:
        return None
    exponent = _EXPONENT.search(text)
    if exponent:
        try:
            value = float(exponent.group().replace(" ", ""))
        except ValueError:  # pragma: no cover (the pattern only matches float syntax)
            value = math.inf
        return NON_FINITE if not math.isfinite(value) else EXPONENT
    if _NON_FINITE_WORD.search(text):
        return NON_FINITE
    if _MINUS.search(text):
        return NEGATIVE
    return None


def _range_problem(
    value: float | None, text: str | None, bounds: tuple[float, float]
) -> str | None:
    # A parser reads "0㎡" as no area (some sites show 0 for unknown): the text says 0.
    if value is None:
        value = parse_number(text)
        if value is None:
            return None
    if not math.isfinite(value):
        return NON_FINITE
    low, high = bounds
    return None if low <= value <= high else ABSURD


# -- names ------------------------------------------------------------------------------
#: Characters a Chinese building, district or 板块 name is made of.
_NAME_CHAR = re.compile(
    r"[\u4e00-\u9fff\u3400-\u4dbf0-9A-Za-z\s·•()（）\-—_#＃、,，.。'’&/\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]"
)


_NAME = re.compile(f"(?:{_NAME_CHAR.pattern})+")


def _misdecoded_as(name: str, wrong: str) -> bool:
    """Whether ``name`` is the UTF-8 bytes of a Chinese name decoded as ``wrong``: encoded
    back, they are valid UTF-8 spelling a name of CJK characters (a real name's GBK bytes
    can happen to be valid UTF-8 too, but then they spell Latin letters: 坪山 -> "ƺɽ")."""
    try:
        original = name.encode(wrong).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return (
        original != name
        and _CJK.search(original) is not None
        and _NAME.fullmatch(original) is not None
    )


_CJK = re.compile(r"[\u4e00-\u9fff]")


# A list page repeats its district, 板块 and building names card after card, and every
# card of every page is checked: each name is judged once (about 0.1 ms a page).
@functools.lru_cache(maxsize=4096)
def looks_mojibake(name: str | None) -> bool:
    """True for a name decoded with the wrong charset.

    The signs, strongest first: the replacement character U+FFFD (bytes that fitted no
    charset); text that is UTF-8 read as Latin-1/cp1252 ("ä¸½æ\x99¶") or as GBK
    ("涓芥櫠"), recognised by encoding it back; or characters that no Chinese name is
    made of (not CJK, ASCII or common punctuation) making up half of it.
    """
    if not name:
        return False
    if "\ufffd" in name:
        return True
    if name.isascii():
        return False
    if _NAME.fullmatch(name):
        # Made of name characters only: a mojibake of this shape is UTF-8 read as GBK.
        return _misdecoded_as(name, "gb18030")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return True
    if _misdecoded_as(name, "latin-1") or _misdecoded_as(name, "cp1252"):
        return True
    foreign = sum(1 for ch in name if not _NAME_CHAR.match(ch))
    return foreign * 2 >= len(name)


# -- records -----------------------------------------------------------------------------
def check_record(record: ListingRecord) -> list[str]:
    """Flag and clear the suspect values of one record; return the new flags.

    A flagged number becomes None (its ``*_text`` keeps what the site said); a flagged
    name becomes None, so it never becomes a building's name. The flags are appended to
    ``record.flags`` as ``"field:kind"``.
    """
    flags: list[str] = []
    rent_problem = number_problem(record.rent_text) or _range_problem(
        record.rent, record.rent_text, RENT_RANGE
    )
    if rent_problem is None and record.rent_high is not None:
        rent_problem = _range_problem(record.rent_high, None, RENT_RANGE)
    if rent_problem:
        flags.append(f"rent:{rent_problem}")
        record.rent = record.rent_high = None
    area_problem = number_problem(record.area_text) or _range_problem(
        record.area, record.area_text, AREA_RANGE
    )
    if area_problem:
        flags.append(f"area:{area_problem}")
        record.area = None
    for field in ("community", "district", "subdistrict"):
        if looks_mojibake(getattr(record, field)):
            flags.append(f"{field}:{MOJIBAKE}")
            setattr(record, field, None)
    record.flags.extend(flags)
    return flags
