"""SQL of building resolution: reading the registry's names and writing a listing's building."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from db.connection import inserted_id
from db.transactions import write_transaction

#: Alias origins a person stands behind; they always win over a guess (auto, fuzzy).
TRUSTED_ORIGINS = ("manual", "import")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(slots=True)
class BuildingName:
    building_id: int
    city: str
    district: str
    name: str
    origin: str  # "name" for the registry's own name, else the alias origin
    status: str


@dataclass(slots=True)
class UnresolvedListing:
    id: int
    source: str
    community: str | None
    community_id: str | None
    district: str | None
    subdistrict: str | None
    city: str


def building_names(db: sqlite_utils.Database) -> list[BuildingName]:
    """Every building's own name and every alias, with the building's city and district."""
    rows = db.execute(
        "SELECT id, COALESCE(city, ''), COALESCE(district, ''), name, 'name', COALESCE(status, 'verified') "
        "FROM buildings "
        "UNION ALL "
        "SELECT b.id, COALESCE(b.city, ''), COALESCE(b.district, ''), a.alias, COALESCE(a.origin, 'import'), "
        "COALESCE(b.status, 'verified') "
        "FROM building_aliases a JOIN buildings b ON b.id = a.building_id"
    ).fetchall()
    return [BuildingName(*r) for r in rows]


def site_id_map(db: sqlite_utils.Database) -> dict[tuple[str, str], int]:
    """(source, site's 小区 id) -> building id, from ``building_sources``."""
    out: dict[tuple[str, str], int] = {}
    for building_id, source, site_id in db.execute(
        "SELECT building_id, source, site_id FROM building_sources ORDER BY building_id"
    ).fetchall():
        out.setdefault((source, str(site_id).lstrip("c")), building_id)
    return out


def building_place(db: sqlite_utils.Database, building_id: int) -> tuple[str, str, str] | None:
    """A building's (name, city, district), city '' when unknown; None if there is no such id."""
    row = db.execute(
        "SELECT name, COALESCE(city, ''), district FROM buildings WHERE id = ?", [building_id]
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def unresolved_listings(
    db: sqlite_utils.Database, *, only_unresolved: bool = True
) -> list[UnresolvedListing]:
    """Listings to resolve, with the city of the run that first saw them ('' if unknown)."""
    where = "WHERE l.building_id IS NULL" if only_unresolved else ""
    rows = db.execute(
        "SELECT l.id, l.source, l.community, l.community_id, l.district, l.subdistrict, "
        "COALESCE((SELECT r.city FROM listing_observations o JOIN runs r ON r.id = o.run_id "
        "WHERE o.listing_id = l.id ORDER BY o.date LIMIT 1), '') "
        f"FROM listings l {where} ORDER BY l.id"
    ).fetchall()
    return [UnresolvedListing(*r) for r in rows]


def create_unverified_building(
    db: sqlite_utils.Database,
    *,
    name: str,
    city: str,
    district: str | None,
    subdistrict: str | None,
    alias_key: str,
) -> int:
    """A building made from a listing's 小区 name, flagged unverified, with an 'auto' alias."""
    row = db.execute(
        "SELECT id FROM buildings WHERE city = ? AND name = ?", [city, name]
    ).fetchone()
    if row:
        building_id = row[0]
    else:
        building_id = inserted_id(
            db.execute(
                "INSERT INTO buildings (name, city, district, subdistrict, status, created_at) "
                "VALUES (?, ?, ?, ?, 'unverified', ?)",
                [name, city, district or "", subdistrict, _now()],
            )
        )
    add_alias(db, building_id, name, origin="auto", alias_key=alias_key)
    return int(building_id)


def add_alias(
    db: sqlite_utils.Database, building_id: int, alias: str, *, origin: str, alias_key: str
) -> bool:
    """Add an alias; a trusted origin replaces a guessed one for the same spelling."""
    existing = db.execute(
        "SELECT id, building_id, origin FROM building_aliases WHERE alias = ?", [alias]
    ).fetchall()
    if origin in TRUSTED_ORIGINS:
        for alias_id, other_building, other_origin in existing:
            if other_origin not in TRUSTED_ORIGINS and other_building != building_id:
                db.execute("DELETE FROM building_aliases WHERE id = ?", [alias_id])
    cur = db.execute(
        "INSERT OR IGNORE INTO building_aliases (building_id, alias, alias_key, origin, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [building_id, alias, alias_key, origin, _now()],
    )
    if cur.rowcount == 0 and origin in TRUSTED_ORIGINS:
        db.execute(
            "UPDATE building_aliases SET origin = ?, alias_key = ? WHERE building_id = ? AND alias = ?",
            [origin, alias_key, building_id, alias],
        )
    return cur.rowcount > 0


def fill_alias_keys(db: sqlite_utils.Database, keys: Iterable[tuple[str, int]]) -> None:
    db.conn.executemany("UPDATE building_aliases SET alias_key = ? WHERE id = ?", list(keys))


def aliases_without_key(db: sqlite_utils.Database) -> list[tuple[int, str, str]]:
    return db.execute(
        "SELECT a.id, a.alias, COALESCE(b.city, '') FROM building_aliases a "
        "JOIN buildings b ON b.id = a.building_id WHERE a.alias_key IS NULL"
    ).fetchall()


def set_listing_buildings(db: sqlite_utils.Database, pairs: Sequence[tuple[int, int]]) -> None:
    """(building id, listing id) pairs; a listing that moves building loses its unit."""
    db.conn.executemany(
        "UPDATE listings SET building_id = ?1, unit_id = CASE WHEN building_id IS ?1 THEN unit_id END "
        "WHERE id = ?2",
        pairs,
    )


def unmatched_buildings(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Unverified buildings with how many listings point at them, sources and sample names."""
    return list(
        db.query(
            "SELECT b.id, b.name, b.city, b.district, count(l.id) AS listings, "
            "group_concat(DISTINCT l.source) AS sources, "
            "(SELECT group_concat(community, ' | ') FROM (SELECT DISTINCT community FROM listings "
            " WHERE building_id = b.id LIMIT 3)) AS samples "
            "FROM buildings b LEFT JOIN listings l ON l.building_id = b.id "
            "WHERE b.status = 'unverified' GROUP BY b.id ORDER BY listings DESC, b.id"
        )
    )


def relink_alias(db: sqlite_utils.Database, *, from_building: int, to_building: int) -> int:
    """Move the listings of an unverified building to the building a person named.

    The moved listings lose their unit (it is recomputed at the next snapshot).
    """
    cur = db.execute(
        "UPDATE listings SET building_id = ?, unit_id = NULL WHERE building_id = ?",
        [to_building, from_building],
    )
    if "unit_links" in db.table_names():
        db.execute(
            "DELETE FROM unit_links WHERE unit_id IN (SELECT id FROM units WHERE building_id = ?)",
            [from_building],
        )
    db.execute("DELETE FROM units WHERE building_id = ?", [from_building])
    db.execute(
        "UPDATE buildings SET status = 'merged' WHERE id = ? AND status = 'unverified'",
        [from_building],
    )
    return cur.rowcount


def confirm_alias(
    db: sqlite_utils.Database, building_id: int, alias: str, *, alias_key: str
) -> int:
    """A person's alias for a registry building, in one transaction; returns listings moved.

    Unverified buildings known by that spelling (their name, or an alias with the same key)
    are merged into ``building_id`` with their listings.
    """
    moved = 0
    with write_transaction(db):
        add_alias(db, building_id, alias, origin="manual", alias_key=alias_key)
        for (other,) in db.execute(
            "SELECT DISTINCT b.id FROM buildings b LEFT JOIN building_aliases a ON a.building_id = b.id "
            "WHERE b.status = 'unverified' AND b.id != ? AND (b.name = ? OR a.alias_key = ?)",
            [building_id, alias, alias_key],
        ).fetchall():
            moved += relink_alias(db, from_building=other, to_building=building_id)
    return moved
