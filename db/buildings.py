"""The building registry: buildings, their aliases, and the sites' ids for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from db.connection import inserted_id
from db.transactions import write_transaction


@dataclass(slots=True)
class BuildingRow:
    """One registry building, checked (``pipeline.buildings.registry_csv`` reads the CSV)."""

    line: int
    name: str
    aliases: list[str]
    city: str
    district: str
    total_units: int | None
    subdistrict: str | None = None
    #: (source, site id) pairs, e.g. ("lianjia", "1811043464378")
    site_ids: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class ImportReport:
    created: int = 0
    updated: int = 0
    aliases_added: int = 0
    site_ids_added: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def import_buildings(db: sqlite_utils.Database, rows: list[BuildingRow]) -> ImportReport:
    """Upsert buildings by (city, name); add aliases and site ids. One transaction."""
    report = ImportReport()
    with write_transaction(db):
        for row in rows:
            existing = db.execute(
                "SELECT id FROM buildings WHERE city = ? AND name = ?", [row.city, row.name]
            ).fetchone()
            if existing:
                building_id = existing[0]
                db.execute(
                    "UPDATE buildings SET district = ?, subdistrict = COALESCE(?, subdistrict), "
                    "total_units = ?, status = 'verified' WHERE id = ?",
                    [row.district, row.subdistrict, row.total_units, building_id],
                )
                report.updated += 1
            else:
                building_id = inserted_id(
                    db.execute(
                        "INSERT INTO buildings (name, city, district, subdistrict, total_units, "
                        "status, created_at) VALUES (?, ?, ?, ?, ?, 'verified', ?)",
                        [
                            row.name,
                            row.city,
                            row.district,
                            row.subdistrict,
                            row.total_units,
                            _now(),
                        ],
                    )
                )
                report.created += 1
            for alias in row.aliases:
                cur = db.execute(
                    "INSERT OR IGNORE INTO building_aliases (building_id, alias, origin, created_at) "
                    "VALUES (?, ?, 'import', ?)",
                    [building_id, alias, _now()],
                )
                report.aliases_added += cur.rowcount
            for source, site_id in row.site_ids:
                cur = db.execute(
                    "INSERT OR IGNORE INTO building_sources (building_id, source, site_id) "
                    "VALUES (?, ?, ?)",
                    [building_id, source, site_id],
                )
                report.site_ids_added += cur.rowcount
    return report


@dataclass(slots=True)
class TrackedBuilding:
    building_id: int
    name: str
    site_id: str


def find_building(
    db: sqlite_utils.Database, name_or_id: str, *, city: str | None = None
) -> int | None:
    """A building id by registry id, exact name or alias."""
    if name_or_id.isdigit():
        row = db.execute("SELECT id FROM buildings WHERE id = ?", [int(name_or_id)]).fetchone()
        if row:
            return row[0]
    params: list[object] = [name_or_id]
    city_sql = ""
    if city:
        city_sql = " AND (b.city = ? OR b.city = '')"
        params.append(city)
    row = db.execute(f"SELECT b.id FROM buildings b WHERE b.name = ?{city_sql}", params).fetchone()
    if row:
        return row[0]
    row = db.execute(
        "SELECT b.id FROM building_aliases a JOIN buildings b ON b.id = a.building_id "
        f"WHERE a.alias = ?{city_sql} ORDER BY a.origin = 'manual' DESC LIMIT 1",
        params,
    ).fetchone()
    return row[0] if row else None


def site_ids_for(db: sqlite_utils.Database, building_id: int, source: str) -> list[str]:
    return [
        r[0]
        for r in db.execute(
            "SELECT site_id FROM building_sources WHERE building_id = ? AND source = ? ORDER BY site_id",
            [building_id, source],
        ).fetchall()
    ]


def tracked_buildings(db: sqlite_utils.Database, source: str, city: str) -> list[TrackedBuilding]:
    """Buildings of a city that have a site id for ``source``: what a daily tracked scrape asks for."""
    rows = db.execute(
        "SELECT b.id, b.name, s.site_id FROM building_sources s JOIN buildings b ON b.id = s.building_id "
        "WHERE s.source = ? AND (b.city = ? OR b.city = '') ORDER BY b.id, s.site_id",
        [source, city],
    ).fetchall()
    return [TrackedBuilding(*r) for r in rows]


def registry_buildings(db: sqlite_utils.Database, text: str | None = None) -> list[dict[str, Any]]:
    """Registry buildings (not the unverified ones made from listings) with their aliases,
    site ids and listings; ``text`` keeps those whose name, alias, place or site id holds it."""
    like = f"%{text}%" if text else "%"
    return list(
        db.query(
            "SELECT b.id, b.name, b.city, b.district, b.subdistrict, b.total_units, "
            "(SELECT group_concat(alias, ' | ') FROM building_aliases a WHERE a.building_id = b.id) "
            "AS aliases, (SELECT group_concat(source || ':' || site_id, ' ') FROM building_sources s "
            "WHERE s.building_id = b.id) AS site_ids, "
            "(SELECT count(*) FROM listings l WHERE l.building_id = b.id) AS listings "
            "FROM buildings b WHERE b.status = 'verified' AND (b.name LIKE :t OR "
            "coalesce(b.district, '') LIKE :t OR coalesce(b.subdistrict, '') LIKE :t OR EXISTS "
            "(SELECT 1 FROM building_aliases a WHERE a.building_id = b.id AND a.alias LIKE :t) OR "
            "EXISTS (SELECT 1 FROM building_sources s WHERE s.building_id = b.id AND "
            "s.source || ':' || s.site_id LIKE :t)) ORDER BY b.city, b.name",
            {"t": like},
        )
    )


def registry_names(db: sqlite_utils.Database) -> list[tuple[int, str, str, str]]:
    """(building id, name or alias, registry name, city) of every registry building's names."""
    return [
        tuple(r)
        for r in db.execute(
            "SELECT id, name, name, city FROM buildings WHERE status = 'verified' UNION ALL "
            "SELECT b.id, a.alias, b.name, b.city FROM building_aliases a "
            "JOIN buildings b ON b.id = a.building_id WHERE b.status = 'verified'"
        ).fetchall()
    ]


def add_site_id(db: sqlite_utils.Database, building_id: int, source: str, site_id: str) -> bool:
    """Give a building its id on a site; False when it had it already."""
    with db.conn:
        cur = db.execute(
            "INSERT OR IGNORE INTO building_sources (building_id, source, site_id) VALUES (?, ?, ?)",
            [building_id, source, site_id],
        )
    return cur.rowcount > 0


def building_with_site_id(db: sqlite_utils.Database, source: str, site_id: str) -> str | None:
    row = db.execute(
        "SELECT b.name FROM building_sources s JOIN buildings b ON b.id = s.building_id "
        "WHERE s.source = ? AND s.site_id = ?",
        [source, site_id],
    ).fetchone()
    return row[0] if row else None
