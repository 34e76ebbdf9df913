"""Manual observations a person gives (one count, or a CSV of them): read and checked whole,
building names resolved against the registry, before ``db.observations.save`` stores any."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from db.buildings import find_building
from db.observations import ManualObservation
from pipeline.csvfile import CsvFileProblem, read_csv_file
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
        header, records = read_csv_file(path)
    except CsvFileProblem as exc:
        raise ObservationError(str(exc)) from exc.__cause__
    missing = [c for c in REQUIRED_COLUMNS[:3] if c not in header]
    if missing:
        raise ObservationError(
            f"{path}: missing column(s) {', '.join(missing)}; expected header building,date,vacant,note"
        )
    out = []
    first_line: dict[tuple[int, str], int] = {}
    for line, record in records:
        row = {k: v for k, v in record.items() if isinstance(v, str)}
        where = f"{path}, line {line}"
        if None in record:
            raise ObservationError(f"{where}: more fields than the header has columns")
        name = (row.get("building") or "").strip()
        if not name:
            raise ObservationError(f"{where}: empty building")
        building_id = resolve_building(db, name, where)
        day = parse_date(row.get("date") or "", where)
        if (building_id, day) in first_line:
            raise ObservationError(
                f"{where}: {name} on {day} is already on line {first_line[building_id, day]}; "
                "one count per building and day"
            )
        first_line[building_id, day] = line
        out.append(
            ManualObservation(
                building_id=building_id,
                date=day,
                vacant=parse_vacant(row.get("vacant") or "", where),
                note=(row.get("note") or "").strip() or None,
                origin="import",
            )
        )
    return out
