"""The simulator's declared spec, the zoo of markets drawn from it, and a small zoo through
the real scrape and snapshot held to loose bounds (the full zoo is bench/eval_zoo.py)."""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
from collections import Counter

import pytest

from bench.eval_zoo import (
    ZOO_FILE,
    ZooMarket,
    advertised_flats,
    draw_zoo,
    load_zoo,
    run_market,
    true_ads_per_flat,
)
from rentwatch.sim import Market, MarketSpec
from rentwatch.sim.market import TOWERS
from rentwatch.sim.pages import ad_card, card_html


def _quiet(**fields):
    """A small market where every flat is advertised once, at the start, and nothing else
    happens: no lettings, move-outs, reposts, baits or shared rooms."""
    base = dict(
        scale=0.3,
        warmup=0,
        let_rate=0.0,
        move_out=0.0,
        emptying_move_out=(0.0, 0.0),
        initial_vacancy=0.3,
        emptying_initial_vacancy=0.3,
        repost_rate=0.0,
        bait=0.0,
        room_ads=0.0,
    )
    market = Market(MarketSpec(**{**base, **fields}), seed=5, days=2)
    market.advance()
    return market


def _flat_ads(market: Market):
    return [ad for ad in market.ad_by_code.values() if ad.flat is not None and not ad.bait]


def test_the_default_spec_is_the_demo_market_and_overrides_replace_its_fields():
    a, b = Market(seed=3, scale=0.2, days=3), Market(MarketSpec(scale=0.2), seed=3, days=3)
    for _ in range(3):
        a.advance()
        b.advance()
    assert [(x.house_code, x.rent, x.agency) for x in a.live_ads()] == [
        (x.house_code, x.rent, x.agency) for x in b.live_ads()
    ]
    assert a.spec == MarketSpec(scale=0.2)
    with pytest.raises(TypeError):
        Market(seed=3, no_such_parameter=1)
    with pytest.raises(ValueError, match="ads_per_flat goes to 6 ads but a building has only 5"):
        MarketSpec(ads_per_flat=(1, 1, 1, 1, 1, 1), stores_per_building=5)


def test_towers_repeat_their_plans_on_every_floor_and_leave_the_rest_of_the_city_alone():
    plain = Market(MarketSpec(scale=0.2), seed=4, days=1)
    towers = Market(
        MarketSpec(scale=0.2, tower_flats=2000, tower_floors=40, tower_plans=7), seed=4, days=1
    )
    by_name = {b.name: b for b in towers.buildings}
    for name in TOWERS:
        tower = by_name[name]
        assert tower.total_units == 2000
        for floor in range(1, tower.floors + 1):
            plans = Counter(
                id(f.plan) for f in towers.flats if f.building is tower and f.floor == floor
            )
            assert len(plans) == 7 and min(plans.values()) >= 2000 // 40 // 7
    others = [(b.name, b.total_units) for b in towers.buildings if b.name not in TOWERS]
    assert others == [(b.name, b.total_units) for b in plain.buildings if b.name not in TOWERS]


def test_ads_per_flat_follow_their_weights_up_to_six():
    market = _quiet(ads_per_flat=(1, 0, 0, 0, 0, 1), stores_per_building=6)
    agencies: dict[int, set[str]] = {}
    for ad in _flat_ads(market):
        agencies.setdefault(id(ad.flat), set()).add(ad.agency)
    counts = Counter(len(a) for a in agencies.values())
    assert set(counts) == {1, 6}
    assert 3.0 < statistics.fmean(len(a) for a in agencies.values()) < 4.0  # 3.5 drawn


def test_one_brand_holds_its_share_of_ads_through_several_stores_and_may_show_only_its_name():
    market = _quiet(
        brands=("链家", "我爱我家", "德佑", "中原地产"),
        brand_weights=(0.4, 0.2, 0.2, 0.2),
        stores_per_building=8,
        ads_per_flat=(0, 0, 1),
        brand_only=1.0,
        rent_steps=(100,),
    )
    ads = _flat_ads(market)
    top = [ad for ad in ads if ad.agency.startswith("链家·")]
    assert 0.32 < len(top) / len(ads) < 0.48
    # several stores of the brand in one building, each one advertiser
    stores = Counter(b.agencies.count(a) for b in market.buildings for a in b.agencies)
    assert set(stores) == {1}
    assert any(sum(a.startswith("链家·") for a in b.agencies) >= 3 for b in market.buildings)
    # their cards show the brand alone, the others their store
    assert all(
        '<span class="brand">链家</span>' in card_html(ad_card(ad, market)) for ad in top[:20]
    )
    other = next(ad for ad in ads if not ad.agency.startswith("链家·"))
    assert f'<span class="brand">{other.agency}</span>' in card_html(ad_card(other, market))
    assert all(ad.rent % 100 == 0 for ad in ads)


def test_the_zoo_file_is_the_draw_of_its_seed_and_spans_the_ranges():
    zoo = load_zoo()
    assert len(zoo) >= 12
    drawn = draw_zoo(18, len(zoo))
    assert drawn["drawn_with"] == "bench/eval_zoo.py --draw 18 --n 12"
    again = [MarketSpec(**_tuples(entry)) for entry in drawn["specs"]]
    assert [m.spec for m in zoo] == again
    means = [m.spec.mean_ads_per_flat() for m in zoo]
    assert min(means) < 1.6 and max(means) > 3.2
    assert {len(m.spec.brands) for m in zoo} >= {4, 15}
    assert max(m.spec.brand_share() for m in zoo) > 0.35
    assert {m.spec.tower_plans for m in zoo} >= {3, 10}
    assert {m.spec.rent_steps for m in zoo} == {(10,), (50,), (100,), (10, 50, 100)}
    assert {len(m.spec.lag_weights) - 1 for m in zoo} == {0, 1, 2, 3, 4}
    assert {m.spec.cut_chance > 0 for m in zoo} == {True, False}


def test_the_deep_cut_zoo_is_three_fixed_markets_with_only_their_cuts_deeper():
    fixed = {m.name: m for m in load_zoo()}
    deep = load_zoo(ZOO_FILE.parent / "zoo_deep_cuts.json")
    assert [m.name for m in deep] == ["cuts-01", "cuts-07", "cuts-09"]
    cuts = {"cut_chance": 0.06, "cut_size": (0.12, 0.25), "cut_follow": (0, 1, 2, 3, 4, 5)}
    for market in deep:
        twin = fixed[market.name.replace("cuts", "zoo")]
        assert market.seed == twin.seed
        assert market.spec == dataclasses.replace(twin.spec, **cuts)


def test_a_freshly_drawn_zoo_runs_from_its_file_and_a_missing_file_is_one_line(tmp_path):
    drawn = tmp_path / "drawn.json"
    drawn.write_text(json.dumps(draw_zoo(7, 3), ensure_ascii=False), encoding="utf-8")
    fresh = load_zoo(drawn)
    assert len(fresh) == 3 and fresh[0].spec != load_zoo()[0].spec
    run = subprocess.run(
        [sys.executable, "bench/eval_zoo.py", "--zoo", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith("eval_zoo.py: error: --zoo: cannot read")


def _tuples(entry: dict) -> dict:
    return {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in entry.items()
        if k not in ("name", "seed")
    }


#: Loose bounds of the small zoo below: today's model meets them on each market (its
#: worst: units 38 %, coverage 52 %, median_rent 4 %, 2026-12-06, after the simulator stopped
#: depending on the string-hash seed); counting ads (50 % off at the fewest ads per flat)
#: or an interval that is the estimate alone would not.
UNITS_MAPE = 0.45
COVERAGE = 0.40
MEDIAN_RENT = 0.10


@pytest.mark.slow
@pytest.mark.parametrize("name", ["zoo-03", "zoo-04", "zoo-06"])
def test_a_small_zoo_through_scrape_and_snapshot_stays_within_loose_bounds(name):
    # The fewest ads per flat (1.5), the most (3.3), and 38 % of ads by one brand whose
    # cards mostly show only its name; shrunk to 1,000-flat towers and 4 days to be quick.
    market = next(m for m in load_zoo() if m.name == name)
    small = dataclasses.replace(market.spec, scale=0.15, tower_flats=1000, tower_floors=25)
    run = run_market(ZooMarket(name, market.seed, small), days=4)
    assert run["building_days"] > 30
    assert run["units_mape"] < UNITS_MAPE < run["ads_mape"]
    assert run["big_mape"] is not None and run["big_mape"] < UNITS_MAPE
    assert run["coverage"] >= COVERAGE
    assert run["median_rent_mape"] < MEDIAN_RENT
    # beside it, what a perfect grouping of the seen ads would leave
    assert 0 < run["median_rent_floor_empty"] < MEDIAN_RENT
    assert 0 < run["median_rent_floor"] < MEDIAN_RENT
    assert 0 < run["median_rent_units_empty"] < MEDIAN_RENT
    # the fitted mean ads per flat is scored against the market's own
    assert run["ads_per_flat_fit_off"] is not None and abs(run["ads_per_flat_fit_off"]) < 0.5
    # the units bias is split into parts that add up to it
    parts = run["bias_unadvertised"] + run["bias_lingering"] + run["bias_grouping"]
    assert parts == pytest.approx(run["units_bias"], abs=2e-4)
    assert run["bias_unadvertised"] <= 0 <= run["bias_lingering"]
    # the experimental count model is scored beside it
    assert run["model_mape"] is not None and 0 < run["model_coverage"] <= 1
    # the emptying tower's vacancy rises in the estimate too
    (true_first, true_last), (got_first, got_last) = (
        run["emptying"]["truth"],
        run["emptying"]["measured"],
    )
    assert true_last - true_first > 0.02
    assert got_last - got_first > 0.3 * (true_last - true_first)


@pytest.mark.slow
def test_the_grouping_can_be_given_the_markets_own_ads_per_flat():
    market = next(m for m in load_zoo() if m.name == "zoo-03")
    small = dataclasses.replace(market.spec, scale=0.15, tower_flats=1000, tower_floors=25)
    fitted = run_market(ZooMarket("zoo-03", market.seed, small), days=2)
    given = run_market(ZooMarket("zoo-03", market.seed, small), days=2, true_ads=True)
    # what the snapshot recorded as used is the market's own, and the fit alone is not
    assert given["ads_per_flat_fit_off"] == pytest.approx(0, abs=1e-4)
    assert abs(fitted["ads_per_flat_fit_off"]) > 0.01
    assert given["units_mape"] != fitted["units_mape"]


def test_the_true_ads_per_flat_of_a_past_day_still_counts_the_ads_gone_since():
    market = Market(MarketSpec(scale=0.2), seed=4, days=20)
    market.advance()  # the first day watched
    per_flat = Counter(id(a.flat) for a in market.live_ads(0) if a.flat and not a.bait)
    for _ in range(15):
        market.advance()
    assert true_ads_per_flat(market, 0) == pytest.approx(statistics.fmean(per_flat.values()))
    # by now the market's own list of ads has forgotten some of that day's
    assert len([a for a in market.live_ads(0) if a.flat and not a.bait]) < per_flat.total()


def test_advertised_flats_are_the_empty_flats_with_an_ad_and_the_let_ones_whose_ad_lingers():
    # Every empty flat advertised on the day it empties, nothing let: all advertised, none
    # lingering.
    quiet = _quiet(lag_weights=(1,))
    day = quiet.date_of(0)
    advertised = advertised_flats(quiet, 0)
    for b in quiet.buildings:
        assert advertised.get(b.name, (0, 0)) == (quiet.truth[(b.name, day)].vacant, 0)
    # Lettings with every ad outliving them: some let flats still show an ad.
    busy = Market(MarketSpec(scale=0.2, linger=1.0, linger_days=(3, 5)), seed=4, days=6)
    for _ in range(6):
        busy.advance()
    day = busy.date_of(5)
    advertised = advertised_flats(busy, 5)
    assert sum(let for _, let in advertised.values()) > 0
    for name, (empty, _) in advertised.items():
        assert empty <= busy.truth[(name, day)].vacant
    # Every ad taken down the day its flat is let: none.
    none_linger = Market(MarketSpec(scale=0.2, linger=0.0, takedown_days=(0,)), seed=4, days=6)
    for _ in range(6):
        none_linger.advance()
    assert all(let == 0 for _, let in advertised_flats(none_linger, 5).values())


def test_a_market_is_the_same_under_any_string_hash_seed():
    # Each market is one draw of its seed: the zoo's scores must not move with Python's
    # per-process string hashing (a set of brand names once decided which store got which
    # branch, and so the whole market).
    script = (
        "import hashlib; from rentwatch.sim import Market, MarketSpec\n"
        "m = Market(MarketSpec(scale=0.1, brand_weights=(4, 1, 1, 1, 1, 1, 1, 1)), seed=2, days=2)\n"
        "m.advance(); m.advance()\n"
        "ads = sorted((a.house_code, a.rent, a.agency, a.card_brand) for a in m.live_ads())\n"
        "print(len(ads), hashlib.sha256(repr(ads).encode()).hexdigest())\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in (1, 2, 3)
    }
    assert len(outputs) == 1 and int(next(iter(outputs)).split()[0]) > 50
