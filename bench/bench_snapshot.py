"""Does one more day's snapshot cost the same after a month and after a year?

Builds a city (2,000 buildings, about 50,000 live ads a day, 2.5 ads per empty flat on
average) with 30, 180 and 365 days of history written straight into SQLite (old days as
already-processed rows: observations, listings with their units, runs, building_daily),
then stores one more day through the project's write path (db.listings.save_records)
and times ``snapshot_day`` for it. Prints the ratio of the 365-day to the 30-day case
(target <= 1.5), an estimate of a full year's rebuild, and the write rate of
save_records beside plain sqlite3 executemany of the same rows (target >= 0.5).

Paired rounds: each history is kept as its own copy of the database, and in each of
``--rounds`` rounds the day is snapshotted again on every copy, one after the other;
the write is likewise repeated on a fresh copy beside plain executemany. Each ratio
is taken within a round, and min / median / max over the rounds are printed.

    .venv/bin/python bench/bench_snapshot.py           # full size (a few minutes)
    .venv/bin/python bench/bench_snapshot.py --quick   # 200 buildings, 5,000 ads
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db import open_db  # noqa: E402
from db.buildings import BuildingRow, import_buildings  # noqa: E402
from db.listings import _COLUMNS, _listing_row, save_records  # noqa: E402
from db.runs import RunCounts, finish_run, start_run  # noqa: E402
from pipeline.snapshot import snapshot_day  # noqa: E402
from scrapers.record import ListingRecord  # noqa: E402

START = date(2025, 1, 1)
PLANS = [("1室0厅1卫", 1, 0, 35.0, 2300), ("1室1厅1卫", 1, 1, 45.0, 2800),
         ("2室1厅1卫", 2, 1, 53.0, 3600), ("2室2厅1卫", 2, 2, 70.0, 4500),
         ("3室2厅2卫", 3, 2, 98.0, 6200)]  # fmt: skip
BANDS = ["低楼层", "中楼层", "高楼层"]


def day_str(n: int) -> str:
    return (START + timedelta(days=n)).isoformat()


@dataclass(slots=True)
class Vacancy:
    id: int
    building: int  # index into buildings
    plan: int
    band: int
    rent: float
    start: int
    end: int
    agents: list[int]


class City:
    def __init__(self, buildings: int, live_ads: int, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.n_buildings = buildings
        self.mean_days = 25
        # 2.5 ads per vacancy: new vacancies a day to keep ``live_ads`` live
        self.per_day = max(1, round(live_ads / 2.5 / self.mean_days))
        self.vacancies: list[Vacancy] = []
        self._by_start: dict[int, list[Vacancy]] = {}
        self.generated_until = -41

    def vacancies_starting(self, day: int) -> list[Vacancy]:
        while self.generated_until < day:
            self.generated_until += 1
            d = self.generated_until
            n = self.per_day * (3 if d == -40 else 1)
            out = []
            for _ in range(n):
                vid = len(self.vacancies) + 1
                k = self.rng.choices([1, 2, 3, 4], weights=[20, 30, 30, 20])[0]
                v = Vacancy(
                    vid,
                    self.rng.randrange(self.n_buildings),
                    self.rng.randrange(len(PLANS)),
                    self.rng.randrange(3),
                    round(PLANS[0][4] * self.rng.uniform(0.9, 2.6) / 10) * 10,
                    d,
                    d + self.rng.randint(10, 40),
                    self.rng.sample(range(60), k),
                )
                self.vacancies.append(v)
                out.append(v)
            self._by_start[d] = out
        return self._by_start.get(day, [])

    def live(self, day: int) -> list[Vacancy]:
        self.vacancies_starting(day)
        return [v for v in self.vacancies if v.start <= day <= v.end]

    def record(self, v: Vacancy, j: int, agent: int) -> ListingRecord:
        plan = PLANS[v.plan]
        return ListingRecord(
            source="lianjia",
            listing_id=f"B{v.id}-{j}",
            url=f"https://hz.lianjia.com/zufang/B{v.id}-{j}.html",
            title=f"整租·楼{v.building} {plan[0][:4]} 南",
            tenure="whole",
            district=f"区{v.building % 12}",
            subdistrict=f"板块{v.building % 60}",
            community=f"楼{v.building}",
            rent_text=f"{v.rent:g} 元/月",
            rent=v.rent,
            area=plan[3],
            area_text=f"{plan[3]:g}㎡",
            rooms=plan[1],
            halls=plan[2],
            baths=1,
            floor_band=BANDS[v.band],
            total_floors=28,
            orientation="南",
            agent_key=f"agent{agent:03d}",
            brand=f"agency {agent}",
        )


def build_history(db, city: City, upto: int, done: int, building_ids: list[int]) -> None:
    """Write days ``done+1 .. upto`` as already-processed history, straight into SQLite."""
    conn = db.conn
    listing_sql = (
        f"INSERT INTO listings ({', '.join(_COLUMNS)}, building_id, unit_id) "
        f"VALUES ({', '.join('?' * (len(_COLUMNS) + 2))})"
    )
    with conn:
        for d in range(done + 1, upto + 1):
            fresh = (
                city.vacancies_starting(d)
                if d > 0
                else [v for s in range(-40, 1) for v in city.vacancies_starting(s)]
            )
            units, listings = [], []
            for v in fresh if d > done + 1 or done >= 0 else fresh:
                first = day_str(max(v.start, 0))
                units.append((v.id, building_ids[v.building], "whole", PLANS[v.plan][0], PLANS[v.plan][3],
                              BANDS[v.band], 28, "南", first, "live", f"bench vacancy {v.id}", len(v.agents)))  # fmt: skip
                for j, agent in enumerate(v.agents):
                    row = _listing_row(city.record(v, j, agent), first)
                    listings.append((*row, building_ids[v.building], v.id))
            conn.executemany(
                "INSERT INTO units (id, building_id, tenure, layout, area, floor_band, total_floors, "
                "orientation, first_seen, status, reason, ads) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                units,
            )
            conn.executemany(listing_sql, listings)
            run_id = conn.execute(
                "INSERT INTO runs (source, city, as_of, status, kind) VALUES ('lianjia', 'hz', ?, 'ok', 'scrape')",
                [day_str(d)],
            ).lastrowid
            live = city.live(d)
            ids = dict(
                conn.execute(
                    "SELECT listing_id, id FROM listings WHERE first_seen <= ? AND unit_id IN "
                    "(SELECT id FROM units WHERE id >= ?)",
                    [day_str(d), min((v.id for v in live), default=0)],
                ).fetchall()
            )
            obs = [
                (ids[f"B{v.id}-{j}"], day_str(d), v.rent, run_id)
                for v in live
                for j in range(len(v.agents))
                if f"B{v.id}-{j}" in ids
            ]
            conn.executemany(
                "INSERT OR IGNORE INTO listing_observations (listing_id, date, rent, run_id) VALUES (?,?,?,?)",
                obs,
            )
            per_building: dict[int, int] = {}
            for v in live:
                per_building[v.building] = per_building.get(v.building, 0) + len(v.agents)
            conn.executemany(
                "INSERT INTO building_daily (building_id, date, listings, units) VALUES (?,?,?,?)",
                [
                    (building_ids[b], day_str(d), per_building.get(b, 0), 0)
                    for b in range(city.n_buildings)
                ],
            )


def store_day(db, city: City, d: int) -> tuple[int, float]:
    """Store day ``d`` through the project's write path; returns (rows, seconds)."""
    records = [city.record(v, j, a) for v in city.live(d) for j, a in enumerate(v.agents)]
    run_id = start_run(db, source="lianjia", as_of=day_str(d), city="hz")
    t0 = time.perf_counter()
    save_records(db, records, as_of=day_str(d), run_id=run_id)
    seconds = time.perf_counter() - t0
    finish_run(db, run_id, status="ok", message=None, counts=RunCounts(listings=len(records)))
    return len(records), seconds


def plain_rate(city: City, d: int) -> tuple[int, float]:
    """The same rows with plain sqlite3 executemany into tables of the same columns."""
    records = [city.record(v, j, a) for v in city.live(d) for j, a in enumerate(v.agents)]
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "plain.db")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"CREATE TABLE listings (id INTEGER PRIMARY KEY, {', '.join(_COLUMNS)})")
        conn.execute("CREATE UNIQUE INDEX l_key ON listings (source, listing_id)")
        conn.execute(
            "CREATE TABLE obs (listing_id INTEGER, date TEXT, rent REAL, run_id INTEGER, page_id INTEGER, "
            "PRIMARY KEY (listing_id, date))"
        )
        t0 = time.perf_counter()
        with conn:
            conn.executemany(
                f"INSERT INTO listings ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                (_listing_row(r, day_str(d)) for r in records),
            )
            conn.executemany(
                "INSERT INTO obs (listing_id, date, rent, run_id, page_id) VALUES (?, ?, ?, 1, NULL)",
                ((i + 1, day_str(d), r.rent) for i, r in enumerate(records)),
            )
        seconds = time.perf_counter() - t0
        conn.close()
    return len(records), seconds


def copy_db(db, path: Path):
    """A copy of the database as it stands, opened."""
    target = sqlite3.connect(path)
    db.conn.backup(target)
    target.close()
    return open_db(path)


def spread(values: list[float], pattern: str) -> str:
    """min / median / max."""
    return " / ".join(
        format(v, pattern) for v in (min(values), statistics.median(values), max(values))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 buildings, 5,000 live ads")
    parser.add_argument("--histories", default="30,180,365")
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds")
    args = parser.parse_args()
    n_buildings, live_ads = (200, 5_000) if args.quick else (2_000, 50_000)
    histories = [int(x) for x in args.histories.split(",")]
    print(f"city: {n_buildings} buildings, ~{live_ads} live ads a day; histories {histories} days")
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "bench.db")
        import_buildings(
            db,
            [
                BuildingRow(
                    line=i,
                    name=f"楼{i}",
                    aliases=[],
                    city="hz",
                    district=f"区{i % 12}",
                    total_units=300,
                    subdistrict=f"板块{i % 60}",
                )
                for i in range(n_buildings)
            ],  # fmt: skip
        )
        building_ids = [
            r[0]
            for r in db.execute(
                "SELECT id FROM buildings ORDER BY CAST(substr(name, 2) AS INTEGER)"
            )
        ]
        city = City(n_buildings, live_ads)
        done = -1
        copies = {}
        before_write = None
        for history in histories:
            t0 = time.perf_counter()
            build_history(db, city, history - 1, done, building_ids)
            if before_write is None:
                before_write = copy_db(db, Path(tmp) / "before_write.db")
            # the measured day itself arrives through the project's write path
            store_day(db, city, history)
            built = time.perf_counter() - t0
            t1 = time.perf_counter()
            report = snapshot_day(db, day_str(history))
            first_run = time.perf_counter() - t1
            copies[history] = copy_db(db, Path(tmp) / f"history_{history}.db")
            obs = db.execute("SELECT count(*) FROM listing_observations").fetchone()[0]
            print(
                f"history {history:4d} days ({obs:,} observations, built in {built:.0f}s): "
                f"first snapshot of one more day {first_run:.2f}s "
                f"({report.listings:,} ads, {report.units:,} units, {report.units_created:,} new units)"
            )
            # the measured day becomes history for the next size: replace it by bulk rows
            db.execute("DELETE FROM building_daily WHERE date = ?", [day_str(history)])
            done = history
            with db.conn:
                db.execute("DELETE FROM unit_links")
        db.close()

        # The day again on every history's copy (same rows each time), round by round.
        timings: dict[int, list[float]] = {h: [] for h in histories}
        write_ratios: list[float] = []
        write_rates: list[float] = []
        assert before_write is not None
        for n in range(args.rounds):
            for history, copy in copies.items():
                t2 = time.perf_counter()
                snapshot_day(copy, day_str(history))
                timings[history].append(time.perf_counter() - t2)
            fresh = copy_db(before_write, Path(tmp) / f"write_{n}.db")
            rows, seconds = store_day(fresh, city, histories[0])
            fresh.close()
            (Path(tmp) / f"write_{n}.db").unlink()
            plain_rows, plain_s = plain_rate(city, histories[0])
            write_rates.append(rows / seconds)
            write_ratios.append((rows / seconds) / (plain_rows / plain_s))
        for copy in copies.values():
            copy.close()
        before_write.close()

    print(f"\n{args.rounds} paired rounds; min / median / max")
    for history in histories:
        print(
            f"snapshot of one more day after {history:4d} days: {spread(timings[history], '.2f')} s"
        )
    first, last = histories[0], histories[-1]
    ratios = [b / a for a, b in zip(timings[first], timings[last], strict=True)]
    print(f"ratio {last}/{first} days: {spread(ratios, '.2f')} (target <= 1.5)")
    day = statistics.median(timings[last])
    print(f"full rebuild of a year: about {day * 365 / 60:.1f} min ({day:.2f}s a day x 365)")
    print(
        f"storing a day's observations ({rows:,} ads): save_records "
        f"{spread(write_rates, ',.0f')} rows/s; ratio to plain sqlite3 executemany "
        f"{spread(write_ratios, '.2f')} (target >= 0.5)"
    )


if __name__ == "__main__":
    main()
