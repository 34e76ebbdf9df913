"""Datasette metadata for a rentwatch database: titles, sources, licence notes, table and
column descriptions, default sorts and facets, and the dashboards."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, cast

from rentwatch.datasette.dashboards import build_dashboards
from rentwatch.datasette.tables import HIDDEN_TABLES, TABLES

TITLE = "rentwatch: empty flats and asking rents, building by building"
DESCRIPTION = (
    "How many flats stand empty in each apartment building, day by day, and what their "
    "landlords ask, estimated from public rental listing pages. Ads for the same flat by "
    "several agents or sites are merged into one unit; the estimate comes with a low/high "
    "band. Blank means no data that day (a failed or blocked scrape), never zero. Rents in "
    "元/月, areas in ㎡, days in Asia/Shanghai. Start with the Dashboards (menu) or the "
    "canned queries of the database. Hover over a column's name for what it means."
)
SOURCE = "Public rental listing pages: Lianjia/Beike (链家/贝壳), 58同城, 安居客, 自如, 房天下"
LICENSE = (
    "Counts and medians derived by rentwatch; the listing texts remain their sites' and "
    "advertisers'. No personal data: advertisers are kept only as a non-personal key."
)
#: Simulated data names no real site: its pages only imitate one.
SIMULATED_SOURCE = "A market simulated on this computer by rentwatch demo; no real site was read"
SIMULATED_LICENSE = "Made-up data: no site's or advertiser's text."
#: The building of the story, shown first when the database has it.
PREFERRED_BUILDING = "丽晶国际"
PREFERRED_AREA = "九堡"


@dataclass(frozen=True)
class SiteFacts:
    """What the site reads from a database when it starts (see db.site)."""

    building: str | None = None  # the dashboards open on it
    area: str | None = None
    simulation: dict[str, Any] | None = None  # the demo_market row: the data is simulated


def simulated_notice(simulation: dict[str, Any]) -> str:
    """One sentence for the top of the home page of a simulated database."""
    what = ", ".join(
        f"{k} {simulation[k]}" for k in ("seed", "days", "start") if simulation.get(k) is not None
    )
    return (
        "Simulated data: this database was written by rentwatch demo from a made-up market"
        + (f" ({what})" if what else "")
        + "; no figure here describes a real building."
    )


def build_metadata(db_name: str = "rentwatch", facts: SiteFacts | None = None) -> dict[str, Any]:
    """Datasette metadata for the database served under ``db_name``.

    ``facts`` (optional) lets the dashboards open on a building and area that exist and
    marks simulated data as such.
    """
    facts = facts or SiteFacts()
    tables: dict[str, Any] = {}
    for name, spec in TABLES.items():
        entry = {k: v for k, v in spec.items() if k != "columns"}
        entry["columns"] = dict(cast(dict[str, str], spec["columns"]))
        tables[name] = entry
    tables["buildings"]["label_column"] = "name"
    tables["buildings"]["sort"] = "name"
    tables["buildings"]["facets"] = ["status", "district", "subdistrict"]
    # No fts_table for listings: the plugin's own search (rentwatch.datasette.search) also
    # finds terms shorter than the trigram index's three characters.
    for hidden in HIDDEN_TABLES:
        tables[hidden] = {"hidden": True}

    about: dict[str, Any] = {"description": DESCRIPTION, "source": SOURCE, "license": LICENSE}
    if facts.simulation is not None:
        notice = simulated_notice(facts.simulation)
        about = {
            "description": f"{notice} {DESCRIPTION}",
            "description_html": (
                f'<p class="message-warning"><strong>{html.escape(notice)}</strong></p>'
                f"<p>{html.escape(DESCRIPTION)}</p>"
            ),
            "source": SIMULATED_SOURCE,
            "license": SIMULATED_LICENSE,
        }
    return {
        "title": TITLE,
        **about,
        "databases": {db_name: {"title": "rentwatch", **about, "tables": tables}},
        "plugins": {
            "datasette-dashboards": build_dashboards(
                db_name, default_building=facts.building, default_area=facts.area
            )
        },
    }
