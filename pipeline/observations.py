"""Manual observations a person gives (one count, or a CSV of them): read and checked whole,
building names resolved against the registry, before ``db.observations.save`` stores any."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import sqlite_utils

from db.buildings import find_building
from db.observations import ManualObservation
from pipeline.dates import InvalidDate, parse_day

REQUIRED_COLUMNS = ("building", "date", "vacant", "note")


class ObservationError(ValueError):
    """A manual observation that cannot be stored; nothing of the batch was written."""


def parse_vacant(text: str, where: str) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ObservationError(f"{where}: vacant {text!r} is not a whole number") from None
    if value < 0:
        raise ObservationError(f"{where}: vacant {value} is negative")
    return value


def parse_date(text: str, where: str) -> str:
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
