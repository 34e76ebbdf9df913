"""The dashboards in a real headless Chromium: the charts render with their data points.

Needs Debian's chromium at /usr/bin/chromium (``apt-get install -y chromium``; .ci/run
installs it). Playwright's Python package drives it; nothing is downloaded. Vega, Vega-Lite
and vega-embed come bundled with datasette-dashboards, so the page needs no network.
Saves docs/dashboard.png, the screenshot the README shows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from db import open_db
from tests.test_serve import free_port

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
# RENTWATCH_SCREENSHOT=docs/dashboard.png refreshes the README's picture; by default the
# screenshot goes to a temporary folder so a test run leaves the tree as it was.
SCREENSHOT = os.environ.get("RENTWATCH_SCREENSHOT")
DAYS = [f"2026-10-{d:02d}" for d in range(1, 31)]
COUNTED = {"2026-10-05": 9, "2026-10-12": 15, "2026-10-19": 24, "2026-10-26": 31}


def fill(db_path: Path) -> None:
    """A month of 丽晶国际 emptying, with rents easing, and four notice-board counts."""
    db = open_db(db_path)
    with db.conn:
        db["buildings"].insert(
            {
                "id": 1,
                "name": "丽晶国际",
                "city": "hz",
                "district": "上城",
                "subdistrict": "九堡",
                "total_units": 420,
            }
        )
        for i, day in enumerate(DAYS):
            units = 6 + i + (i // 7) * 2
            db["building_daily"].insert(
                {
                    "building_id": 1,
                    "date": day,
                    "listings": units + 5 + i % 4,
                    "units": units,
                    "units_low": units - 2 - i // 10,
                    "units_high": units + 3 + i // 6,
                    "median_rent": 4300 - 12 * i,
                    "p25_rent": 3900 - 10 * i,
                    "p75_rent": 4800 - 15 * i,
                    "total_units": 420,
                    "vacancy_rate": units / 420,
                }
            )
            db["district_daily"].insert(
                {
                    "city": "hz",
                    "district": "上城",
                    "subdistrict": "九堡",
                    "date": day,
                    "units": 40 + 2 * i,
                    "units_low": 34 + 2 * i,
                    "units_high": 47 + 2 * i,
                    "median_rent": 3600 - 8 * i,
                    "p25_rent": 3200 - 8 * i,
                    "p75_rent": 4100 - 9 * i,
                    "buildings": 12,
                }
            )
        for day, vacant in COUNTED.items():
            db["manual_observations"].insert(
                {"building_id": 1, "date": day, "vacant": vacant, "origin": "notice-board"}
            )
    db.close()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    db_path = tmp_path_factory.mktemp("dash") / "rentwatch.db"
    fill(db_path)
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("rentwatch")),
            "serve",
            "--db",
            str(db_path),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/-/versions.json")
            break
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"rentwatch serve did not start: {proc.stdout.read()}")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.communicate(timeout=20)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
            ],
        )
        yield b
        b.close()


def marks(page, chart: str, selector: str) -> int:
    return page.evaluate(
        "([chart, sel]) => document.querySelectorAll(`#chart-${chart} svg ${sel}`).length",
        [chart, selector],
    )


def open_dashboard(browser, url: str, charts: list[str]):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    outside: list[str] = []
    failed: list[str] = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None
        ),
    )
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(url)
    for chart in charts:
        # A chart is drawn when its SVG holds the line's path (the data arrives by fetch).
        page.wait_for_selector(f"#chart-{chart} svg .mark-line path", timeout=30_000)
    return page, outside, failed


def test_building_dashboard_draws_every_day_and_the_notice_board(base_url, browser, tmp_path):
    page, outside, failed = open_dashboard(
        browser, base_url + "/-/dashboards/building", ["units", "rent", "notice_board"]
    )
    try:
        assert "building=" in page.url  # opened on the story's building
        assert page.input_value("#building") == "丽晶国际"
        # One point per day on each line, one band (area) behind it.
        assert marks(page, "units", ".mark-line.role-mark path") == 1
        assert marks(page, "units", ".mark-area.role-mark path") == 1
        assert marks(page, "units", ".mark-symbol.role-mark path") == len(DAYS)
        assert marks(page, "rent", ".mark-symbol.role-mark path") == len(DAYS)
        # Estimate (30 days) and notice-board counts (4) as two lines.
        assert marks(page, "notice_board", ".mark-line.role-mark path") == 2
        assert marks(page, "notice_board", ".mark-symbol.role-mark path") == len(DAYS) + len(
            COUNTED
        )
        legend = page.evaluate(
            "document.querySelector('#chart-notice_board svg .role-legend').textContent"
        )
        assert "notice board (counted)" in legend and "estimate (listings)" in legend
        assert outside == [] and failed == []  # everything served locally
        target = Path(SCREENSHOT) if SCREENSHOT else tmp_path / "dashboard.png"
        page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 10_000
    finally:
        page.close()


def test_district_dashboard_draws_the_area(base_url, browser):
    page, outside, failed = open_dashboard(
        browser, base_url + "/-/dashboards/district", ["units", "rent"]
    )
    try:
        assert page.input_value("#area") == "上城 / 九堡"
        assert marks(page, "units", ".mark-symbol.role-mark path") == len(DAYS)
        assert marks(page, "rent", ".mark-symbol.role-mark path") == len(DAYS)
        assert outside == [] and failed == []
    finally:
        page.close()
