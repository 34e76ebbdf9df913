"""`rentwatch run`: the real scheduler in a subprocess, against a local site in the Lianjia
markup, writing a real SQLite file."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipeline.dates import SHANGHAI
from rentwatch.config import load_config
from rentwatch.scheduler import DayLog, database_lock, due_on
from tests.cli_helpers import run_cli
from tests.lianjia_site import Card, LocalSite, paginate

RENTWATCH = str(Path(sys.executable).with_name("rentwatch"))


def cards(prefix: int, n: int, community: str, subdistrict: str, slug: str) -> list[Card]:
    return [
        Card(
            house_code=f"HZ{prefix + i}",
            community=community,
            rent=str(3000 + 50 * i),
            area=str(40 + i % 7),
            subdistrict=subdistrict,
            subdistrict_slug=slug,
            resblock_id=str(prefix)[-13:],
        )
        for i in range(n)
    ]


@pytest.fixture
def site():
    with LocalSite() as s:
        # The whole city: 2 pages; the 九堡 district query: 8 pages of 5 cards.
        s.set_pages(
            paginate(cards(2351274914700300000, 40, "金色海岸", "滨江", "binjiang"), per_page=30)
        )
        s.set_pages(
            paginate(
                cards(2351274914700400000, 40, "丽晶国际", "九堡", "jiubao"),
                per_page=5,
                prefix="/zufang/jiubao/",
            )
        )
        yield s


def write_config(
    tmp_path: Path, site: LocalSite, *, first: datetime, second: datetime, delay: float = 0
) -> Path:
    def at(t: datetime) -> str:
        return f"{{hour = {t.hour}, minute = {t.minute}, second = {t.second}}}"

    path = tmp_path / "rentwatch.toml"
    path.write_text(
        f"""
database = "data/rentwatch.db"
jobstore = "data/jobs.sqlite"

[[sources]]
id = "city"
name = "lianjia"
city = "hz"
schedule = {at(first)}
base_url = "{site.url}"
delay = 0

[[sources]]
id = "jiubao"
name = "lianjia"
city = "hz"
districts = ["jiubao"]
schedule = {at(second)}
base_url = "{site.url}"
delay = {delay}

[snapshot]
schedule = "59 23 31 12 *"
""",
        encoding="utf-8",
    )
    return path


def rows(db_path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def start(config: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [RENTWATCH, "run", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition, proc: subprocess.Popen, what: str, limit: float = 90) -> None:
    # Not a speed check: a generous limit so that a broken scheduler fails instead of hanging.
    deadline = time.monotonic() + limit
    while not condition():
        if proc.poll() is not None:
            pytest.fail(
                f"rentwatch run exited ({proc.returncode}) before {what}: {proc.stdout.read()}"
            )
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no {what} after {limit}s: {proc.communicate()[0]}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, out
    return out


def soon(seconds: int) -> datetime:
    return datetime.now(SHANGHAI).replace(microsecond=0) + timedelta(seconds=seconds)


@pytest.mark.slow
def test_cron_jobs_scrape_then_snapshot_once_each_in_order(tmp_path, site):
    config_path = write_config(tmp_path, site, first=soon(8), second=soon(11))
    config = load_config(config_path)
    day = datetime.now(SHANGHAI).date().isoformat()
    assert [j.id for j in due_on(config, day)] == ["city", "jiubao"]
    proc = start(config_path)
    wait_for(lambda: "snapshot" in _finished(config, day), proc, "snapshot")
    out = stop(proc)

    runs = rows(
        config.database,
        "SELECT district, status, as_of, pages, listings, started_at, finished_at FROM runs ORDER BY id",
    )
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in runs] == [
        (None, "ok", day, 2, 40),
        ("jiubao", "ok", day, 8, 40),
    ]
    assert runs[0][6] <= runs[1][5], "the second scrape started after the first finished"
    history = DayLog(config.jobstore).history(day)
    assert [(h["job_id"], h["status"]) for h in history] == [
        ("city", "ok"),
        ("jiubao", "ok"),
        ("snapshot", "ok"),
    ]
    snapshot = history[-1]
    assert snapshot["started_at"] >= runs[1][6].replace("+00:00", "")[:19]
    assert rows(
        config.database, f"SELECT count(*) FROM listing_observations WHERE date = '{day}'"
    ) == [(80,)]
    daily = rows(
        config.database,
        "SELECT b.name, d.listings FROM building_daily d JOIN buildings b ON b.id = d.building_id "
        f"WHERE d.date = '{day}' ORDER BY b.name",
    )
    assert daily == [("丽晶国际", 40), ("金色海岸", 40)]
    assert site.hits["/zufang/"] == 1 and site.hits["/zufang/jiubao/pg8/"] == 1
    assert out.count(f"snapshot {day}: ok") == 1


def _finished(config, day):
    if not config.jobstore.exists():
        return {}
    try:
        return DayLog(config.jobstore).finished(day)
    except sqlite3.OperationalError:
        return {}


@pytest.mark.slow
def test_second_scheduler_on_the_same_database_refuses(tmp_path, site):
    far = soon(3600)
    config_path = write_config(tmp_path, site, first=far, second=far)
    config = load_config(config_path)
    first = start(config_path)
    lock = Path(str(config.database) + ".lock")
    wait_for(lambda: lock.exists() and lock.read_text().strip() == str(first.pid), first, "lock")
    try:
        second = subprocess.run(
            [RENTWATCH, "run", "--config", str(config_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert (
            f"another rentwatch scheduler (pid {first.pid}) is already running on {config.database}"
            in second.stderr
        )
        once = subprocess.run(
            [RENTWATCH, "run", "--once", "--config", str(config_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert once.returncode == 1
        assert f"(pid {first.pid})" in once.stderr
    finally:
        stop(first)
    assert site.hits.get("/zufang/", 0) == 0  # neither scraped
    # Once the first is gone, the lock is free again.
    with database_lock(config.database):
        pass


@pytest.mark.slow
def test_sigterm_during_a_scrape_lets_it_finish_and_leaves_a_consistent_database(tmp_path, site):
    # The 九堡 job alone, slowed by a politeness delay so the signal lands mid-scrape.
    config_path = write_config(tmp_path, site, first=soon(3600), second=soon(8), delay=0.4)
    config = load_config(config_path)
    proc = start(config_path)
    wait_for(
        lambda: site.hits.get("/zufang/jiubao/pg2/", 0) >= 1, proc, "second page of the scrape"
    )
    assert site.hits.get("/zufang/jiubao/pg8/", 0) == 0, "the signal must land during the scrape"
    out = stop(proc)
    assert "stopping after the job in flight finishes" in out

    db = config.database
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(db, "PRAGMA foreign_key_check") == []
    assert rows(db, "SELECT district, status, pages, listings FROM runs") == [
        ("jiubao", "ok", 8, 40)
    ]
    assert rows(db, "SELECT count(*) FROM listings") == [(40,)]
    assert rows(db, "SELECT count(*), count(DISTINCT listing_id) FROM listing_observations") == [
        (40, 40)
    ]
    assert rows(
        db,
        "SELECT count(*) FROM listing_observations o LEFT JOIN listings l ON l.id = o.listing_id "
        "WHERE l.id IS NULL",
    ) == [(0,)]
    # The city job never ran, so the day is incomplete: no snapshot was taken.
    day = datetime.now(SHANGHAI).date().isoformat()
    assert [h["job_id"] for h in DayLog(config.jobstore).history(day)] == ["jiubao"]


def test_run_once_scrapes_today_and_snapshots(tmp_path, site):
    config_path = write_config(tmp_path, site, first=soon(3600), second=soon(3600))
    result = run_cli("run", "--once", "--config", str(config_path))
    assert result.exit_code == 0, result.output
    config = load_config(config_path)
    day = datetime.now(SHANGHAI).date().isoformat()
    assert f"city {day}: ok (2 pages, 40 listings)" in result.output
    assert f"jiubao {day}: ok (8 pages, 40 listings)" in result.output
    assert f"snapshot {day}: ok" in result.output
    assert rows(config.database, f"SELECT count(*) FROM building_daily WHERE date = '{day}'") == [
        (2,)
    ]


def test_run_once_fails_when_a_scrape_is_blocked(tmp_path, site):
    site.set_route(
        "/zufang/jiubao/", (Path(__file__).parent / "fixtures/lianjia/captcha.html").read_bytes()
    )
    config_path = write_config(tmp_path, site, first=soon(3600), second=soon(3600))
    result = run_cli("run", "--once", "--config", str(config_path))
    assert result.exit_code == 1
    assert "jobs did not succeed: jiubao: blocked" in result.output
    config = load_config(config_path)
    assert rows(config.database, "SELECT district, status FROM runs ORDER BY id") == [
        (None, "ok"),
        ("jiubao", "blocked"),
    ]
