"""`rentwatch demo`, the README's first command: simulate, snapshot, serve, stop on Ctrl-C."""

from __future__ import annotations

import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from tests.cli_helpers import run_cli

RENTWATCH = [sys.executable, "-c", "from rentwatch.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_demo_serves_the_simulated_market_and_stops_cleanly_on_ctrl_c(tmp_path):
    db_path = tmp_path / "demo.db"
    proc = subprocess.Popen(
        [*RENTWATCH, "demo", "--days", "3", "--db", str(db_path), "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    url = None
    deadline = time.monotonic() + 120
    try:
        while url is None:
            assert time.monotonic() < deadline, "".join(output)
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "".join(output)
            output.append(line)
            match = re.search(r"serving .* at (http://127\.0\.0\.1:\d+/)", line)
            url = match.group(1) if match else None
        text = "".join(output)
        assert "2026-10-03: scrape ok" in text
        assert "Buildings on 2026-10-03" in text and "丽晶国际" in text
        assert re.search(r"units off by \d+\.\d%", text)
        tables = httpx.get(url + "demo.json", timeout=10).json()
        names = {t["name"] for t in tables["tables"]}
        assert {"building_daily", "listings", "units", "demo_market"} <= names
        assert httpx.get(url + "-/dashboards", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, rest
    assert "Stopped." in rest and "Traceback" not in rest
    with sqlite3.connect(db_path) as conn:
        days = conn.execute("SELECT count(DISTINCT date) FROM building_daily").fetchone()[0]
    assert days == 3


@pytest.mark.slow
def test_demo_replaces_its_own_database_and_refuses_any_other(tmp_path):
    demo_db = tmp_path / "demo.db"
    first = run_cli("demo", "--days", "1", "--no-serve", "--db", demo_db)
    assert first.exit_code == 0, first.output
    again = run_cli("demo", "--days", "2", "--no-serve", "--db", demo_db)
    assert again.exit_code == 0, again.output
    with sqlite3.connect(demo_db) as conn:
        assert conn.execute("SELECT count(DISTINCT date) FROM building_daily").fetchone() == (2,)

    real_db = tmp_path / "rentwatch.db"
    registry = tmp_path / "b.csv"
    registry.write_text(
        "name,aliases,city,district,total_units\n丽晶国际,,hz,江干,300\n", encoding="utf-8"
    )
    assert run_cli("buildings", "import", registry, db_path=real_db).exit_code == 0
    refused = run_cli("demo", "--days", "1", "--no-serve", "--db", real_db)
    assert refused.exit_code == 1
    assert "is not a demo database" in refused.output
    with sqlite3.connect(real_db) as conn:
        assert conn.execute("SELECT name FROM buildings").fetchall() == [("丽晶国际",)]


@pytest.mark.slow
@pytest.mark.parametrize("cuts", ["0.2", "0"])
def test_demo_market_cuts_prices_and_counts_the_cuts_unless_told_not_to(tmp_path, cuts):
    demo_db = tmp_path / "demo.db"
    result = run_cli("demo", "--days", "3", "--no-serve", "--cuts", cuts, "--db", demo_db)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(demo_db) as conn:
        counted = conn.execute("SELECT sum(price_cuts) FROM building_daily").fetchone()[0]
        recorded = conn.execute("SELECT cut_chance FROM demo_market").fetchone()[0]
    assert recorded == float(cuts)
    match = re.search(r"Price cuts: (\d+) counted, (\d+) made by", result.output)
    assert match, result.output
    if cuts == "0":
        assert counted == 0 and match.groups() == ("0", "0")
    else:
        # flats on offer two weeks or more before watching began are cut from the first day
        assert counted > 0 and int(match.group(2)) > 0
