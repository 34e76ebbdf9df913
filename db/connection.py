"""Opening the database: WAL, foreign keys, a busy timeout, a page cache, migrations applied."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils

DEFAULT_DB = "rentwatch.db"
#: Page cache per connection, in KiB.
CACHE_KIB = 64 * 1024


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The rowid an INSERT just made (sqlite3 types it optional: None before any INSERT)."""
    if cursor.lastrowid is None:
        raise RuntimeError("no row was inserted")
    return cursor.lastrowid


def default_db_path() -> str:
    return os.environ.get("RENTWATCH_DB") or DEFAULT_DB


def open_db(path: str | os.PathLike[str], *, migrate: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) a rentwatch database with its schema up to date."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    conn = db.conn
    # WAL lets Datasette read while a scrape writes; a crash mid-write leaves the last commit intact.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    # A day's observations go into the (listing_id, date) key at one place per listing,
    # spread over the whole history; with SQLite's default 2 MB cache each insert re-reads
    # its pages (measured in docs/performance.md, Snapshots). The cache (negative: KiB)
    # grows only as pages are read.
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    if migrate:
        from db.migrations import apply_migrations

        apply_migrations(db)
    return db
