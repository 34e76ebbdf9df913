"""Grouping look-alike ads into flats by likelihood (pipeline.units.grouping): the first day
watched all at once, and each later day's new ads with the young units."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta

import pytest

from pipeline.snapshot import snapshot_day
from pipeline.units.dedup import AdState, assign_units
from pipeline.units.estimate import BuildingDay, fit_city
from pipeline.units.fitted import params_from_fit
from pipeline.units.grouping import Evidence, partition, place
from pipeline.units.model import UnitState
from pipeline.units.params import DEFAULT_PARAMS
from tests.market import Market, ad, building

TODAY = date(2026, 10, 1)


RENT_SPAN = DEFAULT_PARAMS.rent_span
#: A search budget too small for the groups below.
SMALL_BUDGET = replace(DEFAULT_PARAMS, search_budget=10)


def grouped(
    ads: list[Evidence],
    *,
    joinable=lambda i, j: True,
    advertisers: int = 6,
    params=DEFAULT_PARAMS,
):
    return partition(
        ads,
        today=TODAY.toordinal(),
        advertisers=advertisers,
        joinable=joinable,
        max_span=RENT_SPAN,
        params=params,
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


def test_a_group_too_large_for_the_search_is_left_to_the_one_by_one_matching(fresh_db):
    ads = [Evidence(3000 + 5 * i, f"A{i}", days_ago(2)) for i in range(8)]
    assert grouped(ads, advertisers=8, params=SMALL_BUDGET) is None
    # ... and the snapshot still gives every ad a unit, by the day-to-day matching
    market = Market(fresh_db)
    market.registry(building("丽晶国际", total_units=300))
    listings = [ad(f"a{i}", "丽晶国际", rent=3000 + 5 * i, agent=f"A{i}") for i in range(8)]
    market.day(TODAY.isoformat(), listings)
    snapshot_day(market.db, TODAY.isoformat(), params=SMALL_BUDGET)
    links = market.db.execute("SELECT kind, reason FROM unit_links").fetchall()
    assert len(links) == 8
    assert not any(reason.startswith("first day watched") for _, reason in links)
    assert market.row("丽晶国际", TODAY.isoformat())["units"] >= 1


def plan_ad(
    ad_id: int, agent: str, rents: dict[str, float], *, created: str, flags: list[str] | None = None
) -> AdState:
    """An ad of a 53 ㎡ 2室1厅1卫 on a middle floor of a 28-storey tower, first seen on the
    first day of ``rents`` (the days it was seen, with its rent)."""
    return AdState(
        ad_id, 1, None, "sim", agent, "whole", "2室1厅1卫", 53.0, "中楼层", 28, "南", min(rents),
        rents, flags or [], created=created,
    )  # fmt: skip


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
            asks = round(rent * rng.uniform(0.97, 1.03) / 10) * 10
            ads.append(plan_ad(ad_id, f"sim:{agency}", {TODAY.isoformat(): asks}, created=created))
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


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_grouping_at_once_finds_more_flats_than_one_by_one_matching(seed):
    rng = random.Random(seed)
    at_once, one_by_one = [], []
    for _ in range(15):
        ads, flat_of = tower(rng, rng.randint(3, 8))
        day = TODAY.isoformat()
        at_once.append(exact_share(assign_units(list(ads), [], day, day)[0], flat_of))
        one_by_one.append(
            exact_share(assign_units(list(ads), [], day, None, at_once=False)[0], flat_of)
        )
    assert sum(at_once) / len(at_once) > sum(one_by_one) / len(one_by_one) + 0.03


def placed(
    ads,
    units,
    new,
    *,
    can_join=lambda i, u: True,
    joinable=lambda i, j: True,
    params=DEFAULT_PARAMS,
):
    return place(
        ads,
        units,
        new,
        today=TODAY.toordinal(),
        advertisers=6,
        can_join=can_join,
        joinable=joinable,
        max_span=RENT_SPAN,
        params=params,
    )


def test_a_new_ad_joins_the_young_unit_it_is_likelier_to_advertise():
    # Two young units, A (X, Y at 3000 and 3020, put up 2 days ago) and B (Z at 3150, put
    # up yesterday); W's new ad at 3140 is B's: both tolerances would let it join A too.
    ads = [
        Evidence(3000, "X", days_ago(2)),
        Evidence(3020, "Y", days_ago(2)),
        Evidence(3150, "Z", days_ago(1)),
        Evidence(3140, "W", days_ago(0)),
    ]
    found = placed(ads, [[0, 1], [2]], [3])
    assert found is not None
    joined, fresh = found
    assert [adds for adds, _ in joined] == [[], [3]] and fresh == []
    assert joined[1][1] > 0  # likelier B's flat than one of its own


def test_new_ads_far_from_every_unit_make_flats_of_their_own():
    # A unit of two ads at 3000 and 3010 from 2 days ago; today two new ads at 3150 and
    # 3160 (5 % above) by two other advertisers: one fresh flat, not two more ads of the
    # old one (four ads of one flat would scatter more than agencies do).
    ads = [
        Evidence(3000, "X", days_ago(2)),
        Evidence(3010, "Y", days_ago(2)),
        Evidence(3150, "Z", days_ago(0)),
        Evidence(3160, "W", days_ago(0)),
    ]
    joined, fresh = placed(ads, [[0, 1]], [2, 3]) or (None, None)
    assert joined == [([], 0.0)]
    assert [group for group, _ in fresh] == [[2, 3]]


def test_an_advertiser_never_joins_a_unit_it_already_lists_and_the_caller_decides_the_rest():
    ads = [Evidence(3000, "X", days_ago(1)), Evidence(3000, "X", days_ago(0))]
    joined, fresh = placed(ads, [[0]], [1]) or (None, None)
    assert joined == [([], 0.0)] and [group for group, _ in fresh] == [[1]]
    ads = [Evidence(3000, "X", days_ago(1)), Evidence(3000, "Y", days_ago(0))]
    assert [adds for adds, _ in placed(ads, [[0]], [1])[0]] == [[1]]
    joined, fresh = placed(ads, [[0]], [1], can_join=lambda i, u: False) or (None, None)
    assert joined == [([], 0.0)] and [group for group, _ in fresh] == [[1]]


def test_placing_too_many_new_ads_for_the_search_returns_none():
    ads = [Evidence(3000 + 5 * i, f"A{i}", days_ago(0)) for i in range(6)]
    assert placed(ads, [], list(range(6)), params=SMALL_BUDGET) is None


def test_a_young_unit_with_only_flagged_ads_is_not_weighed_against():
    day = TODAY.isoformat()
    yesterday = (TODAY - timedelta(days=1)).isoformat()

    bait = plan_ad(1, "sim:A", {yesterday: 3000, day: 3000}, created=yesterday, flags=["bait_low"])
    unit = assign_units([bait], [], yesterday, None)[1][0]
    new = plan_ad(2, "sim:B", {day: 3010}, created=day)
    links, created = assign_units([new], [unit], day, None)
    assert [link.ad.id for link in links] == [2]
    assert links[0].unit is not unit and created == [links[0].unit]


def later_tower(rng: random.Random, days: int) -> tuple[list[AdState], dict[int, int]]:
    """A plan in one floor band of a tower watched for ``days`` days: now and then a flat
    comes free and 1-4 of six agencies list it 0-2 days later at ±3 % of its rent."""
    ads: list[AdState] = []
    flat_of: dict[int, int] = {}
    for free in range(days):
        for _ in range(rng.choice([0, 0, 1, 1])):
            flat = len(set(flat_of.values()))
            rent = 3000 * rng.gauss(1.0, 0.07)
            for agency in rng.sample("ABCDEF", rng.choice([1, 2, 2, 3, 3, 4])):
                up = free + rng.choice([0, 0, 0, 0, 0, 1, 1, 1, 2, 2])
                if up >= days:
                    continue
                asks = round(rent * rng.uniform(0.97, 1.03) / 10) * 10
                seen = [(TODAY + timedelta(days=d)).isoformat() for d in range(up, days)]
                ads.append(
                    plan_ad(len(ads), f"sim:{agency}", dict.fromkeys(seen, asks), created=seen[0])
                )
                flat_of[len(ads) - 1] = flat
    return ads, flat_of


def test_weighing_a_days_new_ads_together_finds_more_flats_than_one_by_one():
    rng = random.Random(1)
    shares: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(40):
        ads, flat_of = later_tower(rng, 14)
        for at_once in (True, False):
            units: list = []
            links: list = []
            for d in range(14):
                day = (TODAY + timedelta(days=d)).isoformat()
                new = [a for a in ads if a.first_seen == day]
                links += assign_units(new, units, day, None, at_once=at_once)[0]
            shares[at_once].append(exact_share(links, flat_of))
    at_once, one_by_one = (sum(shares[k]) / len(shares[k]) for k in (True, False))
    assert at_once > one_by_one + 0.02, (at_once, one_by_one)


def test_the_first_day_benchmark_scores_both_ways_on_the_simulated_market():
    from bench.eval_first_day import run as first_day_run
    from rentwatch.sim.market import WARMUP_DAYS

    scores = first_day_run(5, WARMUP_DAYS)
    at_once, one_by_one = scores["at once"]["exact"], scores["one by one"]["exact"]
    assert 0 < one_by_one < at_once <= 1
    assert scores["at once"]["flats"] == scores["one by one"]["flats"] > 0


def test_more_new_look_alike_ads_than_are_weighed_at_once_are_weighed_in_runs():
    # The day above through assign_units, with a third new ad far above (another flat) and
    # joint_max 2: three new ads are more than are weighed at once. Taken one by one, each
    # went to the nearest unit it fit and the old flat's unit took the two at 3150 and
    # 3160; weighed in runs of rent neighbours, those two make a flat of their own.
    before, today = (TODAY - timedelta(days=2)).isoformat(), TODAY.isoformat()
    old = [
        plan_ad(1, "sim:X", {before: 3000, today: 3000}, created=before),
        plan_ad(2, "sim:Y", {before: 3010, today: 3010}, created=before),
    ]
    units: list = []
    assign_units(old, units, before, None)
    new = [
        plan_ad(3, "sim:Z", {today: 3150}, created=today),
        plan_ad(4, "sim:W", {today: 3160}, created=today),
        plan_ad(5, "sim:V", {today: 3600}, created=today),
    ]
    params = replace(DEFAULT_PARAMS, joint_max=2)
    links, created = assign_units(new, units, today, None, params=params)
    unit_of = {link.ad.id: link.unit for link in links}
    assert unit_of[3] is unit_of[4]
    assert unit_of[3] in created and unit_of[5] in created
    assert unit_of[3] is not unit_of[5]


@pytest.mark.parametrize(("spread", "low", "high"), [(0.02, 0.0, 1.0), (0.10, 1.5, 9.0)])
def test_a_later_days_new_flat_costs_the_density_of_the_markets_look_alike_flats(spread, low, high):
    # Twelve young units of two ads within 3 % of one another and a new ad among them.
    # One flat more costs the density of look-alike flats at its rent: the flats the ads
    # stand for, spread as the market's look-alike flats are (flat_spread, fitted). Where
    # they ask within 2 % of one another the new ad is barely likelier a crowded young
    # flat's than one of its own; where they spread 10 %, much likelier. (The first day's
    # form, the ads' range plus a margin, halved, gave 1.8 either way.)
    params = replace(DEFAULT_PARAMS, rent_sigma=0.0175, mean_ads_per_flat=2.0, flat_spread=spread)
    ads, units = [], []
    for k in range(12):
        rent = round(3000 * (1 + 0.03 * (k - 5.5) / 11))
        units.append([len(ads), len(ads) + 1])
        ads += [Evidence(rent, f"X{k}", days_ago(1)), Evidence(rent + 10, f"Y{k}", days_ago(1))]
    ads.append(Evidence(3015, "Z", days_ago(0)))
    found = place(
        ads,
        units,
        [len(ads) - 1],
        today=TODAY.toordinal(),
        advertisers=30,
        can_join=lambda i, u: True,
        joinable=lambda i, j: True,
        max_span=RENT_SPAN,
        params=params,
    )
    assert found is not None
    joined, fresh = found
    log_odds = [odds for adds, odds in joined if adds]
    assert not fresh and len(log_odds) == 1
    assert low < log_odds[0] < high


def test_a_market_without_a_repost_in_its_window_still_weighs_late_ads():
    # A young unit whose second ad went up 4 days after its first, beyond the stated lags
    # (0-2 days): only a repost explains it. A window of 1,000 ad-days without a repost
    # once fitted a rate of 0, and scoring the unit ended the snapshot on log(0).
    units = []
    for k in range(50):  # 50 one-ad units seen on 20 days each: 1,000 ad-days
        seen = AdState(
            k, 1, k, "lianjia", f"lianjia:S{k}", "whole", "1室", 40.0, "中", 20, "南", ""
        )
        seen.rents = {f"2026-09-{d:02d}": 3000.0 for d in range(11, 31)}
        seen.first_seen = "2026-09-11"
        unit = UnitState.of_ad(seen)
        units.append(unit)
    fit, _ = fit_city("杭州", [BuildingDay(1, "杭州", [], units, None)], "2026-09-30")
    assert fit.ad_days == 1000 and fit.repost_rate == pytest.approx(1 / 1002)
    params, _ = params_from_fit(fit, DEFAULT_PARAMS)
    assert params.repost_rate == fit.repost_rate
    ads = [
        Evidence(3000, "X", days_ago(6)),
        Evidence(3010, "Y", days_ago(2)),
        Evidence(3005, "Z", days_ago(0)),
    ]
    found = placed(ads, [[0, 1]], [2], params=params)
    assert found is not None
    joined, fresh = found
    assert [adds for adds, _ in joined] + [g for g, _ in fresh] in ([[2]], [[], [2]])
    assert all(gain == gain for _, gain in joined + fresh)  # no NaN: every score finite
    # ads the site dates after the snapshot's day (its clock ahead of ours), 3 days apart
    ahead = [Evidence(3000, "X", days_ago(-1)), Evidence(3010, "Y", days_ago(-4))]
    assert placed(ahead, [[0]], [1], params=params) is not None


def test_ads_put_up_today_are_weighed_under_lags_fitted_without_a_same_day_pair():
    # A day's lags fitted from a few units whose later ads all came 1-2 days after the
    # first: no lag of 0 days. Two agencies put one flat up today; their ads are not
    # impossible (a repost takes a day), and they are weighed, not a log(0) error.
    params = replace(DEFAULT_PARAMS, listing_lag=((1, 0.6), (2, 0.4)))
    ads = [Evidence(3000, "X", days_ago(0)), Evidence(3010, "Y", days_ago(0))]
    groups = grouped(ads, params=params)
    assert groups is not None and sorted(m for g in groups for m in g.members) == [0, 1]
    assert placed(ads, [[0]], [1], params=params) is not None


def test_no_split_of_look_alike_ads_is_impossible_under_any_fitted_parameters():
    # What the day's fit can give (lags on any days, ads per flat up to 6, spreads from
    # tiny to wide, a repost rate above zero) and ads of any age, the site's clock ahead
    # of ours included: every grouping is weighed, never a math error, never a NaN.
    rng = random.Random(18)
    for _ in range(400):
        lags = sorted(rng.sample(range(8), rng.randint(1, 4)))
        lag_weights = [rng.random() + 0.01 for _ in lags]
        shares = [rng.random() + 0.01 for _ in range(rng.randint(1, 6))]
        params = replace(
            DEFAULT_PARAMS,
            listing_lag=tuple(
                (k, w / sum(lag_weights)) for k, w in zip(lags, lag_weights, strict=True)
            ),
            ads_per_flat=tuple((k + 1, s / sum(shares)) for k, s in enumerate(shares)),
            tail_share=rng.choice([1e-9, 0.02]),
            repost_rate=rng.choice([1e-6, 0.001, 0.05]),
            rent_sigma=rng.choice([1e-6, 0.02, 0.2]),
            flat_spread=rng.choice([0.0, 0.07, 0.5]),
        )
        n = rng.randint(2, 6)
        ads = [
            Evidence(
                rng.choice([1000, 3000, 3300]) * rng.uniform(0.98, 1.02),
                rng.choice(["A", "B", "C", None]),
                rng.choice([None, days_ago(rng.randint(-3, 40))]),
            )
            for _ in range(n)
        ]
        assert grouped(ads, params=params) is not None
        found = placed(ads, [[0]], list(range(1, n)), params=params)
        assert found is not None
        assert all(gain == gain for _, gain in found[0] + found[1])
