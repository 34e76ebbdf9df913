from __future__ import annotations

import pytest

from pipeline.units.normalize import (
    Ad,
    flag_ads,
    monthly_rent,
    normalize_orientation,
    parse_rent,
    period_factor,
)


@pytest.mark.parametrize(
    ("text", "low", "high", "monthly"),
    [
        ("2300元/月", 2300.0, None, 2300.0),
        ("2300-2500 元/月", 2300.0, 2500.0, 2400.0),
        ("120元/天", 3600.0, None, 3600.0),
        ("9000元/季", 3000.0, None, 3000.0),
        ("36000元/年", 3000.0, None, 3000.0),
        ("1.2万/月", 12000.0, None, 12000.0),
        ("２，３００ 元／月", 2300.0, None, 2300.0),
        ("面议", None, None, None),
        ("", None, None, None),
    ],
)
def test_parse_rent_every_form(text, low, high, monthly):
    rent = parse_rent(text)
    assert (rent.low, rent.high, rent.monthly) == (low, high, monthly)


def test_period_factor_names_the_period():
    assert period_factor("80 元/天") == ("day", 30.0)
    assert period_factor("2300 元/月") == ("month", 1.0)


def test_monthly_rent_converts_an_unconverted_daily_price_and_takes_a_range_middle():
    assert monthly_rent(120.0, "120 元/天") == 3600.0
    # the parser already converted it: the stored number is not the text's number
    assert monthly_rent(3600.0, "120 元/天") == 3600.0
    assert monthly_rent(2300.0, "2300-2500 元/月", 2500.0) == 2400.0
    assert monthly_rent(None, "面议") is None


def test_orientation_is_canonical():
    assert normalize_orientation("北 南") == "南 北"
    assert normalize_orientation("东南") == "东南"
    assert normalize_orientation("") is None


def test_flags_bait_and_errors_per_building():
    ads = [Ad(i, 3000.0 + 20 * i, 53.0, True) for i in range(6)]
    ads.append(Ad(100, 900.0, 53.0, True))  # a bait price: 17 元/㎡ against ~57
    ads.append(Ad(101, 3000.0, 2.0, True))  # area error
    ads.append(Ad(102, 20000.0, 53.0, True))  # far above the building
    ads.append(Ad(103, 150.0, None, True))  # under the city floor
    flags = flag_ads(ads)
    assert flags == {
        100: ["bait_low"],
        101: ["area_out_of_range"],
        102: ["rent_high"],
        103: ["rent_out_of_range"],
    }


def test_bait_at_under_half_the_buildings_rent_per_m2_is_flagged_honest_spread_is_not():
    # Honest ads of one building: plans and floors spread rent per m2 by +-30 %.
    ads = [
        Ad(i, rent, area, True)
        for i, (rent, area) in enumerate(
            [(2300, 35), (2800, 45), (3600, 53), (4500, 70), (3000, 53), (4200, 53), (2500, 45)]
        )
    ]
    # a bait at 45 % of its flat's price: 1620/53 = 30.6 元/m2 against a median of 66.7
    ads.append(Ad(100, 1620.0, 53.0, True))
    assert flag_ads(ads) == {100: ["bait_low"]}


def test_no_per_building_trimming_with_too_few_peers():
    assert flag_ads([Ad(1, 3000.0, 53.0, True), Ad(2, 900.0, 53.0, True)]) == {}
