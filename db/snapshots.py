"""SQL of the daily snapshots: which buildings a day observed, and the rows written for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from db.day_rows import replace_day_rows

try:
    from db.runs import COVERING_STATUSES
except ImportError:  # pragma: no cover - db.runs is written beside this module
    COVERING_STATUSES = ("ok",)

#: Lianjia's Hangzhou district slugs and the names its cards show.
DISTRICT_SLUGS: dict[str, tuple[str, ...]] = {
    "xihu": ("西湖",),
    "xiacheng": ("下城",),
    "shangcheng": ("上城",),
    "gongshu": ("拱墅",),
    "jianggan": ("江干",),
    "binjiang": ("滨江",),
    "xiaoshan": ("萧山",),
    "yuhang": ("余杭",),
    "linping": ("临平",),
    "qiantangqu": ("钱塘", "钱塘新区", "钱塘区"),
    "fuyang": ("富阳",),
    "linan": ("临安",),
    "tonglu": ("桐庐",),
    "jiande": ("建德",),
    "chunan": ("淳安",),
}

BUILDING_COLUMNS = (
    "building_id",
    "date",
    "listings",
    "units",
    "units_low",
    "units_high",
    "units_min",
    "units_max",
    "rooms",
    "median_rent",
    "p25_rent",
    "p75_rent",
    "median_rent_per_m2",
    "median_room_rent",
    "vacancy_rate",
    "new_units",
    "gone_units",
    "price_cuts",
    "median_days_on_market",
    "sources",
    "total_units",
    "days_watched",
    "units_model",
    "units_model_low",
    "units_model_high",
    "units_model_calibrated",
    "calibration",
)
DISTRICT_COLUMNS = (
    "city",
    "district",
    "subdistrict",
    "date",
    *BUILDING_COLUMNS[2 : BUILDING_COLUMNS.index("total_units")],
    "buildings",
)


@dataclass(slots=True)
class BuildingInfo:
    id: int
    name: str
    city: str
    district: str
    subdistrict: str | None
    total_units: int | None
    status: str
    #: the first day a successful run covered it (None: never yet)
    first_watched: str | None


def buildings(db: sqlite_utils.Database) -> dict[int, BuildingInfo]:
    return {
        r[0]: BuildingInfo(*r)
        for r in db.execute(
            "SELECT id, name, COALESCE(city, ''), COALESCE(district, ''), subdistrict, total_units, "
            "COALESCE(status, 'verified'), first_watched FROM buildings"
        ).fetchall()
    }


def _district_matches(building_district: str, slug: str, seen_names: set[str]) -> bool:
    if not building_district:
        return False
    d = building_district.removesuffix("区")
    names = {slug, *DISTRICT_SLUGS.get(slug, ()), *seen_names}
    return any(d == n.removesuffix("区") for n in names if n)


def covered_buildings(
    db: sqlite_utils.Database, day: str, info: dict[int, BuildingInfo] | None = None
) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """Buildings that some successful run observed on ``day`` -> the sources that did, and
    the same for the runs among them that were complete.

    A city-wide run covers every building of its city, a district run the buildings of
    its district, a building run its building; every run (an ingest of saved pages too)
    covers the buildings of the ads it stored. Runs that did not end in a covering status
    cover nothing: those buildings have no data that day (null), not zero. A run is
    complete when it collected as many distinct ads as the site's total.
    """
    info = info if info is not None else buildings(db)
    marks = ",".join("?" * len(COVERING_STATUSES))
    runs = db.execute(
        "SELECT id, source, COALESCE(city, ''), district, building_id, COALESCE(kind, 'scrape'), "
        # A run for one site 小区 id that no registry building has covers only what it saw.
        "site_id IS NOT NULL, "
        "COALESCE(site_total IS NOT NULL AND distinct_listings >= site_total, 0) "
        f"FROM runs r WHERE as_of = ? AND status IN ({marks}) ORDER BY id",
        [day, *COVERING_STATUSES],
    ).fetchall()
    covered: dict[int, set[str]] = {}
    complete: dict[int, set[str]] = {}
    for run_id, source, city, district, building_id, kind, by_site_id, is_complete in runs:
        seen = db.execute(
            "SELECT DISTINCT l.building_id, l.district FROM listing_observations o "
            "JOIN listings l ON l.id = o.listing_id WHERE o.run_id = ? AND o.date = ?",
            [run_id, day],
        ).fetchall()
        reached = {b for b, _ in seen if b is not None}
        if kind == "scrape":
            if building_id is not None:
                reached.add(building_id)
            elif district:
                names = {d for _, d in seen if d}
                reached.update(
                    b.id
                    for b in info.values()
                    if b.city in (city, "") and _district_matches(b.district, district, names)
                )
            elif not by_site_id:
                reached.update(
                    b.id for b in info.values() if b.city in (city, "") and b.status != "merged"
                )
        for b in reached:
            covered.setdefault(b, set()).add(source)
            if is_complete:
                complete.setdefault(b, set()).add(source)
    return covered, complete


def set_first_watched(db: sqlite_utils.Database, first_watched: dict[int, str]) -> None:
    """Store buildings' first day watched (building id -> day; caller holds the
    transaction)."""
    db.conn.executemany(
        "UPDATE buildings SET first_watched = ? WHERE id = ?",
        [(day, building_id) for building_id, day in first_watched.items()],
    )


def observed_days(db: sqlite_utils.Database, start: str, end: str) -> list[str]:
    """Days from ``start`` to ``end`` with at least one run in a covering status."""
    marks = ",".join("?" * len(COVERING_STATUSES))
    return [
        r[0]
        for r in db.execute(
            f"SELECT DISTINCT as_of FROM runs WHERE as_of BETWEEN ? AND ? AND status IN ({marks}) "
            "ORDER BY as_of",
            [start, end, *COVERING_STATUSES],
        ).fetchall()
    ]


def replace_day(
    db: sqlite_utils.Database,
    day: str,
    building_rows: Sequence[dict[str, Any]],
    district_rows: Sequence[dict[str, Any]],
) -> None:
    """Replace every snapshot row of ``day`` (caller holds the transaction)."""
    replace_day_rows(db, "building_daily", BUILDING_COLUMNS, day, building_rows)
    replace_day_rows(db, "district_daily", DISTRICT_COLUMNS, day, district_rows)


def day_rows(db: sqlite_utils.Database, day: str) -> list[dict[str, Any]]:
    """A day's building rows with the building's name, for showing."""
    return list(
        db.query(
            "SELECT d.*, b.name, b.district FROM building_daily d JOIN buildings b ON b.id = d.building_id "
            "WHERE d.date = ? ORDER BY d.units IS NULL, d.units DESC, b.name",
            [day],
        )
    )


def building_days(db: sqlite_utils.Database, start: str, before: str) -> dict[int, set[str]]:
    """The days from ``start`` up to (not including) ``before`` on which each building had
    data, read from their snapshot rows."""
    out: dict[int, set[str]] = {}
    for building_id, d in db.execute(
        "SELECT building_id, date FROM building_daily WHERE date >= ? AND date < ? "
        "AND listings IS NOT NULL",
        [start, before],
    ).fetchall():
        out.setdefault(building_id, set()).add(d)
    return out
