"""Run the simulated market through the real pipeline and score it against the truth.

``run_simulation`` serves each simulated day on 127.0.0.1 and runs, per day,
``rentwatch buildings import`` (the registry CSV the site serves, once),
``rentwatch scrape lianjia --base-url … --as-of … --delay 0`` with every district (a
city-wide list stops at 100 pages, so district queries are how every ad is seen), and
``rentwatch snapshot --date …``. By default it calls the functions behind those
commands in this process; with ``via_cli=True`` it runs the commands themselves, each
in its own process, as a user or a cron job would.
"""

from __future__ import annotations

import logging
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from db import evaluation as evaluation_sql
from db import open_db
from db.buildings import import_buildings
from pipeline.buildings.registry_csv import read_buildings_csv
from pipeline.collect.crawl import scrape
from pipeline.snapshot import DEFAULT_STRATEGIES, Strategies, snapshot_day
from rentwatch.sim.market import Market, MarketSpec, Truth
from rentwatch.sim.pages import registry_csv
from rentwatch.sim.server import SimServer

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SimResult:
    db_path: str
    days: list[str]
    truth: dict[tuple[str, str], Truth]
    seconds: float
    scrape_seconds: float
    snapshot_seconds: float
    pages: int
    city_ads: list[int] = field(default_factory=list)  # live ads city-wide per day
    drifted: int = 0  # ads that jumped to the top of a list while it was paged
    market: Market | None = None


def run_simulation(
    db_path: str | Path,
    days: int = 30,
    start: str = "2026-10-01",
    seed: int = 7,
    *,
    spec: MarketSpec | None = None,
    scale: float | None = None,
    on_day: Callable[[str, dict[str, Any]], None] | None = None,
    via_cli: bool = False,
    warmup: int | None = None,
    drift: float = 0.0,
    cut_chance: float | None = None,
    by_subdistrict: bool = False,
    strategies: Strategies = DEFAULT_STRATEGIES,
    on_market: Callable[[Market], None] | None = None,
) -> SimResult:
    """Simulate ``days`` days into ``db_path``: scrape each day from the sim server, snapshot it.

    ``via_cli`` runs the ``rentwatch`` commands in their own processes instead of calling
    their functions here (slower by the start of two processes a day); a command that
    fails raises SimCommandFailed with its output. ``warmup``: days the market lives,
    unwatched, before the first day (0: every ad already up was never reposted).
    ``drift``: the server's chance per list page of an ad jumping to the top while the
    crawl pages through (see SimServer); the jumps are counted in ``result.drifted``.
    ``cut_chance``: landlords' daily chance of cutting the price of a flat long on offer
    (see Market; 0: prices never change). ``strategies``: the snapshot's grouping and
    lifecycle (bench/eval_bounds.py puts the simulation's truth in; in-process only).
    ``spec``: the market's generator (default: the demo's, MarketSpec()); ``scale``,
    ``warmup`` and ``cut_chance``, when given, replace its fields. ``by_subdistrict``
    queries each subdistrict (商圈) instead of each district, so that no list passes the
    site's 100 pages when a district holds a crowded tower. ``on_market`` is handed the
    market as soon as it exists (a benchmark's oracle needs it while the days run).
    """
    started = time.perf_counter()
    overrides = {
        k: v
        for k, v in (("scale", scale), ("warmup", warmup), ("cut_chance", cut_chance))
        if v is not None
    }
    market = Market(spec, seed=seed, start=start, days=days, **overrides)
    if on_market is not None:
        on_market(market)
    db = open_db(db_path)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "registry.csv"
        csv_path.write_text(registry_csv(market), encoding="utf-8")
        if via_cli:
            _rentwatch("buildings", "import", str(csv_path), "--db", str(db_path))
        else:
            import_buildings(db, read_buildings_csv(csv_path))
    districts = sorted(
        {b.subdistrict_slug if by_subdistrict else b.district_slug for b in market.buildings}
    )
    result = SimResult(str(db_path), [], market.truth, 0.0, 0.0, 0.0, 0, market=market)
    with SimServer(market, drift=drift) as server:
        for _ in range(days):
            index = market.advance()
            day = market.date_of(index)
            server.set_day(index)
            result.city_ads.append(len(market.live_ads(index)))
            t0 = time.perf_counter()
            if via_cli:
                status, pages = _scrape_via_cli(db_path, server.url, districts, day)
                t1 = time.perf_counter()
                ads, units = _snapshot_via_cli(db_path, day)
            else:
                report = scrape(
                    db,
                    "lianjia",
                    city="hz",
                    districts=districts,
                    base_url=server.url,
                    as_of=day,
                    delay=0,
                )
                status, pages = report.status, report.pages
                t1 = time.perf_counter()
                snap = snapshot_day(db, day, strategies=strategies)
                ads, units = snap.listings, snap.units
            t2 = time.perf_counter()
            result.scrape_seconds += t1 - t0
            result.snapshot_seconds += t2 - t1
            result.pages += pages
            result.days.append(day)
            if on_day:
                on_day(day, {"scrape": status, "pages": pages, "ads": ads, "units": units})
        result.drifted = server.drifted
    db.close()
    result.seconds = time.perf_counter() - started
    return result


class SimCommandFailed(RuntimeError):
    """A ``rentwatch`` command run by the simulation exited with an error."""


def _rentwatch(*args: str) -> str:
    """Run ``rentwatch ARGS`` in its own process (this interpreter); its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "rentwatch", *args], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SimCommandFailed(
            f"rentwatch {' '.join(args)} exited with {done.returncode}: "
            f"{(done.stderr or done.stdout).strip()[-2000:]}"
        )
    return done.stdout


# The last lines of ``rentwatch scrape`` and ``rentwatch snapshot``.
_SCRAPE_LINE = re.compile(r"^\S+ \d{4}-\d\d-\d\d: (\w+), (\d+) pages, \d+ listings$", re.M)
_SNAPSHOT_LINE = re.compile(r"^\d{4}-\d\d-\d\d: .*?(\d+) ads -> (\d+) units", re.M)


def _scrape_via_cli(
    db_path: str | Path, base_url: str, districts: list[str], day: str
) -> tuple[str, int]:
    args = ["scrape", "lianjia", "--city", "hz", "--base-url", base_url, "--as-of", day]
    for district in districts:
        args += ["--district", district]
    out = _rentwatch(*args, "--delay", "0", "--no-progress", "--db", str(db_path))
    m = _SCRAPE_LINE.search(out)
    if m is None:
        raise SimCommandFailed(f"rentwatch scrape printed no summary line: {out[-500:]!r}")
    return m.group(1), int(m.group(2))


def _snapshot_via_cli(db_path: str | Path, day: str) -> tuple[int, int]:
    out = _rentwatch("snapshot", "--date", day, "--limit", "0", "--db", str(db_path))
    m = _SNAPSHOT_LINE.search(out)
    if m is None:
        raise SimCommandFailed(f"rentwatch snapshot printed no summary line: {out[-500:]!r}")
    return int(m.group(1)), int(m.group(2))


def _within(day: str, since: str | None, until: str | None) -> bool:
    return (since is None or day >= since) and (until is None or day <= until)


def _ape(estimate: float, truth: float) -> float:
    return abs(estimate - truth) / truth


def evaluate(
    db: sqlite_utils.Database,
    truth: dict[tuple[str, str], Truth],
    *,
    min_vacant: int = 5,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """Errors of ``units``, the plain ad count and ``median_rent`` against the truth.

    Mean absolute percentage error over building-days with at least ``min_vacant`` truly
    empty flats (from the day ``since`` to the day ``until``, when given). A building
    outside the registry is found by the name the pipeline gave it. ``median_rent``'s
    error is a tail (a building whose plans are far apart in price has its median on the
    cliff between them), so its typical building-day is given too: the median of the
    absolute percentage errors and the share of building-days within 3 %.
    """
    rows = evaluation_sql.daily_rows_by_name(db)
    units_err: list[float] = []
    ads_err: list[float] = []
    rent_err: list[float] = []
    low_ok = 0
    per_building: dict[str, list[float]] = {}
    cuts_true = cuts_counted = cuts_off = 0
    bias: list[float] = []
    missing = 0
    for (name, day), t in sorted(truth.items()):
        if t.vacant < min_vacant or not _within(day, since, until):
            continue
        row = rows.get((name, day))
        if row is None or row["units"] is None:
            missing += 1
            continue
        u = _ape(row["units"], t.vacant)
        a = _ape(row["listings"], t.vacant)
        units_err.append(u)
        bias.append((row["units"] - t.vacant) / t.vacant)
        ads_err.append(a)
        low_ok += row["units_low"] <= t.vacant <= row["units_high"]
        per_building.setdefault(name, []).append(u)
        if t.median_rent and row["median_rent"]:
            rent_err.append(_ape(row["median_rent"], t.median_rent))
        cuts_true += t.price_cuts
        cuts_counted += row["price_cuts"] or 0
        cuts_off += abs((row["price_cuts"] or 0) - t.price_cuts)
    n = len(units_err)
    return {
        "building_days": n,
        "missing_building_days": missing,
        "units_mape": round(statistics.fmean(units_err), 4) if n else None,
        "units_bias": round(statistics.fmean(bias), 4) if n else None,
        "ads_mape": round(statistics.fmean(ads_err), 4) if n else None,
        "median_rent_mape": round(statistics.fmean(rent_err), 4) if rent_err else None,
        "median_rent_median_ape": round(statistics.median(rent_err), 4) if rent_err else None,
        "median_rent_within_3pct": (
            round(sum(e <= 0.03 for e in rent_err) / len(rent_err), 4) if rent_err else None
        ),
        "within_bounds": round(low_ok / n, 4) if n else None,
        # landlords' price cuts against the flats counted in ``price_cuts``: totals, and
        # the mean absolute difference per building-day
        "price_cuts_true": cuts_true,
        "price_cuts_counted": cuts_counted,
        "price_cuts_mae": round(cuts_off / n, 4) if n else None,
        "units_mape_by_building": {
            k: round(statistics.fmean(v), 4) for k, v in sorted(per_building.items())
        },
    }
