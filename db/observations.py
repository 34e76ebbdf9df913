"""Manual observations: counts of empty flats a person saw (a notice board, a visit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from db.transactions import write_transaction


@dataclass(slots=True)
class ManualObservation:
    """One count, checked (``pipeline.observations`` reads and checks a person's input)."""

    building_id: int
    date: str
    vacant: int
    note: str | None
    origin: str = "manual"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def save(db: sqlite_utils.Database, observations: list[ManualObservation]) -> int:
    """Store observations in one transaction; the same building, day and count is stored once."""
    written = 0
    with write_transaction(db):
        for o in observations:
            exists = db.execute(
                "SELECT 1 FROM manual_observations WHERE building_id = ? AND date = ? AND vacant = ? "
                "AND COALESCE(note, '') = COALESCE(?, '')",
                [o.building_id, o.date, o.vacant, o.note],
            ).fetchone()
            if exists:
                continue
            db.execute(
                "INSERT INTO manual_observations (building_id, date, vacant, note, origin, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [o.building_id, o.date, o.vacant, o.note, o.origin, _now()],
            )
            written += 1
    return written


def compare(db: sqlite_utils.Database, building_id: int | None = None) -> list[dict[str, Any]]:
    """Manual counts beside the estimate of the same building and day."""
    where = "WHERE m.building_id = ?" if building_id is not None else ""
    return list(
        db.query(
            "SELECT b.name, m.date, m.vacant, d.units, d.units_low, d.units_high, d.listings, m.note "
            "FROM manual_observations m JOIN buildings b ON b.id = m.building_id "
            "LEFT JOIN building_daily d ON d.building_id = m.building_id AND d.date = m.date "
            f"{where} ORDER BY m.date, b.name",
            [building_id] if building_id is not None else [],
        )
    )
