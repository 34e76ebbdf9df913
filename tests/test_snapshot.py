from __future__ import annotations

from click.testing import CliRunner

from pipeline.snapshot import snapshot_day, snapshot_range
from rentwatch.cli import main
from tests.market import Market, ad, building


def _market(db):
    m = Market(db)
    m.registry(
        building("丽晶国际", total_units=300, district="江干"),
        building("星耀城", district="滨江", total_units=200),
    )
    return m


def _rows(db, day):
    return [
        tuple(r)
        for r in db.execute(
            "SELECT * FROM building_daily WHERE date = ? ORDER BY building_id", [day]
        )
    ]


def test_medians_rooms_vacancy_and_district_rows(fresh_db):
    m = _market(fresh_db)
    m.day(
        "2026-10-01",
        [
            ad("a", "丽晶国际", rent=3000, agent="X"),
            ad("a2", "丽晶国际", rent=3030, agent="Y"),  # the same flat as a
            ad("b", "丽晶国际", rent=4000, area=70, rooms=2, halls=2, agent="X"),
            ad("c", "丽晶国际", rent=2300, area=35, rooms=1, halls=0, agent="X"),
            ad("r1", "丽晶国际", rent=1500, area=15, tenure="shared", agent="Z"),
            ad("s", "星耀城", rent=5000, area=80, agent="W", district="滨江", subdistrict="长河"),
        ],
    )
    snapshot_day(fresh_db, "2026-10-01")
    row = m.row("丽晶国际", "2026-10-01")
    assert (row["listings"], row["units"], row["rooms"]) == (5, 3, 1)
    assert row["median_rent"] == 3015.0  # units: 2300, 3015 (median of 3000/3030), 4000
    assert (row["p25_rent"], row["p75_rent"]) == (2657.5, 3507.5)
    assert row["median_room_rent"] == 1500.0
    assert row["vacancy_rate"] == 0.01
    assert row["sources"] == "lianjia"
    districts = {
        (r["district"], r["subdistrict"]): r
        for r in fresh_db.query("SELECT * FROM district_daily WHERE date = '2026-10-01'")
    }
    assert set(districts) == {("江干", ""), ("江干", "九堡"), ("滨江", ""), ("滨江", "长河")}
    assert districts[("江干", "")]["units"] == 3
    assert districts[("滨江", "")]["median_rent"] == 5000.0


def test_no_successful_observation_is_null_not_zero(fresh_db):
    m = _market(fresh_db)
    m.day("2026-10-01", [ad("a", "丽晶国际", rent=3000)])
    # day 2: the only scrape failed, having stored one page before it did
    m.day("2026-10-02", [ad("a", "丽晶国际", rent=3000)], status="failed")
    # day 3: a district scrape of 江干 only; 星耀城 (滨江) was not looked at
    m.day("2026-10-03", [], district="jianggan")
    snapshot_range(fresh_db, "2026-10-01", "2026-10-03")
    assert m.row("丽晶国际", "2026-10-01")["units"] == 1
    assert m.row("星耀城", "2026-10-01")["units"] == 0  # seen, nothing on offer
    for name in ("丽晶国际", "星耀城"):
        row = m.row(name, "2026-10-02")
        assert (row["listings"], row["units"], row["median_rent"]) == (None, None, None)
        assert row["total_units"] is not None
    assert m.row("丽晶国际", "2026-10-03")["units"] == 0
    assert m.row("星耀城", "2026-10-03")["units"] is None


def test_days_watched_counts_from_a_buildings_first_covered_day(fresh_db):
    m = _market(fresh_db)
    # 丽晶国际 (江干) is watched from day 1; 星耀城 (滨江) only from day 3, when the city-wide
    # scrape replaces the district one; day 2's scrape failed.
    m.day("2026-10-01", [ad("a", "丽晶国际", rent=3000)], district="jianggan")
    m.day("2026-10-02", [ad("a", "丽晶国际", rent=3000)], status="failed")
    m.day("2026-10-03", [ad("a", "丽晶国际", rent=3000)])
    m.day("2026-10-04", [ad("a", "丽晶国际", rent=3000)])
    snapshot_range(fresh_db, "2026-10-01", "2026-10-04")
    watched = {
        (name, day): m.row(name, day)["days_watched"]
        for name in ("丽晶国际", "星耀城")
        for day in ("2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04")
    }
    assert watched == {
        ("丽晶国际", "2026-10-01"): 1,
        ("丽晶国际", "2026-10-02"): None,  # no data that day
        ("丽晶国际", "2026-10-03"): 3,
        ("丽晶国际", "2026-10-04"): 4,
        ("星耀城", "2026-10-01"): None,
        ("星耀城", "2026-10-02"): None,
        ("星耀城", "2026-10-03"): 1,
        ("星耀城", "2026-10-04"): 2,
    }
    first = dict(fresh_db.execute("SELECT name, first_watched FROM buildings"))
    assert first == {"丽晶国际": "2026-10-01", "星耀城": "2026-10-03"}
    # re-running a later day leaves the first day watched where it was
    snapshot_day(fresh_db, "2026-10-04")
    assert m.row("丽晶国际", "2026-10-04")["days_watched"] == 4


def test_rerunning_a_day_gives_identical_rows(fresh_db):
    m = _market(fresh_db)
    x = ad("x", "丽晶国际", rent=3000, agent="X")
    y = ad("y", "丽晶国际", rent=3050, agent="Y")
    z = ad("z", "丽晶国际", rent=3010, agent="X")
    m.day("2026-10-01", [x, y])
    m.day("2026-10-02", [x, y, z])
    m.day("2026-10-03", [y, z])
    snapshot_range(fresh_db, "2026-10-01", "2026-10-03")
    before = {d: _rows(fresh_db, d) for d in ("2026-10-01", "2026-10-02", "2026-10-03")}
    units_before = fresh_db.execute("SELECT count(*) FROM units").fetchone()[0]
    snapshot_day(fresh_db, "2026-10-02")
    snapshot_range(fresh_db, "2026-10-01", "2026-10-03")
    assert {d: _rows(fresh_db, d) for d in before} == before
    assert fresh_db.execute("SELECT count(*) FROM units").fetchone()[0] == units_before


def test_snapshot_cli_prints_the_day(fresh_db, db_path):
    m = _market(fresh_db)
    m.day("2026-10-01", [ad("a", "丽晶国际", rent=3000), ad("n", "没登记过的楼", rent=2000)])
    out = CliRunner().invoke(
        main, ["snapshot", "--date", "2026-10-01", "--db", str(db_path)], env={"COLUMNS": "200"}
    )
    assert out.exit_code == 0, out.output
    assert "3 buildings with data" in out.output
    assert "1 building name(s) not in the registry" in out.output
    assert "丽晶国际" in out.output and "没登记过的楼" in out.output
    bad = CliRunner().invoke(main, ["snapshot", "--date", "2026-13-01", "--db", str(db_path)])
    assert bad.exit_code != 0 and "2026-13-01" in bad.output
