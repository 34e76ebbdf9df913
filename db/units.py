"""SQL of de-duplication and lifecycle: the window of recent observations, units, links.

Every read here is bounded by a date window, never by the length of history: the
snapshot of one day reads the observations of that day and the few days before it,
the listings those observations name, and the units those listings belong to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from db.connection import inserted_id


@dataclass(slots=True)
class WindowListing:
    id: int
    listing_id: str
    building_id: int | None
    unit_id: int | None
    source: str
    agent_key: str | None
    tenure: str | None
    is_apartment: int
    layout: str | None
    rooms: int | None
    area: float | None
    floor_band: str | None
    total_floors: int | None
    orientation: str | None
    rent_text: str | None
    rent_high: float | None
    first_seen: str | None
    subdistrict: str | None
    flags: str | None
    rent_monthly: float | None
    #: the day the site created the ad, when its id says (stored at parse time)
    created_on: str | None = None


_LISTING_COLUMNS = (
    "id, listing_id, building_id, unit_id, source, agent_key, tenure, is_apartment, layout, rooms, area, "
    "floor_band, total_floors, orientation, rent_text, rent_high, first_seen, subdistrict, flags, rent_monthly, "
    "created_on"
)


def window_observations(
    db: sqlite_utils.Database, start: str, end: str
) -> list[tuple[int, str, float | None]]:
    """(listing id, date, rent) of every observation from ``start`` to ``end`` inclusive."""
    return db.execute(
        "SELECT listing_id, date, rent FROM listing_observations WHERE date BETWEEN ? AND ?",
        [start, end],
    ).fetchall()


def window_listings(db: sqlite_utils.Database, start: str, end: str) -> list[WindowListing]:
    rows = db.execute(
        f"SELECT {_LISTING_COLUMNS} FROM listings WHERE id IN "
        "(SELECT listing_id FROM listing_observations WHERE date BETWEEN ? AND ?)",
        [start, end],
    ).fetchall()
    return [WindowListing(*r) for r in rows]


@dataclass(slots=True)
class UnitRow:
    id: int
    building_id: int
    tenure: str | None
    layout: str | None
    area: float | None
    floor_band: str | None
    total_floors: int | None
    orientation: str | None
    first_seen: str | None
    status: str | None
    gone_on: str | None
    rent: float | None
    reason: str | None


def units_by_id(db: sqlite_utils.Database, ids: Sequence[int]) -> dict[int, UnitRow]:
    out: dict[int, UnitRow] = {}
    ids = list(ids)
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        marks = ",".join("?" * len(chunk))
        for r in db.execute(
            "SELECT id, building_id, tenure, layout, area, floor_band, total_floors, orientation, "
            f"first_seen, status, gone_on, rent, reason FROM units WHERE id IN ({marks})",
            chunk,
        ).fetchall():
            out[r[0]] = UnitRow(*r)
    return out


def sibling_listings(
    db: sqlite_utils.Database, unit_ids: Sequence[int], exclude: set[int]
) -> list[tuple[int, int, str | None, str | None]]:
    """(listing id, unit id, first_seen, advertiser) of the units' ads outside the window."""
    out: list[tuple[int, int, str | None, str | None]] = []
    ids = list(unit_ids)
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        marks = ",".join("?" * len(chunk))
        for r in db.execute(
            "SELECT id, unit_id, first_seen, "
            "CASE WHEN agent_key IS NOT NULL THEN source || ':' || agent_key END "
            f"FROM listings WHERE unit_id IN ({marks})",
            chunk,
        ).fetchall():
            if r[0] not in exclude:
                out.append(r)
    return out


def insert_unit(db: sqlite_utils.Database, row: dict[str, Any]) -> int:
    cols = list(row)
    return inserted_id(
        db.execute(
            f"INSERT INTO units ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [row[c] for c in cols],
        )
    )


def link_listings(db: sqlite_utils.Database, links: Sequence[dict[str, Any]]) -> None:
    """Set listings.unit_id and record why, one row per ad in ``unit_links``."""
    db.conn.executemany(
        "UPDATE listings SET unit_id = ? WHERE id = ?",
        [(link["unit_id"], link["listing_id"]) for link in links],
    )
    db.conn.executemany(
        "INSERT OR REPLACE INTO unit_links (listing_id, unit_id, building_id, linked_on, kind, "
        "reason, score) VALUES (:listing_id, :unit_id, :building_id, :linked_on, :kind, :reason, "
        ":score)",
        links,
    )


def update_units(db: sqlite_utils.Database, rows: Sequence[dict[str, Any]]) -> None:
    """Write each unit's state as of a snapshot day."""
    db.conn.executemany(
        "UPDATE units SET last_seen = :last_seen, status = :status, gone_on = :gone_on, "
        "rent = COALESCE(:rent, rent), ads = :ads, agents = :agents, sources = :sources, "
        "reason = COALESCE(:reason, reason) WHERE id = :id",
        rows,
    )


def set_listing_flags(
    db: sqlite_utils.Database, rows: Sequence[tuple[str | None, float | None, int]]
) -> None:
    """(flags, monthly rent, listing id): the normalization of an ad as of its latest snapshot."""
    db.conn.executemany("UPDATE listings SET flags = ?, rent_monthly = ? WHERE id = ?", rows)
