"""SQL shared by the tables that hold one set of rows per day (building_daily,
district_daily, market_params): a day's rows are replaced whole."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils


def replace_day_rows(
    db: sqlite_utils.Database,
    table: str,
    columns: Sequence[str],
    day: str,
    rows: Sequence[dict[str, Any]],
) -> None:
    """Delete ``table``'s rows of ``day`` and insert ``rows`` (dicts keyed by ``columns``);
    the caller holds the transaction."""
    db.execute(f"DELETE FROM {table} WHERE date = ?", [day])
    if rows:
        db.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
            f"({', '.join(':' + c for c in columns)})",
            rows,
        )
