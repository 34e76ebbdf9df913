"""Saved pages go in like fetched ones; the archive rebuilds listings without fetching."""

from __future__ import annotations

import sqlite3

import pytest

from db import open_db
from db.pages import PageArchive
from pipeline.collect.parse_store import parse_and_store
from scrapers.registry import get_source
from tests.cli_helpers import rows, run_cli, scrape_local
from tests.lianjia_site import Card, LocalSite, list_page, paginate
from tests.realpages import real_path

DAY = "2026-11-20"


def saved_page(
    tmp_path, name: str, body: bytes, url: str = "https://hz.lianjia.com/zufang/jianggan/"
) -> None:
    # What Chrome writes at the top of a page saved with "Save page as".
    marker = f"<!-- saved from url=({len(url):04d}){url} -->\n".encode()
    (tmp_path / name).write_bytes(marker + body)


def test_ingest_a_folder_of_saved_pages(tmp_path, db_path):
    folder = tmp_path / "saved"
    (folder / "more").mkdir(parents=True)
    saved_page(
        folder,
        "p1.html",
        list_page(
            [Card("HZ1000000000000000001", "丽晶国际", "3100")], page=1, total_pages=2, total=2
        ),
    )
    saved_page(
        folder / "more",
        "p2.htm",
        list_page(
            [Card("HZ1000000000000000002", "丽晶国际", "3300")], page=2, total_pages=2, total=2
        ),
    )
    result = run_cli(
        "ingest", folder, "--source", "lianjia", "--as-of", DAY, "--city", "hz", db_path=db_path
    )
    assert result.exit_code == 0, result.output
    assert "2 pages, 2 listings, 0 rejected" in result.output
    assert rows(db_path, "SELECT listing_id, rent, first_seen FROM listings ORDER BY 1") == [
        ("HZ1000000000000000001", 3100.0, DAY),
        ("HZ1000000000000000002", 3300.0, DAY),
    ]
    # Archived as saved pages under the URL the browser recorded, parsed, with an ingest run.
    assert rows(db_path, "SELECT DISTINCT kind, url, parse_status FROM pages") == [
        ("saved", "https://hz.lianjia.com/zufang/jianggan/", "ok")
    ]
    assert rows(db_path, "SELECT kind, status, listings FROM runs") == [("ingest", "ok", 2)]


def test_ingest_rejects_a_page_of_another_site_and_keeps_the_good_ones(tmp_path, db_path):
    saved_page(
        tmp_path,
        "good.html",
        list_page(
            [Card("HZ1000000000000000003", "金色海岸", "2500")], page=1, total_pages=1, total=1
        ),
    )
    captcha = real_path("anjuke/anjuke_captcha_verify_2024-10.html")
    ziroom = real_path("ziroom/ziroom_list_sh_2016-11.html")
    result = run_cli(
        "ingest",
        tmp_path / "good.html",
        captcha,
        ziroom,
        "--source",
        "lianjia",
        "--as-of",
        DAY,
        db_path=db_path,
    )
    assert result.exit_code == 1
    assert "REJECTED" in result.output and "anjuke_captcha_verify_2024-10.html" in result.output
    assert "ziroom_list_sh_2016-11.html: rejected: not a lianjia listing page" in result.output
    assert rows(db_path, "SELECT listing_id FROM listings") == [("HZ1000000000000000003",)]
    assert rows(db_path, "SELECT status FROM runs") == [("partial",)]


def test_ingest_a_real_saved_lianjia_page(db_path):
    page = real_path("lianjia/beike_zufang_list_sz_2020-03.html")
    result = run_cli("ingest", page, "--source", "beike", "--as-of", "2020-03-05", db_path=db_path)
    assert result.exit_code == 0, result.output
    assert rows(db_path, "SELECT count(*) FROM listings WHERE is_apartment = 0") == [(32,)]
    assert rows(
        db_path,
        "SELECT rent, area, community FROM listings WHERE listing_id = 'SZ2414358417079803904'",
    ) == [(4800.0, 28.0, "御锦公馆")]


def test_ingest_of_a_missing_path_is_a_clear_error(tmp_path, db_path):
    result = run_cli("ingest", tmp_path / "nope.html", "--source", "lianjia", db_path=db_path)
    assert result.exit_code == 1
    assert "no such file or folder" in result.output


def test_reparse_rebuilds_listings_and_observations_from_the_archive(db_path):
    cards = [Card(f"HZ{3000000000000000000 + i}", "丽晶国际", str(3000 + i)) for i in range(45)]
    with LocalSite() as site:
        site.set_pages(paginate(cards))
        result = scrape_local(site.url, DAY, db_path=db_path)
        assert result.exit_code == 0, result.output
        hits = dict(site.hits)
    before = rows(
        db_path,
        "SELECT l.listing_id, l.rent, o.date, o.rent FROM listings l JOIN listing_observations o ON o.listing_id = l.id ORDER BY 1",
    )
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM listing_observations")
        conn.execute("DELETE FROM listings")
    result = run_cli("reparse", "--source", "lianjia", "--since", DAY, db_path=db_path)
    assert result.exit_code == 0, result.output
    assert "reparsed 2 pages, 45 listings, 0 errors" in result.output
    after = rows(
        db_path,
        "SELECT l.listing_id, l.rent, o.date, o.rent FROM listings l JOIN listing_observations o ON o.listing_id = l.id ORDER BY 1",
    )
    assert after == before and len(after) == 45
    assert site.hits == hits  # nothing was fetched


def test_reparse_of_an_unknown_source_is_refused(db_path):
    result = run_cli("reparse", "--source", "craigslist", db_path=db_path)
    assert result.exit_code == 1 and "unknown source 'craigslist'" in result.output


def test_reparse_reports_a_page_archived_without_a_day(tmp_path, db_path):
    # A Fetcher made without ``as_of`` archives pages with a NULL day; parsing such a page
    # would store observations dated NULL, so reparse names it and stores nothing from it.
    from db import open_db
    from db.pages import PageArchive
    from pipeline.collect.reparse import reparse

    db = open_db(db_path)
    body = list_page(
        [Card("HZ1000000000000000009", "丽晶国际", "3100")], page=1, total_pages=1, total=1
    )
    page_id = PageArchive(db).store(
        url="https://hz.lianjia.com/zufang/jianggan/",
        body=body,
        status=200,
        source="lianjia",
        kind="list",
    )
    report = reparse(db)
    assert report.errors == [f"page {page_id}: archived without a source or a day"]
    assert rows(db_path, "SELECT count(*) FROM listing_observations") == [(0,)]


def test_a_page_is_marked_parsed_in_the_commit_that_stores_its_rows(tmp_path):
    """Neither without the other: a failure marking the page parsed takes its rows back."""
    db = open_db(tmp_path / "rw.db")
    archive = PageArchive(db)
    url = "https://hz.lianjia.com/zufang/jianggan/"
    body = list_page(
        [Card("HZ1000000000000000009", "丽晶国际", "3100")], page=1, total_pages=1, total=1
    )
    page_id = archive.store(url=url, body=body, status=200, source="lianjia", kind="list")
    db.execute(
        "CREATE TRIGGER refuse_ok BEFORE UPDATE OF parse_status ON pages "
        "WHEN NEW.parse_status = 'ok' BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        parse_and_store(
            db,
            get_source("lianjia"),
            page_id=page_id,
            url=url,
            kind="list",
            as_of=DAY,
            run_id=None,
            archive=archive,
        )
    assert db.execute("SELECT count(*) FROM listings").fetchone()[0] == 0
    assert db.execute("SELECT parse_status FROM pages").fetchall() == [("pending",)]
    db.execute("DROP TRIGGER refuse_ok")
    parse_and_store(
        db, get_source("lianjia"), page_id=page_id, url=url, kind="list", as_of=DAY, run_id=None
    )
    assert db.execute("SELECT count(*) FROM listings").fetchone()[0] == 1
    assert db.execute("SELECT parse_status, records FROM pages").fetchall() == [("ok", 1)]
    db.close()
