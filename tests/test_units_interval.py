"""The stated 90 % interval of a building's count (pipeline.units.interval)."""

from __future__ import annotations

import itertools
import math

import pytest

from pipeline.units.interval import Readings, units_interval

Z90 = 1.6448536


def test_readings_that_agree_give_the_log_normal_90_percent_interval():
    low, high = units_interval(Readings(units=200, calibration_ratio=1.0, model=200, model_sd=20))
    s = 20 / 200
    assert low == math.floor(200 * math.exp(-Z90 * s))  # 169
    assert high == math.ceil(200 * math.exp(Z90 * s))  # 237


def test_readings_that_disagree_widen_it_toward_each_of_them():
    agree = units_interval(Readings(units=200, calibration_ratio=1.0, model=200, model_sd=10))
    # the unweighted calibration mean would have merged a fifth of the flats; the count
    # model reads a tenth more
    apart = units_interval(Readings(units=200, calibration_ratio=0.8, model=220, model_sd=10))
    assert apart[0] < agree[0] and apart[1] > agree[1]
    # past the lowest and the highest reading, but not as far as either's own 5 % tail
    spread = Z90 * 10 / 220
    assert 160 * math.exp(-spread) < apart[0] < 160
    assert 220 < apart[1] < 220 * math.exp(spread) + 1


def test_with_no_spread_the_interval_spans_the_readings():
    assert units_interval(Readings(units=40, calibration_ratio=0.9, model=43.2, model_sd=0.0)) == (
        36,
        44,
    )


@pytest.mark.parametrize(
    "units, ratio, model, sd",
    list(
        itertools.product(
            [0, 1, 5, 37, 400], [0.6, 1.0, 1.3], [0.0, 3.0, 60.0, 900.0], [0.0, 0.4, 5.0]
        )
    ),
)
def test_the_interval_always_holds_the_estimate_and_no_negative_count(units, ratio, model, sd):
    low, high = units_interval(Readings(units, ratio, model, sd))
    assert 0 <= low <= units <= high


def test_a_tower_s_interval_is_narrow_where_the_readings_agree_and_a_small_building_s_is_wide():
    tower = units_interval(Readings(units=300, calibration_ratio=0.95, model=310, model_sd=12))
    small = units_interval(Readings(units=7, calibration_ratio=0.95, model=7.5, model_sd=1.6))
    assert (tower[1] - tower[0]) / 300 < 0.4 < (small[1] - small[0]) / 7


def test_a_database_written_before_keeps_its_bounds_in_units_min_and_units_max(tmp_path):
    import sqlite3

    from db import open_db

    path = tmp_path / "old.db"
    open_db(path).close()
    conn = sqlite3.connect(path)
    with conn:  # as rentwatch wrote it before m020: the bounds in units_low / units_high
        conn.execute("DELETE FROM _migrations WHERE name LIKE 'm020%'")
        for table in ("building_daily", "district_daily"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN units_min")
            conn.execute(f"ALTER TABLE {table} DROP COLUMN units_max")
        conn.execute("INSERT INTO buildings (id, name, city) VALUES (1, '丽晶国际', 'hz')")
        conn.execute(
            "INSERT INTO building_daily (building_id, date, units, units_low, units_high) "
            "VALUES (1, '2026-10-01', 5, 3, 9)"
        )
    conn.close()

    db = open_db(path)
    row = db.execute(
        "SELECT units, units_low, units_high, units_min, units_max FROM building_daily"
    ).fetchone()
    db.close()
    assert row == (5, 3, 9, 3, 9)
