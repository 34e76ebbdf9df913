"""Bulk reads by node id (scrapers/domread.py): the C extension against selectolax.

Both implementations must answer alike on every call the parsers make; where they
could differ (whitespace beyond ASCII, bytes that are not UTF-8, class names in another
case, selectors the C matcher does not take) the page below has an instance.
"""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from scrapers import domread
from scrapers.domread import CompiledReads, SelectolaxReads, simple_chain
from scrapers.htmltext import clean_text

PAGE = (
    "<html><body><div class='list'>"
    "<div class='item' data-code='A1'><p class='title x'><a href='/a1'>  Flat\n one </a></p>"
    "<p class='des'><a href='/d'>西湖</a>-<a>转塘</a> / 53㎡\u00a0/ 南\u3000北 <i>/</i></p>"
    "<span class='price'><em>2400</em> 元/月</span><i class='tag'>精装</i><i class='tag'>近地铁</i>"
    "</div>"
    "<div class='item' data-code='B2'><p class='title'><a href='/b2' title='t'>\u200b</a></p>"
    "<p class='des'>\ufeffno links <b>bold</b></p><p class='des'><a>second des</a></p>"
    "<i class='tag'>\t</i></div>"
    "<div class='item'><span class='cost'><em>9</em></span></div>"
    "</div></body></html>"
)

needs_compiled = pytest.mark.skipif(
    domread.COMPILED_MISSING is not None, reason=str(domread.COMPILED_MISSING)
)


def both(page: str = PAGE):
    """(compiled, selectolax) reads from the list over two parses of the page, and the
    item nodes of each."""
    out = []
    for make in (CompiledReads, SelectolaxReads):
        tree = LexborHTMLParser(page.encode())
        items = tree.css("div.item")
        out.append((make(items[0].parent), items))
    return out


def cannot_build_c() -> str | None:
    """Why pip could not have built the extension here, or None."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler}) on this machine"
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        return "no Python headers (Python.h) on this machine"
    return None


def test_the_compiled_reader_is_built(monkeypatch):
    # pip install -e . compiles scrapers/_lexbor_read.c wherever a C compiler and
    # Python's headers are present (CI's machine has both); without it the parsers give
    # the same records, slower, and bench/bench_parse.py misses its target.
    if domread.COMPILED_MISSING is not None and cannot_build_c():
        pytest.skip(f"{cannot_build_c()}: the parsers read through selectolax")
    assert domread.COMPILED_MISSING is None
    monkeypatch.delenv(domread.NO_COMPILED_ENV, raising=False)
    assert isinstance(domread.tree_reads(LexborHTMLParser("<p>x</p>").body), CompiledReads)


def test_tree_reads_obeys_the_switch(monkeypatch):
    node = LexborHTMLParser("<p>x</p>").body
    assert isinstance(domread.tree_reads(node, compiled=False), SelectolaxReads)
    monkeypatch.setenv(domread.NO_COMPILED_ENV, "1")
    assert isinstance(domread.tree_reads(node), SelectolaxReads)


@needs_compiled
def test_select_tags_parents_and_attributes_agree():
    (c, c_items), (s, s_items) = both()
    answers = []
    for dom, items in ((c, c_items), (s, s_items)):
        ids = dom.select(dom.root, "p.des a, em, i.tag")
        found = items[0].parent.css("p.des a, em, i.tag")
        assert ids == [n.mem_id for n in found]
        tags = dom.tag_ids(ids)
        assert tags == [n.tag_id for n in found]
        assert dom.parent_ids(ids) == [n.parent.mem_id for n in found]
        answers.append(
            (
                len(ids),
                tags,
                dom.attributes(ids, "href"),
                dom.attributes(dom.select(dom.root, "div.item"), "data-code"),
            )
        )
    assert answers[0] == answers[1]
    count, _, hrefs, codes = answers[0]
    assert count == 8  # 3 links in descriptions, 2 prices, 3 tags
    assert hrefs == ["/d"] + [None] * 7
    assert codes == ["A1", "B2", None]


@needs_compiled
def test_texts_raw_and_cleaned_agree_with_clean_text():
    (c, items), (s, s_items) = both()
    for dom, its in ((c, items), (s, s_items)):
        ids = dom.select(dom.root, "p, a, i, em")
        raw = dom.texts(ids)
        assert raw == [n.text_lexbor() for n in its[0].parent.css("p, a, i, em")]
        assert dom.texts(ids, clean_text) == [clean_text(t) for t in raw]
    ids = c.select(c.root, "p")
    cleaned = c.texts(ids, clean_text)
    # nbsp and the ideographic space are whitespace to clean_text; so are ZWSP and BOM.
    assert cleaned[1] == "西湖-转塘 / 53㎡ / 南 北 /"
    assert cleaned[2] == ""
    assert cleaned[3] == "no links bold"


@needs_compiled
def test_bytes_that_are_not_utf8_read_as_replacement_characters_alike():
    body = b"<div class='item'><p>caf\xe9 \xe4\xb8 ok</p></div>"
    texts = []
    for make in (CompiledReads, SelectolaxReads):
        tree = LexborHTMLParser(body)
        item = tree.css_first("div.item")
        dom = make(item)
        ids = dom.select(item.mem_id, "p")
        texts.append((dom.texts(ids), dom.texts(ids, clean_text)))
    assert texts[0] == texts[1]
    assert "\ufffd" in texts[0][1][0]


FIELDS = [
    ("p.title a", False),  # 0
    ("p.des", False),  # 1
    ("a", True, 1),  # 2: des.css("a")
    ("span.price em", False),  # 3
    ("i.tag", True),  # 4
    ("p.des > a", True),  # 5
    ("div.list p.title", False),  # 6: an ancestor outside the item
]


@needs_compiled
def test_extract_gives_what_css_first_and_css_give_per_item():
    (c, c_items), (s, s_items) = both()
    rows_c = c.extract(c_items, FIELDS)
    rows_s = s.extract(s_items, FIELDS)

    def texts(dom, rows):
        out = []
        for row in rows:
            out.append(
                [
                    dom.texts(v, clean_text)
                    if isinstance(v, list)
                    else dom.texts([v], clean_text)[0]
                    if v
                    else None
                    for v in row
                ]
            )
        return out

    assert texts(c, rows_c) == texts(s, rows_s)
    first, second, third = texts(c, rows_c)
    assert first[0] == "Flat one"
    assert first[2] == ["西湖", "转塘"]
    assert first[3] == "2400"
    assert first[4] == ["精装", "近地铁"]
    assert first[6] == "Flat one"
    # The second item's first description has no links; its second one does.
    assert second[2] == []
    assert second[5] == ["second des"]
    assert third == [None, None, [], None, [], [], None]


@needs_compiled
def test_a_class_in_another_case_makes_extract_decline():
    # "Cost" against "cost": Lexbor ignores the case in quirks mode only, so the C
    # matcher does not guess; the caller reads the items another way.
    (c, items), _ = both(PAGE.replace("class='cost'", "class='Cost'"))
    assert c.extract(items, [("span.cost em", False)]) is None
    assert c.extract(items[:2], [("span.cost em", False)]) is not None


@needs_compiled
def test_selectors_beyond_the_c_matcher_go_through_selectolax():
    (c, c_items), (s, s_items) = both()
    fields = [("p.title > a[href]", False), ("i.tag:first-child", True)]
    assert simple_chain(fields[0][0]) is None
    rows = c.extract(c_items, fields)
    assert rows is not None
    assert [c.texts([r[0]])[0] if r[0] else None for r in rows] == ["  Flat\n one ", "\u200b", None]


@needs_compiled
def test_remove_cuts_a_node_out_and_leaves_its_text_readable():
    (c, items), _ = both()
    des = items[0].css_first("p.des")
    links = [a.mem_id for a in des.css("a")]
    before = c.texts(links)
    c.remove(links)
    assert c.texts([des.mem_id], clean_text) == ["- / 53㎡ / 南 北 /"]
    assert c.texts(links) == before


def test_bad_arguments_raise_instead_of_reading_memory():
    if domread.COMPILED_MISSING is not None:
        pytest.skip(domread.COMPILED_MISSING)
    from scrapers import _lexbor_read

    with pytest.raises(TypeError):
        _lexbor_read.texts((1, 2))
    with pytest.raises(ValueError, match="node id 0"):
        _lexbor_read.select(0, "p")
    with pytest.raises(ValueError, match="node id 0"):
        _lexbor_read.remove([0])
    # 0 is how the parsers write a field not found: it reads as nothing.
    assert _lexbor_read.texts([0]) == [None]
    assert _lexbor_read.attributes([0], "href") == [None]
    assert _lexbor_read.parent_ids([0]) == [0]
    item = LexborHTMLParser("<div><p>x</p></div>").css_first("div")
    with pytest.raises(ValueError, match="scope"):
        _lexbor_read.extract([item.mem_id], [(((None, "a", False),), False, 0)])


@pytest.mark.parametrize(
    ("selector", "chain"),
    [
        ("p.des a", (("p", "des", False), ("a", None, False))),
        ("div.list > div.item", (("div", "list", False), ("div", "item", True))),
        (".content__list--item--time", ((None, "content__list--item--time", False),)),
        ("  EM  ", (("em", None, False),)),
        ("p.a.b", None),
        ("a, b", None),
        ("#id", None),
        ("a[href]", None),
        ("p + a", None),
        ("*", None),
        ("", None),
    ],
)
def test_simple_chain_takes_types_one_class_and_two_combinators(selector, chain):
    assert simple_chain(selector) == chain


@needs_compiled
def test_tags_outside_the_standard_set_are_matched_by_name():
    # Lexbor numbers such tags per document, so the C matcher compares their names.
    page = (
        "<div id='l'><x-card class='item'><x-price class='p'>5</x-price><mytag>m</mytag>"
        "</x-card><x-card class='item'><X-PRICE class='p'>6</X-PRICE></x-card></div>"
    )
    fields = [("x-price.p", False), ("x-card mytag", True)]
    got = []
    for make in (CompiledReads, SelectolaxReads):
        items = LexborHTMLParser(page).css("x-card")
        dom = make(items[0].parent)
        rows = dom.extract(items, fields)
        got.append([[dom.texts([r[0]])[0], dom.texts(r[1])] for r in rows])
    assert got[0] == got[1] == [["5", ["m"]], ["6", []]]
