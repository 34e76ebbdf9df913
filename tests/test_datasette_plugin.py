"""The rentwatch plugin under plain ``datasette``: real Datasette processes on 127.0.0.1, real
SQLite files, pages driven in headless Chromium (/usr/bin/chromium).

Two servers: one serves the database ``rentwatch demo`` simulates beside a database that is
not rentwatch's (with a table called listings, to show the plugin leaves it alone); the
other serves a database of hand-made real-looking data beside an empty rentwatch database.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from db import open_db
from tests.cli_helpers import run_cli
from tests.test_serve import fill, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
BIN = Path(sys.executable).parent
REAL_SITES = ("Lianjia", "Beike", "链家", "贝壳", "58同城", "安居客", "自如", "房天下")


def start(argv: list[str], port: int):
    """A server process and its base URL, once it answers."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/-/versions.json", timeout=5)
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"{argv[0]} did not start: {proc.stdout.read()}")
            time.sleep(0.1)


def stop(proc) -> None:
    proc.terminate()
    proc.communicate(timeout=20)


def datasette(*files: Path):
    port = free_port()
    return start([str(BIN / "datasette"), *map(str, files), "--port", str(port)], port)


def foreign_db(path: Path) -> Path:
    """Somebody else's database that happens to have a listings table."""
    with sqlite3.connect(path) as conn:
        conn.execute("create table listings (id integer primary key, title text)")
        conn.execute("insert into listings (title) values ('九堡 flat'), ('elsewhere')")
    return path


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plugin_demo")
    demo = folder / "demo.db"
    result = run_cli("demo", "--days", "2", "--no-serve", "--db", str(demo))
    assert result.exit_code == 0, result.output
    return demo, foreign_db(folder / "other.db")


@pytest.fixture(scope="module")
def demo_site(demo_files):
    proc, url = datasette(*demo_files)
    yield url
    stop(proc)


@pytest.fixture(scope="module")
def real_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plugin_real")
    real, empty = folder / "rentwatch.db", folder / "empty.db"
    fill(real)
    open_db(empty).close()
    return real, empty


@pytest.fixture(scope="module")
def real_site(real_files):
    proc, url = datasette(*real_files)
    yield url
    stop(proc)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    yield page
    page.close()


def run_async(coroutine):
    """Run ``coroutine`` to its end in a thread of its own (Playwright's loop runs in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def containing(db_path: Path, term: str) -> set[int]:
    """Listings with ``term`` in the title, 小区, 板块 or district, counted apart from the plugin."""
    with sqlite3.connect(db_path) as conn:
        return {
            r[0]
            for r in conn.execute(
                "select id from listings where instr(coalesce(title, ''), ?1) "
                "or instr(coalesce(community, ''), ?1) or instr(coalesce(subdistrict, ''), ?1) "
                "or instr(coalesce(district, ''), ?1)",
                (term,),
            )
        }


def in_titles(db_path: Path, term: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "select count(*) from listings where instr(title, ?)", (term,)
        ).fetchone()[0]


def test_the_plugin_is_installed_for_datasette(demo_site):
    names = [p["name"] for p in httpx.get(demo_site + "/-/plugins.json").json()]
    assert "rentwatch" in names


@pytest.mark.parametrize("term", ["九堡", "丽晶", "丽晶国际", "堡"])
def test_search_box_finds_short_chinese_terms_and_places(demo_site, demo_files, page, term):
    expected = containing(demo_files[0], term)
    assert expected  # the simulated market has 九堡 and 丽晶国际
    page.goto(demo_site + "/demo/listings")
    page.fill("#_search", term)
    page.press("#_search", "Enter")
    page.wait_for_url("**_search=*")
    heading = page.inner_text("h3")
    assert heading.startswith(f"{len(expected):,} row") and f'search matches "{term}"' in heading
    rows = httpx.get(
        demo_site + "/demo/listings.json",
        params={"_search": term, "_shape": "array", "_col": "id", "_size": "max"},
    ).json()
    assert {r["id"] for r in rows} == expected


def test_search_reaches_beyond_titles(demo_site, demo_files):
    # 九堡 is the 板块 of many listings whose title names only the 小区.
    found = len(containing(demo_files[0], "九堡"))
    assert found > in_titles(demo_files[0], "九堡")
    r = httpx.get(demo_site + "/demo/listings.json", params={"_search": "九堡", "_size": "1"})
    assert r.json()["filtered_table_rows_count"] == found


@pytest.mark.parametrize(
    ("term", "ids"),
    [
        ("九堡家苑", [4, 6]),  # the trigram index
        ("九堡 2室", []),  # every term must match
        ("丽晶 2室", [1]),
        ("%", [5]),  # a literal percent sign, not a wildcard
        ('"', []),  # a quote is text, not FTS syntax
    ],
)
def test_search_terms(real_site, term, ids):
    r = httpx.get(
        real_site + "/rentwatch/listings.json", params={"_search": term, "_shape": "array"}
    )
    assert r.status_code == 200, r.text
    assert sorted(row["id"] for row in r.json()) == ids


def test_canned_queries_with_their_defaults(real_site, page):
    # No days: a week back, which falls on each building's first day here (4 days watched).
    rise = httpx.get(real_site + "/rentwatch/vacancy_rise.json", params={"_shape": "array"}).json()
    assert [(r["building"], r["date_before"], r["rise"]) for r in rise] == [
        ("丽晶国际", "2026-11-01", 12),
        ("金色海岸", "2026-11-01", 1),
    ]
    days = httpx.get(
        real_site + "/rentwatch/vacancy_rise.json", params={"_shape": "array", "days": "1"}
    ).json()
    assert [(r["building"], r["date_before"], r["rise"]) for r in days] == [
        ("丽晶国际", "2026-11-03", 4),
        ("金色海岸", "2026-11-02", 1),  # no data on 11-03: the closest earlier day
    ]
    # No building: the story's building.
    page.goto(real_site + "/rentwatch/building_trend")
    cells = page.locator("table.rows-and-columns tbody td.col-building").all_inner_texts()
    assert cells == ["丽晶国际"] * 4
    assert "Leave the building blank" in page.inner_text("body")


def test_demo_canned_query_without_days_shows_rises(demo_site):
    rows = httpx.get(demo_site + "/demo/vacancy_rise.json", params={"_shape": "array"}).json()
    assert rows and all(r["date_before"] < r["date_now"] for r in rows)
    assert any(r["rise"] != 0 for r in rows)


def test_dashboards_render_under_plain_datasette(demo_site, page):
    page.goto(demo_site + "/-/dashboards/building")
    assert page.input_value("#building") == "丽晶国际"
    for chart in ("units", "rent", "notice_board"):
        page.wait_for_selector(f"#chart-{chart} svg .mark-line path", state="attached")
    days = page.evaluate(
        "document.querySelectorAll('#chart-units svg .mark-symbol.role-mark path').length"
    )
    assert days == 2
    page.goto(demo_site + "/-/dashboards/district")
    page.wait_for_selector("#chart-units svg .mark-line path", state="attached")
    assert page.input_value("#area").endswith("九堡")


def hint_text(page, url: str, chart: str) -> str:
    page.goto(url)
    page.wait_for_selector(f"#chart-{chart} svg .role-axis", state="attached")
    return page.evaluate(f"document.querySelector('#chart-{chart} svg').textContent")


def test_empty_dashboards_say_what_fills_them(real_site, page):
    # The second rentwatch database's dashboards carry its name.
    text = hint_text(page, real_site + "/-/dashboards/notice-board-empty", "all")
    assert "no counts yet: rentwatch observe add" in text
    text = hint_text(page, real_site + "/-/dashboards/building-empty", "units")
    assert "no snapshots yet" in text and "rentwatch snapshot" in text
    # Where counts exist, no hint.
    text = hint_text(page, real_site + "/-/dashboards/notice-board", "all")
    assert "no counts yet" not in text and "notice board (counted)" in text


def test_home_page_says_the_data_is_simulated(demo_site, real_site, page):
    page.goto(demo_site + "/")
    assert page.inner_text(".metadata-description").startswith("Simulated data")
    body = page.inner_text("body")
    assert "Data source: A market simulated on this computer" in body
    assert not [site for site in REAL_SITES if site in body]
    real = httpx.get(real_site + "/").text
    assert "Simulated data" not in real and "Lianjia" in real


def test_first_screen_of_building_daily_shows_data(demo_site, page):
    page.goto(demo_site + "/demo/building_daily")
    first_row = page.locator("table.rows-and-columns tbody tr").first
    box = first_row.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 800
    # The descriptions stay: on hover over a column's name, and folded above the table.
    title = page.get_attribute("th.col-median_rent", "title")
    assert title == "Median asking rent of whole flats (整租), 元/月."
    assert not page.is_visible("dl.column-descriptions")
    page.click("details.column-descriptions-fold summary")
    assert page.is_visible("dl.column-descriptions")


def test_other_databases_are_left_alone(demo_site):
    meta = httpx.get(demo_site + "/-/metadata.json").json()
    assert "other" not in meta["databases"] and "demo" in meta["databases"]
    assert httpx.get(demo_site + "/other.json").json()["queries"] == []
    assert [q["name"] for q in httpx.get(demo_site + "/demo.json").json()["queries"]] == [
        "building_trend",
        "vacancy_rise",
        "rent_cuts",
        "unmatched_buildings",
        "search_listings",
    ]
    page = httpx.get(demo_site + "/other/listings", params={"_search": "九堡"}).text
    assert 'id="_search"' not in page and "column-descriptions-fold" not in page
    rows = httpx.get(
        demo_site + "/other/listings.json", params={"_search": "九堡", "_shape": "array"}
    ).json()
    assert len(rows) == 2  # no search on it: the argument filters nothing


def test_a_datasette_without_rentwatch_databases_is_plain(tmp_path):
    from datasette.app import Datasette

    ds = Datasette(files=[str(foreign_db(tmp_path / "other.db"))])

    async def ask():
        await ds.invoke_startup()
        return (await ds.client.get("/-/metadata.json")).json()

    assert run_async(ask()) == {}
    assert ds.plugin_config("datasette-dashboards") is None


def test_immutable_database_as_datasette_publish_serves_it(demo_files):
    # `datasette publish` serves the file with -i (immutable): the plugin must work there too.
    from datasette.app import Datasette

    ds = Datasette(immutables=[str(demo_files[0])])

    async def ask():
        await ds.invoke_startup()
        r = await ds.client.get("/demo/listings.json", params={"_search": "丽晶", "_size": "1"})
        return r.json()["filtered_table_rows_count"], (await ds.client.get("/")).text

    found, home = run_async(ask())
    assert found == len(containing(demo_files[0], "丽晶"))
    assert "Simulated data" in home


def test_rentwatch_serve_gives_the_same_site(real_files, real_site):
    port = free_port()
    exe = str(BIN / "rentwatch")
    proc, url = start([exe, "serve", "--db", str(real_files[0]), "--port", str(port)], port)
    try:
        ours = httpx.get(url + "/-/metadata.json").json()
        plain = httpx.get(real_site + "/-/metadata.json").json()
        assert ours["databases"]["rentwatch"] == plain["databases"]["rentwatch"]
        assert (
            ours["plugins"]["datasette-dashboards"]["building"]
            == (plain["plugins"]["datasette-dashboards"]["building"])
        )
        queries = [q["name"] for q in httpx.get(url + "/rentwatch.json").json()["queries"]]
        assert "vacancy_rise" in queries
    finally:
        stop(proc)
