"""One-line errors, statuses that mean one thing, each message said once: through the CLI.

Where a log line or a traceback could reach the terminal, the command runs as a real
subprocess and its whole stderr is read; elsewhere click's runner, which lets any
exception through (``catch_exceptions=False``), so a traceback fails the test.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db import open_db
from tests.cli_helpers import rows, run_cli
from tests.lianjia_site import Card, LocalSite, paginate
from tests.realpages import REPO_ROOT, real_path

DAY = "2026-11-20"
GOOD_PAGE_NAME = "lianjia/beike_zufang_list_sz_2020-03.html"


def rentwatch(
    *args: object, cwd: Path | None = None, timeout: float = 120, **kw
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rentwatch", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        **kw,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nobody listens once the block ends


def one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, stderr
    return errors[0]


# -- unreachable is its own status, said once ------------------------------------------


def test_an_unreachable_site_is_unreachable_not_disallowed_and_said_once(tmp_path):
    db = tmp_path / "r.db"
    out = rentwatch(
        "scrape", "lianjia", "--city", "hz", "--district", "xihu", "--district", "binjiang",
        "--base-url", f"http://127.0.0.1:{closed_port()}", "--delay", "0", "--db", db,
    )  # fmt: skip
    assert out.returncode == 5, out.stdout + out.stderr
    error = one_line_error(out.stderr)
    assert "unreachable" in error and "disallowed" not in error and "forbids" not in error
    assert (out.stdout + out.stderr).count("got no answer") == 1
    assert rows(db, "SELECT status FROM runs ORDER BY id") == [("unreachable",), ("unreachable",)]


def write_config(folder: Path, body: str) -> Path:
    path = folder / "rentwatch.toml"
    path.write_text('database = "r.db"\n' + body, encoding="utf-8")
    return path


def test_run_once_says_an_unreachable_site_once(tmp_path):
    config = write_config(
        tmp_path,
        '[[sources]]\nid = "areas"\nname = "lianjia"\ncity = "hz"\n'
        'districts = ["xihu", "binjiang", "jiubao"]\nschedule = "0 0 * * *"\n'
        f'base_url = "http://127.0.0.1:{closed_port()}"\n',
    )
    out = rentwatch("run", "--once", "--config", config)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    said = out.stdout + out.stderr
    assert said.count("got no answer") == 1, said
    assert "areas" in said and ": unreachable" in said
    assert rows(tmp_path / "r.db", "SELECT DISTINCT status FROM runs") == [("unreachable",)]


def test_serve_on_a_busy_port_has_its_own_exit_status(db_path):
    open_db(db_path).close()  # a database to serve
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = rentwatch("serve", "--db", db_path, "--port", port)
    assert out.returncode == 8, out.stderr
    assert (
        one_line_error(out.stderr)
        == f"Error: cannot listen on 127.0.0.1:{port}: the port is in use"
    )


# -- the shipped config and run --check --------------------------------------------------


def shipped_config(folder: Path) -> Path:
    """The shipped rentwatch.toml, its sites moved to a closed local port (no real request)."""
    text = (REPO_ROOT / "rentwatch.toml").read_text(encoding="utf-8")
    text = text.replace(
        'name = "lianjia"\n', f'name = "lianjia"\nbase_url = "http://127.0.0.1:{closed_port()}"\n'
    )
    path = folder / "rentwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_run_once_on_the_shipped_config_logs_one_line_per_known_error(tmp_path):
    config = shipped_config(tmp_path)
    out = rentwatch("run", "--once", "--config", config)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr, out.stderr
    said = out.stdout + out.stderr
    assert said.count("no building '丽晶国际' in the registry") == 1, said
    assert "lianjia-hz-buildings" in out.stdout and ": failed" in out.stdout
    verbose = rentwatch("-v", "run", "--once", "--config", config)
    assert "Traceback" in verbose.stderr and "ScopeError" in verbose.stderr


def test_run_check_checks_what_a_run_needs(tmp_path):
    config = shipped_config(tmp_path)
    fresh = run_cli("run", "--check", "--config", config)
    assert fresh.exit_code == 0, fresh.output
    assert "Warning:" in fresh.output and "no building '丽晶国际' in the registry" in fresh.output
    # Once the database exists, a building its registry lacks stops the check.
    open_db(tmp_path / "rentwatch.db").close()
    known = run_cli("run", "--check", "--config", config)
    assert known.exit_code == 1
    assert "job lianjia-hz-buildings: no building '丽晶国际' in the registry" in known.output
    bad_slug = write_config(
        tmp_path,
        '[[sources]]\nname = "lianjia"\ncity = "hz"\ndistricts = ["../admin"]\n'
        'schedule = "0 6 * * *"\n',
    )
    result = run_cli("run", "--check", "--config", bad_slug)
    assert result.exit_code == 1 and "'../admin' is not a slug" in result.output


# -- bad input of every kind: one line, exit 1 ------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("--district", "../admin"), ("--city", "../../x")],
    ids=["district", "city"],
)
def test_a_slug_that_is_not_one_path_segment_is_refused(db_path, args):
    with LocalSite() as site:
        site.set_pages(paginate([Card("HZ2351274914700328960", "丽晶国际", "3000")]))
        argv = ["scrape", "lianjia", "--city", "hz", "--base-url", site.url, "--delay", "0", *args]
        if args[0] == "--city":
            argv = ["scrape", "lianjia", *args, "--base-url", site.url, "--delay", "0"]
        result = run_cli(*argv, db_path=db_path)
        assert site.hits == {}
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and "is not a slug" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_count_too_large_to_store_is_one_line(tmp_path, db_path):
    registry = tmp_path / "b.csv"
    registry.write_text("name,aliases,city,district,total_units\n丽晶国际,,hz,江干,300\n", "utf-8")
    assert run_cli("buildings", "import", registry, db_path=db_path).exit_code == 0
    result = run_cli(
        "observe", "add", "丽晶国际", "--date", DAY, "--vacant", str(10**23), db_path=db_path
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: a number too large to store")
    assert rows(db_path, "SELECT count(*) FROM manual_observations") == [(0,)]


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("lianjia:abc", "'abc' is not a lianjia building id"),
        ("nosuchsite:1", "unknown source 'nosuchsite'"),
    ],
)
def test_registry_site_ids_are_checked_at_import_with_the_line(tmp_path, db_path, item, words):
    registry = tmp_path / "b.csv"
    registry.write_text(
        "name,aliases,city,district,total_units,site_ids\n"
        "金色海岸,,hz,江干,,lianjia:1811043464378\n"
        f"丽晶国际,,hz,江干,300,{item}\n",
        encoding="utf-8",
    )
    result = run_cli("buildings", "import", registry, db_path=db_path)
    assert result.exit_code == 1
    assert f"line 3: site_ids item {item!r}: {words}" in result.output
    assert not db_path.exists()  # the file is checked whole before the database is opened


def test_a_file_that_is_not_sqlite_is_refused_in_one_line(tmp_path):
    not_db = tmp_path / "notes.db"
    not_db.write_text("shopping list: rice, tea\n" * 100, encoding="utf-8")
    result = run_cli("runs", db_path=not_db)
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"Error: {not_db} is not a SQLite database (file is not a database)"
    )
    assert not_db.read_text(encoding="utf-8").startswith("shopping list")


def test_a_database_from_a_newer_rentwatch_is_refused(db_path):
    assert (
        run_cli("ingest", real_path(GOOD_PAGE_NAME), "--source", "beike", db_path=db_path).exit_code
        == 0
    )
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO _migrations (name, applied_at) VALUES ('m999_from_the_future', '2030-01-01')"
        )
    result = run_cli("snapshot", db_path=db_path)
    assert result.exit_code == 1
    assert "written by a newer rentwatch (migrations m999_from_the_future" in result.output
    assert rows(db_path, "SELECT count(*) FROM listings") == [(33,)]


def test_a_read_only_database_is_one_line_and_keeps_what_was_stored(tmp_path):
    db = tmp_path / "r.db"
    assert (
        run_cli("ingest", real_path(GOOD_PAGE_NAME), "--source", "beike", db_path=db).exit_code == 0
    )
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", db]).returncode:
            pytest.skip("root ignores file modes and chattr is not available here")
        undo = ["chattr", "-i", str(db)]
    else:
        db.chmod(0o444)
        tmp_path.chmod(0o555)
        undo = None
    try:
        out = rentwatch(
            "ingest", real_path(GOOD_PAGE_NAME), "--source", "beike", "--as-of", DAY, "--db", db
        )
    finally:
        if undo:
            subprocess.run(undo, check=True)
        else:
            tmp_path.chmod(0o755)
            db.chmod(0o644)
    assert out.returncode == 1
    assert "read-only" in one_line_error(out.stderr)
    assert rows(db, "SELECT count(*) FROM listings") == [(33,)]


def test_a_full_disk_is_one_line(tmp_path):
    db = tmp_path / "r.db"
    open_db(db).close()

    # Files may not grow past 64 kB: the page does not fit. (The closed database was
    # checkpointed, so the page goes into a new write-ahead log: 200 kB would hold it.)
    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))

    out = rentwatch(
        "ingest", real_path(GOOD_PAGE_NAME), "--source", "beike", "--db", db, preexec_fn=small_disk
    )
    assert out.returncode == 1
    assert "disk is full or failing" in one_line_error(out.stderr)
    assert rows(db, "SELECT count(*) FROM listings") == [(0,)]


def test_a_disk_too_full_to_open_the_database_is_not_called_a_foreign_file(tmp_path):
    db = tmp_path / "r.db"
    open_db(db).close()

    def tiny_disk() -> None:  # 16 kB: not even the shared-memory file (32 kB) can be made
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16_000, 16_000))

    out = rentwatch(
        "ingest", real_path(GOOD_PAGE_NAME), "--source", "beike", "--db", db, preexec_fn=tiny_disk
    )
    assert out.returncode == 1
    error = one_line_error(out.stderr)
    assert "disk is full or failing" in error and "not a SQLite database" not in error


def test_ingest_skips_a_fifo_and_a_link_loop_and_reads_the_rest(tmp_path):
    folder = tmp_path / "saved"
    folder.mkdir()
    shutil.copy(real_path(GOOD_PAGE_NAME), folder / "good.html")
    os.mkfifo(folder / "a.html")
    (folder / "loop.html").symlink_to(folder / "loop.html")
    (folder / "sub").symlink_to(folder)  # a folder linking to itself
    db = tmp_path / "r.db"
    out = rentwatch("ingest", folder, "--source", "beike", "--as-of", DAY, "--db", db, timeout=60)
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 1
    assert "a.html: skipped: a FIFO, not a saved page" in out.stdout
    assert "loop.html: skipped: cannot read it" in out.stdout
    assert "good.html: 33 listings" in out.stdout
    assert rows(db, "SELECT status FROM runs") == [("partial",)]


def test_sources_do_not_claim_ziroom_s_current_markup_is_verified():
    result = run_cli("sources")
    line = next(line for line in result.output.splitlines() if "ziroom" in line)
    assert "real pages" not in line and "current markup unsupported" in line


def test_runs_written_before_get_the_statuses_that_mean_one_thing(db_path):
    open_db(db_path).close()
    old = [
        (
            "disallowed",
            "robots.txt of hz.lianjia.com forbids /zufang/ (robots.txt unreachable (x))",
        ),
        (
            "disallowed",
            "robots.txt of hz.lianjia.com forbids /zufang/ (User-agent: * / Disallow: /)",
        ),
        ("failed", "layout changed on lianjia (selector div.content__list), or a quiet block: …"),
        (
            "failed",
            "lianjia could not read u: lianjia: a 小区 (xiaoqu) page, not a rental list page",
        ),
        ("blocked", "blocked at u: lianjia: page shows '/captcha' and no listings"),
        ("blocked", "blocked at u: HTTP 418 I'm a teapot: the site refused the request"),
    ]
    with sqlite3.connect(db_path) as conn:
        conn.executemany(
            "INSERT INTO runs (source, as_of, started_at, status, message, kind) "
            "VALUES ('lianjia', '2026-11-01', '2026-11-01T00:00:00+00:00', ?, ?, 'scrape')",
            old,
        )
        conn.execute("DELETE FROM _migrations WHERE name = 'm016_run_statuses_one_meaning'")
    assert run_cli("runs", db_path=db_path).exit_code == 0
    assert [s for (s,) in rows(db_path, "SELECT status FROM runs ORDER BY id")] == [
        "unreachable",
        "disallowed",
        "layout_changed",
        "not_rental_page",
        "failed",
        "blocked",
    ]
