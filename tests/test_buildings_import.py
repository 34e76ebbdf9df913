"""`rentwatch buildings import`: the registry CSV, re-imports, and bad files."""

from __future__ import annotations

import pytest

from tests.cli_helpers import rows, run_cli

HEADER = "name,aliases,city,district,total_units,subdistrict,site_ids\n"
GOOD = HEADER + (
    "丽晶国际,丽晶国际公寓|杭州丽晶国际,hz,上城,1200,九堡,lianjia:1811000000001\n"
    "星耀城,,hz,滨江,,,\n"
)


def write(tmp_path, text, name="b.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_import_then_reimport_updates_and_never_duplicates(tmp_path, db_path):
    result = run_cli("buildings", "import", write(tmp_path, GOOD), db_path=db_path)
    assert result.exit_code == 0, result.output
    assert "2 buildings read: 2 new, 0 updated, 2 aliases and 1 site ids added" in result.output
    changed = GOOD.replace(",hz,上城,1200,", ",hz,上城,1250,").replace(
        "杭州丽晶国际", "杭州丽晶国际|丽晶"
    )
    again = run_cli("buildings", "import", write(tmp_path, changed), db_path=db_path)
    assert "0 new, 2 updated, 1 aliases and 0 site ids added" in again.output
    assert rows(
        db_path, "SELECT name, city, district, subdistrict, total_units FROM buildings ORDER BY id"
    ) == [
        ("丽晶国际", "hz", "上城", "九堡", 1250),
        ("星耀城", "hz", "滨江", None, None),
    ]
    assert rows(db_path, "SELECT alias FROM building_aliases ORDER BY alias") == [
        ("丽晶",),
        ("丽晶国际公寓",),
        ("杭州丽晶国际",),
    ]
    assert rows(db_path, "SELECT building_id, source, site_id FROM building_sources") == [
        (1, "lianjia", "1811000000001")
    ]


def test_a_gbk_file_from_excel_is_read(tmp_path, db_path):
    result = run_cli(
        "buildings", "import", write(tmp_path, GOOD, encoding="gb18030"), db_path=db_path
    )
    assert result.exit_code == 0, result.output
    assert rows(db_path, "SELECT count(*) FROM buildings WHERE name = '丽晶国际'") == [(1,)]


@pytest.mark.parametrize(
    "text,message",
    [
        ("name,aliases,city,total_units\n丽晶国际,,hz,10\n", "missing column(s) district"),
        (
            HEADER + "丽晶国际,,hz,上城,1200,,\n星耀城,,hz,滨江,many,,\n",
            "line 3: total_units 'many' is not a whole number",
        ),
        (HEADER + "丽晶国际,,hz,上城,-5,,\n", "line 2: total_units -5 is negative"),
        (HEADER + ",,hz,上城,5,,\n", "line 2: empty building name"),
        (
            HEADER + "丽晶国际,,hz,上城,5,,lianjia\n",
            "line 2: site_ids item 'lianjia' is not source:id",
        ),
        (
            HEADER + "丽晶国际,,hz,上城,5,,,extra\n",
            "line 2: more fields than the header has columns",
        ),
    ],
    ids=["missing-column", "non-numeric", "negative", "empty-name", "bad-site-id", "extra-field"],
)
def test_a_bad_file_names_the_line_and_imports_nothing(tmp_path, db_path, text, message):
    assert (
        run_cli("buildings", "import", write(tmp_path, GOOD, "good.csv"), db_path=db_path).exit_code
        == 0
    )
    before = rows(db_path, "SELECT * FROM buildings ORDER BY id")
    result = run_cli("buildings", "import", write(tmp_path, text), db_path=db_path)
    assert result.exit_code == 1
    assert "b.csv" in result.output and message in result.output
    assert "Traceback" not in result.output
    assert rows(db_path, "SELECT * FROM buildings ORDER BY id") == before


def test_a_missing_file_is_a_clear_error(tmp_path, db_path):
    result = run_cli("buildings", "import", tmp_path / "nope.csv", db_path=db_path)
    assert result.exit_code == 1 and "cannot read" in result.output
