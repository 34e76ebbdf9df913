"""What the Datasette site reads about a database to set itself up: which building and area
the dashboards open on, and whether the data is the demo's simulation.

Functions take a plain ``sqlite3.Connection`` (Datasette's ``execute_fn`` hands one over).
"""

from __future__ import annotations

import sqlite3
from typing import Any

#: A district's own row in district_daily has no subdistrict; a 板块's row reads "上城 / 九堡".
AREA_LABEL = (
    "district || case when coalesce(subdistrict, '') != '' then ' / ' || subdistrict else '' end"
)


def default_building(conn: sqlite3.Connection, preferred: str) -> str | None:
    """``preferred`` when it has snapshots, else the building with most snapshot days."""
    row = conn.execute(
        "select b.name from building_daily d join buildings b on b.id = d.building_id "
        "group by b.id order by b.name = ? desc, count(*) desc, b.name limit 1",
        (preferred,),
    ).fetchone()
    return row[0] if row else None


def default_area(conn: sqlite3.Connection, preferred: str) -> str | None:
    """The first area whose label ends with ``preferred`` (a 板块 such as 九堡), else the first."""
    areas = [r[0] for r in conn.execute(f"select distinct {AREA_LABEL} from district_daily")]
    areas = sorted(a for a in areas if a)
    return next((a for a in areas if a.endswith(preferred)), areas[0] if areas else None)


def simulation(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The ``demo_market`` row ``rentwatch demo`` writes: the database holds simulated data."""
    has = conn.execute(
        "select 1 from sqlite_master where type = 'table' and name = 'demo_market'"
    ).fetchone()
    if not has:
        return None
    cur = conn.execute("select * from demo_market order by rowid desc limit 1")
    row = cur.fetchone()
    # The table alone marks the database: `rentwatch demo` creates it only for its own.
    return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else {}
