"""Small markets built in code: a registry, ads as listing records, one run per day.

Writes through the project's own write paths (db.buildings, db.runs, db.listings), so
the pipeline sees exactly what a scrape would have stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from db.buildings import BuildingRow, import_buildings
from db.listings import save_records
from db.runs import RunCounts, finish_run, start_run
from scrapers.errors import UnknownSource
from scrapers.htmltext import agent_key
from scrapers.record import ListingRecord
from scrapers.registry import get_source


def building(
    name: str,
    *,
    district: str = "江干",
    total_units: int | None = None,
    aliases: tuple[str, ...] = (),
    city: str = "hz",
    site_ids: tuple[tuple[str, str], ...] = (),
) -> BuildingRow:
    return BuildingRow(
        line=0,
        name=name,
        aliases=list(aliases),
        city=city,
        district=district,
        total_units=total_units,
        site_ids=list(site_ids),
    )


def ad(
    listing_id: str,
    community: str,
    *,
    rent: float,
    area: float = 53.0,
    rooms: int = 2,
    halls: int = 1,
    baths: int = 1,
    band: str | None = "中楼层",
    total_floors: int | None = 28,
    orientation: str | None = "南",
    agent: str | None = "链家 A店",
    tenure: str = "whole",
    district: str = "江干",
    subdistrict: str = "九堡",
    community_id: str | None = None,
    rent_text: str | None = None,
    source: str = "lianjia",
) -> ListingRecord:
    return ListingRecord(
        source=source,
        listing_id=listing_id,
        url=f"https://hz.lianjia.com/zufang/{listing_id}.html",
        title=f"{'整租' if tenure == 'whole' else '合租'}·{community} {rooms}室{halls}厅 {orientation}",
        tenure=tenure,  # type: ignore[arg-type]
        district=district,
        subdistrict=subdistrict,
        community=community,
        community_id=community_id,
        rent_text=rent_text or f"{rent:g} 元/月",
        rent=rent,
        area=area,
        area_text=f"{area:g}㎡",
        rooms=rooms,
        halls=halls,
        baths=baths,
        floor_band=band,
        total_floors=total_floors,
        orientation=orientation,
        agent_key=agent_key(agent),
        brand=agent,
        created_on=_created_on(source, listing_id),
    )


def _created_on(source: str, listing_id: str) -> str | None:
    """What the source's parser would record: the ad's creation day, when its id says."""
    try:
        return get_source(source).created_on(listing_id)
    except UnknownSource:
        return None


@dataclass
class Market:
    db: sqlite_utils.Database
    city: str = "hz"

    def registry(self, *rows: BuildingRow) -> None:
        import_buildings(self.db, list(rows))

    def day(
        self,
        day: str,
        records: list[ListingRecord],
        *,
        status: str = "ok",
        district: str | None = None,
        building_id: int | None = None,
        complete: bool | None = None,
    ) -> int:
        """Store one scrape of ``day`` holding ``records``; returns the run id.

        ``complete``: the run collected every ad the site's total said (True), missed one
        (False), or the site gave no total (None).
        """
        run_id = start_run(
            self.db,
            source="lianjia",
            as_of=day,
            city=self.city,
            district=district,
            building_id=building_id,
        )
        save_records(self.db, records, as_of=day, run_id=run_id)
        distinct = len({r.listing_id for r in records})
        counts = RunCounts(listings=len(records), distinct_listings=distinct)
        if complete is not None:
            counts.site_total = distinct if complete else distinct + 1
        finish_run(self.db, run_id, status=status, message=None, counts=counts)
        return run_id

    def building_id(self, name: str) -> int:
        return self.db.execute("SELECT id FROM buildings WHERE name = ?", [name]).fetchone()[0]

    def row(self, name: str, day: str) -> dict:
        rows = list(
            self.db.query(
                "SELECT * FROM building_daily WHERE building_id = ? AND date = ?",
                [self.building_id(name), day],
            )
        )
        assert rows, f"no building_daily row for {name} on {day}"
        return rows[0]
