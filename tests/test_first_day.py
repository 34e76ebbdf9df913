"""The first day's grouping of look-alike ads by likelihood (pipeline.first_day)."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from pipeline import first_day
from pipeline.dedup import RENT_SPAN, AdState, assign_units
from pipeline.first_day import Evidence, partition
from pipeline.snapshot import snapshot_day
from tests.market import Market, ad, building

TODAY = date(2026, 10, 1)


def grouped(ads: list[Evidence], *, joinable=lambda i, j: True, advertisers: int = 6):
    return partition(
        ads,
        today=TODAY.toordinal(),
        advertisers=advertisers,
        joinable=joinable,
        max_span=RENT_SPAN,
    )


def split(ads: list[Evidence]) -> list[tuple[int, ...]]:
    groups = grouped(ads)
    assert groups is not None
    return [g.members for g in groups]


def days_ago(n: int) -> int:
    return TODAY.toordinal() - n


def test_one_advertiser_never_lists_one_flat_twice():
    ads = [Evidence(3000, "X", days_ago(5)), Evidence(3000, "X", days_ago(5))]
    assert split(ads) == [(0,), (1,)]


def test_ads_put_up_together_at_close_prices_are_one_flat():
    ads = [
        Evidence(3000, "X", days_ago(20)),
        Evidence(3050, "Y", days_ago(19)),
        Evidence(2990, "Z", days_ago(20)),
    ]
    [group] = grouped(ads) or [None]
    assert group.members == (0, 1, 2) and group.log_odds > 0


def test_prices_further_apart_than_one_flats_span_are_two_flats():
    ads = [
        Evidence(3000, "X", days_ago(3)),
        Evidence(3000 * (1 + RENT_SPAN) + 20, "Y", days_ago(3)),
    ]
    assert split(ads) == [(0,), (1,)]


def test_ads_the_caller_keeps_apart_are_never_one_flat():
    ads = [Evidence(3000, "X", days_ago(3)), Evidence(3010, "Y", days_ago(3))]
    groups = grouped(ads, joinable=lambda i, j: False)
    assert groups is not None and [g.members for g in groups] == [(0,), (1,)]


def test_the_days_ads_went_up_outweigh_a_small_price_difference():
    # A: X and Y put up 09-10/09-11 at 3000 and 3100; B: Z and X on 09-22 at 3010 and
    # 3110. By price alone the pairs would be (3000, 3010) and (3100, 3110).
    dated = [
        Evidence(3000, "X", days_ago(21)),
        Evidence(3100, "Y", days_ago(20)),
        Evidence(3010, "Z", days_ago(9)),
        Evidence(3110, "X", days_ago(9)),
    ]
    assert split(dated) == [(0, 1), (2, 3)]
    undated = [Evidence(e.rent, e.agent, None) for e in dated]
    assert split(undated) == [(0, 2), (1, 3)]


def test_a_group_too_large_for_the_search_is_left_to_the_one_by_one_matching(fresh_db, monkeypatch):
    ads = [Evidence(3000 + 5 * i, f"A{i}", days_ago(2)) for i in range(8)]
    monkeypatch.setattr(first_day, "SEARCH_BUDGET", 10)
    assert grouped(ads, advertisers=8) is None
    # ... and the snapshot still gives every ad a unit, by the day-to-day matching
    market = Market(fresh_db)
    market.registry(building("丽晶国际", total_units=300))
    listings = [ad(f"a{i}", "丽晶国际", rent=3000 + 5 * i, agent=f"A{i}") for i in range(8)]
    market.day(TODAY.isoformat(), listings)
    snapshot_day(market.db, TODAY.isoformat())
    links = market.db.execute("SELECT kind, reason FROM unit_links").fetchall()
    assert len(links) == 8
    assert not any(reason.startswith("first day watched") for _, reason in links)
    assert market.row("丽晶国际", TODAY.isoformat())["units"] >= 1


def tower(rng: random.Random, flats: int) -> tuple[list[AdState], dict[int, int]]:
    """The ads on the first day watched of one plan in one floor band of a tower: flats a
    few % apart in rent, each listed by 1-4 of six agencies at ±3 % within two days of
    coming free, some ads since reposted (a later date)."""
    ads: list[AdState] = []
    flat_of: dict[int, int] = {}
    for flat in range(flats):
        rent = 3000 * rng.gauss(1.0, 0.07)
        free = rng.randint(1, 60)
        for agency in rng.sample("ABCDEF", rng.choice([1, 2, 2, 3, 3, 4])):
            put_up = free - rng.choice([0, 1, 2])
            if rng.random() < 1 - 0.98**put_up:
                put_up = rng.randint(0, put_up)  # reposted since under a new id
            created = (TODAY - timedelta(days=put_up)).isoformat()
            ad_id = len(ads)
            ads.append(
                AdState(
                    ad_id, 1, None, "sim", f"sim:{agency}", "whole", "2室1厅1卫", 53.0,
                    "中楼层", 28, "南", TODAY.isoformat(),
                    {TODAY.isoformat(): round(rent * rng.uniform(0.97, 1.03) / 10) * 10},
                    created=created,
                )
            )  # fmt: skip
            flat_of[ad_id] = flat
    return ads, flat_of


def exact_share(links, flat_of: dict[int, int]) -> float:
    """Share of flats whose ads make exactly one unit with nothing else in it."""
    unit_of = {link.ad.id: id(link.unit) for link in links}
    units, flats = defaultdict(set), defaultdict(set)
    for ad_id, unit in unit_of.items():
        units[unit].add(flat_of[ad_id])
        flats[flat_of[ad_id]].add(unit)
    return sum(len(us) == 1 and len(units[next(iter(us))]) == 1 for us in flats.values()) / len(
        flats
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_grouping_at_once_finds_more_flats_than_one_by_one_matching(seed):
    rng = random.Random(seed)
    at_once, one_by_one = [], []
    for _ in range(15):
        ads, flat_of = tower(rng, rng.randint(3, 8))
        day = TODAY.isoformat()
        at_once.append(exact_share(assign_units(list(ads), [], day, day)[0], flat_of))
        one_by_one.append(exact_share(assign_units(list(ads), [], day, None)[0], flat_of))
    assert sum(at_once) / len(at_once) > sum(one_by_one) / len(one_by_one) + 0.03


def test_the_first_day_benchmark_scores_both_ways_on_the_simulated_market():
    script = Path(__file__).resolve().parent.parent / "bench" / "eval_first_day.py"
    out = subprocess.run(
        [sys.executable, str(script), "--seeds", "5"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    row = next(line for line in out.splitlines() if line.startswith("| 5 |"))
    exact = row.split("|")[3]  # "74.4% / 67.8%"
    at_once, one_by_one = (float(x.strip().rstrip("%")) for x in exact.split("/"))
    assert 0 < one_by_one < at_once <= 100
