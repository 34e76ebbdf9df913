"""The snapshot's compute step on plain values: no SQLite, strategies passed in."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

from db.snapshots import BuildingInfo
from db.units import WindowListing
from pipeline.snapshot import SnapshotInput, Strategies, compute
from pipeline.units.dedup import assign_units
from pipeline.units.model import Link, UnitState
from pipeline.units.params import DEFAULT_PARAMS, provenance

DAY = "2026-10-03"


def listing(
    id: int,
    rent: float,
    agent: str,
    *,
    area: float = 53.0,
    building_id: int = 1,
    created_on: str | None = None,
) -> WindowListing:
    return WindowListing(
        id=id,
        listing_id=f"L{id}",
        building_id=building_id,
        unit_id=None,
        source="lianjia",
        agent_key=agent,
        tenure="whole",
        is_apartment=0,
        layout="2室1厅1卫",
        rooms=2,
        area=area,
        floor_band="中楼层",
        total_floors=28,
        orientation="南",
        rent_text=f"{rent:g}元/月",
        rent_high=None,
        first_seen=DAY,
        subdistrict="九堡",
        flags=None,
        rent_monthly=None,
        created_on=created_on,
    )


def window(listings: list[WindowListing], rents: dict[int, float]) -> SnapshotInput:
    return SnapshotInput(
        day=DAY,
        start="2026-09-26",
        buildings={
            1: BuildingInfo(1, "丽晶国际", "hz", "江干", "九堡", 300, "verified", None),
            2: BuildingInfo(2, "星耀城", "hz", "滨江", None, 200, "verified", None),
        },
        covered={1: {"lianjia"}},
        complete={},
        listings=listings,
        observations=[(i, DAY, rent) for i, rent in rents.items()],
    )


def test_a_day_is_computed_from_plain_values():
    # Two agencies' ads of one flat (3000, 3030), another flat (4000, 70 ㎡) and a bait ad.
    ads = [
        listing(1, 3000, "X", created_on=DAY),
        listing(2, 3030, "Y", created_on=DAY),
        listing(3, 4000, "X", area=70),
        listing(4, 4100, "Z", area=71),
        listing(5, 900, "W"),
    ]
    result = compute(window(ads, {1: 3000, 2: 3030, 3: 4000, 4: 4100, 5: 900}))
    row = result.building_rows[0]
    assert (row["building_id"], row["listings"], row["units"]) == (1, 5, 2)
    assert row["median_rent"] == 3532.5  # the two flats: 3015 and 4050
    assert (row["vacancy_rate"], row["days_watched"], row["new_units"]) == (0.0067, 1, 2)
    # 星耀城 was not covered: a row with no data, not zeros
    null = result.building_rows[1]
    assert null["building_id"] == 2 and null["units"] is None and null["listings"] is None
    assert result.report.null_buildings == 1
    assert [(flags, listing_id) for flags, _, listing_id in result.flag_updates if flags] == [
        ("bait_low", 5)
    ]
    # Units created today have no id yet: the write step gives them one.
    [building] = result.new_units
    assert [u.id for u in building.created] == [None, None]
    assert sorted(len(u.ads) for u in building.created) == [2, 2]
    assert result.first_watched == {1: DAY}
    assert {r["subdistrict"] for r in result.district_rows} == {"", "九堡"}


def test_the_grouping_is_a_strategy_passed_in():
    ads = [listing(1, 3000, "X"), listing(2, 3030, "Y"), listing(3, 3010, "Z")]
    rents = {1: 3000, 2: 3030, 3: 3010}
    seen: list[int] = []

    def one_flat_per_ad(new_ads, units, day, first_watched=None, *, at_once=True, params):
        seen.extend(a.id for a in new_ads)
        made = [UnitState.of_ad(a) for a in new_ads]
        units.extend(made)
        return [Link(u.ads[0], u, "first", "test", 0.0) for u in made], made

    ours = compute(window(ads, rents))
    theirs = compute(window(ads, rents), strategies=Strategies(grouping=one_flat_per_ad))
    assert ours.building_rows[0]["units"] == 1
    assert theirs.building_rows[0]["units"] == 3
    assert sorted(seen) == [1, 2, 3]


def test_parameters_are_passed_in_not_read_from_globals():
    # A rent tolerance below the two ads' 1 % gap keeps them apart.
    ads = [listing(1, 3000, "X"), listing(2, 3030, "Y")]
    rents = {1: 3000, 2: 3030}
    assert compute(window(ads, rents)).building_rows[0]["units"] == 1
    strict = replace(DEFAULT_PARAMS, rent_sigma=0.001, rent_span=0.005, rent_tol=0.005)
    assert compute(window(ads, rents), params=strict).building_rows[0]["units"] == 2
    # assign_units is the default strategy, and takes the same parameters
    assert Strategies().grouping is assign_units


def test_every_parameter_states_where_it_comes_from():
    kinds = {"site", "physical", "budget", "definition", "sim"}
    found = provenance()
    assert len(found) >= 30
    for name, (kind, why) in found.items():
        assert kind in kinds, name
        assert why, name
        if kind == "sim":
            assert "issue 18" in why, name


def test_the_snapshot_imports_no_scraper():
    code = (
        "import sys, pipeline.snapshot, pipeline.units.dedup; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scrapers'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
