"""The daily snapshot: resolve -> normalize -> de-duplicate -> lifecycle -> building_daily
and district_daily rows for one day.

It reads only a window of WINDOW_DAYS days of observations ending on the day (plus the
units those ads belong to), never the whole history, so one more day costs the same
after a month or after a year. The day's rows are replaced: re-running a day gives the
same rows. Days are meant to be computed in date order (``snapshot_range`` does): a
unit's ``gone`` day needs the building's earlier observed days, read from the rows of
the days before.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlite_utils

from db import snapshots as snap_sql
from db import units as unit_sql
from pipeline.buildings.resolve import ResolveReport, resolve_listings
from pipeline.dates import day_range, parse_day, shift_day
from pipeline.units.dedup import AdState, UnitState, assign_units, days_between, units_low
from pipeline.units.lifecycle import BuildingLife, days_on_market, price_cut
from pipeline.units.normalize import (
    Ad,
    flag_ads,
    monthly_rent,
    normalize_area,
    normalize_orientation,
)
from scrapers import registry
from scrapers.errors import UnknownSource
from scrapers.source import Source

log = logging.getLogger(__name__)

#: Days of observations (ending on the snapshot day) one snapshot reads.
WINDOW_DAYS = 8


@dataclass(slots=True)
class SnapshotReport:
    day: str
    buildings: int = 0  # buildings with data that day
    null_buildings: int = 0  # registry buildings with no successful observation (null row)
    listings: int = 0
    units: int = 0
    units_low: int = 0
    units_high: int = 0
    new_units: int = 0
    gone_units: int = 0
    flagged: int = 0
    units_created: int = 0
    ads_linked: int = 0
    seconds: float = 0.0
    resolve: ResolveReport = field(default_factory=ResolveReport)


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    cuts = statistics.quantiles(values, n=4, method="inclusive")
    return round({0.25: cuts[0], 0.5: cuts[1], 0.75: cuts[2]}[q], 2)


@lru_cache(maxsize=64)
def _source(name: str) -> Source | None:
    try:
        return registry.get_source(name)
    except UnknownSource:
        return None  # stored by a source no longer defined: its ids tell nothing


def _created_on(source_name: str, listing_id: str) -> str | None:
    source = _source(source_name)
    return source.created_on(listing_id) if source is not None else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def snapshot_day(db: sqlite_utils.Database, day: str) -> SnapshotReport:
    """(Re)compute ``building_daily`` and ``district_daily`` for ``day``. One transaction."""
    day = parse_day(day)
    started = time.perf_counter()
    report = SnapshotReport(day=day)
    report.resolve = resolve_listings(db)
    with db.conn:
        _snapshot(db, day, report)
    report.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "snapshot %s: %s buildings, %s units in %.2fs",
        day,
        report.buildings,
        report.units,
        report.seconds,
    )
    return report


def snapshot_range(db: sqlite_utils.Database, since: str, until: str) -> list[SnapshotReport]:
    """Every day from ``since`` to ``until`` in order."""
    return [snapshot_day(db, d) for d in day_range(since, until)]


def _snapshot(db: sqlite_utils.Database, day: str, report: SnapshotReport) -> None:
    info = snap_sql.buildings(db)
    covered, complete = snap_sql.covered_buildings(db, day, info)
    # A building covered today was first watched today unless it was watched before
    # (re-running an earlier day moves its first day back).
    first_watched = {b: min(info[b].first_watched or day, day) for b in covered if b in info}
    snap_sql.set_first_watched(
        db, {b: d for b, d in first_watched.items() if d != info[b].first_watched}
    )
    start = shift_day(day, -(WINDOW_DAYS - 1))

    listings = {row.id: row for row in unit_sql.window_listings(db, start, day)}
    ads: dict[int, AdState] = {}
    for row in listings.values():
        if row.building_id is None:
            continue
        tenure = row.tenure or "whole"
        ads[row.id] = AdState(
            id=row.id,
            building_id=row.building_id,
            unit_id=row.unit_id,
            source=row.source,
            agent=f"{row.source}:{row.agent_key}" if row.agent_key else None,
            tenure=tenure,
            layout=row.layout,
            area=normalize_area(row.area),
            floor_band=row.floor_band,
            total_floors=row.total_floors,
            orientation=normalize_orientation(row.orientation),
            first_seen=row.first_seen or day,
            subdistrict=row.subdistrict,
            created=_created_on(row.source, row.listing_id),
        )
    for listing_id, obs_day, rent in unit_sql.window_observations(db, start, day):
        ad = ads.get(listing_id)
        if ad is not None:
            row = listings[listing_id]
            ad.rents[obs_day] = monthly_rent(rent, row.rent_text, row.rent_high)

    today_by_building: dict[int, list[AdState]] = defaultdict(list)
    for ad in ads.values():
        if ad.seen_on(day):
            today_by_building[ad.building_id].append(ad)

    # -- normalize: flags of the day's ads, per building --------------------------------
    flag_updates = []
    for ads_today in today_by_building.values():
        flags = flag_ads(
            Ad(a.id, a.rents[day], a.area, a.tenure == "whole" and not listings[a.id].is_apartment)
            for a in ads_today
        )
        for ad in ads_today:
            ad.flags = flags.get(ad.id, [])
            text = ",".join(ad.flags) or None
            row = listings[ad.id]
            if text != row.flags or ad.rents[day] != row.rent_monthly:
                flag_updates.append((text, ad.rents[day], ad.id))
            report.flagged += bool(ad.flags)
    unit_sql.set_listing_flags(db, flag_updates)

    # -- units known in the window -----------------------------------------------------
    unit_ids = sorted({a.unit_id for a in ads.values() if a.unit_id is not None})
    unit_rows = unit_sql.units_by_id(db, unit_ids)
    units: dict[int, UnitState] = {}
    for uid, u in unit_rows.items():
        units[uid] = UnitState(
            id=uid,
            building_id=u.building_id,
            tenure=u.tenure or "whole",
            layout=u.layout,
            area=u.area,
            floor_band=u.floor_band,
            total_floors=u.total_floors,
            orientation=u.orientation,
            first_seen=u.first_seen or day,
            reason=u.reason,
            status=u.status,
            gone_on=u.gone_on,
        )
    for ad in ads.values():
        if ad.unit_id in units:
            units[ad.unit_id].ads.append(ad)
    for _, uid, first, agent in unit_sql.sibling_listings(db, unit_ids, exclude=set(listings)):
        if uid in units and first and first <= day:
            units[uid].outside.append((first, agent))
    for unit in units.values():
        firsts = [a.first_seen for a in unit.ads] + [first for first, _ in unit.outside]
        unit.first_seen = min(firsts) if firsts else unit.first_seen

    # -- de-duplicate the day's new ads ---------------------------------------------------
    units_by_building: dict[int, list[UnitState]] = defaultdict(list)
    for unit in units.values():
        units_by_building[unit.building_id].append(unit)
    observed = snap_sql.days_with_data(db, start, day)
    for building_id, ads_today in sorted(today_by_building.items()):
        new = [
            a
            for a in ads_today
            if a.unit_id is None
            and not a.flags
            and a.tenure in ("whole", "shared")
            and not listings[a.id].is_apartment
        ]
        if not new:
            continue
        links, created = assign_units(
            new,
            units_by_building[building_id],
            day,
            _first_watched(observed, building_id, start, day),
        )
        for unit in created:
            unit.id = unit_sql.insert_unit(
                db,
                {
                    "building_id": unit.building_id,
                    "tenure": unit.tenure,
                    "layout": unit.layout,
                    "area": unit.area,
                    "floor_band": unit.floor_band,
                    "total_floors": unit.total_floors,
                    "orientation": unit.orientation,
                    "first_seen": unit.first_seen,
                    "last_seen": day,
                    "status": "live",
                    "reason": unit.reason,
                    "ads": len(unit.ads),
                },
            )
            units[unit.id] = unit
        report.units_created += len(created)
        for link in links:
            link.ad.unit_id = link.unit.id
        unit_sql.link_listings(
            db,
            [
                {
                    "listing_id": link.ad.id,
                    "unit_id": link.unit.id,
                    "building_id": building_id,
                    "linked_on": day,
                    "kind": link.kind,
                    "reason": link.reason,
                    "score": link.score,
                }
                for link in links
            ],
        )
        report.ads_linked += len(links)

    # -- lifecycle and the day's rows ----------------------------------------------------
    building_rows: list[dict[str, Any]] = []
    unit_updates: list[dict[str, Any]] = []
    pooled: dict[tuple[str, str, str], dict[str, Any]] = {}
    for building_id in sorted(info):
        b = info[building_id]
        if building_id not in covered:
            if b.status == "verified":
                building_rows.append(_null_row(building_id, day, b.total_units))
                report.null_buildings += 1
            continue
        ads_today = today_by_building.get(building_id, [])
        days_b = sorted({*observed.get(building_id, ()), day})
        measures, whole_live, shared_live = _building_measures(
            units_by_building.get(building_id, []),
            ads_today,
            day,
            start,
            days_b,
            unit_updates,
            frozenset(complete.get(building_id, ())),
        )
        sources = sorted({a.source for a in ads_today} | covered[building_id])
        daily = {
            "building_id": building_id,
            "date": day,
            "listings": len(ads_today),
            **measures,
            "vacancy_rate": round(measures["units"] / b.total_units, 4) if b.total_units else None,
            "sources": ",".join(sources),
            "total_units": b.total_units,
            "days_watched": days_between(first_watched[building_id], day) + 1,
        }
        building_rows.append(daily)
        report.buildings += 1
        report.listings += daily["listings"]
        report.units += daily["units"]
        report.units_low += daily["units_low"]
        report.units_high += daily["units_high"]
        report.new_units += daily["new_units"]
        report.gone_units += daily["gone_units"]
        subdistrict = b.subdistrict or _mode([a.subdistrict for a in ads_today]) or ""
        for area_key in {(b.city, b.district, ""), (b.city, b.district, subdistrict)}:
            acc = pooled.setdefault(area_key, {"rows": [], "whole": [], "shared": []})
            acc["rows"].append(daily)
            acc["whole"].extend(whole_live)
            acc["shared"].extend(shared_live)

    unit_sql.update_units(db, unit_updates)
    district_rows = [_district_row(k, acc, day) for k, acc in sorted(pooled.items())]
    snap_sql.replace_day(db, day, building_rows, district_rows)


def _first_watched(
    observed: dict[int, set[str]], building_id: int, start: str, day: str
) -> str | None:
    """The first day the building was observed, or None when that was before the window.

    A building not observed on any earlier day of the window is watched from ``day`` (a
    building seen again after a week unwatched is, for reposts, watched anew).
    """
    days = observed.get(building_id)
    if not days:
        return day
    first = min(days)
    return None if first <= start else first


def _unit_rent_today(unit: UnitState, day: str) -> float | None:
    rents = [rent for a in unit.ads if a.seen_on(day) and not a.flags and (rent := a.rents[day])]
    return statistics.median(rents) if rents else None


def _building_measures(
    units: list[UnitState],
    ads_today: list[AdState],
    day: str,
    start: str,
    observed_days: list[str],
    unit_updates: list[dict[str, Any]],
    complete_sources: frozenset[str] = frozenset(),
) -> tuple[
    dict[str, Any], list[tuple[UnitState, float | None]], list[tuple[UnitState, float | None]]
]:
    whole_live: list[tuple[UnitState, float | None]] = []
    shared_live: list[tuple[UnitState, float | None]] = []
    gone = new = cuts = 0
    life = BuildingLife(units, start, {day: complete_sources})
    for unit in units:
        live = life.live_on(unit, day)
        rent = _unit_rent_today(unit, day) if live else None
        is_gone = not live and life.gone_on(unit, observed_days)
        if unit.tenure == "whole":
            if live:
                whole_live.append((unit, rent))
                new += unit.first_seen == day
                cuts += price_cut(unit, day)
            gone += is_gone
        elif live:
            shared_live.append((unit, rent))
        agents = {a.agent or f"?{a.id}" for a in unit.ads}
        status = "live" if live else ("gone" if is_gone or unit.status == "gone" else "unseen")
        unit_updates.append(
            {
                "id": unit.id,
                "last_seen": unit.last_seen_until(day),
                "status": status,
                "gone_on": day if is_gone else (unit.gone_on if status == "gone" else None),
                "rent": rent,
                "ads": len(unit.ads) + len(unit.outside),
                "agents": len(agents),
                "sources": ",".join(sorted({a.source for a in unit.ads})),
                "reason": None,
            }
        )
    live_ads = [a for unit, _ in whole_live for a in unit.ads if a.seen_on(day) and not a.flags]
    n_units = len(whole_live)
    rents = [r for _, r in whole_live if r]
    per_m2 = [r / u.area for u, r in whole_live if r and u.area]
    room_rents = [r for _, r in shared_live if r]
    measures = {
        "units": n_units,
        "units_low": min(units_low(live_ads), n_units),
        "units_high": max(len(live_ads), n_units),
        "rooms": len(shared_live),
        "median_rent": _median(rents),
        "p25_rent": _quantile(rents, 0.25),
        "p75_rent": _quantile(rents, 0.75),
        "median_rent_per_m2": _median(per_m2),
        "median_room_rent": _median(room_rents),
        "new_units": new,
        "gone_units": gone,
        "price_cuts": cuts,
        "median_days_on_market": _median([float(days_on_market(u, day)) for u, _ in whole_live]),
    }
    return measures, whole_live, shared_live


def _null_row(building_id: int, day: str, total_units: int | None) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(snap_sql.BUILDING_COLUMNS)
    row.update(building_id=building_id, date=day, total_units=total_units)
    return row


def _mode(values: list[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


def _district_row(key: tuple[str, str, str], acc: dict[str, Any], day: str) -> dict[str, Any]:
    city, district, subdistrict = key
    rows = acc["rows"]
    whole, shared = acc["whole"], acc["shared"]
    rents = [r for _, r in whole if r]
    per_m2 = [r / u.area for u, r in whole if r and u.area]
    total_units = sum(r["total_units"] or 0 for r in rows if r["total_units"])
    known_units = sum(r["units"] for r in rows if r["total_units"])
    return {
        "city": city,
        "district": district,
        "subdistrict": subdistrict,
        "date": day,
        "listings": sum(r["listings"] for r in rows),
        "units": sum(r["units"] for r in rows),
        "units_low": sum(r["units_low"] for r in rows),
        "units_high": sum(r["units_high"] for r in rows),
        "rooms": sum(r["rooms"] for r in rows),
        "median_rent": _median(rents),
        "p25_rent": _quantile(rents, 0.25),
        "p75_rent": _quantile(rents, 0.75),
        "median_rent_per_m2": _median(per_m2),
        "median_room_rent": _median([r for _, r in shared if r]),
        "vacancy_rate": round(known_units / total_units, 4) if total_units else None,
        "new_units": sum(r["new_units"] for r in rows),
        "gone_units": sum(r["gone_units"] for r in rows),
        "price_cuts": sum(r["price_cuts"] for r in rows),
        "median_days_on_market": _median([float(days_on_market(u, day)) for u, _ in whole]),
        "sources": ",".join(
            sorted({s for r in rows for s in (r["sources"] or "").split(",") if s})
        ),
        "buildings": len(rows),
    }
