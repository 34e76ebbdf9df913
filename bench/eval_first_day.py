"""How well are the ads of a building's first day watched grouped into flats?

On the simulated market (warm-up on, as ``eval_sim.py``), every flat ad live on the first
day watched (bait left out) goes through ``assign_units`` per building, once grouped at
once by likelihood (pipeline/first_day.py, what the snapshot does) and once one by one
(the matching of later days, with unseen reposts), and both are scored against the sim's
ad -> flat map: the share of flats whose ads make exactly one unit holding nothing else,
and pairwise precision and recall (pairs of ads put in one unit that are one flat; pairs
of one flat's ads put in one unit).

    .venv/bin/python bench/eval_first_day.py --seeds 3,5,7,11,23,13,17   # seconds
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.units.dedup import assign_units  # noqa: E402
from pipeline.units.model import AdState  # noqa: E402
from rentwatch.sim.market import WARMUP_DAYS, Market  # noqa: E402


def first_day_ads(market: Market) -> dict[str, list[tuple[AdState, int]]]:
    """building -> (ad as the snapshot sees it, id of its true flat) on day 0."""
    day = market.date_of(0)
    by_building: dict[str, list[tuple[AdState, int]]] = defaultdict(list)
    for n, sim_ad in enumerate(market.live_ads(0)):
        if sim_ad.flat is None or sim_ad.bait:
            continue
        flat = sim_ad.flat
        created = (market.start + timedelta(days=sim_ad.start)).isoformat()
        ad = AdState(
            n, 0, None, "sim", f"sim:{sim_ad.agency}", "whole", sim_ad.layout,
            float(sim_ad.area), sim_ad.band, flat.building.floors, sim_ad.orientation, day,
            {day: float(sim_ad.rent)}, created=created,
        )  # fmt: skip
        by_building[flat.building.name].append((ad, id(flat)))
    return by_building


def score(groups: list[dict[int, int]], flat_of: list[dict[int, int]]) -> dict[str, float]:
    """Exact share, pairwise precision and recall over buildings (ad id -> unit / flat)."""
    exact = flats_total = together = right = same_flat = 0
    for unit_of, flat in zip(groups, flat_of, strict=True):
        units, flats = defaultdict(set), defaultdict(set)
        for ad, unit in unit_of.items():
            units[unit].add(flat[ad])
            flats[flat[ad]].add(unit)
        flats_total += len(flats)
        exact += sum(len(us) == 1 and len(units[next(iter(us))]) == 1 for us in flats.values())
        for a, b in itertools.combinations(unit_of, 2):
            one_unit, one_flat = unit_of[a] == unit_of[b], flat[a] == flat[b]
            together += one_unit
            right += one_unit and one_flat
            same_flat += one_flat
    return {
        "exact": exact / flats_total,
        "precision": right / together if together else 1.0,
        "recall": right / same_flat if same_flat else 1.0,
        "flats": flats_total,
    }


def run(seed: int, warmup: int) -> dict[str, dict[str, float]]:
    market = Market(seed=seed, days=30, warmup=warmup)
    market.advance()
    day = market.date_of(0)
    out = {}
    for label, at_once in (("at once", True), ("one by one", False)):
        groups, flats = [], []
        for ads in first_day_ads(market).values():
            links, _ = assign_units([a for a, _ in ads], [], day, day, at_once=at_once)
            groups.append({link.ad.id: id(link.unit) for link in links})
            flats.append({a.id: flat for a, flat in ads})
        out[label] = score(groups, flats)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="3,5,7,11,23,13,17")
    parser.add_argument("--warmup", type=int, default=WARMUP_DAYS)
    args = parser.parse_args()
    print("| seed | flats | exact: at once / one by one | precision | recall |")
    print("|---|---:|---:|---:|---:|")
    for seed in (int(s) for s in args.seeds.split(",")):
        r = run(seed, args.warmup)
        a, b = r["at once"], r["one by one"]
        print(
            f"| {seed} | {a['flats']:,} | {a['exact']:.1%} / {b['exact']:.1%} | "
            f"{a['precision']:.3f} / {b['precision']:.3f} | {a['recall']:.3f} / {b['recall']:.3f} |"
        )


if __name__ == "__main__":
    main()
