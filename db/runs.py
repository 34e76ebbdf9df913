"""The ``runs`` table: what each scrape or ingest did, in counts a person can read."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from db.connection import inserted_id
from db.transactions import write_transaction

#: How a run ended (``runs.status``); each word means one thing, and ``rentwatch scrape``
#: exits with its own status for each (README, "Exit statuses"; docs/operations.md).
OK = "ok"  # every page read
PARTIAL = "partial"  # read, but the site's page limit or the page cap cut the list
BLOCKED = "blocked"  # a captcha, verification or login page, or HTTP 401/403/418
DISALLOWED = "disallowed"  # robots.txt forbids the URL
UNREACHABLE = "unreachable"  # DNS, connect, TLS or timeout failures, of the site or its robots.txt
LAYOUT_CHANGED = "layout_changed"  # the site's rental list page, but its list no longer matches
NOT_RENTAL_PAGE = "not_rental_page"  # a page of the site that is not a rental list (sale, 小区)
FAILED = "failed"  # anything else: a foreign or empty page, a bug
RUN_STATUSES = (
    OK,
    PARTIAL,
    BLOCKED,
    DISALLOWED,
    UNREACHABLE,
    LAYOUT_CHANGED,
    NOT_RENTAL_PAGE,
    FAILED,
)
#: Statuses whose data counts as a successful observation of the run's scope that day.
COVERING_STATUSES = ("ok",)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(slots=True)
class RunCounts:
    pages: int = 0
    listings: int = 0
    errors: int = 0
    requests: int = 0
    bytes: int = 0
    retries: int = 0
    blocked: bool = False
    pages_by_status: dict[str, int] | None = None
    #: The site's own count of the scope's ads (its first page's total), when it gave one.
    site_total: int | None = None
    #: Distinct ads the run collected (a card shown twice, promoted, counts once).
    distinct_listings: int | None = None
    #: Values not stored because no listing can show them, by "field:kind"
    #: ("rent:negative", "area:absurd", "community:mojibake"; scrapers.suspect).
    suspect: Counter[str] = field(default_factory=Counter)


def start_run(
    db: sqlite_utils.Database,
    *,
    source: str,
    as_of: str,
    city: str | None = None,
    district: str | None = None,
    building_id: int | None = None,
    site_id: str | None = None,
    base_url: str | None = None,
    kind: str = "scrape",
) -> int:
    """A new 'running' row; ``kind`` is 'scrape' (fetched from a site) or 'ingest' (saved pages)."""
    with write_transaction(db):
        _mark_dead_runs_interrupted(db)
        return inserted_id(
            db.execute(
                "INSERT INTO runs (source, city, district, building_id, site_id, as_of, started_at, "
                "status, pages, listings, errors, blocked, requests, bytes, retries, base_url, pid, "
                "kind) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', 0, 0, 0, 0, 0, 0, 0, ?, ?, ?)",
                [
                    source,
                    city,
                    district,
                    building_id,
                    site_id,
                    as_of,
                    _now(),
                    base_url,
                    os.getpid(),
                    kind,
                ],
            )
        )


def finish_run(
    db: sqlite_utils.Database, run_id: int, *, status: str, message: str | None, counts: RunCounts
) -> None:
    started = db.execute("SELECT started_at FROM runs WHERE id = ?", [run_id]).fetchone()[0]
    duration = (datetime.now(UTC) - datetime.fromisoformat(started)).total_seconds()
    with write_transaction(db):
        db.execute(
            "UPDATE runs SET status = ?, message = ?, finished_at = ?, pages = ?, listings = ?, "
            "errors = ?, blocked = ?, requests = ?, bytes = ?, retries = ?, pages_by_status = ?, "
            "duration_s = ?, site_total = ?, distinct_listings = ?, suspect_values = ?, "
            "suspect_kinds = ? WHERE id = ?",
            [
                status,
                message,
                _now(),
                counts.pages,
                counts.listings,
                counts.errors,
                int(counts.blocked),
                counts.requests,
                counts.bytes,
                counts.retries,
                json.dumps(counts.pages_by_status or {}, sort_keys=True),
                round(duration, 3),
                counts.site_total,
                counts.distinct_listings,
                counts.suspect.total(),
                json.dumps(dict(counts.suspect), sort_keys=True),
                run_id,
            ],
        )


def suspect_summary(kinds: dict[str, int] | str | None) -> str:
    """ "3 suspect values not stored (community mojibake 2, rent negative 1)", or "" for none;
    ``kinds`` as in RunCounts.suspect or as stored in ``runs.suspect_kinds``."""
    counts: dict[str, int] = json.loads(kinds) if isinstance(kinds, str) else dict(kinds or {})
    if not counts:
        return ""
    total = sum(counts.values())
    parts = ", ".join(
        f"{kind.replace(':', ' ')} {n}"
        for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    noun = "value" if total == 1 else "values"
    return f"{total} suspect {noun} not stored ({parts})"


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mark_dead_runs_interrupted(db: sqlite_utils.Database) -> None:
    """A run left 'running' by a killed process is marked 'interrupted', never counted as data."""
    for run_id, pid in db.execute("SELECT id, pid FROM runs WHERE status = 'running'").fetchall():
        if pid != os.getpid() and not _pid_alive(pid):
            db.execute(
                "UPDATE runs SET status = 'interrupted', message = 'the process ended before the run "
                "finished (killed or crashed)' WHERE id = ?",
                [run_id],
            )


def recent_runs(db: sqlite_utils.Database, limit: int = 20) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit]))


def run_status(db: sqlite_utils.Database, run_id: int) -> tuple[str, str | None] | None:
    """A run's (status, message), or None if there is no such run."""
    row = db.execute("SELECT status, message FROM runs WHERE id = ?", [run_id]).fetchone()
    return (row[0], row[1]) if row else None


def set_status(db: sqlite_utils.Database, run_id: int, status: str, message: str | None) -> None:
    with write_transaction(db):
        db.execute(
            "UPDATE runs SET status = ?, message = ? WHERE id = ?", [status, message, run_id]
        )


def set_suspect(db: sqlite_utils.Database, run_id: int, suspect: Counter[str]) -> None:
    """A run's suspect-value counts as a reparse of its pages found them."""
    with write_transaction(db):
        db.execute(
            "UPDATE runs SET suspect_values = ?, suspect_kinds = ? WHERE id = ?",
            [suspect.total(), json.dumps(dict(suspect), sort_keys=True), run_id],
        )
