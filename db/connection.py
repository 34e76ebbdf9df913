"""Opening the database: WAL, foreign keys, a bounded wait for writers, a page cache,
migrations applied."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils

from db.transactions import DatabaseBusy, DatabaseProblem, write_wait_s

__all__ = [
    "CACHE_KIB",
    "DEFAULT_DB",
    "DatabaseBusy",
    "DatabaseMissing",
    "DatabaseProblem",
    "default_db_path",
    "inserted_id",
    "open_db",
]

DEFAULT_DB = "rentwatch.db"
#: Page cache per connection, in KiB.
CACHE_KIB = 64 * 1024


class DatabaseMissing(DatabaseProblem):
    pass


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The rowid an INSERT just made (sqlite3 types it optional: None before any INSERT)."""
    if cursor.lastrowid is None:
        raise RuntimeError("no row was inserted")
    return cursor.lastrowid


def default_db_path() -> str:
    return os.environ.get("RENTWATCH_DB") or DEFAULT_DB


def open_db(
    path: str | os.PathLike[str], *, migrate: bool = True, must_exist: bool = False
) -> sqlite_utils.Database:
    """Open a rentwatch database with its schema up to date.

    It is created if needed, unless ``must_exist`` (commands that only read): a mistyped
    ``--db`` must not quietly become an empty database and an empty answer.
    """
    path = Path(path)
    if must_exist and not path.is_file():
        raise DatabaseMissing(
            f"no database at {path}: check --db (or $RENTWATCH_DB); "
            "`rentwatch scrape` or `rentwatch demo` makes one"
        )
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    wait_ms = int(write_wait_s() * 1000)
    db = sqlite_utils.Database(path)
    conn = db.conn
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        db.close()
        if getattr(exc, "sqlite_errorname", None) == "SQLITE_NOTADB":
            raise DatabaseUnusable(f"{path} is not a SQLite database ({exc})") from exc
        # A full disk or a failing one (the -shm file cannot grow) is not a foreign file.
        raise DatabaseUnusable(f"{path}: {database_error(exc)}") from exc
    # WAL lets Datasette read while a scrape writes; a crash mid-write leaves the last commit intact.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    # A deleted row's bytes are zeroed, not left in a free page: what db.privacy removes
    # from the archive (migration m014) must be gone from the file, not only unreachable.
    conn.execute("PRAGMA secure_delete=ON")
    # Applies to BEGIN IMMEDIATE below: a writer waits this long for another's transaction.
    conn.execute(f"PRAGMA busy_timeout={wait_ms}")
    # A day's observations go into the (listing_id, date) key at one place per listing,
    # spread over the whole history; with SQLite's default 2 MB cache each insert re-reads
    # its pages (measured in docs/performance.md, Snapshots). The cache (negative: KiB)
    # grows only as pages are read.
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    if migrate:
        from db.migrations import MIGRATIONS, applied, apply_migrations

        # A newer rentwatch's schema may mean something this code would misread or undo.
        newer = sorted(applied(db) - {name for name, _ in MIGRATIONS})
        if newer:
            db.close()
            raise NewerDatabase(
                f"{path} was written by a newer rentwatch (migrations {', '.join(newer)} are "
                "unknown to this version): upgrade rentwatch, or use another --db"
            )
        apply_migrations(db)
    return db


class DatabaseUnusable(Exception):
    """A --db this version cannot use; the message names the file and what to do."""


class NewerDatabase(DatabaseUnusable):
    """The database's migrations log names migrations this code does not have."""


def database_error(exc: sqlite3.Error) -> str:
    """An SQLite error in words a person can act on (the file is read-only, the disk full)."""
    words = str(exc)
    lowered = words.lower()
    if "readonly" in lowered or "read-only" in lowered:
        hint = "the database file or its folder is read-only: fix its permissions"
    elif "disk is full" in lowered or "disk i/o" in lowered:
        hint = "the disk is full or failing: free space, then run again"
    elif "locked" in lowered or "busy" in lowered:
        hint = "another process held the database too long: run again"
    elif "unable to open" in lowered:
        hint = "the database file cannot be opened: check the path and its folder"
    else:
        hint = "the database refused the change"
    return f"database error: {words} ({hint}); what was committed before is kept"
