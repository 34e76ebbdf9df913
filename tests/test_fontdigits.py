"""Digits drawn with an embedded font: a font built here, and the real 58 page's font."""

from __future__ import annotations

import base64
import io
import re

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.recordingPen import RecordingPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont

from scrapers.fontdigits import (
    FontDigitError,
    decode_font_digits,
    embedded_fonts,
    font_digit_map,
)
from tests.realpages import real_page

REAL_58 = "58/58_chuzu_list_sz_2020-03_fontsecret.html"

# Code point -> glyph, in the scheme 58 uses: glyph00001 draws 0, ..., glyph00010 draws 9.
TEST_CMAP = {
    0x9FA4: "glyph00002",  # 1
    0x9EA3: "glyph00003",  # 2
    0x993C: "glyph00004",  # 3
    0x9F92: "glyph00001",  # 0
    0x9476: "glyph00008",  # 7
    0x958F: "glyph00009",  # 8
}


def build_font(cmap: dict[int, str], glyphs: list[str] | None = None) -> bytes:
    """A tiny TrueType font whose character map is ``cmap`` (outlines are boxes)."""
    order = [".notdef", *(glyphs or [f"glyph{n:05d}" for n in range(1, 11)])]
    fb = FontBuilder(unitsPerEm=1000, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap(cmap)
    outlines = {}
    for name in order:
        pen = TTGlyphPen(None)
        pen.moveTo((100, 0))
        pen.lineTo((100, 700))
        pen.lineTo((500, 700))
        pen.lineTo((500, 0))
        pen.closePath()
        outlines[name] = pen.glyph()
    fb.setupGlyf(outlines)
    fb.setupHorizontalMetrics({name: (600, 100) for name in order})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "rentwatch-test", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


def page_with_font(font: bytes, body: str, family: str = "fangchan-secret") -> str:
    b64 = base64.b64encode(font).decode("ascii")
    return (
        "<html><head><script>"
        f"document.write(\"<style>@font-face{{font-family:'{family}';"
        f"src:url('data:application/font-ttf;charset=utf-8;base64,{b64}') format('truetype')}}"
        '</style>")</script></head>'
        f"<body>{body}</body></html>"
    )


def test_font_digit_map_reads_the_cmap():
    assert font_digit_map(build_font(TEST_CMAP)) == {
        "\u9fa4": "1",
        "\u9ea3": "2",
        "\u993c": "3",
        "\u9f92": "0",
        "\u9476": "7",
        "\u958f": "8",
    }


def test_decode_replaces_entities_and_raw_characters():
    body = (
        '<b class="strongbox">&#x9fa4;&#x993c;&#x9476;&#x9f92;</b>元/月'
        '<p class="room">&#40611;室 \u9fa4\u958f.\u9f92㎡</p>'
        "<p>&#x4e2d; stays, &#X9EA3; is a two</p>"
    )
    decoded = decode_font_digits(page_with_font(build_font(TEST_CMAP), body))
    assert '<b class="strongbox">1370</b>元/月' in decoded
    # &#40611; is U+9EA3 written in decimal.
    assert '<p class="room">2室 18.0㎡</p>' in decoded
    assert "<p>&#x4e2d; stays, 2 is a two</p>" in decoded


def test_page_without_font_is_unchanged():
    text = "<html><body><b>&#x9fa4;&#x993c;</b> 1360元/月</body></html>"
    assert decode_font_digits(text) == text


def test_family_filter_picks_only_that_font():
    page = page_with_font(build_font(TEST_CMAP), "<b>&#x9fa4;</b>", family="other-font")
    assert decode_font_digits(page, family="fangchan-secret") == page
    assert "<b>1</b>" in decode_font_digits(page, family="other-font")
    assert [fam for fam, _ in embedded_fonts(page)] == ["other-font"]


def test_unreadable_font_is_a_clear_error():
    page = page_with_font(b"this is not a font at all", "<b>&#x9fa4;</b>")
    with pytest.raises(FontDigitError, match="embedded font cannot be read"):
        decode_font_digits(page)


def test_invalid_base64_is_a_clear_error():
    page = (
        "<style>@font-face{font-family:'fangchan-secret';"
        "src:url('data:application/font-ttf;charset=utf-8;base64,AAE=AAAA')}</style>"
    )
    with pytest.raises(FontDigitError, match="'fangchan-secret': invalid base64"):
        decode_font_digits(page)


def test_font_mapping_to_a_non_digit_glyph_is_refused():
    font = build_font({0x9FA4: "glyph00002", 0x9EA3: "A"}, glyphs=["glyph00001", "glyph00002", "A"])
    with pytest.raises(FontDigitError, match=r"U\+9EA3 to glyph 'A'"):
        font_digit_map(font)


# -- the real page ------------------------------------------------------------


def real_font() -> bytes:
    fonts = embedded_fonts(real_page(REAL_58).decode("utf-8"), family="fangchan-secret")
    assert len(fonts) == 1
    return fonts[0][1]


def test_real_page_font_map():
    assert font_digit_map(real_font()) == {
        "\u9f92": "0",
        "\u9fa4": "1",
        "\u9ea3": "2",
        "\u993c": "3",
        "\u9f64": "4",
        "\u9fa5": "5",
        "\u9a4b": "6",
        "\u9476": "7",
        "\u958f": "8",
        "\u9e3a": "9",
    }


def test_real_font_outlines_match_the_glyph_number_scheme():
    """Count closed contours: 0, 4, 6, 9 have one hole, 8 has two, the rest none.

    This checks "glyph number minus one" against what the glyphs draw, not only
    against the convention.
    """
    holes = {"0": 2, "1": 1, "2": 1, "3": 1, "4": 2, "5": 1, "6": 2, "7": 1, "8": 3, "9": 2}
    font = TTFont(io.BytesIO(real_font()))
    glyph_set = font.getGlyphSet()
    cmap = font.getBestCmap()
    mapping = font_digit_map(real_font())
    for char, digit in mapping.items():
        pen = RecordingPen()
        glyph_set[cmap[ord(char)]].draw(pen)
        contours = sum(1 for op, _ in pen.value if op == "closePath")
        assert contours == holes[digit], (char, digit, contours)


def test_real_page_decodes_to_plausible_rents_and_areas():
    decoded = decode_font_digits(real_page(REAL_58).decode("utf-8"))
    rents = re.findall(r'<b class="strongbox">([^<]*)</b>', decoded)
    assert rents[:5] == ["1360", "1640", "1190", "1300", "1160"]
    assert all(r.isdigit() for r in rents)
    assert "&#x9" not in decoded
    assert "主卧(3室)                    &nbsp;&nbsp;&nbsp;&nbsp;15.00㎡" in decoded
