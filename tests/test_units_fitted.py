"""The de-duplication's parameters fitted from the day's ads (pipeline.units.fitted), the
rounding floor of the rent spread, and the snapshot that uses and records them."""

from __future__ import annotations

import math
import random

import pytest
import sqlite_utils

from pipeline.snapshot.compute import Strategies
from pipeline.units.advertisers import shared_keys
from pipeline.units.estimate import MIN_CLASS, MIN_PAIRS, CityFit, rounding_sd
from pipeline.units.fitted import FITTED, params_from_fit
from pipeline.units.model import AdState
from pipeline.units.params import DEFAULT_PARAMS
from rentwatch.sim import MarketSpec, run_simulation


def test_rounding_sd_is_the_step_most_rents_are_multiples_of_over_sqrt_12():
    hundreds = [2400.0, 2500.0, 2600.0, 2500.0, 2700.0, 2300.0, 2500.0, 2800.0, 2400.0, 2600.0]
    assert rounding_sd(hundreds) == pytest.approx(100 / (2500 * math.sqrt(12)))
    # one unrounded rent in ten does not hide the market's step; two do
    assert rounding_sd([*hundreds[:9], 2513.0]) == pytest.approx(100 / (2500 * math.sqrt(12)))
    tens = [2410.0, 2500.0, 2630.0, 2500.0, 2700.0, 2380.0, 2500.0, 2800.0, 2400.0, 2600.0]
    assert rounding_sd(tens) == pytest.approx(10 / (2500 * math.sqrt(12)))
    assert rounding_sd([]) == 0.0


def test_a_fit_without_data_leaves_the_prior_and_says_so():
    params, n = params_from_fit(CityFit(city="杭州"), DEFAULT_PARAMS)
    assert params == DEFAULT_PARAMS
    assert set(n) == set(FITTED) and not any(n.values())


def test_a_fit_with_data_replaces_each_measured_field_and_counts_its_data():
    fit = CityFit(
        city="杭州",
        flats=MIN_CLASS,
        mean_ads=1.6,
        ads_dist={1: 0.5, 2: 0.4, 3: 0.1},
        jitter=0.01,
        jitter_n=MIN_PAIRS,
        join_days=3,
        lags={0: 0.4, 1: 0.3, 2: 0.2, 3: 0.1},
        lags_n=40,
        repost_rate=0.004,
        ad_days=5000,
    )
    params, n = params_from_fit(fit, DEFAULT_PARAMS)
    assert params.rent_sigma == 0.01 and params.rent_tol < DEFAULT_PARAMS.rent_tol
    assert params.rent_span > params.rent_tol > params.rent_sigma
    assert params.ads_per_flat == ((1, 0.5), (2, 0.4), (3, 0.1))
    assert params.mean_ads_per_flat == 1.6
    assert params.tail_share == pytest.approx(1 / (MIN_CLASS + 2))
    assert params.join_days == 3 and dict(params.listing_lag)[3] == 0.1
    assert params.repost_rate == 0.004
    assert n["rent_sigma"] == MIN_PAIRS and n["ads_per_flat"] == MIN_CLASS
    assert n["repost_rate"] == 5000 and n["join_days"] == 40
    # what is not measured keeps the prior: too few pairs for a spread
    thin, n_thin = params_from_fit(
        CityFit(city="杭州", jitter=0.5, jitter_n=MIN_PAIRS - 1), DEFAULT_PARAMS
    )
    assert thin.rent_sigma == DEFAULT_PARAMS.rent_sigma and n_thin["rent_sigma"] == 0


def _fitted(tmp_path, name: str, **spec) -> dict[str, tuple[float, int]]:
    path = tmp_path / f"{name}.db"
    run_simulation(
        path,
        days=2,
        seed=4,
        spec=MarketSpec(scale=0.3, **spec),
        strategies=Strategies(fit_market=True),
    )
    db = sqlite_utils.Database(path)
    return {
        r["parameter"]: (r["value"], r["n"])
        for r in db.query(
            "SELECT parameter, value, n FROM market_params WHERE date = '2026-10-02' "
            "AND parameter LIKE 'grouping.%'"
        )
    }


@pytest.mark.slow
def test_the_snapshot_fits_each_market_from_its_own_ads_and_records_what_it_used(tmp_path):
    few = _fitted(tmp_path, "few", ads_per_flat=(6, 3, 1), agency_jitter=0.01, rent_steps=(10,))
    many = _fitted(
        tmp_path, "many", ads_per_flat=(1, 1, 2, 3, 3), agency_jitter=0.05, rent_steps=(10,)
    )
    for fitted in (few, many):
        assert {f"grouping.{f}" for f in FITTED if f not in ("ads_per_flat", "listing_lag")} <= (
            set(fitted)
        )
        assert fitted["grouping.rent_sigma"][1] >= MIN_PAIRS
        assert fitted["grouping.mean_ads_per_flat"][1] >= MIN_CLASS
    # each market's own figures, not the stated parameters': about 1.5 and 3.3 ads per
    # flat, jitters of U(±1 %) and U(±5 %) (sd 0.6 % and 2.9 %)
    assert few["grouping.mean_ads_per_flat"][0] < 2.0 < many["grouping.mean_ads_per_flat"][0]
    assert few["grouping.rent_sigma"][0] < 0.012 and many["grouping.rent_sigma"][0] > 0.02
    assert many["grouping.rent_sigma"][0] > 2 * few["grouping.rent_sigma"][0]


def _ad(i: int, agent: str, rent: float, layout: str = "2室1厅1卫") -> AdState:
    ad = AdState(i, 1, None, "lianjia", agent, "whole", layout, 60.0, "中", 30, "南", DAY)
    ad.rents[DAY] = rent
    return ad


DAY = "2026-10-01"


def _city(label_stores: int, seed: int) -> list[list[AdState]]:
    """60 buildings of 3 look-alike flats each, rents spread ±8 %; each flat shown by two
    of 8 stores 'S<k>' at ±1 % of its rent, and by ``label_stores`` of the stores behind
    one label whose cards all read '贝壳优选'."""
    rng = random.Random(seed)
    buildings = []
    n = 0
    for building in range(60):
        ads: list[AdState] = []
        for _ in range(3):
            rent = 3000 * math.exp(rng.gauss(0, 0.08))
            keys = [f"lianjia:S{s}" for s in rng.sample(range(8), 2)]
            for key in keys + ["lianjia:label"] * label_stores:
                n += 1
                ad = _ad(n, key, round(rent * rng.uniform(0.99, 1.01)))
                ad.building_id = building
                ads.append(ad)
        buildings.append(ads)
    return buildings


def test_a_label_many_stores_share_is_told_from_a_store_by_its_own_pairs():
    found, stores_called_labels = 0, 0
    for seed in range(1, 11):
        judged = shared_keys(_city(2, seed), DAY)
        found += "lianjia:label" in judged.shared
        stores_called_labels += len(judged.shared - {"lianjia:label"})
        # the mixture of two keys' pairs: one flat's within about 1 %, two flats' ~11 %
        assert judged.narrow < 0.02 < 0.05 < judged.wide
        # a label that shows each flat once behaves as a store: it keeps the rule
        alone = shared_keys(_city(1, seed), DAY)
        stores_called_labels += len(alone.shared)
    assert found == 10
    # two look-alike flats of one store sometimes ask alike: a few of the 160 store
    # judgements go wrong (each costs only the one-advertiser rule for that store)
    assert stores_called_labels <= 16


def test_a_key_with_no_pair_of_its_own_stays_one_advertiser():
    ads = [_ad(1, "lianjia:A", 3000), _ad(2, "lianjia:B", 3010), _ad(3, "lianjia:C", 3500)]
    assert shared_keys([ads], DAY).shared == frozenset()
