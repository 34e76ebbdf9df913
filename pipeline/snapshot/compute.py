"""Compute: one day's snapshot from the loaded window, pure (no database).

normalize -> de-duplicate -> lifecycle -> the ``building_daily`` and ``district_daily``
rows. The grouping of new ads into units and the lifecycle of a building's units are
strategies passed in (``Strategies``), so that a benchmark can put another in their
place (bench/eval_bounds.py). Units created today come out without an id: the write
step gives them one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from db.snapshots import BUILDING_COLUMNS
from db.units import WindowListing
from pipeline.buildings.resolve import ResolveReport
from pipeline.dates import days_between
from pipeline.snapshot.counts import estimate_counts
from pipeline.snapshot.load import SnapshotInput
from pipeline.snapshot.measures import Live, building_measures, district_row, mode
from pipeline.units.advertisers import shared_keys
from pipeline.units.dedup import assign_units
from pipeline.units.estimate import BuildingDay
from pipeline.units.fitted import (
    fit_grouping_params,
    jitter_without_rounding,
    params_rows,
    shared_rows,
    with_flat_spread,
)
from pipeline.units.model import AdState, Link, UnitState
from pipeline.units.normalize import (
    Ad,
    flag_ads,
    monthly_rent,
    normalize_area,
    normalize_orientation,
)
from pipeline.units.params import DEFAULT_PARAMS, MarketParams


class Grouping(Protocol):
    """Gives one building's new ads of a day their units (pipeline.units.dedup.assign_units)."""

    def __call__(
        self,
        new_ads: list[AdState],
        units: list[UnitState],
        day: str,
        first_watched: str | None = None,
        *,
        at_once: bool = True,
        params: MarketParams = DEFAULT_PARAMS,
    ) -> tuple[list[Link], list[UnitState]]: ...


#: One building's lifecycle and figures of a day (pipeline.snapshot.measures.building_measures).
Lifecycle = Callable[
    [list[UnitState], list[AdState], str, str, list[str], frozenset[str], MarketParams],
    tuple[dict[str, Any], Live, Live, list[tuple[UnitState, dict[str, Any]]]],
]


@dataclass(frozen=True, slots=True)
class Strategies:
    grouping: Grouping = assign_units
    lifecycle: Lifecycle = building_measures
    #: fit the de-duplication's parameters per city from the day's ads
    #: (pipeline.units.fitted); off: the parameters passed in are used as they are (the
    #: comparison in bench/eval_zoo.py --stated-params)
    fit_market: bool = True
    #: parameters given for a city and day, (city, day) -> MarketParams fields, put in
    #: place of the fitted ones before the ads are grouped (and recorded as used): how a
    #: benchmark sees what the grouping makes of the market's own ads per flat
    #: (bench/eval_zoo.py --true-ads-per-flat)
    given: Callable[[str, str], dict[str, Any]] | None = None


#: The snapshot's own strategies.
DEFAULT_STRATEGIES = Strategies()


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


@dataclass(slots=True)
class NewUnits:
    """One building's units created today and the day's links of its ads."""

    building_id: int
    created: list[UnitState]
    links: list[Link]


@dataclass(slots=True)
class SnapshotResult:
    """What the write step stores."""

    day: str
    report: SnapshotReport
    #: buildings whose first day watched changes (building id -> day)
    first_watched: dict[int, str]
    #: (flags, monthly rent, listing id) of the day's ads whose normalization changed
    flag_updates: list[tuple[str | None, float | None, int]]
    #: per building in id order, the units created and the links made, in that order
    new_units: list[NewUnits]
    #: each unit of the window with its new ``units`` columns
    unit_updates: list[tuple[UnitState, dict[str, Any]]]
    building_rows: list[dict[str, Any]]
    district_rows: list[dict[str, Any]]
    #: the market's parameters fitted today (db.market_params)
    market_rows: list[dict[str, Any]] = field(default_factory=list)


def ad_state(row: WindowListing, day: str) -> AdState:
    """The snapshot's view of a stored listing (its rents are added from observations)."""
    assert row.building_id is not None
    return AdState(
        id=row.id,
        building_id=row.building_id,
        unit_id=row.unit_id,
        source=row.source,
        agent=f"{row.source}:{row.agent_key}" if row.agent_key else None,
        tenure=row.tenure or "whole",
        layout=row.layout,
        area=normalize_area(row.area),
        floor_band=row.floor_band,
        total_floors=row.total_floors,
        orientation=normalize_orientation(row.orientation),
        first_seen=row.first_seen or day,
        subdistrict=row.subdistrict,
        created=row.created_on,
    )


def compute(
    inp: SnapshotInput,
    *,
    params: MarketParams = DEFAULT_PARAMS,
    strategies: Strategies = DEFAULT_STRATEGIES,
) -> SnapshotResult:
    """The day's rows and the units' changes from the loaded window."""
    day, start, info = inp.day, inp.start, inp.buildings
    report = SnapshotReport(day=day)
    # A building covered today was first watched today unless it was watched before
    # (re-running an earlier day moves its first day back).
    first_watched = {b: min(info[b].first_watched or day, day) for b in inp.covered if b in info}

    listings = {row.id: row for row in inp.listings}
    ads = {row.id: ad_state(row, day) for row in listings.values() if row.building_id is not None}
    for listing_id, obs_day, rent in inp.observations:
        ad = ads.get(listing_id)
        if ad is not None:
            stored = listings[listing_id]
            ad.rents[obs_day] = monthly_rent(rent, stored.rent_text, stored.rent_high)
    today_by_building: dict[int, list[AdState]] = defaultdict(list)
    for ad in ads.values():
        if ad.seen_on(day):
            today_by_building[ad.building_id].append(ad)

    flag_updates = _flag(today_by_building, listings, day, report, params)
    units = _units(inp, ads, day)
    units_by_building: dict[int, list[UnitState]] = defaultdict(list)
    for unit in units:
        units_by_building[unit.building_id].append(unit)

    # -- the market's parameters, fitted per city from the day's ads -----------------------
    city_params, fitted_rows = _fit_cities(
        inp, ads, today_by_building, units_by_building, listings, first_watched, params, strategies
    )

    # -- de-duplicate the day's new ads ---------------------------------------------------
    new_units: list[NewUnits] = []
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
        links, created = strategies.grouping(
            new,
            units_by_building[building_id],
            day,
            _first_watched(inp.observed, building_id, start, day),
            params=city_params.get(info[building_id].city, params),
        )
        new_units.append(NewUnits(building_id, created, links))
        report.units_created += len(created)
        report.ads_linked += len(links)

    # -- lifecycle and the day's rows ----------------------------------------------------
    building_rows: list[dict[str, Any]] = []
    unit_updates: list[tuple[UnitState, dict[str, Any]]] = []
    pooled: dict[tuple[str, str, str], dict[str, Any]] = {}
    fitted: dict[str, list[BuildingDay]] = defaultdict(list)
    for building_id in sorted(info):
        b = info[building_id]
        if building_id not in inp.covered:
            if b.status == "verified":
                building_rows.append(null_row(building_id, day, b.total_units))
                report.null_buildings += 1
            continue
        ads_today = today_by_building.get(building_id, [])
        measures, whole_live, shared_live, updates = strategies.lifecycle(
            units_by_building.get(building_id, []),
            ads_today,
            day,
            start,
            sorted({*inp.observed.get(building_id, ()), day}),
            frozenset(inp.complete.get(building_id, ())),
            city_params.get(b.city, params),
        )
        unit_updates.extend(updates)
        sources = sorted({a.source for a in ads_today} | inp.covered[building_id])
        row = {
            "building_id": building_id,
            "date": day,
            "listings": len(ads_today),
            **measures,
            "vacancy_rate": round(measures["units"] / b.total_units, 4) if b.total_units else None,
            "sources": ",".join(sources),
            "total_units": b.total_units,
            "days_watched": days_between(first_watched[building_id], day) + 1,
        }
        building_rows.append(row)
        fitted[b.city].append(
            BuildingDay(
                building_id,
                b.city,
                [u for u, _ in whole_live],
                [u for u in units_by_building.get(building_id, []) if u.tenure == "whole"],
                first_watched[building_id],
            )
        )
        subdistrict = b.subdistrict or mode([a.subdistrict for a in ads_today]) or ""
        for area_key in {(b.city, b.district, ""), (b.city, b.district, subdistrict)}:
            acc = pooled.setdefault(area_key, {"rows": [], "whole": [], "shared": []})
            acc["rows"].append(row)
            acc["whole"].extend(whole_live)
            acc["shared"].extend(shared_live)

    market_rows = fitted_rows + estimate_counts(inp, fitted, building_rows, params)
    for row in building_rows:  # after the estimate: it sets the interval
        if row["units"] is not None:
            _count(report, row)

    return SnapshotResult(
        day=day,
        market_rows=market_rows,
        report=report,
        first_watched={b: d for b, d in first_watched.items() if d != info[b].first_watched},
        flag_updates=flag_updates,
        new_units=new_units,
        unit_updates=unit_updates,
        building_rows=building_rows,
        district_rows=[district_row(k, acc, day) for k, acc in sorted(pooled.items())],
    )


def _fit_cities(
    inp: SnapshotInput,
    ads: dict[int, AdState],
    today_by_building: dict[int, list[AdState]],
    units_by_building: dict[int, list[UnitState]],
    listings: dict[int, WindowListing],
    first_watched: dict[int, str],
    params: MarketParams,
    strategies: Strategies,
) -> tuple[dict[str, MarketParams], list[dict[str, Any]]]:
    """Each city's de-duplication parameters for the day, fitted on its whole-flat ads of
    the day before any is grouped (each building's ads as one provisional unit: the fit
    reads look-alike groups and advertisers, not units), with the units of the window for
    what only they show (reposts); and the ``market_params`` rows saying what was used.

    An advertiser key the day's pairs show to be a label many advertisers share
    (pipeline.units.advertisers) is dropped from the city's ads before the parameters are
    fitted again and the ads grouped: such an ad's advertiser is unknown."""
    if not strategies.fit_market:
        return {}, []
    by_city: dict[str, list[BuildingDay]] = defaultdict(list)
    for building_id, ads_today in sorted(today_by_building.items()):
        b = inp.buildings.get(building_id)
        if b is None:
            continue
        whole = [
            a
            for a in ads_today
            if not a.flags and a.tenure == "whole" and not listings[a.id].is_apartment
        ]
        if not whole:
            continue
        provisional = UnitState.of_ad(whole[0])
        provisional.ads = whole
        by_city[b.city].append(
            BuildingDay(
                building_id,
                b.city,
                [provisional],
                [u for u in units_by_building.get(building_id, []) if u.tenure == "whole"],
                first_watched.get(building_id),
            )
        )
    city_params: dict[str, MarketParams] = {}
    rows: list[dict[str, Any]] = []
    for city, buildings in sorted(by_city.items()):
        day_ads = [b.live[0].ads for b in buildings]
        fitted, n, fit = fit_grouping_params(city, buildings, inp.day, params)
        # the spread from two-ad look-alike groups (mostly one flat's two ads) when there
        # are enough of them; else the narrow part of all pairs of two keys
        from_pairs = fit.jitter_source == "pairs"
        true_jitter = jitter_without_rounding(fitted.rent_sigma, fit.rounding_sd)
        judged = shared_keys(
            day_ads,
            inp.day,
            fit.rounding_halfwidth,
            params,
            narrow_sd=math.sqrt(2) * true_jitter if from_pairs and true_jitter > 0 else None,
            first_watched=[b.first_watched for b in buildings],
        )
        for ad in ads.values():
            if ad.agent in judged.shared and inp.buildings[ad.building_id].city == city:
                ad.label, ad.agent = ad.agent, None
        if judged.shared or not from_pairs:
            # fitted again without the labels' rule, or on the mixture's spread; else the
            # first fit already is this one
            jitter = (
                (fitted.rent_sigma, fit.jitter_n)
                if from_pairs
                else (math.hypot(judged.narrow / math.sqrt(2), fit.rounding_sd), judged.cross_pairs)
            )
            fitted, n, fit = fit_grouping_params(city, buildings, inp.day, params, jitter)
        fitted, n = with_flat_spread(fitted, n, judged, fit.rounding_sd)
        if strategies.given is not None:
            fitted = replace(fitted, **strategies.given(city, inp.day))
        city_params[city] = fitted
        rows.extend(params_rows(city, inp.day, fitted, n, fit))
        rows.extend(shared_rows(city, inp.day, judged))
    return city_params, rows


def _flag(
    today_by_building: dict[int, list[AdState]],
    listings: dict[int, WindowListing],
    day: str,
    report: SnapshotReport,
    params: MarketParams,
) -> list[tuple[str | None, float | None, int]]:
    """Set the flags of the day's ads, per building; the listings whose stored ones change."""
    updates = []
    for ads_today in today_by_building.values():
        flags = flag_ads(
            (
                Ad(
                    a.id,
                    a.rents[day],
                    a.area,
                    a.tenure == "whole" and not listings[a.id].is_apartment,
                )
                for a in ads_today
            ),
            params,
        )
        for ad in ads_today:
            ad.flags = flags.get(ad.id, [])
            text = ",".join(ad.flags) or None
            stored = listings[ad.id]
            if text != stored.flags or ad.rents[day] != stored.rent_monthly:
                updates.append((text, ad.rents[day], ad.id))
            report.flagged += bool(ad.flags)
    return updates


def _units(inp: SnapshotInput, ads: dict[int, AdState], day: str) -> list[UnitState]:
    """The units known in the window, with their ads attached."""
    units: dict[int, UnitState] = {}
    for uid, u in inp.units.items():
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
    for _, uid, first, agent in inp.siblings:
        if uid in units and first and first <= day:
            units[uid].outside.append((first, agent))
    for unit in units.values():
        firsts = [a.first_seen for a in unit.ads] + [first for first, _ in unit.outside]
        unit.first_seen = min(firsts) if firsts else unit.first_seen
    return list(units.values())


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


def null_row(building_id: int, day: str, total_units: int | None) -> dict[str, Any]:
    """The row of a registry building no successful run covered: no data, not zero."""
    row: dict[str, Any] = dict.fromkeys(BUILDING_COLUMNS)
    row.update(building_id=building_id, date=day, total_units=total_units)
    return row


def _count(report: SnapshotReport, row: dict[str, Any]) -> None:
    report.buildings += 1
    report.listings += row["listings"]
    report.units += row["units"]
    report.units_low += row["units_low"]
    report.units_high += row["units_high"]
    report.new_units += row["new_units"]
    report.gone_units += row["gone_units"]
