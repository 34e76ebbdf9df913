"""Digits drawn with a font embedded in the page (58同城 ``fangchan-secret``).

58 (and, by report, 安居客) write the digits of rents, areas and room counts as
rare CJK code points such as ``&#x9fa4;`` and embed a small base64 TrueType font in
an ``@font-face`` rule whose character map draws each of those code points as a
digit. A reader sees the digit; the text holds the code point. We read the font's
character map as a browser does, so the mapping is taken from each page anew (the
site changes it between page loads).

The glyphs of these fonts are named ``glyph00001`` … ``glyph00010`` and draw
0 … 9 in that order (glyph number minus one). That was checked by rendering the
outlines of the font in the saved 2020 Shenzhen page: ``glyph00001`` is a 0,
``glyph00002`` a 1, …, ``glyph00010`` a 9.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import re
import struct

from fontTools.ttLib import TTFont, TTLibError

from scrapers.errors import PageError

__all__ = ["FontDigitError", "decode_font_digits", "embedded_fonts", "font_digit_map"]

# A base64 font inside an @font-face rule; the family name is optional in the match
# so that a rule naming it after ``src`` still counts.
_FONT_FACE = re.compile(r"@font-face\s*\{(?P<body>[^}]*)\}", re.I)
_FAMILY = re.compile(r"font-family\s*:\s*['\"]?(?P<family>[^'\";}]+)", re.I)
_DATA_URL = re.compile(
    r"url\(\s*['\"]?data:(?:application|font)/[\w.+-]+(?:;[\w-]+=[\w-]+)*;base64,"
    r"(?P<data>[A-Za-z0-9+/=\s]+)['\"]?\s*\)",
    re.I,
)
_GLYPH_NAME = re.compile(r"glyph0*(\d+)$")
_ENTITY = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|(\d+));")


class FontDigitError(PageError):
    """An embedded digit font is there but cannot be read or does not draw digits."""


def embedded_fonts(html_text: str, family: str | None = None) -> list[tuple[str, bytes]]:
    """(family, font bytes) of every base64 font in the page's ``@font-face`` rules.

    ``family`` keeps only fonts of that family name. Raises FontDigitError when the
    base64 text is not valid base64.
    """
    fonts: list[tuple[str, bytes]] = []
    for rule in _FONT_FACE.finditer(html_text):
        body = rule.group("body")
        data = _DATA_URL.search(body)
        if data is None:
            continue
        fam_m = _FAMILY.search(body)
        fam = fam_m.group("family").strip() if fam_m else ""
        if family is not None and fam != family:
            continue
        try:
            raw = base64.b64decode("".join(data.group("data").split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise FontDigitError(f"embedded font {fam!r}: invalid base64 ({exc})") from exc
        fonts.append((fam, raw))
    return fonts


def font_digit_map(font_bytes: bytes) -> dict[str, str]:
    """Character -> ASCII digit, from a digit font's character map.

    Raises FontDigitError when the bytes are not a readable font, when the font has
    no character map, or when a mapped glyph is not one of the ten digit glyphs.
    """
    # fontTools warns about harmless padding in these fonts' post table.
    logging.getLogger("fontTools.ttLib.tables._p_o_s_t").setLevel(logging.ERROR)
    try:
        font = TTFont(io.BytesIO(font_bytes), lazy=False)
        cmap = font.getBestCmap()
    except (TTLibError, AssertionError, KeyError, ValueError, IndexError, struct.error) as exc:
        raise FontDigitError(f"embedded font cannot be read: {exc}") from exc
    if not cmap:
        raise FontDigitError("embedded font has no Unicode character map")
    mapping: dict[str, str] = {}
    for code_point, glyph in cmap.items():
        m = _GLYPH_NAME.match(glyph)
        number = int(m.group(1)) if m else None
        if number is None or not 1 <= number <= 10:
            raise FontDigitError(
                f"embedded font maps U+{code_point:04X} to glyph {glyph!r}, "
                "not one of the digit glyphs glyph00001..glyph00010"
            )
        mapping[chr(code_point)] = str(number - 1)
    return mapping


def decode_font_digits(html_text: str, family: str | None = None) -> str:
    """The page text with font-drawn digits replaced by the ASCII digits a reader sees.

    Both raw characters and numeric character references (``&#x9fa4;``, ``&#40868;``)
    are replaced. A page without an embedded font comes back unchanged. The whole
    text is translated, so a mapped code point used as an ordinary character elsewhere
    on the page would change too; the sites pick rare ideographs, so this is accepted.
    """
    fonts = embedded_fonts(html_text, family)
    if not fonts:
        return html_text
    mapping: dict[str, str] = {}
    for _fam, raw in fonts:
        mapping.update(font_digit_map(raw))

    def entity(m: re.Match[str]) -> str:
        code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        if code > 0x10FFFF:
            return m.group(0)
        return mapping.get(chr(code), m.group(0))

    text = _ENTITY.sub(entity, html_text)
    # A regex scan finds the few mapped characters faster than str.translate walks the page.
    chars = re.compile("[" + "".join(re.escape(ch) for ch in mapping) + "]")
    return chars.sub(lambda m: mapping[m.group()], text)
