"""Opening the database: WAL, foreign keys, a bounded wait for writers, a page cache,
migrations applied; and the one way to write: :func:`write_transaction`."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

DEFAULT_DB = "rentwatch.db"
#: Page cache per connection, in KiB.
CACHE_KIB = 64 * 1024
#: How long a writer waits for another process's write transaction to end, in seconds.
WRITE_WAIT_S = 30.0
#: Environment variable that overrides WRITE_WAIT_S (seconds), for an operator whose
#: snapshot must wait out a long reparse, or a test that must not wait half a minute.
WRITE_WAIT_ENV = "RENTWATCH_WRITE_WAIT"


class DatabaseProblem(Exception):
    """The database cannot be used as asked; the message is one line for the person."""


class DatabaseMissing(DatabaseProblem):
    pass


class DatabaseBusy(DatabaseProblem):
    pass


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The rowid an INSERT just made (sqlite3 types it optional: None before any INSERT)."""
    if cursor.lastrowid is None:
        raise RuntimeError("no row was inserted")
    return cursor.lastrowid


def default_db_path() -> str:
    return os.environ.get("RENTWATCH_DB") or DEFAULT_DB


def write_wait_s() -> float:
    raw = os.environ.get(WRITE_WAIT_ENV)
    if not raw:
        return WRITE_WAIT_S
    try:
        value = float(raw)
    except ValueError:
        raise DatabaseProblem(
            f"${WRITE_WAIT_ENV} must be a number of seconds, not {raw!r}"
        ) from None
    if not 0 <= value <= 86400:
        raise DatabaseProblem(f"${WRITE_WAIT_ENV} must be between 0 and 86400 seconds, not {raw!r}")
    return value


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
        from db.migrations import apply_migrations

        apply_migrations(db)
    return db


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction that takes the write lock before it reads anything.

    A deferred transaction that reads first and then writes cannot wait for another
    writer: under WAL its snapshot is stale once that writer commits, so SQLite refuses at
    once ("database is locked") instead of applying the busy timeout. BEGIN IMMEDIATE
    waits for the lock up front, for :func:`write_wait_s` seconds at most. Inside another
    write transaction it joins that one (all or nothing together).
    """
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if not _is_busy(exc):
            raise
        raise DatabaseBusy(
            f"the database {_file_of(conn)} is busy: another rentwatch process (a scrape, "
            f"snapshot, ingest or the scheduler) kept writing for more than {write_wait_s():g} s "
            f"(${WRITE_WAIT_ENV}); nothing was written, try again when it has finished"
        ) from exc
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def _file_of(conn: sqlite3.Connection) -> str:
    for row in conn.execute("PRAGMA database_list").fetchall():
        if row[1] == "main":
            return row[2] or ":memory:"
    return "?"
