"""A scrape killed with SIGKILL and run again finishes the day with no duplicates and
no loss; a blocked day is "no data", never zero."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli, scrape_local
from tests.lianjia_site import Card, LocalSite, paginate

DAY = "2026-11-20"
RENTWATCH = [sys.executable, "-c", "from rentwatch.cli import main; main()"]


def cards(n: int = 240) -> list[Card]:
    return [
        Card(
            house_code=f"HZ{2400000000000000000 + i}",
            community="丽晶国际" if i % 2 else "金色海岸",
            rent=str(2800 + 7 * i),
            resblock_id="1811000000001" if i % 2 else "1811000000002",
        )
        for i in range(n)
    ]


def scrape_argv(site: LocalSite, db_path: Path, delay: str) -> list[str]:
    return [
        *RENTWATCH,
        "scrape",
        "lianjia",
        "--city",
        "hz",
        "--base-url",
        site.url,
        "--delay",
        delay,
        "--as-of",
        DAY,
        "--no-progress",
        "--db",
        str(db_path),
    ]


def day_rows(db_path: Path) -> tuple[list, list]:
    with sqlite3.connect(db_path) as conn:
        listings = conn.execute(
            "SELECT source, listing_id, title, rent, area, community, first_seen, last_seen "
            "FROM listings ORDER BY listing_id"
        ).fetchall()
        observations = conn.execute(
            "SELECT l.listing_id, o.date, o.rent FROM listing_observations o "
            "JOIN listings l ON l.id = o.listing_id ORDER BY 1, 2"
        ).fetchall()
    return listings, observations


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_equals_an_uninterrupted_run(tmp_path):
    with LocalSite() as site:
        site.set_pages(paginate(cards()))  # 8 pages
        clean_db = tmp_path / "clean.db"
        argv = [a for a in scrape_argv(site, clean_db, "0") if a != "--no-progress"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        # Off a terminal, progress is one plain line per page instead of a bar.
        assert "city hz: page 1/1 " in done.stderr and "/zufang/: 30 listings" in done.stderr
        assert "city hz: page 8/8 " in done.stderr
        expected = day_rows(clean_db)
        assert len(expected[0]) == 240 and len(expected[1]) == 240

        site.hits.clear()
        crashed_db = tmp_path / "crashed.db"
        proc = subprocess.Popen(
            scrape_argv(site, crashed_db, "0.4"), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while sum(v for k, v in site.hits.items() if k.startswith("/zufang/")) < 4:
            assert proc.poll() is None, "the scrape ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL

        with sqlite3.connect(crashed_db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            partial = conn.execute("SELECT count(*) FROM listing_observations").fetchone()[0]
            assert 0 < partial < 240
            assert conn.execute("SELECT status FROM runs").fetchall() == [("running",)]

        again = subprocess.run(
            scrape_argv(site, crashed_db, "0"), capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert day_rows(crashed_db) == expected
        with sqlite3.connect(crashed_db) as conn:
            statuses = conn.execute("SELECT status FROM runs ORDER BY id").fetchall()
        # The killed run is never mistaken for a finished one.
        assert statuses == [("interrupted",), ("ok",)]


def building_units(db_path: Path) -> dict[tuple[str, str], int | None]:
    with sqlite3.connect(db_path) as conn:
        return {
            (name, day): units
            for name, day, units in conn.execute(
                "SELECT b.name, d.date, d.units FROM building_daily d JOIN buildings b ON b.id = d.building_id"
            )
        }


def test_a_blocked_day_has_null_units_and_says_it_was_blocked(tmp_path):
    db_path = tmp_path / "r.db"
    registry = tmp_path / "b.csv"
    registry.write_text(
        "name,aliases,city,district,total_units\n丽晶国际,,hz,江干,300\n金色海岸,,hz,江干,\n",
        encoding="utf-8",
    )
    assert run_cli("buildings", "import", registry, db_path=db_path).exit_code == 0
    with LocalSite() as site:
        site.set_pages(paginate(cards(60)))
        ok = scrape_local(site.url, "2026-11-19", db_path=db_path)
        assert ok.exit_code == 0, ok.output
        site.set_route(
            "/zufang/",
            "<html><head><title>访问验证-安居客</title></head><body>请输入验证码</body></html>".encode(),
        )
        blocked = scrape_local(site.url, "2026-11-20", db_path=db_path)
    assert blocked.exit_code == 3
    assert "blocked" in blocked.output and "no data (not zero)" in blocked.output
    snap = run_cli("snapshot", "--since", "2026-11-19", "--date", "2026-11-20", db_path=db_path)
    assert snap.exit_code == 0, snap.output
    units = building_units(db_path)
    assert units[("丽晶国际", "2026-11-19")] == 30
    assert units[("金色海岸", "2026-11-19")] == 30
    assert units[("丽晶国际", "2026-11-20")] is None
    assert units[("金色海岸", "2026-11-20")] is None
