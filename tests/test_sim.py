"""The simulated market end to end through the real CLI: scrape over HTTP, snapshot, score."""

from __future__ import annotations

import dataclasses
import itertools
import statistics
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.scoring import grouping_errors, grouping_floor
from db import open_db
from pipeline.collect.crawl import scrape
from rentwatch.cli import main
from rentwatch.sim import Market, SimServer, evaluate, run_simulation
from rentwatch.sim.market import Truth
from rentwatch.sim.pages import registry_csv
from rentwatch.sim.run import SimCommandFailed, _rentwatch
from scrapers.lianjia import house_code_time


def test_sim_is_deterministic_and_hard():
    a, b = Market(seed=3, scale=0.2, days=5), Market(seed=3, scale=0.2, days=5)
    for _ in range(5):
        a.advance()
        b.advance()
    assert [x.house_code for x in a.live_ads()] == [x.house_code for x in b.live_ads()]
    live = a.live_ads()
    flats = {ad.flat for ad in live if ad.flat is not None}
    assert len(live) > 2 * len(flats)  # several ads per empty flat
    assert any(ad.bait for ad in a.ads)
    spellings = {ad.spelling for ad in live if ad.flat and ad.flat.building.name == "丽晶国际"}
    assert len(spellings) >= 2


def test_house_codes_tell_when_each_ad_went_up_as_on_the_site():
    market = Market(seed=3, scale=0.2, days=5)
    for _ in range(5):
        market.advance()
    ads = list(market.ad_by_code.values())
    assert any(ad.start < 0 for ad in ads)  # up before the first day, as tracking begins
    for ad in ads:
        created = house_code_time(ad.house_code)
        assert created is not None and created.date().isoformat() == market.date_of(ad.start)
    assert len({ad.house_code for ad in ads}) == len(ads)


def test_landlords_cut_prices_and_every_agency_follows_within_two_days():
    plain = Market(seed=3, scale=0.3, days=10)
    cutting = Market(seed=3, scale=0.3, days=10, cut_chance=0.1)
    asked: dict[int, list[tuple[int, float]]] = {}  # flat -> (day, landlord's price)
    shown: dict[tuple[str, int], float] = {}  # (house code, day) -> rent shown
    for _ in range(10):
        plain.advance()
        day = cutting.advance()
        for flat in cutting.flats:
            if flat.vacant_since is not None:
                asked.setdefault(id(flat), []).append((day, flat.rent))
        for ad in cutting.live_ads(day):
            shown[(ad.house_code, day)] = ad.rent
    # the same market otherwise: the cuts draw from their own random stream
    assert {k: t.vacant for k, t in plain.truth.items()} == {
        k: t.vacant for k, t in cutting.truth.items()
    }
    assert all(t.price_cuts == 0 for t in plain.truth.values())
    cuts = sum(t.price_cuts for t in cutting.truth.values())
    assert cuts > 20
    # every honest ad shown two days after a cut shows a price cut by the same factor (to 10 元)
    followed = 0
    for flat_id, prices in asked.items():
        price_on = dict(prices)
        for (day, before), (next_day, after) in itertools.pairwise(prices):
            # one cut on day + 1, no other from two days before (agencies may still be
            # following it) to day + 3
            if next_day != day + 1 or after >= before or price_on.get(day + 3) != after:
                continue
            if price_on.get(day - 2) != before or price_on.get(day - 1) != before:
                continue
            for ad in cutting.ad_by_code.values():
                if id(ad.flat) != flat_id or ad.bait:
                    continue
                old, new = shown.get((ad.house_code, day)), shown.get((ad.house_code, day + 3))
                if old and new:
                    assert abs(new / old - after / before) < 0.01
                    followed += 1
    assert followed > 20


@pytest.mark.slow
def test_price_cuts_count_each_landlords_cut_once_though_agencies_follow_days_apart(tmp_path):
    result = run_simulation(tmp_path / "cuts.db", days=12, seed=5, scale=0.3, cut_chance=0.05)
    scores = evaluate(open_db(tmp_path / "cuts.db"), result.truth, min_vacant=1)
    # Counting every agency's cut of one flat (up to four ads, days apart) gave 1.5 times
    # the landlords' cuts; counted once, a few are missed (flats not advertised yet, units
    # lingering, two cuts of one flat within two days).
    assert scores["price_cuts_true"] > 100
    assert 0.8 <= scores["price_cuts_counted"] / scores["price_cuts_true"] <= 1.05


@pytest.mark.parametrize("warmup", [30, 0])
def test_the_first_day_finds_a_market_that_lived_before_it(warmup):
    # A real site has been running long before we watch: ads already up on the first day
    # were reposted under new ids at any earlier date. With a warm-up the sim's are too;
    # without one (warmup=0) every ad up before the first day is its flat's first listing.
    market = Market(seed=3, scale=0.3, days=2, warmup=warmup)
    market.advance()
    first_day = [ad for ad in market.live_ads(0) if ad.flat is not None and not ad.bait]
    by_flat: dict[int, list] = {}
    for ad in first_day:
        by_flat.setdefault(id(ad.flat), []).append(ad)
    reposted_before = [
        ad
        for ad in first_day
        if ad.start < 0 and ad.start > min(other.start for other in by_flat[id(ad.flat)]) + 2
    ]
    if warmup:
        assert len(reposted_before) > 0.1 * len(first_day)
        assert min(ad.start for ad in first_day) < -warmup  # up since before the warm-up
    else:
        assert reposted_before == []
    # the truth starts on the first day watched, never in the warm-up
    assert min(day for _, day in market.truth) == market.date_of(0)
    assert all(t.vacant >= 0 for t in market.truth.values())


@pytest.mark.parametrize("drift", [0.0, 1.0])
def test_a_list_that_shifts_while_paged_makes_the_crawl_incomplete(tmp_path, drift):
    # With drift, an ad from further down jumps to the top at each page read after the
    # first: the crawl never sees it that day, and the run says so (fewer distinct ads
    # than the site's total), which keeps the lifecycle's 2-day rule for that day.
    market = Market(seed=5, scale=0.15, days=1)
    market.advance()
    db = open_db(tmp_path / "drift.db")
    with SimServer(market, drift=drift) as server:
        server.set_day(0)
        district = max(
            {b.district_slug for b in market.buildings},
            key=lambda slug: sum(
                market.building_of(a).district_slug == slug for a in market.live_ads()
            ),
        )
        scrape(
            db,
            "lianjia",
            city="hz",
            districts=[district],
            base_url=server.url,
            as_of=market.date_of(0),
            delay=0,
        )
        drifted = server.drifted
    run = next(db.query("SELECT site_total, distinct_listings, pages FROM runs"))
    assert run["pages"] >= 2
    if drift:
        assert drifted == run["pages"] - 1
        assert run["distinct_listings"] < run["site_total"]
    else:
        assert drifted == 0
        assert run["distinct_listings"] == run["site_total"]


def test_full_size_city_exceeds_the_list_limit():
    market = Market(scale=1.0, days=1)
    market.advance()
    assert len(market.live_ads()) > 3000  # 100 pages of 30


@pytest.mark.slow
def test_end_to_end_through_the_cli(tmp_path):
    db_path = tmp_path / "sim.db"
    market = Market(seed=5, scale=0.15, days=4)
    csv_path = tmp_path / "registry.csv"
    csv_path.write_text(registry_csv(market), encoding="utf-8")
    runner = CliRunner()
    out = runner.invoke(main, ["buildings", "import", str(csv_path), "--db", str(db_path)])
    assert out.exit_code == 0, out.output
    with SimServer(market) as server:
        robots = urllib.request.urlopen(server.url + "/robots.txt").read()
        assert b"Allow: /" in robots
        districts = sorted({b.district_slug for b in market.buildings})
        for _ in range(4):
            index = market.advance()
            day = market.date_of(index)
            server.set_day(index)
            args = ["scrape", "lianjia", "--city", "hz", "--base-url", server.url, "--as-of", day]
            for d in districts:
                args += ["--district", d]
            out = runner.invoke(
                main, [*args, "--delay", "0", "--no-progress", "--db", str(db_path)]
            )
            assert out.exit_code == 0, out.output
            out = runner.invoke(
                main, ["snapshot", "--date", day, "--db", str(db_path), "--limit", "0"]
            )
            assert out.exit_code == 0, out.output
    db = open_db(db_path)
    scores = evaluate(db, market.truth)
    assert scores["building_days"] >= 20
    assert scores["missing_building_days"] == 0
    assert scores["ads_mape"] > 0.8  # counting ads is far off
    assert scores["units_mape"] < 0.2  # units are close (10 % over 30 days, bench/eval_sim.py)
    assert scores["median_rent_mape"] < 0.08
    # names outside the registry became unverified buildings with their listings
    unverified = {
        r[0] for r in db.execute("SELECT name FROM buildings WHERE status = 'unverified'")
    }
    assert {"九堡新家园", "滨江天街公寓"} <= unverified


def _observe(db_path, day: str, rows: list[tuple[str, float]], units: list[int] | None = None):
    db = open_db(db_path)
    if units:
        db["units"].insert_all([{"id": u} for u in sorted(set(units))])
    for i, (code, rent) in enumerate(rows, 1):
        unit = units[i - 1] if units else None
        db["listings"].insert({"id": i, "source": "lianjia", "listing_id": code, "unit_id": unit})
        db["listing_observations"].insert({"listing_id": i, "date": day, "rent": rent})
    return db


def test_grouping_floor_scores_ads_grouped_by_their_true_flat(tmp_path):
    market = Market(seed=3, scale=0.2, days=5)
    for _ in range(5):
        market.advance()
    index = market.day
    day = market.date_of(index)
    vacant = [f for f in market.flats if f.vacant_since is not None and f.vacant_since <= index]
    ads_of: dict[int, list] = {}
    for ad in market.ad_by_code.values():
        if ad.flat is not None and not ad.bait:
            ads_of.setdefault(id(ad.flat), []).append(ad)
    bait = next(ad for ad in market.ad_by_code.values() if ad.bait)
    # Every empty flat seen through its ads at the landlord's rent, plus a bait ad at 1 元:
    # the bait is left out and the grouping by flat is exact, so nothing is left.
    rows = [(ad.house_code, f.rent) for f in vacant for ad in ads_of[id(f)]]
    db = _observe(tmp_path / "all.db", day, [*rows, (bait.house_code, 1.0)])
    floor = grouping_floor(db, market)
    counted = [k for k, t in market.truth.items() if k[1] == day and t.vacant >= 5]
    assert floor["building_days"] == len(counted) > 0
    assert floor["median_rent_mape"] == 0.0

    # The cheaper half of one building's empty flats not advertised: its median is off.
    name = counted[0][0]
    flats = sorted((f for f in vacant if f.building.name == name), key=lambda f: f.rent)
    unseen = {id(f) for f in flats[: len(flats) // 2]}
    rows = [(ad.house_code, f.rent) for f in vacant if id(f) not in unseen for ad in ads_of[id(f)]]
    floor = grouping_floor(_observe(tmp_path / "half.db", day, rows), market)
    seen = statistics.median(f.rent for f in flats if id(f) not in unseen)
    truth = market.truth[(name, day)].median_rent
    expected = abs(seen - truth) / truth / len(counted)
    assert expected > 0
    assert floor["median_rent_mape"] == round(expected, 4)


@pytest.mark.slow
def test_grouping_floor_parts_lingering_ads_from_grouping(tmp_path):
    market = Market(seed=3, scale=0.2, days=5)
    for _ in range(5):
        market.advance()
    day = market.date_of(market.day)
    counted = {k[0] for k, t in market.truth.items() if k[1] == day and t.vacant >= 5}
    empty = set().union(*(market.empty_flats[(name, day)] for name in counted))
    ads = [a for a in market.ad_by_code.values() if a.flat is not None and not a.bait]
    ads = [a for a in ads if a.flat.building.name in counted]
    live = [a for a in ads if id(a.flat) in empty]
    let = next(a for a in ads if id(a.flat) not in empty)  # an ad of a flat let already
    flat_ids = sorted({id(a.flat) for a in live})
    # Empty flats' ads at the landlord's rent, one unit per flat; a let flat's ad at
    # twice its rent: it spoils the first figure only.
    rows = [(a.house_code, a.flat.rent) for a in live] + [(let.house_code, let.flat.rent * 2)]
    units = [flat_ids.index(id(a.flat)) + 1 for a in live] + [999]
    floor = grouping_floor(_observe(tmp_path / "let.db", day, rows, units), market)
    assert floor["median_rent_mape"] > 0
    assert floor["empty_only_mape"] == floor["units_empty_only_mape"] == 0.0
    assert floor["empty_only_building_days"] == floor["building_days"] == len(counted)

    # All empty flats' ads in one unit per building: the grouping alone is off.
    units = [1 + sorted(counted).index(a.flat.building.name) for a in live] + [999]
    floor = grouping_floor(_observe(tmp_path / "merged.db", day, rows, units), market)
    assert floor["empty_only_mape"] == 0.0
    assert floor["units_empty_only_mape"] > 0


def test_grouping_errors_count_split_and_merged_flats_and_wrong_reposts(tmp_path):
    market = Market(seed=3, scale=0.2, days=5)
    for _ in range(5):
        market.advance()
    ads_of: dict[int, list] = {}
    for ad in market.ad_by_code.values():
        if ad.flat is not None and not ad.bait:
            ads_of.setdefault(id(ad.flat), []).append(ad)
    a, c = [ads for ads in ads_of.values() if len(ads) >= 2][:2]
    b = next(ads for ads in ads_of.values() if ads not in (a, c))
    d = next(ads for ads in ads_of.values() if ads not in (a, b, c))
    a_repost = dataclasses.replace(a[0], house_code="REPOST-A")
    c_repost = dataclasses.replace(c[0], house_code="REPOST-C")
    b_unseen = dataclasses.replace(b[0], house_code="UNSEEN-B", agency="another agency")
    d_unseen = dataclasses.replace(d[0], house_code="UNSEEN-D", agency="another agency")
    for ad in (a_repost, c_repost, b_unseen, d_unseen):
        market.ad_by_code[ad.house_code] = ad
    # Day 1: flat A split over units 1 and 2, and merged with flat B in unit 1; flat C
    # split over units 3 and 4. Day 2: C again, and flat D, first seen then, alone in 5.
    # Reposts: A's into unit 1, which holds A's earlier ad by the same agency (right);
    # C's into unit 1, which holds none of C's ads (wrong). Reposts of ads never seen,
    # from another agency: B's into unit 1, which holds B's ad (right); D's into unit 3,
    # which holds none of D's ads (wrong).
    day1, day2 = "2026-10-01", "2026-10-02"
    listings = [
        (a[0], 1, day1), (a[1], 2, day1), (b[0], 1, day1), (c[0], 3, day1), (c[1], 4, day1),
        (d[0], 5, day2), (a_repost, 1, day2), (c_repost, 1, day2), (b_unseen, 1, day2),
        (d_unseen, 3, day2),
    ]  # fmt: skip
    seen = {day1: [a[0], a[1], b[0], c[0], c[1]], day2: [c[0], c[1], d[0]]}
    db = open_db(tmp_path / "grouping.db")
    db["units"].insert_all({"id": n} for n in range(1, 6))
    ids = {}
    for i, (ad, unit_id, first_seen) in enumerate(listings, 1):
        ids[ad.house_code] = i
        db["listings"].insert(
            {"id": i, "source": "lianjia", "listing_id": ad.house_code, "unit_id": unit_id,
             "first_seen": first_seen}
        )  # fmt: skip
    for day, ads in seen.items():
        for ad in ads:
            db["listing_observations"].insert({"listing_id": ids[ad.house_code], "date": day})
    for ad in (a_repost, c_repost):
        db["unit_links"].insert({"listing_id": ids[ad.house_code], "unit_id": 1, "kind": "repost"})
    for ad, unit_id in ((b_unseen, 1), (d_unseen, 3)):
        db["unit_links"].insert(
            {"listing_id": ids[ad.house_code], "unit_id": unit_id, "kind": "unseen_repost"}
        )

    errors = grouping_errors(db, market)
    # First-day flats: A (split, merged), B (merged), C (split) on day 1, C (split) on day 2.
    assert errors["first_day"] == {"flat_days": 4, "split": 0.75, "merged": 0.5}
    assert errors["later"] == {"flat_days": 1, "split": 0.0, "merged": 0.0}
    assert errors["reposts"] == {"links": 2, "wrong": 1}
    assert errors["unseen_reposts"] == {"links": 2, "wrong": 1}


@pytest.mark.slow
def test_simulation_through_the_commands_scores_as_through_their_functions(tmp_path):
    days: dict[str, list] = {"functions": [], "commands": []}
    runs = {}
    for how, via_cli in (("functions", False), ("commands", True)):
        runs[how] = run_simulation(
            tmp_path / f"{how}.db",
            days=3,
            seed=5,
            scale=0.15,
            via_cli=via_cli,
            on_day=lambda day, stats, how=how: days[how].append((day, stats)),
        )
    assert runs["commands"].pages == runs["functions"].pages > 0
    assert days["commands"] == days["functions"]
    assert [stats["scrape"] for _, stats in days["commands"]] == ["ok"] * 3
    scores = {how: evaluate(open_db(r.db_path), r.truth) for how, r in runs.items()}
    assert scores["commands"] == scores["functions"]
    assert scores["commands"]["building_days"] > 0


def test_a_failing_command_in_the_simulation_says_which_and_why():
    with pytest.raises(
        SimCommandFailed,
        match=r"rentwatch scrape nosuchsite .* exited with 1: .*unknown source .nosuchsite.",
    ):
        _rentwatch("scrape", "nosuchsite", "--city", "hz")


def test_evaluate_gives_the_typical_median_rent_error_beside_its_mean(tmp_path):
    # Four building-days 1 %, 2 %, 5 % and 40 % off: the mean is pulled up by the one on a
    # cliff between plans; the median error and the share within 3 % say what is typical.
    db = open_db(tmp_path / "eval.db")
    truth = {}
    for i, off in enumerate([0.01, 0.02, 0.05, 0.40], 1):
        db["buildings"].insert({"id": i, "name": f"B{i}", "status": "verified"})
        db["building_daily"].insert(
            {
                "building_id": i,
                "date": "2026-10-01",
                "listings": 20,
                "units": 10,
                "units_low": 8,
                "units_high": 20,
                "median_rent": 3000 * (1 + off),
            }
        )
        truth[(f"B{i}", "2026-10-01")] = Truth(vacant=10, median_rent=3000)
    scores = evaluate(db, truth)
    assert scores["median_rent_mape"] == 0.12
    assert scores["median_rent_median_ape"] == 0.035
    assert scores["median_rent_within_3pct"] == 0.5
    assert scores["units_mape"] == 0.0 and scores["ads_mape"] == 1.0


def test_evaluate_can_score_a_later_stretch_of_the_run_alone(tmp_path):
    # A first day 40 % off, the second 2 % off: from the second day on, only 2 % counts.
    db = open_db(tmp_path / "eval.db")
    db["buildings"].insert({"id": 1, "name": "B1", "status": "verified"})
    truth = {}
    for day, off in (("2026-10-01", 0.40), ("2026-10-02", 0.02)):
        db["building_daily"].insert(
            {"building_id": 1, "date": day, "listings": 20, "units": 10, "units_low": 8,
             "units_high": 20, "median_rent": 3000 * (1 + off)}
        )  # fmt: skip
        truth[("B1", day)] = Truth(vacant=10, median_rent=3000)
    assert evaluate(db, truth)["median_rent_mape"] == 0.21
    later = evaluate(db, truth, since="2026-10-02")
    assert later["building_days"] == 1 and later["median_rent_mape"] == 0.02
    first = evaluate(db, truth, until="2026-10-01")
    assert first["building_days"] == 1 and first["median_rent_mape"] == 0.4


@pytest.mark.slow
def test_the_bounds_benchmark_makes_the_grouping_perfect_and_finds_the_lifecycles_mistakes():
    from bench.eval_bounds import run as bounds_run

    ours = bounds_run(5, "ours", days=4, scale=0.3)
    perfect = bounds_run(5, "all", days=4, scale=0.3)
    # every ad grouped by its true flat: the count and the median come closer to the truth
    assert perfect["units"] < ours["units"]
    assert perfect["median_rent"] < ours["median_rent"]
    life = ours["lifecycle"]
    assert life["counted"] > 0 and life["phantoms"] > 0 and life["dropped"] > 0
    # leaving out the units of let flats and counting the dropped flats mends the median
    assert life["median_rent_both_mended"] < ours["median_rent"]


def test_the_simulation_benchmark_refuses_to_score_from_a_day_outside_the_run():
    script = Path(__file__).resolve().parent.parent / "bench" / "eval_sim.py"
    run = subprocess.run(
        [sys.executable, str(script), "--days", "5", "--score-from", "9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "--score-from and --score-to must be days of the run, in order: 1 to 5" in run.stderr
