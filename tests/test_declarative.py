"""Declarative (TOML) sources: a made-up site served on 127.0.0.1, the bundled Lianjia
example against the real page and the hand-written parser, and the checks on the file."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from scrapers import registry
from scrapers.declarative import (
    BUNDLED_SOURCES,
    DeclarativeSource,
    SourceDefinitionError,
    load_declarative_source,
)
from scrapers.errors import BlockedPage, EmptyPage, LayoutChanged, NotAListingPage
from scrapers.lianjia import LianjiaSource
from scrapers.registry import load_declarative_sources
from tests.realpages import real_page

PAGES = Path(__file__).parent / "fixtures" / "declarative"
LIANJIA_SZ = "lianjia/beike_zufang_list_sz_2020-03.html"

ZUWU_TOML = """
name = "zuwu"
title = "租屋网 (made up)"
base_url = "https://{city}.zuwu.example"

[start]
city = "/rent/"
district = "/rent/{district}/"

[items]
selector = "main#results article.flat"
required = ["listing_id", "title", "rent"]

[fields.listing_id]
selector = ":self"
attr = "data-id"

[fields.title]
selector = "h3 a"

[fields.url]
selector = "h3 a"
attr = "href"

[fields.is_promoted]
selector = ":self"
attr = "data-promo"

[fields.rent]
selector = "li.price"

[fields.area]
selector = "li.size"
transform = "number"

[fields.floor_text]
selector = "li.floor"

[fields.district]
selector = "li.where"
transform = "split:|:0"

[fields.subdistrict]
selector = "li.where"
transform = ["split:|:1", "strip"]

[fields.community]
selector = "li.where a"

[fields.community_id]
selector = "li.where a"
attr = "href"
regex = '/estate/(\\w+)/'

[fields.layout_text]
selector = "h3 a"
regex = '(\\d+室\\d+厅\\d+卫)'

[fields.orientation]
selector = "li.face"
regex = '朝(.+)'

[fields.agent]
selector = "span.agency"

[fields.x_layout_note]
selector = "li.layout"

[tenure]
"整租" = "whole"
"合租" = "shared"
"独栋" = "building"

[paging]
next = "nav.pages a.next"
total_count = { selector = "p.summary b", transform = "int" }

[block]
titles = ["安全验证"]

[page]
marker = "main#results"
empty_text = ["没有找到符合条件的房源"]
"""


def write_toml(tmp_path: Path, text: str, name: str = "zuwu.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def zuwu(tmp_path) -> DeclarativeSource:
    return load_declarative_source(write_toml(tmp_path, ZUWU_TOML))


def crawl(source: DeclarativeSource, start_urls: list[str], limit: int = 10):
    """Fetch, parse and follow pages the way a crawler would, with a bounded loop."""
    pages, queue, seen = [], list(start_urls), set()
    with httpx.Client(timeout=5) as client:
        while queue and len(seen) < limit:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            response = client.get(url)
            assert response.status_code == 200, url
            page = source.parse_list(response.content, str(response.url))
            pages.append(page)
            queue.extend(u for u in source.following_urls(page) if u not in seen)
    return pages


def serve_site(httpserver, pages: dict[str, str]) -> None:
    for path, filename in pages.items():
        httpserver.expect_request(path).respond_with_data(
            (PAGES / filename).read_bytes(), content_type="text/html; charset=utf-8"
        )


def test_scrape_made_up_site_following_next_links(zuwu, httpserver):
    serve_site(
        httpserver, {"/rent/": "page1.html", "/rent/p2/": "page2.html", "/rent/p3/": "page3.html"}
    )
    start = zuwu.list_urls("sz", base_url=httpserver.url_for("/"))
    assert start == [httpserver.url_for("/rent/")]
    pages = crawl(zuwu, start)

    assert [p.url for p in pages] == [
        httpserver.url_for("/rent/"),
        httpserver.url_for("/rent/p2/"),
        httpserver.url_for("/rent/p3/"),
    ]
    assert [[r.listing_id for r in p.records] for p in pages] == [
        ["A100", "A101", "A102"],  # the banner card without an id is skipped
        ["B200", "B201"],
        ["C300", "C301"],
    ]
    assert all(p.total_count == 7 for p in pages)
    assert pages[-1].next_urls == []

    a100, a101, a102 = pages[0].records
    assert a100.source == "zuwu"
    assert a100.url == httpserver.url_for("/flat/A100.html")
    assert a100.title == "整租 · 海景花园 2室1厅1卫"
    assert a100.tenure == "whole"
    assert a100.is_promoted is True
    assert (a100.rent, a100.rent_high, a100.rent_text) == (3200.0, None, "¥ 3,200 /月")
    assert a100.area == 78.5
    assert (a100.layout_text, a100.rooms, a100.halls, a100.baths) == ("2室1厅1卫", 2, 1, 1)
    assert (a100.floor_text, a100.floor_band, a100.total_floors) == ("中楼层/共18层", "中楼层", 18)
    assert (a100.district, a100.subdistrict) == ("南山", "蛇口")
    assert (a100.community, a100.community_id) == ("海景花园", "e501")
    assert a100.orientation == "南"
    # The agency text becomes a key; the same agency on page 2 gives the same key.
    assert a100.agent_key is not None and len(a100.agent_key) == 12
    assert "好家" not in repr(a100.as_dict())
    assert pages[1].records[1].agent_key == a100.agent_key
    assert a102.agent_key not in (None, a100.agent_key)

    assert a101.tenure == "shared"
    assert a101.is_promoted is False
    assert (a101.rent, a101.rent_high) == (1450.0, 1600.0)
    assert a101.layout_text is None
    assert a101.extra == {"layout_note": "3室1厅2卫"}

    c300 = pages[2].records[0]
    assert (c300.tenure, c300.is_apartment) == ("building", True)
    assert c300.floor_text is None


def test_scrape_made_up_site_by_total_pages(tmp_path, httpserver):
    text = ZUWU_TOML.replace(
        'next = "nav.pages a.next"',
        'total_pages = { selector = "nav.pages a:nth-last-of-type(2)", transform = "int" }\n'
        'current_page = { selector = "nav.pages b", transform = "int" }\n'
        'page_url = "{path}p{n}/"',
    )
    source = load_declarative_source(write_toml(tmp_path, text))
    serve_site(
        httpserver,
        {
            "/rent/nanshan/": "page1.html",
            "/rent/nanshan/p2/": "page2.html",
            "/rent/nanshan/p3/": "page3.html",
        },
    )
    start = source.list_urls("sz", district="nanshan", base_url=httpserver.url_for("/"))
    pages = crawl(source, start)
    assert pages[0].total_pages == 3 and pages[0].current_page == 1
    assert pages[0].next_urls == [
        httpserver.url_for("/rent/nanshan/p2/"),
        httpserver.url_for("/rent/nanshan/p3/"),
    ]
    assert [p.current_page for p in pages] == [1, 2, 3]
    assert sum(len(p.records) for p in pages) == 7
    assert pages[1].next_urls == [] and pages[2].next_urls == []
    assert source.page_url(httpserver.url_for("/rent/nanshan/p3/"), 1) == httpserver.url_for(
        "/rent/nanshan/"
    )


def test_page_rules(zuwu):
    url = "https://sz.zuwu.example/rent/"
    assert zuwu.parse_list((PAGES / "empty_result.html").read_bytes(), url).records == []
    with pytest.raises(LayoutChanged) as info:
        zuwu.parse_list((PAGES / "redesigned.html").read_bytes(), url)
    assert info.value.selector == "main#results article.flat"
    with pytest.raises(BlockedPage, match="安全验证"):
        zuwu.parse_list((PAGES / "verify.html").read_bytes(), url)
    assert zuwu.block_reason((PAGES / "verify.html").read_bytes(), url, 200)
    assert zuwu.block_reason(b"", url, 418) == "HTTP 418"
    assert zuwu.block_reason((PAGES / "page1.html").read_bytes(), url, 200) is None
    with pytest.raises(NotAListingPage, match="main#results"):
        zuwu.parse_list(real_page(LIANJIA_SZ), url)
    with pytest.raises(EmptyPage):
        zuwu.parse_list(b"", url)


def test_most_cards_lacking_a_required_field_is_a_layout_change(tmp_path):
    source = load_declarative_source(
        write_toml(tmp_path, ZUWU_TOML.replace('selector = "li.price"', 'selector = "li.cost"'))
    )
    with pytest.raises(LayoutChanged, match="no rent at 'li.cost'") as info:
        source.parse_list((PAGES / "page1.html").read_bytes(), "https://sz.zuwu.example/rent/")
    assert info.value.selector == "li.cost"


def test_capabilities_and_urls(zuwu):
    assert zuwu.capabilities.district_query is True
    assert zuwu.capabilities.building_query is False
    assert zuwu.hosts == ("{city}.zuwu.example",)
    assert zuwu.base_url("sz") == "https://sz.zuwu.example"
    assert zuwu.list_urls("sz", district="futian") == ["https://sz.zuwu.example/rent/futian/"]
    with pytest.raises(ValueError, match="no \\[start\\] building"):
        zuwu.list_urls("sz", building="e501")


# -- the bundled Lianjia example against the real page -----------------------------------


def test_bundled_lianjia_example_matches_the_hand_written_parser():
    source = load_declarative_source(BUNDLED_SOURCES / "example_lianjia.toml")
    assert source.name == "lianjia-toml"
    url = "https://sz.lianjia.com/zufang/"
    body = real_page(LIANJIA_SZ)
    ours = source.parse_list(body, url)
    theirs = LianjiaSource().parse_list(body, url)
    assert len(ours.records) == 33
    fields = (
        "listing_id", "url", "title", "tenure", "is_promoted", "is_apartment", "district",
        "subdistrict", "community", "community_id", "rent", "rent_high", "area", "layout_text",
        "rooms", "halls", "baths", "floor_text", "floor_band", "total_floors", "orientation",
        "agent_key", "listed_text", "area_text", "rent_text",
    )  # fmt: skip
    for a, b in zip(ours.records, theirs.records, strict=True):
        assert {f: getattr(a, f) for f in fields} == {f: getattr(b, f) for f in fields}
    # Values checked by eye on the saved page, so the comparison cannot pass vacuously.
    first = ours.records[0]
    assert (first.listing_id, first.rent, first.area) == ("SZ2414358417079803904", 4800.0, 28.0)
    assert (first.community, first.community_id) == ("御锦公馆", "2411049999882")
    assert (first.floor_band, first.total_floors, first.orientation) == ("低楼层", 30, "南")
    apartment = ours.records[1]
    assert (apartment.listing_id, apartment.is_apartment, apartment.rent) == (
        "242188",
        True,
        1780.0,
    )
    assert (ours.total_count, ours.total_pages, ours.current_page) == (33038, 100, 1)
    assert len(ours.next_urls) == 99
    assert ours.next_urls[0] == "https://sz.lianjia.com/zufang/pg2/"
    assert ours.next_urls[-1] == "https://sz.lianjia.com/zufang/pg100/"


def test_bundled_lianjia_example_refuses_other_pages():
    source = load_declarative_source(BUNDLED_SOURCES / "example_lianjia.toml")
    url = "https://sz.lianjia.com/zufang/"
    with pytest.raises(BlockedPage, match="访问验证"):
        source.parse_list(real_page("anjuke/anjuke_captcha_verify_2024-10.html"), url)
    with pytest.raises(NotAListingPage):
        source.parse_list(real_page("58/58_chuzu_list_bj_dashanzi_2018-05.html"), url)


# -- loading and registering -----------------------------------------------------------------


def test_load_folder_registers_sources(tmp_path, monkeypatch):
    # Leave the real registry as it was, bundled TOML sources included.
    monkeypatch.setattr(registry, "_extra", {})
    monkeypatch.setattr(registry, "_declared_loaded", True)
    write_toml(tmp_path, ZUWU_TOML)
    (tmp_path / "notes.txt").write_text("not a source")
    sources = load_declarative_sources(tmp_path)
    assert [s.name for s in sources] == ["zuwu"]
    assert registry.get_source("zuwu") is sources[0]
    assert "zuwu" in registry.names()


def test_bundled_folder_loads():
    names = [s.name for s in load_declarative_sources(BUNDLED_SOURCES, register=False)]
    assert names == ["lianjia-toml"]


def test_duplicate_and_builtin_names_are_refused(tmp_path):
    write_toml(tmp_path, ZUWU_TOML, "a.toml")
    write_toml(tmp_path, ZUWU_TOML, "b.toml")
    with pytest.raises(SourceDefinitionError, match="b.toml: name 'zuwu' is already used by"):
        load_declarative_sources(tmp_path, register=False)
    other = tmp_path / "other"
    other.mkdir()
    write_toml(other, ZUWU_TOML.replace('name = "zuwu"', 'name = "lianjia"'))
    with pytest.raises(SourceDefinitionError, match="'lianjia' is a built-in source"):
        load_declarative_sources(other, register=False)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '[fields.rent]\nselector = "li.price"',
            "[fields.rent]\n",
            r"\[fields.rent\] selector is missing",
        ),
        ('selector = "main#results article.flat"', "", r"\[items\] selector is missing"),
        (
            'transform = "number"',
            'transform = "float"',
            r"\[fields.area\] transform 'float' is unknown",
        ),
        ('transform = "split:|:0"', 'transform = "split:|:x"', r"index 'x' is not a whole number"),
        ("regex = '朝(.+)'", "regex = '朝(.+'", r"\[fields.orientation\] regex"),
        ("[fields.agent]", "[fields.agency]", r"\[fields.agency\] is not a record field"),
        ('"独栋" = "building"', '"独栋" = "apartment"', r"\[tenure\] '独栋' = 'apartment'"),
        ('next = "nav.pages a.next"', 'total_pages = { selector = "nav b" }', r"needs a page_url"),
        ('name = "zuwu"', 'name = "Zu Wu"', r"name 'Zu Wu' must be lowercase"),
        ('base_url = "https://{city}.zuwu.example"', "", r"base_url is missing"),
        ('city = "/rent/"', 'city = "rent"', r"\[start\] city must be a path"),
        ('district = "/rent/{district}/"', 'district = "/rent/"', r"must contain \{district\}"),
        (
            '[fields.title]\nselector = "h3 a"',
            '[fields.title]\nselector = "h3 a"\ncolor = "red"',
            r"\[fields.title\] has unknown key",
        ),
        ('title = "租屋网 (made up)"', 'title = "unclosed', r"not valid TOML"),
        (
            'required = ["listing_id", "title", "rent"]',
            'required = ["deposit"]',
            r"required names 'deposit'",
        ),
    ],
)
def test_invalid_definitions_name_the_key(tmp_path, old, new, message):
    assert old in ZUWU_TOML
    path = write_toml(tmp_path, ZUWU_TOML.replace(old, new, 1))
    with pytest.raises(SourceDefinitionError, match=message) as info:
        load_declarative_source(path)
    assert str(info.value).startswith(str(path))
