"""Datasette metadata for a rentwatch database: titles, sources, licence notes, table and
column descriptions, default sorts and facets, canned queries and the dashboards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from db.dashboards import dashboard_defaults
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


def build_metadata(db_name: str = "rentwatch", db_path: str | Path | None = None) -> dict[str, Any]:
    """Datasette metadata for the database served under ``db_name``.

    ``db_path`` (optional) lets the dashboards open on a building and area that exist.
    """
    building, area = (
        dashboard_defaults(
            db_path, preferred_building=PREFERRED_BUILDING, preferred_area=PREFERRED_AREA
        )
        if db_path is not None
        else (None, None)
    )
    tables: dict[str, Any] = {}
    for name, spec in TABLES.items():
        entry = {k: v for k, v in spec.items() if k != "columns"}
        entry["columns"] = dict(spec["columns"])
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
