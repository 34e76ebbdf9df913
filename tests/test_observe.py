from __future__ import annotations

from click.testing import CliRunner

from rentwatch.cli import main
from tests.market import Market, building


def _cli(db_path, *args):
    return CliRunner().invoke(main, [*args, "--db", str(db_path)], env={"COLUMNS": "200"})


def test_add_and_list_beside_estimates(fresh_db, db_path):
    Market(fresh_db).registry(building("丽晶国际", total_units=300, aliases=("丽晶国际公寓",)))
    out = _cli(
        db_path,
        "observe",
        "add",
        "丽晶国际公寓",
        "--date",
        "2026-11-03",
        "--vacant",
        "50",
        "--note",
        "notice board",
    )
    assert out.exit_code == 0, out.output
    again = _cli(
        db_path,
        "observe",
        "add",
        "丽晶国际公寓",
        "--date",
        "2026-11-03",
        "--vacant",
        "50",
        "--note",
        "notice board",
    )
    assert "already stored" in again.output
    rows = list(
        fresh_db.query(
            "SELECT b.name, m.date, m.vacant, m.note, m.origin FROM manual_observations m JOIN buildings b ON b.id = m.building_id"
        )
    )
    assert rows == [
        {
            "name": "丽晶国际",
            "date": "2026-11-03",
            "vacant": 50,
            "note": "notice board",
            "origin": "manual",
        }
    ]
    listed = _cli(db_path, "observe", "list")
    assert "丽晶国际" in listed.output and "50" in listed.output


def test_unknown_building_and_bad_date_fail_clearly(fresh_db, db_path):
    Market(fresh_db).registry(building("丽晶国际"))
    out = _cli(db_path, "observe", "add", "不存在", "--date", "2026-11-03", "--vacant", "5")
    assert out.exit_code != 0 and "no building '不存在'" in out.output
    out = _cli(db_path, "observe", "add", "丽晶国际", "--date", "2026-11-31", "--vacant", "5")
    assert out.exit_code != 0 and "2026-11-31" in out.output


def test_csv_import_is_all_or_nothing(fresh_db, db_path, tmp_path):
    Market(fresh_db).registry(building("丽晶国际"), building("星耀城", district="滨江"))
    good = tmp_path / "good.csv"
    good.write_text(
        "building,date,vacant,note\n丽晶国际,2026-11-03,50,board\n星耀城,2026-11-03,12,\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "building,date,vacant,note\n丽晶国际,2026-11-04,40,\n星耀城,2026-11-04,many,\n",
        encoding="utf-8",
    )
    out = _cli(db_path, "observe", "import", str(bad))
    assert out.exit_code != 0
    assert "line 3" in out.output and "'many'" in out.output
    assert fresh_db.execute("SELECT count(*) FROM manual_observations").fetchone()[0] == 0
    out = _cli(db_path, "observe", "import", str(good))
    assert out.exit_code == 0, out.output
    assert "2 observations read, 2 stored" in out.output
    missing = tmp_path / "missing.csv"
    missing.write_text("building,date\n丽晶国际,2026-11-03\n", encoding="utf-8")
    out = _cli(db_path, "observe", "import", str(missing))
    assert out.exit_code != 0 and "missing column(s) vacant" in out.output
