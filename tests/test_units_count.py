"""The count of flats and its interval (pipeline.units.estimate, pipeline.snapshot.counts):
the market fitted from the day's ads, and a person's count calibrating the estimate."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, timedelta

import pytest

from db.observations import ManualObservation, save
from pipeline.snapshot import compute, snapshot_day
from pipeline.snapshot.counts import calibrate
from pipeline.units.estimate import (
    Group,
    Prior,
    group_loglik,
    one_flat_weights,
    posterior,
    robust_jitter,
)
from pipeline.units.model import AdState
from tests.market import Market, ad, building
from tests.test_snapshot_compute import listing, window


@pytest.fixture
def market(fresh_db):
    return Market(fresh_db)


def _alike(n: int, agents: list[str], rent: float = 3000.0) -> list:
    """``n`` look-alike ads of one plan, each by the next of ``agents``, within 1 % in rent."""
    return [listing(i + 1, rent * (1 + 0.0005 * i), agents[i % len(agents)]) for i in range(n)]


def test_a_count_pulls_a_biased_estimate_toward_the_truth():
    # 12 flats of one plan at nearly one rent, each shown by one agency of its own: the ads
    # say little (twelve advertisers with one ad each read as fewer flats shown by several),
    # so the model undercounts. A notice board counted 12 when it said `then`.
    ads = _alike(12, [f"A{i}" for i in range(12)])
    rents = {a.id: 3000 * (1 + 0.0005 * (a.id - 1)) for a in ads}
    alone = compute(window(ads, rents)).building_rows[0]
    model = alone["units_model"]
    assert model <= 9, alone  # biased low
    assert alone["units_model_calibrated"] is None and alone["calibration"] is None
    then = (model, alone["units_model_low"], alone["units_model_high"])
    inp = window(ads, rents)
    inp.counts = {1: (12, then)}
    row = compute(inp).building_rows[0]
    # the model's own figures are kept beside the calibrated one
    assert (row["units_model"], row["units_model_low"]) == (model, alone["units_model_low"])
    calibrated = row["units_model_calibrated"]
    assert abs(calibrated - 12) < abs(model - 12)
    assert abs(calibrated - 12) <= 1
    assert row["calibration"] > 1
    # the contract's columns stay the de-duplication's: the experiment leaves them alone
    for column in ("units", "units_low", "units_high", "vacancy_rate"):
        assert row[column] == alone[column], column


def test_a_count_made_today_calibrates_today_and_its_interval_holds_it():
    units, low, high, factor = calibrate(40.0, 35, 46, 50, (40.0, 35, 46))
    assert (round(units), round(factor, 2)) == (50, 1.25)
    assert low <= 50 <= high
    # the count's day's uncertainty widens today's interval, it never narrows it
    assert (high - low) / units > (46 - 35) / 40


def test_a_count_is_stored_read_back_and_carried_to_later_days(market):
    market.registry(building("丽晶国际", total_units=300))
    start = date(2026, 10, 1)
    ads = [ad(f"L{i}", "丽晶国际", rent=3000 + 7 * i, agent=f"A{i}") for i in range(12)]
    market.day(start.isoformat(), ads)
    snapshot_day(market.db, start.isoformat())
    first = market.row("丽晶国际", start.isoformat())
    building_id = market.building_id("丽晶国际")
    truth = first["units_model"] + 10
    save(market.db, [ManualObservation(building_id, start.isoformat(), truth, "notice board")])
    for n in range(3):
        d = (start + timedelta(days=n)).isoformat()
        market.day(d, ads)
        snapshot_day(market.db, d)
        row = market.row("丽晶国际", d)
        # the model's posterior mean (units_model is it rounded) times the count's factor
        calibrated = row["units_model_calibrated"]
        assert abs(calibrated - row["units_model"] * truth / first["units_model"]) <= 1, d
        assert row["calibration"] is not None
        assert row["units_model_low"] <= row["units_model"] <= row["units_model_high"]
    # what the model believed each day is data
    params = {
        r["parameter"]
        for r in market.db.query("SELECT parameter FROM market_params WHERE building_id IS NULL")
    }
    assert {"flats_per_lookalike_group", "repost_rate"} <= params
    per_building = market.db.execute(
        "SELECT count(*) FROM market_params WHERE building_id = ?", [building_id]
    ).fetchone()[0]
    assert per_building >= 3


def test_the_count_likelihood_reads_advertisers_as_captures():
    # Four advertisers, each showing a flat with p = 0.5: one ad of each is likelier one
    # flat than four; three ads of one advertiser are at least three flats.
    probs = {a: 0.5 for a in "ABCD"}
    low, logs = group_loglik(Counter("ABCD"), probs, 1, 4)
    assert low == 1 and logs.index(max(logs)) == 0
    low, logs = group_loglik(Counter("AAAB"), probs, 1, 4)
    assert low == 3
    # a prior of few flats per group pulls a weak likelihood toward one flat
    weak = Group(1, [0.0, 0.0, 0.0], 1)
    assert posterior(weak, Prior(1.2))[1][0] > posterior(weak, Prior(5.0))[1][0]


def test_the_jitter_of_one_flat_is_told_from_pairs_of_two_flats():
    # 60 pairs of one flat's ads (sd 2 % each ad) and 40 pairs of two flats 10 % apart
    import random

    rng = random.Random(3)
    one = [abs(rng.gauss(0, 0.02) - rng.gauss(0, 0.02)) for _ in range(60)]
    two = [abs(rng.gauss(0, 0.1)) for _ in range(40)]
    # nearer one flat's jitter than the two flats' spread (0.1 / sqrt(2) per ad)
    estimate = robust_jitter(one + two)
    assert 0.01 < estimate < 0.04, estimate
    assert math.isclose(robust_jitter(one), 0.02, rel_tol=0.3)


def test_groups_of_two_flats_weigh_less_in_the_ads_per_flat():
    # A building of eight advertisers: 30 one-flat groups of two ads, and 10 groups of
    # six ads (a pair of three-ad flats at one rent): the six-ad groups are likely two flats
    def ad_of(i: int, agent: str) -> AdState:
        return AdState(i, 1, None, "s", agent, "whole", "x", 50.0, "m", 20, "南", "2026-10-01")

    shares = {f"s:{c}": 1 / 8 for c in "ABCDEFGH"}
    groups = [[ad_of(i, "s:A"), ad_of(i + 1000, "s:B")] for i in range(30)]
    groups += [
        [ad_of(5000 + 10 * i + k, f"s:{c}") for k, c in enumerate("ABCDEF")] for i in range(10)
    ]
    weights = one_flat_weights([(g, shares) for g in groups])
    assert min(weights[:30]) > max(weights[30:])
