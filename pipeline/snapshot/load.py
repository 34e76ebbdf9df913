"""Load: what one day's snapshot needs, read from the database into plain values.

Only a window of WINDOW_DAYS days of observations ending on the day is read (plus the
units those ads belong to), never the whole history, so one more day costs the same
after a month or after a year.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlite_utils

from db import market_params as market_sql
from db import snapshots as snap_sql
from db import units as unit_sql
from db.snapshots import BuildingInfo
from db.units import UnitRow, WindowListing
from pipeline.dates import shift_day

#: Days of observations (ending on the snapshot day) one snapshot reads. A lingering
#: unit's ads last seen before the window count as vanished this long ago, so it must
#: reach back further than MarketParams.leftover_days.
WINDOW_DAYS = 8


@dataclass(slots=True)
class SnapshotInput:
    """Everything the computation of one day reads, as plain values."""

    day: str
    #: the first day of the window
    start: str
    buildings: dict[int, BuildingInfo]
    #: building -> the sources whose successful runs covered it on the day, and the
    #: sources among them whose run was complete (db.snapshots.covered_buildings)
    covered: dict[int, set[str]]
    complete: dict[int, set[str]]
    #: the listings observed in the window, and their observations (listing, day, rent)
    listings: list[WindowListing]
    observations: list[tuple[int, str, float | None]]
    #: the units of the window's listings, and (listing, unit, first_seen, advertiser) of
    #: their other listings, not observed in the window
    units: dict[int, UnitRow] = field(default_factory=dict)
    siblings: list[tuple[int, int, str | None, str | None]] = field(default_factory=list)
    #: building -> the earlier days of the window it had data (its snapshot rows)
    observed: dict[int, set[str]] = field(default_factory=dict)
    #: building -> (a person's latest count on or before the day, the model's
    #: (units, low, high) on the count's day or None: counted on the day itself)
    counts: dict[int, tuple[int, tuple[float, float, float] | None]] = field(default_factory=dict)


def load(db: sqlite_utils.Database, day: str, window_days: int = WINDOW_DAYS) -> SnapshotInput:
    """Read the day's window."""
    info = snap_sql.buildings(db)
    covered, complete = snap_sql.covered_buildings(db, day, info)
    start = shift_day(day, -(window_days - 1))
    listings = unit_sql.window_listings(db, start, day)
    unit_ids = sorted(
        {r.unit_id for r in listings if r.building_id is not None and r.unit_id is not None}
    )
    return SnapshotInput(
        day=day,
        start=start,
        buildings=info,
        covered=covered,
        complete=complete,
        listings=listings,
        observations=unit_sql.window_observations(db, start, day),
        units=unit_sql.units_by_id(db, unit_ids),
        siblings=unit_sql.sibling_listings(db, unit_ids, exclude={r.id for r in listings}),
        observed=snap_sql.building_days(db, start, day),
        counts=market_sql.latest_counts(db, day),
    )
