"""Score rentwatch on the simulated market: units and median_rent against the truth.

Runs ``days`` simulated days through the real scrape (HTTP on 127.0.0.1, Lianjia markup,
per-district queries) and snapshot, then prints the mean absolute percentage error of
``units`` and of the plain ad count against the true number of empty flats (building-days
with at least 5), and of ``median_rent`` against the true median asking rent, beside the
``median_rent`` error that grouping every seen ad by its true flat would leave (the floor
no de-duplication can go below).

    .venv/bin/python bench/eval_sim.py --days 30            # about a minute
    .venv/bin/python bench/eval_sim.py --days 10 --scale 0.3
    .venv/bin/python bench/eval_sim.py --seeds 3,5,7,11,23  # a table row per seed, ~3 min
    .venv/bin/python bench/eval_sim.py --cli   # the same through `rentwatch scrape` and
                                               # `rentwatch snapshot` run as commands
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import sqlite_utils

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scoring import grouping_errors, grouping_floor  # noqa: E402
from db import open_db  # noqa: E402
from pipeline.snapshot.compute import Strategies  # noqa: E402
from rentwatch.sim import evaluate, run_simulation  # noqa: E402
from rentwatch.sim.market import WARMUP_DAYS, Truth  # noqa: E402


def median_error_by_size(
    db: sqlite_utils.Database,
    truth: dict[tuple[str, str], Truth],
    days: tuple[str, str] | None = None,
) -> dict[str, tuple[float, int]]:
    """median_rent MAPE per size class of the building-day (true empty flats): where the
    error is. In small buildings one unit more or less moves the median by a plan step."""
    rows = {
        (r[0], r[1]): r[2]
        for r in db.execute(
            "SELECT b.name, d.date, d.median_rent FROM building_daily d "
            "JOIN buildings b ON b.id = d.building_id"
        )
    }
    classes = (("5-9", 5, 9), ("10-14", 10, 14), ("15-29", 15, 29), ("30+", 30, 10**9))
    errors: dict[str, list[float]] = {label: [] for label, _, _ in classes}
    for (name, day), t in truth.items():
        estimate = rows.get((name, day))
        if t.vacant < 5 or not t.median_rent or not estimate:
            continue
        if days and not days[0] <= day <= days[1]:
            continue
        label = next(c[0] for c in classes if c[1] <= t.vacant <= c[2])
        errors[label].append(abs(estimate - t.median_rent) / t.median_rent)
    return {k: (statistics.fmean(v), len(v)) for k, v in errors.items() if v}


def score_seed(
    days: int,
    seed: int,
    scale: float,
    db_path: str | None = None,
    via_cli: bool = False,
    warmup: int = WARMUP_DAYS,
    drift: float = 0.0,
    score_from: int = 1,
    score_to: int | None = None,
    cut_chance: float = 0.0,
    stated_params: bool = False,
) -> dict:
    """Run one seed through the pipeline and score it (a worker of ``--seeds``): the
    building-days from the ``score_from``-th to the ``score_to``-th day watched.
    ``stated_params``: group under MarketParams() instead of the day's fit."""
    with tempfile.TemporaryDirectory() as tmp:
        db_path = db_path or str(Path(tmp) / "sim.db")
        result = run_simulation(
            db_path,
            days=days,
            seed=seed,
            scale=scale,
            via_cli=via_cli,
            warmup=warmup,
            drift=drift,
            cut_chance=cut_chance,
            strategies=Strategies(fit_market=not stated_params),
        )
        assert result.market is not None
        db = open_db(db_path)
        since, until = result.days[score_from - 1], result.days[(score_to or days) - 1]
        scores = evaluate(db, result.truth, since=since, until=until)
        by_size = median_error_by_size(db, result.truth, (since, until))
        floor = grouping_floor(db, result.market, since=since, until=until)
        grouping = grouping_errors(db, result.market)
        db.close()
    return {
        "seed": seed,
        "scores": scores,
        "by_size": by_size,
        "floor": floor,
        "grouping": grouping,
        "pages": result.pages,
        "drifted": result.drifted,
        "city_ads": max(result.city_ads),
        "scrape_seconds": result.scrape_seconds,
        "snapshot_seconds": result.snapshot_seconds,
    }


def print_one(days: int, run: dict) -> None:
    scores, floor = run["scores"], run["floor"]
    by_building = scores.pop("units_mape_by_building")
    print(
        f"{days} days, {run['pages']} pages, up to {run['city_ads']} live ads city-wide "
        f"(the list shows at most 3,000); scrape {run['scrape_seconds']:.0f}s, "
        f"snapshot {run['snapshot_seconds']:.0f}s"
        + (f"; {run['drifted']} ads jumped to the top while paged" if run["drifted"] else "")
    )
    print(json.dumps(scores, ensure_ascii=False, indent=1))
    print(
        "median_rent MAPE by true empty flats:",
        ", ".join(f"{k}: {v:.1%} ({n} building-days)" for k, (v, n) in run["by_size"].items()),
    )
    print(
        f"median_rent if every seen ad were grouped by its true flat: "
        f"{floor['median_rent_mape']:.1%} over {floor['building_days']} building-days "
        "(the floor for de-duplication: flats not yet advertised, lingering ads of let "
        "flats, agencies' price noise)"
    )
    print(
        "the same with only the ads of flats still empty that day (a perfect lifecycle): "
        f"{floor['empty_only_mape']:.1%} grouped by true flat, "
        f"{floor['units_empty_only_mape']:.1%} grouped by the pipeline's units"
    )
    g = run["grouping"]
    print(
        "units against the true flats, share of flat-days split over 2+ units / merged "
        f"with another flat: flats up on the first day {g['first_day']['split']:.1%} / "
        f"{g['first_day']['merged']:.1%} ({g['first_day']['flat_days']:,} flat-days), "
        f"advertised later {g['later']['split']:.1%} / {g['later']['merged']:.1%} "
        f"({g['later']['flat_days']:,}); repost links to a unit without that flat and "
        f"agency: {g['reposts']['wrong']} of {g['reposts']['links']}; unseen-repost links "
        f"to a unit without that flat: {g['unseen_reposts']['wrong']} of "
        f"{g['unseen_reposts']['links']}"
    )
    worst = sorted(by_building.items(), key=lambda kv: -kv[1])[:5]
    print("worst buildings (units MAPE):", ", ".join(f"{k} {v:.1%}" for k, v in worst))
    print(
        f"units MAPE {scores['units_mape']:.1%} (target <= 10%), ad count {scores['ads_mape']:.1%} "
        f"(should be > 80%), median_rent {scores['median_rent_mape']:.1%} (target <= 3%)"
    )


def print_table(runs: list[dict]) -> None:
    """One markdown row per seed, then how many seeds meet each target."""
    print(
        "| seed | building-days | units | ad count | truth inside [units_low, units_high] | median_rent "
        "| perfect grouping | median_rent: median error, building-days within 3 % "
        "| price cuts counted / true |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        s, f = run["scores"], run["floor"]
        print(
            f"| {run['seed']} | {s['building_days']:,} | {s['units_mape']:.1%} | "
            f"{s['ads_mape']:.0%} | {s['within_bounds']:.1%} | {s['median_rent_mape']:.1%} | "
            f"{f['median_rent_mape']:.1%} | {s['median_rent_median_ape']:.1%}, "
            f"{s['median_rent_within_3pct']:.0%} | "
            f"{s['price_cuts_counted']:,} / {s['price_cuts_true']:,} |"
        )
    n = len(runs)
    units_ok = sum(r["scores"]["units_mape"] <= 0.10 for r in runs)
    ads_ok = sum(r["scores"]["ads_mape"] > 0.80 for r in runs)
    median_ok = sum(r["scores"]["median_rent_mape"] <= 0.03 for r in runs)
    print(
        f"units <= 10% on {units_ok} of {n} seeds, ad count > 80% off on {ads_ok} of {n}, "
        f"median_rent <= 3% on {median_ok} of {n}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--seeds",
        help="comma-separated seeds: run each (two at a time) and print one table row per seed",
    )
    parser.add_argument("--db", help="keep the database here (default: a temporary file)")
    parser.add_argument(
        "--cli",
        action="store_true",
        help="run each day's `rentwatch scrape` and `rentwatch snapshot` as commands, each "
        "in its own process (default: call their functions in this process)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=WARMUP_DAYS,
        help=f"days the market lives unwatched before the first day (default {WARMUP_DAYS}; "
        "0: no ad already up was ever reposted, the easier market of before 2026-12-05)",
    )
    parser.add_argument(
        "--drift",
        type=float,
        default=0.0,
        help="chance per list page read that an ad further down jumps to the top while the "
        "crawl pages through (the crawl then misses it that day; default 0)",
    )
    parser.add_argument(
        "--cuts",
        type=float,
        default=0.0,
        metavar="P",
        help="landlords' daily chance of cutting the price of a flat on offer for two weeks "
        "or more, by 3-10 %%, each agency following 0-2 days later (default 0: no cuts)",
    )
    parser.add_argument(
        "--score-from",
        type=int,
        default=1,
        metavar="N",
        help="score the building-days from the N-th day watched on (default 1); "
        "with --days 60 --score-from 31, a city watched for a month already",
    )
    parser.add_argument(
        "--score-to",
        type=int,
        metavar="N",
        help="score the building-days up to the N-th day watched (default: the last)",
    )
    parser.add_argument(
        "--stated-params",
        action="store_true",
        help="group under the stated parameters (MarketParams()) instead of fitting them "
        "per city from each day's ads, as before issue 18 (not with --cli)",
    )
    args = parser.parse_args()
    if args.stated_params and args.cli:
        parser.error("--stated-params runs the snapshot in this process: not with --cli")
    score_to = args.days if args.score_to is None else args.score_to
    if not 1 <= args.score_from <= score_to <= args.days:
        parser.error(
            f"--score-from and --score-to must be days of the run, in order: 1 to {args.days}"
        )
    score = functools.partial(
        score_seed,
        scale=args.scale,
        via_cli=args.cli,
        warmup=args.warmup,
        drift=args.drift,
        score_from=args.score_from,
        score_to=score_to,
        cut_chance=args.cuts,
        stated_params=args.stated_params,
    )
    if not args.seeds:
        print_one(args.days, score(args.days, args.seed, db_path=args.db))
        return
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    with ProcessPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(score, [args.days] * len(seeds), seeds))
    print_table(runs)


if __name__ == "__main__":
    main()
