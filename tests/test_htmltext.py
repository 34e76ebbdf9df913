"""The shared text helpers every site parser uses."""

from __future__ import annotations

import pytest

from scrapers.errors import EmptyPage
from scrapers.htmltext import (
    agent_key,
    clean_text,
    decode_html,
    parse_area,
    parse_floor,
    parse_layout,
    parse_number,
    parse_page,
    parse_range,
    tenure_from_text,
)


def test_decode_declared_gbk_and_undeclared_gb18030_and_bom():
    assert decode_html('<meta charset="gb2312"><p>整租</p>'.encode("gb18030")).endswith("整租</p>")
    assert decode_html("<p>合租·测试</p>".encode("gb18030")) == "<p>合租·测试</p>"
    assert decode_html(b"\xef\xbb\xbf<p>\xe7\xa7\x9f</p>") == "<p>租</p>"
    # A wrong declaration falls through to a charset that fits the bytes.
    assert decode_html('<meta charset="utf-8"><p>租房</p>'.encode("gb18030")).endswith("租房</p>")


def test_parse_page_rejects_empty_and_cut_bodies():
    with pytest.raises(EmptyPage, match="x: empty body"):
        parse_page(b" \n", "http://a/", "x")
    with pytest.raises(EmptyPage, match="cut short"):
        parse_page(b"<html><body><div>", "http://a/", "x")
    text, tree = parse_page(b"<html><body><p>ok</p></body></html>", "http://a/", "x")
    assert tree.css_first("p").text() == "ok"


def test_numbers_and_fields():
    assert clean_text("  a\u00a0\u3000 b\n") == "a b"
    assert parse_number("￥ 1,560/月") == 1560.0
    assert parse_range("2300-2500") == (2300.0, 2500.0)
    assert parse_range("约 3000 元") == (3000.0, None)
    assert parse_area("35.5平米") == 35.5
    assert parse_area("0㎡") is None
    assert parse_layout("3室2厅2卫") == (3, 2, 2)
    assert parse_layout("两室一厅") == (2, 1, None)
    assert parse_layout("2居室") == (2, None, None)
    assert parse_floor("中楼层 （28层）") == ("中楼层", 28)
    assert parse_floor("高层/共18层") == ("高楼层", 18)
    assert parse_floor("6/18层") == (None, 18)
    assert tenure_from_text("整租·某小区") == "whole"
    assert tenure_from_text("单间 | 某小区") == "shared"
    assert tenure_from_text("独栋·公寓") == "building"
    assert tenure_from_text("某小区 2室") is None


def test_agent_key_is_stable_short_and_whitespace_blind():
    assert agent_key(" 贝壳优选 ") == agent_key("贝壳优选")
    assert len(agent_key("贝壳优选")) == 12
    assert agent_key("贝壳优选") != agent_key("自如")
    assert agent_key("  ") is None
