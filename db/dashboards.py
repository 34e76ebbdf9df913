"""Reads behind the Datasette layer: which building and area the dashboards open on.

The dashboards' own SQL is Datasette configuration (``rentwatch/datasette/queries.py``);
the area label is defined here once, since both the defaults and that SQL use it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

#: A district's own row has no subdistrict; a 板块's row is labelled "district / 板块".
AREA_LABEL = (
    "district || case when coalesce(subdistrict, '') != '' then ' / ' || subdistrict else '' end"
)


def dashboard_defaults(
    path: str | Path, *, preferred_building: str, preferred_area: str
) -> tuple[str | None, str | None]:
    """The building and area the dashboards open on: the preferred ones when the database has
    them, else the building with most days and the first area; (None, None) for a database
    without snapshots (missing, empty or older)."""
    if not Path(path).exists():
        return None, None
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    try:
        names = {
            r[0]
            for r in conn.execute(
                "select b.name from buildings b "
                "where exists (select 1 from building_daily d where d.building_id = b.id)"
            )
        }
        building = preferred_building if preferred_building in names else None
        if building is None and names:
            row = conn.execute(
                "select b.name from building_daily d join buildings b on b.id = d.building_id "
                "group by b.id order by count(*) desc, b.name limit 1"
            ).fetchone()
            building = row[0] if row else None
        areas = [
            r[0]
            for r in conn.execute(
                f"select distinct {AREA_LABEL} as area from district_daily order by area"
            )
        ]
        area = next((a for a in areas if a.endswith(preferred_area)), areas[0] if areas else None)
        return building, area
    except sqlite3.Error:
        return None, None  # an empty or older database: no defaults, the pages still work
    finally:
        conn.close()
