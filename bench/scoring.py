"""Research scores of the simulated market: what perfect de-duplication would leave, and
how the units split or merge the true flats. They read the simulation's own answers
(which flat each ad advertises), so they live with the benchmarks, not with the product.

``grouping_floor(db, market)`` gives the ``median_rent`` error perfect de-duplication
would leave; ``grouping_errors(db, market)`` how often the units split a flat or merge
two.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

import sqlite_utils

from db import evaluation as evaluation_sql
from rentwatch.sim.market import Market


def _within(day: str, since: str | None, until: str | None) -> bool:
    return (since is None or day >= since) and (until is None or day <= until)


def _ape(estimate: float, truth: float) -> float:
    return abs(estimate - truth) / truth


def grouping_floor(
    db: sqlite_utils.Database,
    market: Market,
    *,
    min_vacant: int = 5,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """The ``median_rent`` error left if de-duplication were perfect, and its parts.

    Each building-day's observed ads (bait ads left out by the simulation's own flag)
    are grouped by the flat they really advertise; a flat's rent is the median of its
    ads' rents that day and the building's median is taken over those flats, then
    scored like ``evaluate`` (MAPE over building-days with at least ``min_vacant`` truly
    empty flats and at least one ad seen, from ``since`` to ``until`` when given):
    ``median_rent_mape``. What remains comes from
    what the ads show: flats not advertised yet (agencies list a flat up to two days
    after it empties), let flats whose ads linger, and agencies' prices a few % off the
    landlord's.

    Two more figures take only the ads of flats still empty that day, as a perfect
    lifecycle would: grouped by their true flat (``empty_only_mape``: what the lingering
    ads of let flats cost is the difference from ``median_rent_mape``), and grouped by
    the pipeline's units (``units_empty_only_mape``: what the grouping costs is the
    difference from ``empty_only_mape``).
    """
    seen: dict[tuple[str, str], list[tuple[int, int | None, float]]] = {}
    for code, day, rent, unit_id in evaluation_sql.observed_rents(db):
        ad = market.ad_by_code.get(code)
        if ad is None or ad.flat is None or ad.bait:
            continue
        seen.setdefault((ad.flat.building.name, day), []).append((id(ad.flat), unit_id, rent))
    errors: dict[str, list[float]] = {"all": [], "empty": [], "units_empty": []}
    for key, t in sorted(market.truth.items()):
        ads = seen.get(key)
        if t.vacant < min_vacant or not t.median_rent or not ads:
            continue
        if not _within(key[1], since, until):
            continue
        errors["all"].append(
            _ape(_median_of_groups((flat, r) for flat, _, r in ads), t.median_rent)
        )
        empty = market.empty_flats.get(key, frozenset())
        still = [(flat, unit, r) for flat, unit, r in ads if flat in empty]
        if still:
            by_flat = _median_of_groups((flat, r) for flat, _, r in still)
            by_unit = _median_of_groups((unit or -i, r) for i, (_, unit, r) in enumerate(still))
            errors["empty"].append(_ape(by_flat, t.median_rent))
            errors["units_empty"].append(_ape(by_unit, t.median_rent))

    def mape(values: list[float]) -> float | None:
        return round(statistics.fmean(values), 4) if values else None

    return {
        "building_days": len(errors["all"]),
        "median_rent_mape": mape(errors["all"]),
        "empty_only_building_days": len(errors["empty"]),
        "empty_only_mape": mape(errors["empty"]),
        "units_empty_only_mape": mape(errors["units_empty"]),
    }


def _median_of_groups(pairs: Iterable[tuple[Any, float]]) -> float:
    """The median over groups of each group's median rent."""
    groups: dict[Any, list[float]] = {}
    for key, rent in pairs:
        groups.setdefault(key, []).append(rent)
    return statistics.median(statistics.median(r) for r in groups.values())


def grouping_errors(db: sqlite_utils.Database, market: Market) -> dict[str, Any]:
    """How the units group the ads the crawl saw, against the flats the ads advertise.

    Per flat and day with an ad seen (bait ads left out, by the simulation's own flag):
    ``split`` is the share of flat-days whose ads sit in two or more units (the flat is
    counted more than once), ``merged`` the share whose units hold another flat's ads too
    (a flat is lost in the count). Flats whose ads were already up on the crawl's first
    day (``first_day``: they all appear at once, so timing tells nothing) are scored
    apart from the flats advertised later (``later``). ``reposts``: links of kind repost,
    and how many of them went to a unit holding no earlier ad of the same flat by the
    same agency; ``unseen_reposts``: links of kind unseen_repost (the old ad was never
    seen), and how many went to a unit holding no other ad of the same flat.
    """
    seen = evaluation_sql.observed_units(db)
    first_day = min((day for _, _, day in seen), default=None)
    units_of: dict[tuple[int, str], set[int]] = {}
    flats_in: dict[tuple[int, str], set[int]] = {}
    flat_first: dict[int, str] = {}
    for code, unit_id, day in seen:
        ad = market.ad_by_code.get(code)
        if ad is None or ad.flat is None or ad.bait:
            continue
        flat = id(ad.flat)
        units_of.setdefault((flat, day), set()).add(unit_id)
        flats_in.setdefault((unit_id, day), set()).add(flat)
        flat_first[flat] = min(flat_first.get(flat, day), day)
    counts = {"first_day": [0, 0, 0], "later": [0, 0, 0]}  # flat-days, split, merged
    for (flat, day), units in units_of.items():
        tally = counts["first_day" if flat_first[flat] == first_day else "later"]
        tally[0] += 1
        tally[1] += len(units) > 1
        tally[2] += any(len(flats_in[(u, day)]) > 1 for u in units)

    unit_ads: dict[int, list[tuple[str, str | None]]] = {}
    for code, unit_id, first_seen in evaluation_sql.unit_ads(db):
        unit_ads.setdefault(unit_id, []).append((code, first_seen))
    tallies = {"repost": [0, 0], "unseen_repost": [0, 0]}  # links, wrong
    for code, unit_id, first_seen, kind in evaluation_sql.repost_links(db):
        ad = market.ad_by_code.get(code)
        if ad is None or ad.flat is None:
            continue
        tally = tallies[kind]
        tally[0] += 1
        if kind == "repost":
            earlier = (
                market.ad_by_code.get(other)
                for other, other_first in unit_ads.get(unit_id, [])
                if other != code and other_first and first_seen and other_first < first_seen
            )
            right = any(
                o is not None and o.flat is ad.flat and o.agency == ad.agency for o in earlier
            )
        else:
            others = (market.ad_by_code.get(o) for o, _ in unit_ads.get(unit_id, []) if o != code)
            right = any(o is not None and o.flat is ad.flat for o in others)
        tally[1] += not right

    def shares(tally: list[int]) -> dict[str, Any]:
        n, split, merged = tally
        return {
            "flat_days": n,
            "split": round(split / n, 4) if n else None,
            "merged": round(merged / n, 4) if n else None,
        }

    return {
        "first_day": shares(counts["first_day"]),
        "later": shares(counts["later"]),
        "reposts": dict(zip(("links", "wrong"), tallies["repost"], strict=True)),
        "unseen_reposts": dict(zip(("links", "wrong"), tallies["unseen_repost"], strict=True)),
    }
