"""Commands overlapping on one database: real processes, a real SQLite file, the simulated
market served on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rentwatch.config import load_config
from rentwatch.sim.market import Market
from rentwatch.sim.run import run_simulation
from rentwatch.sim.server import SimServer
from tests.test_scheduler import site, soon, start, stop, wait_for, write_config  # noqa: F401

RENTWATCH = str(Path(sys.executable).with_name("rentwatch"))


def rentwatch(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [RENTWATCH, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def market_db(tmp_path_factory) -> Path:
    """Two simulated days scraped and snapshotted: a database with a day to snapshot again."""
    path = tmp_path_factory.mktemp("market") / "rentwatch.db"
    run_simulation(path, days=2, start="2026-10-01", seed=7)
    return path


def test_snapshot_while_a_scrape_writes_waits_for_its_turn(market_db):
    market = Market(seed=7, start="2026-10-01", days=6)
    for _ in range(3):
        index = market.advance()
    districts = sorted({b.district_slug for b in market.buildings})
    with SimServer(market) as server:
        server.set_day(index)
        # A small politeness delay keeps the scrape writing for a few seconds.
        args = ["scrape", "lianjia", "--city", "hz", "--base-url", server.url, "--delay", "0.03"]
        args += ["--as-of", market.date_of(index), "--db", str(market_db)]
        for d in districts:
            args += ["--district", d]
        scrape = subprocess.Popen(
            [RENTWATCH, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        overlapped = []
        try:
            wait_for(lambda: _runs(market_db) >= 3, scrape, "the scrape's first runs")
            while scrape.poll() is None:
                snap = rentwatch(
                    "snapshot", "--date", "2026-10-02", "--limit", "0", "--db", str(market_db)
                )
                assert snap.returncode == 0, snap.stderr
                assert "2026-10-02:" in snap.stdout and "locked" not in snap.stderr
                overlapped.append(scrape.poll() is None)
        finally:
            out, _ = scrape.communicate(timeout=120)
    assert scrape.returncode == 0, out
    assert any(overlapped), "no snapshot ran entirely while the scrape was writing"


def _runs(path: Path) -> int:
    try:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_a_writer_gives_up_after_the_stated_wait_with_one_line(market_db):
    holder = sqlite3.connect(market_db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        busy = rentwatch(
            "snapshot", "--date", "2026-10-02", "--db", str(market_db),
            env={"RENTWATCH_WRITE_WAIT": "1"},
        )  # fmt: skip
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
    assert busy.returncode == 1
    lines = busy.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in busy.stderr, busy.stderr
    assert (
        "is busy" in lines[0] and "more than 1 s" in lines[0] and "RENTWATCH_WRITE_WAIT" in lines[0]
    )
    assert waited >= 1

    # The same lock released within the wait: the snapshot waits and then succeeds.
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(1.5, lambda: holder.execute("ROLLBACK")).start()
    patient = rentwatch(
        "snapshot", "--date", "2026-10-02", "--limit", "0", "--db", str(market_db),
        env={"RENTWATCH_WRITE_WAIT": "20"},
    )  # fmt: skip
    assert patient.returncode == 0, patient.stderr


@pytest.mark.parametrize(
    "command",
    [("runs",), ("observe", "list"), ("buildings", "unmatched"), ("snapshot",), ("serve",)],
)
def test_a_command_that_only_reads_refuses_a_missing_database(tmp_path, command):
    missing = tmp_path / "typo.db"
    result = rentwatch(*command, "--db", str(missing), timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip() == f"Error: {result.stderr.strip().removeprefix('Error: ')}"
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"no database at {missing}" in result.stderr
    assert not missing.exists()


def test_second_scheduler_through_a_symlink_to_the_same_database_refuses(tmp_path, site):  # noqa: F811
    far = soon(3600)
    config_path = write_config(tmp_path, site, first=far, second=far)
    config = load_config(config_path)
    first = start(config_path)
    lock = Path(str(config.database) + ".lock")
    wait_for(lambda: lock.exists() and lock.read_text().strip() == str(first.pid), first, "lock")
    other = tmp_path / "other"
    other.mkdir()
    (other / "rentwatch.db").symlink_to(config.database)
    other_config = other / "rentwatch.toml"
    other_config.write_text(
        config_path.read_text(encoding="utf-8").replace("data/rentwatch.db", "rentwatch.db"),
        encoding="utf-8",
    )
    try:
        second = rentwatch("run", "--once", "--config", str(other_config), timeout=60)
    finally:
        stop(first)
    assert second.returncode == 1, second.stdout + second.stderr
    assert f"(pid {first.pid}) is already running on {config.database.resolve()}" in second.stderr
    assert site.hits.get("/zufang/", 0) == 0


def test_scheduler_module_has_no_platform_specific_import():
    # `import fcntl` at module level made every command fail on Windows.
    source = Path("rentwatch/scheduler.py").read_text(encoding="utf-8")
    assert "import fcntl" not in source


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_demo_interrupted_then_run_again_replaces_its_unfinished_database(tmp_path, how):
    db_path = tmp_path / "demo.db"
    proc = subprocess.Popen(
        [RENTWATCH, "demo", "--days", "20", "--no-serve", "--db", str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    while not any(": scrape " in line for line in lines):  # a day is stored: mid-simulation
        line = proc.stdout.readline()
        assert line, "".join(lines)
        lines.append(line)
    proc.send_signal(how)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, "".join(lines) + out
    assert "Traceback" not in out and "was not changed" in out

    again = rentwatch("demo", "--days", "1", "--no-serve", "--db", str(db_path), timeout=180)
    assert again.returncode == 0, again.stdout + again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT days FROM demo_market").fetchall() == [(1,)]
        assert conn.execute("SELECT count(DISTINCT date) FROM building_daily").fetchone() == (1,)
