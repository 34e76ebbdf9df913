"""SQL of the market's fitted parameters (``market_params``) and of the notice-board counts
the experimental count model (``units_model``) is calibrated with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils

from db.day_rows import replace_day_rows

COLUMNS = ("city", "building_id", "date", "parameter", "value", "n")


def replace_day(db: sqlite_utils.Database, day: str, rows: Sequence[dict[str, Any]]) -> None:
    """Replace the parameters fitted on ``day`` (caller holds the transaction)."""
    replace_day_rows(db, "market_params", COLUMNS, day, rows)


def latest_counts(
    db: sqlite_utils.Database, day: str
) -> dict[int, tuple[int, tuple[float, float, float] | None]]:
    """building -> (the latest person's count on or before ``day``, the model's
    (units, low, high) on that count's day, None when counted on ``day`` itself or the
    model has no row for it)."""
    out: dict[int, tuple[int, tuple[float, float, float] | None]] = {}
    for building_id, date, vacant, units, low, high in db.execute(
        "SELECT m.building_id, m.date, m.vacant, d.units_model, d.units_model_low, "
        "d.units_model_high FROM manual_observations m "
        "JOIN (SELECT building_id, max(date) AS date FROM manual_observations "
        "WHERE date <= ? GROUP BY building_id) last "
        "ON last.building_id = m.building_id AND last.date = m.date "
        "LEFT JOIN building_daily d ON d.building_id = m.building_id AND d.date = m.date "
        "ORDER BY m.id",
        [day],
    ).fetchall():
        then = None if date == day or units is None else (units, low, high)
        out[building_id] = (vacant, then)
    return out
