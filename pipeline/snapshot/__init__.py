"""The daily snapshot: resolve -> load -> compute -> write, for one day.

``load`` reads the day's window into plain values (pipeline.snapshot.load), ``compute``
normalizes, de-duplicates and follows each unit's life without touching the database
(pipeline.snapshot.compute), ``write`` stores the ``building_daily`` and
``district_daily`` rows and the units' changes (pipeline.snapshot.write). The day's rows
are replaced: re-running a day gives the same rows. Days are meant to be computed in
date order (``snapshot_range`` does): a unit's ``gone`` day needs the building's earlier
observed days, read from the rows of the days before.
"""

from __future__ import annotations

import logging
import time

import sqlite_utils

from db.transactions import write_transaction
from pipeline.buildings.resolve import resolve_listings
from pipeline.dates import day_range, parse_day
from pipeline.snapshot.compute import (
    DEFAULT_STRATEGIES,
    SnapshotReport,
    SnapshotResult,
    Strategies,
    compute,
)
from pipeline.snapshot.load import WINDOW_DAYS, SnapshotInput, load
from pipeline.snapshot.write import write
from pipeline.units.params import DEFAULT_PARAMS, MarketParams

__all__ = [
    "DEFAULT_STRATEGIES",
    "WINDOW_DAYS",
    "SnapshotInput",
    "SnapshotReport",
    "SnapshotResult",
    "Strategies",
    "compute",
    "load",
    "snapshot_day",
    "snapshot_range",
    "write",
]

log = logging.getLogger(__name__)


def snapshot_day(
    db: sqlite_utils.Database,
    day: str,
    *,
    params: MarketParams = DEFAULT_PARAMS,
    strategies: Strategies = DEFAULT_STRATEGIES,
) -> SnapshotReport:
    """(Re)compute ``building_daily`` and ``district_daily`` for ``day``. One transaction."""
    day = parse_day(day)
    started = time.perf_counter()
    resolved = resolve_listings(db)
    with write_transaction(db):
        result = compute(load(db, day), params=params, strategies=strategies)
        write(db, result)
    report = result.report
    report.resolve = resolved
    report.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "snapshot %s: %s buildings, %s units in %.2fs",
        day,
        report.buildings,
        report.units,
        report.seconds,
    )
    return report


def snapshot_range(
    db: sqlite_utils.Database,
    since: str,
    until: str,
    *,
    params: MarketParams = DEFAULT_PARAMS,
    strategies: Strategies = DEFAULT_STRATEGIES,
) -> list[SnapshotReport]:
    """Every day from ``since`` to ``until`` in order."""
    return [
        snapshot_day(db, d, params=params, strategies=strategies) for d in day_range(since, until)
    ]
