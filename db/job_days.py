"""The scheduler's day log: which job finished for which day, and how.

It lives in the scheduler's job-store file (a SQLite file of its own, apart from the data
database), so it has its own small table and no migration.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Outcome:
    job_id: str
    day: str
    status: str
    message: str


class DayLog:
    """Every job that finished, for which day and how, in the job-store file: a few rows a
    day, kept as history (a job that ran twice shows twice)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        with self._conn() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS rentwatch_job_days ("
                " id INTEGER PRIMARY KEY, day TEXT NOT NULL, job_id TEXT NOT NULL,"
                " status TEXT NOT NULL, message TEXT, started_at TEXT, finished_at TEXT NOT NULL)"
            )
            conn.execute(
                "CREATE INDEX IF NOT EXISTS rentwatch_job_days_day ON rentwatch_job_days (day, job_id)"
            )

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def record(self, outcome: Outcome, started_at: str) -> None:
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO rentwatch_job_days (day, job_id, status, message, started_at, "
                "finished_at) VALUES (?, ?, ?, ?, ?, ?)",
                [outcome.day, outcome.job_id, outcome.status, outcome.message, started_at, _now()],
            )

    def finished(self, day: str) -> dict[str, dict[str, str]]:
        """The latest outcome of each job that finished for ``day``."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT job_id, status, message, started_at, finished_at FROM rentwatch_job_days "
                "WHERE day = ? ORDER BY id",
                [day],
            ).fetchall()
        return {
            r[0]: {"status": r[1], "message": r[2], "started_at": r[3], "finished_at": r[4]}
            for r in rows
        }

    def history(self, day: str | None = None) -> list[dict[str, str]]:
        sql = "SELECT day, job_id, status, message, started_at, finished_at FROM rentwatch_job_days"
        with self._conn() as conn:
            rows = conn.execute(
                sql + (" WHERE day = ? ORDER BY id" if day else " ORDER BY id"),
                [day] if day else [],
            ).fetchall()
        keys = ("day", "job_id", "status", "message", "started_at", "finished_at")
        return [dict(zip(keys, r, strict=True)) for r in rows]
