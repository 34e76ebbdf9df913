"""Finding a building's site ids in pages already stored, and registering them."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import rows, run_cli
from tests.realpages import real_path

HZ_PAGE = "lianjia/beike_zufang_list_hz_2019-09_localized.html"


@pytest.fixture
def stored(tmp_path, db_path):
    result = run_cli(
        "ingest", real_path(HZ_PAGE), "--source", "beike", "--city", "hz", "--as-of", "2019-09-23",
        db_path=db_path,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    registry = tmp_path / "buildings.csv"
    registry.write_text(
        "name,aliases,city,district,total_units,subdistrict,site_ids\n"
        "中海定山府,,hz,西湖,,转塘,\n丽晶国际,丽晶国际公寓,hz,上城,,九堡,\n",
        encoding="utf-8",
    )
    assert run_cli("buildings", "import", registry, db_path=db_path).exit_code == 0
    return db_path


def _find(db_path, *args):
    result = run_cli("buildings", *args, "--json", db_path=db_path)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_find_shows_seen_names_ids_counts_and_the_best_match(stored):
    found = _find(stored, "find", "转塘")
    seen = {r["community"]: r for r in found["seen"]}
    assert seen["中海定山府"]["site_id"] == "188527215341175"
    assert seen["中海定山府"]["listings"] == 2 and seen["中海定山府"]["source"] == "beike"
    assert (seen["中海定山府"]["best_match"], seen["中海定山府"]["match_score"]) == (
        "中海定山府",
        100.0,
    )
    assert all(r["subdistrict"] == "转塘" or "转塘" in r["community"] for r in found["seen"])
    assert [b["name"] for b in found["registry"]] == ["中海定山府"]
    # A name seen nowhere in the registry gets a guess, not a certainty.
    other = _find(stored, "find", "朗郡庭园")["seen"][0]
    assert other["building"] is None and other["match_score"] < 100

    everything = _find(stored, "list")
    assert sum(r["listings"] for r in everything["seen"]) == 32
    assert {b["name"] for b in everything["registry"]} == {"中海定山府", "丽晶国际"}
    assert _find(stored, "find", "丽晶国际公寓")["registry"][0]["name"] == "丽晶国际"

    text = run_cli("buildings", "find", "中海", db_path=stored).output
    assert "beike:188527215341175\t中海定山府\t西湖\t转塘\t2" in text


def test_add_id_registers_a_seen_id(stored):
    result = run_cli("buildings", "add-id", "中海定山府", "beike:188527215341175", db_path=stored)
    assert result.exit_code == 0, result.output
    assert "added" in result.output
    assert rows(stored, "SELECT source, site_id FROM building_sources") == [
        ("beike", "188527215341175")
    ]
    assert _find(stored, "find", "beike:1885")["registry"][0]["site_ids"] == "beike:188527215341175"
    again = run_cli("buildings", "add-id", "中海定山府", "beike:188527215341175", db_path=stored)
    assert "was already there" in again.output

    taken = run_cli("buildings", "add-id", "丽晶国际", "beike:188527215341175", db_path=stored)
    assert taken.exit_code == 1 and "already the id of '中海定山府'" in taken.output
    bad = run_cli("buildings", "add-id", "丽晶国际", "188527215341175", db_path=stored)
    assert bad.exit_code == 2 and "is not SOURCE:ID" in bad.output
    unknown = run_cli("buildings", "add-id", "不存在", "beike:1", db_path=stored)
    assert unknown.exit_code == 1 and "no building '不存在'" in unknown.output
    nosite = run_cli("buildings", "add-id", "丽晶国际", "nosuchsite:1", db_path=stored)
    assert nosite.exit_code == 1 and "nosuchsite" in nosite.output
    assert rows(stored, "SELECT count(*) FROM building_sources") == [(1,)]


def test_init_writes_the_starter_files_and_refuses_to_overwrite(tmp_path):
    folder = tmp_path / "watch"
    result = run_cli("init", folder)
    assert result.exit_code == 0, result.output
    assert (folder / "inbox").is_dir()
    assert "丽晶国际" in (folder / "buildings.csv").read_text(encoding="utf-8")
    check = run_cli("run", "--config", folder / "rentwatch.toml", "--check", "--json")
    assert check.exit_code == 0, check.output
    assert json.loads(check.output)["inbox"] == str(folder / "inbox")
    imported = run_cli(
        "buildings", "import", folder / "buildings.csv", db_path=folder / "rentwatch.db"
    )
    assert "1 new" in imported.output

    (folder / "rentwatch.toml").write_text("# mine\n", encoding="utf-8")
    again = run_cli("init", folder)
    assert again.exit_code == 1 and "exists already; nothing was written" in again.output
    assert (folder / "rentwatch.toml").read_text(encoding="utf-8") == "# mine\n"
