"""A building's and an area's figures of one day, from its units: pure."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from pipeline.units.dedup import units_low
from pipeline.units.lifecycle import BuildingLife, days_on_market, price_cut
from pipeline.units.model import AdState, UnitState
from pipeline.units.params import DEFAULT_PARAMS, MarketParams

#: (unit, its rent that day) of the live units of one tenure
Live = list[tuple[UnitState, float | None]]


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    cuts = statistics.quantiles(values, n=4, method="inclusive")
    return round({0.25: cuts[0], 0.5: cuts[1], 0.75: cuts[2]}[q], 2)


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def mode(values: list[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


def unit_rent_today(unit: UnitState, day: str) -> float | None:
    rents = [r for a in unit.ads if a.seen_on(day) and not a.flags and (r := a.rents[day])]
    return statistics.median(rents) if rents else None


def building_measures(
    units: list[UnitState],
    ads_today: list[AdState],
    day: str,
    start: str,
    observed_days: list[str],
    complete_sources: frozenset[str] = frozenset(),
    params: MarketParams = DEFAULT_PARAMS,
) -> tuple[dict[str, Any], Live, Live, list[tuple[UnitState, dict[str, Any]]]]:
    """The lifecycle of one building's units on ``day`` and its figures.

    Returns the measures of its ``building_daily`` row, its live whole flats and shared
    rooms with their rents, and each unit's new state (the unit, its ``units`` columns).
    """
    whole_live: Live = []
    shared_live: Live = []
    updates: list[tuple[UnitState, dict[str, Any]]] = []
    gone = new = cuts = 0
    life = BuildingLife(units, start, {day: complete_sources}, params)
    for unit in units:
        live = life.live_on(unit, day)
        rent = unit_rent_today(unit, day) if live else None
        is_gone = not live and life.gone_on(unit, observed_days)
        if unit.tenure == "whole":
            if live:
                whole_live.append((unit, rent))
                new += unit.first_seen == day
                cuts += price_cut(unit, day, params)
            gone += is_gone
        elif live:
            shared_live.append((unit, rent))
        agents = {a.agent or f"?{a.id}" for a in unit.ads}
        status = "live" if live else ("gone" if is_gone or unit.status == "gone" else "unseen")
        updates.append(
            (
                unit,
                {
                    "last_seen": unit.last_seen_until(day),
                    "status": status,
                    "gone_on": day if is_gone else (unit.gone_on if status == "gone" else None),
                    "rent": rent,
                    "ads": len(unit.ads) + len(unit.outside),
                    "agents": len(agents),
                    "sources": ",".join(sorted({a.source for a in unit.ads})),
                    "reason": None,
                },
            )
        )
    live_ads = [a for unit, _ in whole_live for a in unit.ads if a.seen_on(day) and not a.flags]
    n_units = len(whole_live)
    rents = [r for _, r in whole_live if r]
    per_m2 = [r / u.area for u, r in whole_live if r and u.area]
    room_rents = [r for _, r in shared_live if r]
    measures = {
        "units": n_units,
        # units_low and units_high, the interval, come with the count model (snapshot.counts)
        "units_min": min(units_low(live_ads, params), n_units),
        "units_max": max(len(live_ads), n_units),
        "rooms": len(shared_live),
        "median_rent": median(rents),
        "p25_rent": quantile(rents, 0.25),
        "p75_rent": quantile(rents, 0.75),
        "median_rent_per_m2": median(per_m2),
        "median_room_rent": median(room_rents),
        "new_units": new,
        "gone_units": gone,
        "price_cuts": cuts,
        "median_days_on_market": median([float(days_on_market(u, day)) for u, _ in whole_live]),
    }
    return measures, whole_live, shared_live, updates


def district_row(key: tuple[str, str, str], acc: dict[str, Any], day: str) -> dict[str, Any]:
    """The ``district_daily`` row of an area from its buildings' rows and live units."""
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
        "units_min": sum(r["units_min"] for r in rows),
        "units_max": sum(r["units_max"] for r in rows),
        "rooms": sum(r["rooms"] for r in rows),
        "median_rent": median(rents),
        "p25_rent": quantile(rents, 0.25),
        "p75_rent": quantile(rents, 0.75),
        "median_rent_per_m2": median(per_m2),
        "median_room_rent": median([r for _, r in shared if r]),
        "vacancy_rate": round(known_units / total_units, 4) if total_units else None,
        "new_units": sum(r["new_units"] for r in rows),
        "gone_units": sum(r["gone_units"] for r in rows),
        "price_cuts": sum(r["price_cuts"] for r in rows),
        "median_days_on_market": median([float(days_on_market(u, day)) for u, _ in whole]),
        "sources": ",".join(
            sorted({s for r in rows for s in (r["sources"] or "").split(",") if s})
        ),
        "buildings": len(rows),
    }
