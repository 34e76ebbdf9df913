"""Running the real ``rentwatch`` CLI from tests, and reading what it stored."""

from __future__ import annotations

import sqlite3

from click.testing import CliRunner, Result

from rentwatch.cli import main


def run_cli(*args: str, db_path=None) -> Result:
    argv = [str(a) for a in args]
    if db_path is not None:
        argv += ["--db", str(db_path)]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


def scrape_local(site_url: str, day: str, *extra: str, db_path, source: str = "lianjia") -> Result:
    """`rentwatch scrape` of a local test site for one day, with politeness off."""
    return run_cli(
        "scrape", source, "--city", "hz", "--base-url", site_url, "--delay", "0", "--as-of", day, *extra,
        db_path=db_path,
    )  # fmt: skip


def rows(db_path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()
