"""Datasette metadata for a rentwatch database: titles, sources, licence notes, table and
column descriptions, default sorts and facets, canned queries and the dashboards."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from rentwatch.datasette import queries
from rentwatch.datasette.dashboards import build_dashboards
from rentwatch.datasette.tables import HIDDEN_TABLES, TABLES

TITLE = "rentwatch: empty flats and asking rents, building by building"
DESCRIPTION = (
    "How many flats stand empty in each apartment building, day by day, and what their "
    "landlords ask, estimated from public rental listing pages. Ads for the same flat by "
    "several agents or sites are merged into one unit; the estimate comes with a low/high "
    "band. Blank means no data that day (a failed or blocked scrape), never zero. Rents in "
    "元/月, areas in ㎡, days in Asia/Shanghai. Start with the Dashboards (menu) or the "
    "canned queries below."
)
SOURCE = "Public rental listing pages: Lianjia/Beike (链家/贝壳), 58同城, 安居客, 自如, 房天下"
LICENSE = (
    "Counts and medians derived by rentwatch; the listing texts remain their sites' and "
    "advertisers'. No personal data: advertisers are kept only as a non-personal key."
)
#: The building of the story, shown first when the database has it.
PREFERRED_BUILDING = "丽晶国际"
PREFERRED_AREA = "九堡"


def _defaults(db_path: str | Path | None) -> tuple[str | None, str | None]:
    """Which building and area the dashboards open on: the story's, or the one with most days."""
    if db_path is None or not Path(db_path).exists():
        return None, None
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute(queries.BUILDING_NAMES)]
        building = PREFERRED_BUILDING if PREFERRED_BUILDING in names else None
        if building is None and names:
            row = conn.execute(
                "select b.name from building_daily d join buildings b on b.id = d.building_id "
                "group by b.id order by count(*) desc, b.name limit 1"
            ).fetchone()
            building = row[0] if row else None
        areas = [r[0] for r in conn.execute(queries.AREA_NAMES)]
        area = next((a for a in areas if a.endswith(PREFERRED_AREA)), areas[0] if areas else None)
        return building, area
    except sqlite3.Error:
        return None, None  # an empty or older database: no defaults, the pages still work
    finally:
        conn.close()


def build_metadata(db_name: str = "rentwatch", db_path: str | Path | None = None) -> dict[str, Any]:
    """Datasette metadata for the database served under ``db_name``.

    ``db_path`` (optional) lets the dashboards open on a building and area that exist.
    """
    building, area = _defaults(db_path)
    tables: dict[str, Any] = {}
    for name, spec in TABLES.items():
        entry = {k: v for k, v in spec.items() if k != "columns"}
        entry["columns"] = dict(spec["columns"])  # type: ignore[arg-type]
        tables[name] = entry
    tables["buildings"]["label_column"] = "name"
    tables["buildings"]["sort"] = "name"
    tables["buildings"]["facets"] = ["status", "district", "subdistrict"]
    # Datasette finds an FTS table only by its content= option; ours keeps its own copy.
    tables["listings"]["fts_table"] = "listings_fts"
    tables["listings"]["fts_pk"] = "id"
    tables["listings"]["searchmode"] = "escaped"
    for hidden in HIDDEN_TABLES:
        tables[hidden] = {"hidden": True}

    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "source": SOURCE,
        "license": LICENSE,
        "databases": {
            db_name: {
                "title": "rentwatch",
                "description": DESCRIPTION,
                "source": SOURCE,
                "license": LICENSE,
                "tables": tables,
                "queries": {k: dict(v) for k, v in queries.CANNED_QUERIES.items()},
            }
        },
        "plugins": {
            "datasette-dashboards": build_dashboards(
                db_name, default_building=building, default_area=area
            )
        },
    }
