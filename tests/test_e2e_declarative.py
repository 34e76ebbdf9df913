"""A site defined in TOML alone, scraped through the real CLI into SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.cli_helpers import run_cli
from tests.lianjia_site import LocalSite
from tests.test_declarative import PAGES, ZUWU_TOML


def test_rentwatch_scrapes_a_site_declared_in_toml(tmp_path: Path, db_path: Path):
    definition = tmp_path / "zuwu.toml"
    definition.write_text(ZUWU_TOML, encoding="utf-8")
    with LocalSite() as site:
        for path, name in {
            "/rent/": "page1.html",
            "/rent/p2/": "page2.html",
            "/rent/p3/": "page3.html",
        }.items():
            site.set_route(path, (PAGES / name).read_bytes())
        result = run_cli(
            "--sources",
            definition,
            "scrape",
            "zuwu",
            "--city",
            "sz",
            "--base-url",
            site.url,
            "--delay",
            "0",
            "--as-of",
            "2026-11-20",
            db_path=db_path,
        )
    assert result.exit_code == 0, result.output
    assert "ok, 3 pages, 7 listings" in result.output
    with sqlite3.connect(db_path) as conn:
        assert conn.execute(
            "SELECT listing_id, rent, community FROM listings ORDER BY 1"
        ).fetchall()[:2] == [
            ("A100", 3200.0, "海景花园"),
            ("A101", 1450.0, "海景花园"),
        ]
        assert conn.execute("SELECT count(*) FROM listing_observations").fetchone() == (7,)


def test_a_broken_definition_names_the_file_and_key(tmp_path: Path, db_path: Path):
    definition = tmp_path / "bad.toml"
    definition.write_text(
        ZUWU_TOML.replace('[items]\nselector = "main#results article.flat"\n', "[items]\n"),
        encoding="utf-8",
    )
    result = run_cli("--sources", definition, "sources")
    assert result.exit_code == 1
    assert "bad.toml" in result.output and "selector" in result.output
