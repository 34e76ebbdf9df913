"""The one way to write: :func:`write_transaction`, and how long a writer waits."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator

import sqlite_utils

#: How long a writer waits for another process's write transaction to end, in seconds.
WRITE_WAIT_S = 30.0
#: Environment variable that overrides WRITE_WAIT_S (seconds), for an operator whose
#: snapshot must wait out a long reparse, or a test that must not wait half a minute.
WRITE_WAIT_ENV = "RENTWATCH_WRITE_WAIT"


class DatabaseProblem(Exception):
    """The database cannot be used as asked; the message is one line for the person."""


class DatabaseBusy(DatabaseProblem):
    pass


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
