from __future__ import annotations

import pytest

from pipeline.buildings.names import name_key
from pipeline.buildings.resolve import resolve_listings, suggest_match
from tests.market import Market, ad, building


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("丽晶国际", "丽晶国际"),
        ("丽晶国际公寓", "丽晶国际"),
        ("杭州丽晶国际(九堡)", "丽晶国际"),
        ("杭州市丽晶国际（九堡）", "丽晶国际"),
        ("丽晶国际 【精装】", "丽晶国际"),
        ("ＬＪ　国际·公寓", "lj国际"),
        ("世纪城·名座", "世纪城名座"),
        ("星耀城大厦", "星耀城"),
        ("中心", "中心"),  # a suffix alone is a name, never emptied
        ("hz丽晶国际", "丽晶国际"),
    ],
)
def test_name_key(name, key):
    assert name_key(name, "hz") == key


@pytest.fixture
def market(fresh_db):
    m = Market(fresh_db)
    m.registry(
        building("丽晶国际", total_units=300, aliases=("LJ国际",), site_ids=(("lianjia", "111"),)),
        building("星耀城", district="滨江"),
        building("星耀城二期", district="滨江"),
        building("东方郡", district="滨江"),
        building("名座", district="萧山"),
    )
    return m


def _building_of(db, listing_id):
    return db.execute(
        "SELECT b.name, b.status FROM listings l JOIN buildings b ON b.id = l.building_id "
        "WHERE l.listing_id = ?",
        [listing_id],
    ).fetchone()


def test_resolution_by_name_alias_site_id_fuzzy_and_new(market):
    db = market.db
    market.day(
        "2026-10-01",
        [
            ad("a", "杭州丽晶国际(九堡)", rent=3000),
            ad("b", "lj国际", rent=3000),
            ad("c", "九堡丽晶", rent=3000, community_id="111"),  # only the site id says it
            ad("d", "东方郡府", rent=3000, district="滨江"),  # fuzzy within 滨江
            ad("e", "九堡新家园", rent=2500),  # not in the registry
            ad("f", "九堡新家园小区", rent=2600),  # same key: same new building
            ad("g", "东方郡园", rent=2600, district="萧山"),  # like 东方郡, but not in its district
        ],
    )
    report = resolve_listings(db)
    assert (report.by_name, report.by_site_id, report.by_fuzzy) == (2, 1, 1)
    assert _building_of(db, "a") == ("丽晶国际", "verified")
    assert _building_of(db, "b") == ("丽晶国际", "verified")
    assert _building_of(db, "c") == ("丽晶国际", "verified")
    assert _building_of(db, "d") == ("东方郡", "verified")
    assert _building_of(db, "e") == ("九堡新家园", "unverified")
    assert _building_of(db, "f") == ("九堡新家园", "unverified")
    assert _building_of(db, "g")[1] == "unverified"
    assert (report.new_buildings, report.by_guess) == (2, 1)
    origins = dict(db.execute("SELECT alias, origin FROM building_aliases").fetchall())
    assert origins["东方郡府"] == "fuzzy"
    assert origins["九堡新家园"] == "auto"
    # resolving again touches nothing
    assert resolve_listings(db).listings == 0


def test_suggestion_and_manual_alias_wins(market, db_path):
    from click.testing import CliRunner

    from rentwatch.cli import main

    db = market.db
    market.day(
        "2026-10-01", [ad("x", "丽晶国际二号楼", rent=3000), ad("y", "丽晶国际二号楼", rent=3100)]
    )
    resolve_listings(db)
    assert _building_of(db, "x") == ("丽晶国际二号楼", "unverified")
    new_id = db.execute("SELECT id FROM buildings WHERE name = '丽晶国际二号楼'").fetchone()[0]
    assert suggest_match(db, new_id)[1] == "丽晶国际"

    runner = CliRunner()
    out = runner.invoke(
        main, ["buildings", "unmatched", "--db", str(db_path)], env={"COLUMNS": "200"}
    )
    assert out.exit_code == 0, out.output
    assert "丽晶国际二号楼" in out.output and "丽晶国际" in out.output

    out = runner.invoke(
        main, ["buildings", "alias", "丽晶国际", "丽晶国际二号楼", "--db", str(db_path)]
    )
    assert out.exit_code == 0, out.output
    assert "2 listings moved" in out.output
    assert _building_of(db, "x") == ("丽晶国际", "verified")
    # a later ad with that spelling goes straight to the person's choice
    market.day("2026-10-02", [ad("z", "丽晶国际二号楼", rent=3000)])
    resolve_listings(db)
    assert _building_of(db, "z") == ("丽晶国际", "verified")
    out = runner.invoke(
        main, ["buildings", "unmatched", "--db", str(db_path)], env={"COLUMNS": "200"}
    )
    assert "丽晶国际二号楼" not in out.output
