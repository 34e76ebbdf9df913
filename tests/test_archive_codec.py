"""The page archive's codec: new bodies in zstd, archives written with zlib still read."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from db import open_db
from db.pages import KEEP_PAGES, PageArchive, content_hash

BODY = (
    "<html><head><title>整租 · 钱江新城</title></head><body>" + "<li>3500元/月</li>" * 400
).encode()


def test_new_bodies_are_zstd_smaller_than_the_page_and_read_back(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    archive = PageArchive(db)
    page_id = archive.store(url="http://example.com/zufang/", body=BODY, status=200)
    stored, codec, size = db.execute(
        "SELECT body, compression, size FROM page_bodies WHERE hash = ?", [content_hash(BODY)]
    ).fetchone()
    assert codec == "zstd"
    assert size == len(BODY)
    assert stored[:4] == b"\x28\xb5\x2f\xfd"  # zstd frame magic number
    assert len(stored) < len(BODY) // 10
    assert PageArchive(db).page_body(page_id) == BODY  # read back and decompressed


def test_the_archive_hands_back_what_it_just_stored_and_keeps_few(tmp_path: Path) -> None:
    """The crawl parses the body the archive kept in memory: the bytes it stored (scrubbed),
    the same a fresh read of the database gives; a few pages at most are kept."""
    db = open_db(tmp_path / "a.db")
    archive = PageArchive(db)
    secret = BODY + "<p>经纪人：王一凡 13812345678</p>".encode()
    ids = [
        archive.store(url=f"http://example.com/zufang/pg{n}/", body=secret + b"%d" % n, status=200)
        for n in range(KEEP_PAGES + 3)
    ]
    assert len(archive._kept) == KEEP_PAGES
    for page_id in ids:
        kept = archive._kept.get(page_id)
        body = archive.page_body(page_id)
        assert body == PageArchive(db).page_body(page_id)
        assert b"13812345678" not in body and "王一凡".encode() not in body
        assert kept is None or kept is body
    assert archive._kept == {}  # each handed over once


def test_a_body_archived_with_zlib_by_an_older_version_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = open_db(path)
    digest = content_hash(BODY)
    # As versions before zstd wrote it.
    db.execute(
        "INSERT INTO page_bodies (hash, body, size, compression) VALUES (?, ?, ?, 'zlib')",
        [digest, zlib.compress(BODY, 6), len(BODY)],
    )
    db.execute(
        "INSERT INTO pages (url, final_url, kind, status, content_hash, blocked, parse_status) "
        "VALUES ('http://example.com/zufang/', 'http://example.com/zufang/', 'list', 200, ?, 0, "
        "'ok')",
        [digest],
    )
    db.conn.commit()
    db.close()

    archive = PageArchive(open_db(path))
    assert archive.body(digest) == BODY
    page = next(archive.pages_for_reparse())
    assert archive.page_body(page.id) == BODY
    # The same bytes fetched again are not stored a second time, in either codec.
    archive.store(url="http://example.com/zufang/", body=BODY, status=200)
    rows = archive.db.execute("SELECT compression FROM page_bodies").fetchall()
    assert rows == [("zlib",)]


def test_a_codec_this_version_does_not_know_is_a_clear_error(tmp_path: Path) -> None:
    db = open_db(tmp_path / "b.db")
    db.execute(
        "INSERT INTO page_bodies (hash, body, size, compression) VALUES ('x', ?, 3, 'brotli')",
        [b"\x00\x01\x02"],
    )
    db.conn.commit()
    with pytest.raises(ValueError, match="compressed with 'brotli'"):
        PageArchive(db).body("x")
