"""Opening the database: WAL, foreign keys, a busy timeout, migrations applied."""

from __future__ import annotations

import os
from pathlib import Path

import sqlite_utils

DEFAULT_DB = "rentwatch.db"


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
    if migrate:
        from .migrations import apply_migrations

        apply_migrations(db)
    return db
