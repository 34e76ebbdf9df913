"""Where the rest of the error is: the simulated market with one part of the pipeline perfect.

Each run is ``eval_sim.py``'s (30 days, warm-up on, scrape and snapshot as ever), with one
part of the de-duplication done by the simulation's ad -> flat map instead of our rules:
a bound that no data gives, telling how much of ``units`` and ``median_rent`` error that
part still holds.

    ours          nothing replaced
    first-day     the first day's ads grouped by the flats they advertise
    later-flats   the ads of flats first advertised after the first day grouped by flat
                  (reposts and ads of flats already on offer on the first day: our rules)
    later         every later day's new ads to the unit of their flat, reposts too (this
                  also mends the first day's split flats as their ads are reposted)
    all           every day's new ads

Every run also scores the lifecycle building-day by building-day against the truth:
*phantoms* are counted units whose ads seen that day all advertise let flats (lingering
ads), *dropped* are uncounted units holding the only ads seen of a flat still empty; it
prints the ``median_rent`` error with the phantoms left out, with the dropped units
counted, and with both mended.

    .venv/bin/python bench/eval_bounds.py --seeds 3,11 --parts ours,first-day,later-flats
    # about 3 minutes a run, two runs at a time
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db import open_db  # noqa: E402
from pipeline.dates import days_between  # noqa: E402
from pipeline.snapshot import Strategies  # noqa: E402
from pipeline.snapshot.measures import building_measures  # noqa: E402
from pipeline.units.dedup import assign_units, describe  # noqa: E402
from pipeline.units.model import AdState, Link, UnitState  # noqa: E402
from pipeline.units.params import DEFAULT_PARAMS, MarketParams  # noqa: E402
from rentwatch.sim import evaluate, run_simulation  # noqa: E402
from rentwatch.sim.market import Market  # noqa: E402

PARTS = ("ours", "first-day", "later-flats", "later", "all")


class TrueFlatGrouping:
    """``assign_units`` with some new ads put with the unit of the flat they advertise.

    An ad in scope joins the unit of its building and look that holds an ad of its flat
    seen in the last few days; otherwise it starts a unit of its own. Ads out of scope,
    and ads the simulation does not know (shared rooms), go through our rules, after the
    ones in scope.
    """

    def __init__(self, db_path: str, market: Market, part: str) -> None:
        self.db_path = db_path
        self.market = market
        self.part = part
        self.first_day = market.date_of(0)
        # Flats with an ad up on the first day watched: "later-flats" leaves them to us.
        self.first_day_flats = {
            id(ad.flat) for ad in market.ad_by_code.values() if ad.flat and ad.start <= 0
        }
        self._conn: sqlite3.Connection | None = None
        self._flats: dict[int, int | None] = {}

    def _flat_of(self, ads: list[AdState]) -> dict[int, int]:
        """listing id -> id() of the sim flat it advertises, bait left out."""
        if self._conn is None:
            self._conn = sqlite3.connect(self.db_path)
        # A listing's flat never changes: ask the database only for listings not met yet.
        ids = [a.id for a in ads if a.id not in self._flats]
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            marks = ",".join("?" * len(chunk))
            for listing, code in self._conn.execute(
                f"SELECT id, listing_id FROM listings WHERE id IN ({marks})", chunk
            ):
                sim_ad = self.market.ad_by_code.get(code)
                honest = sim_ad is not None and sim_ad.flat is not None and not sim_ad.bait
                self._flats[listing] = id(sim_ad.flat) if honest else None
        return {a.id: flat for a in ads if (flat := self._flats.get(a.id)) is not None}

    def _in_scope(self, day: str, flat: int) -> bool:
        if self.part == "all":
            return True
        if day == self.first_day:
            return self.part == "first-day"
        if self.part == "later":
            return True
        return self.part == "later-flats" and flat not in self.first_day_flats

    def __call__(
        self,
        new_ads: list[AdState],
        units: list[UnitState],
        day: str,
        first_watched: str | None = None,
        *,
        at_once: bool = True,
        params: MarketParams = DEFAULT_PARAMS,
    ) -> tuple[list[Link], list[UnitState]]:
        flat_of = self._flat_of([*new_ads, *(a for u in units for a in u.ads)])
        unit_of_flat: dict[tuple[int, tuple], UnitState] = {}
        for unit in units:
            last = unit.last_seen_until(day)
            if last is None or days_between(last, day) > params.alive_days:
                continue
            for ad in unit.ads:
                if ad.id in flat_of:
                    unit_of_flat[(flat_of[ad.id], unit.key)] = unit
        links: list[Link] = []
        created: list[UnitState] = []
        rest: list[AdState] = []
        for ad in new_ads:
            flat = flat_of.get(ad.id)
            if flat is None or not self._in_scope(day, flat):
                rest.append(ad)
                continue
            probe = UnitState.of_ad(ad)
            unit = unit_of_flat.get((flat, probe.key))
            if unit is not None:
                unit.ads.append(ad)
                links.append(Link(ad, unit, "match", "the flat it advertises (sim)", 0.0))
                continue
            probe.reason = f"{describe(probe)}; the flat it advertises (sim)"
            units.append(probe)
            created.append(probe)
            unit_of_flat[(flat, probe.key)] = probe
            links.append(Link(ad, probe, "first", "the flat it advertises (sim)", 0.0))
        if rest:
            more_links, more_units = assign_units(
                rest, units, day, first_watched, at_once=at_once, params=params
            )
            links += more_links
            created += more_units
        return links, created


class LifecycleCheck:
    """The snapshot's lifecycle strategy (``building_measures``), keeping per building-day
    each unit with an ad seen: whether it was counted, its ads seen (ids) and its rent
    that day."""

    def __init__(self) -> None:
        self.days: dict[tuple[int, str], list[tuple[bool, list[int], float | None]]] = {}

    def __call__(self, units: list[UnitState], ads_today: list[AdState], day: str, *args: Any):
        result = building_measures(units, ads_today, day, *args)
        counted = {id(u) for u, _ in result[1]}
        rows = []
        for unit in units:
            if unit.tenure != "whole":
                continue
            seen = [a for a in unit.ads if a.seen_on(day) and not a.flags]
            if seen:
                rents = [a.rents[day] for a in seen if a.rents.get(day)]
                rows.append(
                    (
                        id(unit) in counted,
                        [a.id for a in seen],
                        statistics.median(rents) if rents else None,
                    )
                )
        if units:
            self.days[(units[0].building_id, day)] = rows
        return result

    def score(self, db_path: str, market: Market) -> dict[str, Any]:
        conn = sqlite3.connect(db_path)
        code_of = dict(conn.execute("SELECT id, listing_id FROM listings"))
        name_of = dict(conn.execute("SELECT id, name FROM buildings"))
        conn.close()

        def flats(ids: list[int]) -> set[int]:
            sim_ads = (market.ad_by_code.get(code_of[i]) for i in ids)
            return {id(a.flat) for a in sim_ads if a is not None and a.flat and not a.bait}

        tally: Counter[str] = Counter()
        errors: dict[str, list[float]] = defaultdict(list)
        for (building_id, day), rows in self.days.items():
            truth = market.truth.get((name_of[building_id], day))
            if truth is None or truth.vacant < 5 or not truth.median_rent:
                continue
            empty = market.empty_flats[(name_of[building_id], day)]
            covered = set().union(*(flats(ids) & empty for on, ids, _ in rows if on))
            medians: dict[str, list[float]] = defaultdict(list)
            for counted, ids, rent in rows:
                of_empty = flats(ids) & empty
                phantom = counted and not of_empty
                dropped = not counted and bool(of_empty - covered)
                tally["counted"] += counted
                tally["phantoms"] += phantom
                tally["dropped"] += dropped
                if rent is None:
                    continue
                if counted:
                    medians["ours"].append(rent)
                if counted and not phantom:
                    medians["without_phantoms"].append(rent)
                    medians["both_mended"].append(rent)
                if counted or dropped:
                    medians["with_dropped"].append(rent)
                if dropped:
                    medians["both_mended"].append(rent)
            for key, rents in medians.items():
                errors[key].append(abs(statistics.median(rents) / truth.median_rent - 1))
        return {
            **tally,
            **{f"median_rent_{k}": round(statistics.fmean(v), 4) for k, v in errors.items()},
        }


def run(seed: int, part: str, days: int = 30, scale: float = 1.0) -> dict[str, Any]:
    """One run of ``days`` days of ``seed`` with ``part`` done by the sim's ad -> flat map."""
    with tempfile.TemporaryDirectory() as tmp:
        db_path = str(Path(tmp) / "sim.db")
        market_box: list[Market] = []
        lifecycle = LifecycleCheck()
        # the market exists once run_simulation made it: the oracle is built on first use
        oracle: list[TrueFlatGrouping] = []

        def grouping(*args: Any, **kwargs: Any) -> tuple[list[Link], list[UnitState]]:
            if part == "ours":
                return assign_units(*args, **kwargs)
            if not oracle:
                oracle.append(TrueFlatGrouping(db_path, market_box[0], part))
            return oracle[0](*args, **kwargs)

        strategies = Strategies(grouping=grouping, lifecycle=lifecycle)
        result = run_simulation(
            db_path,
            days=days,
            seed=seed,
            scale=scale,
            strategies=strategies,
            on_market=market_box.append,
        )
        db = open_db(db_path)
        scores = evaluate(db, result.truth)
        db.close()
        return {
            "seed": seed,
            "part": part,
            "units": scores["units_mape"],
            "median_rent": scores["median_rent_mape"],
            "lifecycle": lifecycle.score(db_path, market_box[0]),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="3", help="comma-separated seeds")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scale", type=float, default=1.0, help="city size (1: ~3,600 ads a day)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"of {', '.join(PARTS)}")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    parts = args.parts.split(",")
    for part in parts:
        if part not in PARTS:
            parser.error(f"unknown part {part!r}: choose from {', '.join(PARTS)}")
    jobs = [(seed, part, args.days, args.scale) for seed in seeds for part in parts]
    print(
        "| seed | perfect part | `units` | `median_rent` | phantoms / dropped / counted "
        "unit-days | `median_rent` without phantoms | with dropped | both |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    with ProcessPoolExecutor(2) as pool:
        for r in pool.map(run, *zip(*jobs, strict=True)):
            life = r["lifecycle"]
            print(
                f"| {r['seed']} | {r['part']} | {r['units']:.2%} | {r['median_rent']:.2%} | "
                f"{life['phantoms']} / {life['dropped']} / {life['counted']} | "
                f"{life['median_rent_without_phantoms']:.2%} | "
                f"{life['median_rent_with_dropped']:.2%} | {life['median_rent_both_mended']:.2%} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
