"""Write: store a computed snapshot through db/ (the caller holds the transaction)."""

from __future__ import annotations

import sqlite_utils

from db import market_params as market_sql
from db import snapshots as snap_sql
from db import units as unit_sql
from pipeline.snapshot.compute import SnapshotResult


def write(db: sqlite_utils.Database, result: SnapshotResult) -> None:
    """Store the day: buildings' first day watched, the ads' flags, the units created
    (each given its id here) and the ads' links, every unit's state, the day's rows."""
    day = result.day
    snap_sql.set_first_watched(db, result.first_watched)
    unit_sql.set_listing_flags(db, result.flag_updates)
    for building in result.new_units:
        for unit in building.created:
            unit.id = unit_sql.insert_unit(
                db,
                {
                    "building_id": unit.building_id,
                    "tenure": unit.tenure,
                    "layout": unit.layout,
                    "area": unit.area,
                    "floor_band": unit.floor_band,
                    "total_floors": unit.total_floors,
                    "orientation": unit.orientation,
                    "first_seen": unit.first_seen,
                    "last_seen": day,
                    "status": "live",
                    "reason": unit.reason,
                    "ads": len(unit.ads),
                },
            )
        unit_sql.link_listings(
            db,
            [
                {
                    "listing_id": link.ad.id,
                    "unit_id": link.unit.id,
                    "building_id": building.building_id,
                    "linked_on": day,
                    "kind": link.kind,
                    "reason": link.reason,
                    "score": link.score,
                }
                for link in building.links
            ],
        )
    unit_sql.update_units(db, [{"id": unit.id, **row} for unit, row in result.unit_updates])
    snap_sql.replace_day(db, day, result.building_rows, result.district_rows)
    market_sql.replace_day(db, day, result.market_rows)
