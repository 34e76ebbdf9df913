"""Manual observations: counts of empty flats a person saw (a notice board, a visit)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from db.buildings import find_building

REQUIRED_COLUMNS = ("building", "date", "vacant", "note")


class ObservationError(ValueError):
    """A manual observation that cannot be stored; nothing of the batch was written."""


@dataclass(slots=True)
class ManualObservation:
    building_id: int
    date: str
    vacant: int
    note: str | None
    origin: str = "manual"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_vacant(text: str, where: str) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ObservationError(f"{where}: vacant {text!r} is not a whole number") from None
    if value < 0:
        raise ObservationError(f"{where}: vacant {value} is negative")
    return value


def parse_date(text: str, where: str) -> str:
    from pipeline.dates import InvalidDate, parse_day

    try:
        return parse_day(text)
    except InvalidDate:
        raise ObservationError(f"{where}: date {text!r} is not YYYY-MM-DD") from None


def resolve_building(db: sqlite_utils.Database, name: str, where: str) -> int:
    building_id = find_building(db, name.strip())
    if building_id is None:
        raise ObservationError(
            f"{where}: no building {name!r} in the registry (by id, name or alias)"
        )
    return building_id


def read_csv(db: sqlite_utils.Database, path: str | Path) -> list[ManualObservation]:
    """Read and check a whole CSV (building,date,vacant,note) before anything is stored."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ObservationError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ObservationError(f"{path}: not UTF-8 text") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS[:3] if c not in header]
    if missing:
        raise ObservationError(
            f"{path}: missing column(s) {', '.join(missing)}; expected header building,date,vacant,note"
        )
    reader.fieldnames = header
    out = []
    for row in reader:
        where = f"{path}, line {reader.line_num}"
        if None in row:
            raise ObservationError(f"{where}: more fields than the header has columns")
        name = (row.get("building") or "").strip()
        if not name:
            raise ObservationError(f"{where}: empty building")
        out.append(
            ManualObservation(
                building_id=resolve_building(db, name, where),
                date=parse_date(row.get("date") or "", where),
                vacant=parse_vacant(row.get("vacant") or "", where),
                note=(row.get("note") or "").strip() or None,
                origin="import",
            )
        )
    return out


def save(db: sqlite_utils.Database, observations: list[ManualObservation]) -> int:
    """Store observations in one transaction; the same building, day and count is stored once."""
    written = 0
    with db.conn:
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
