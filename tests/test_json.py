"""Every command that prints a table or a report prints one JSON document with --json, and
off a terminal its text is tab-separated and never cut."""

from __future__ import annotations

import json

from tests.cli_helpers import run_cli, scrape_local
from tests.lianjia_site import Card, LocalSite, paginate

DAY = "2026-11-20"


def as_json(*args, db_path=None):
    result = run_cli(*args, "--json", db_path=db_path)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_every_report_parses_as_json(tmp_path, db_path):
    cards = [Card(f"HZ10000000000000000{i:02d}", "丽晶国际", str(3000 + i)) for i in range(3)]
    with LocalSite() as site:
        site.set_pages(paginate(cards))
        scraped = as_json(
            "scrape", "lianjia", "--city", "hz", "--base-url", site.url, "--delay", "0",
            "--as-of", DAY, "--no-progress", db_path=db_path,
        )  # fmt: skip
    assert (scraped["status"], scraped["listings"], scraped["scopes"][0]["status"]) == (
        "ok",
        3,
        "ok",
    )
    runs = as_json("runs", db_path=db_path)
    assert runs[0]["id"] == scraped["scopes"][0]["run"] and runs[0]["city"] == "hz"
    sources = as_json("sources")
    assert {"lianjia", "beike", "fang"} <= {s["source"] for s in sources}
    assert next(s for s in sources if s["source"] == "fang")["verified"] is False

    snap = as_json("snapshot", "--date", DAY, db_path=db_path)
    assert snap["days"][0]["listings"] == 3
    assert snap["buildings"][0]["name"] == "丽晶国际" and snap["buildings"][0]["listings"] == 3
    unmatched = as_json("buildings", "unmatched", db_path=db_path)
    assert unmatched[0]["name"] == "丽晶国际" and unmatched[0]["listings"] == 3
    assert as_json("buildings", "list", db_path=db_path)["seen"][0]["listings"] == 3
    assert as_json("buildings", "find", "nothing-like-it", db_path=db_path) == {
        "registry": [],
        "seen": [],
    }
    assert as_json("observe", "list", db_path=db_path) == []

    config = tmp_path / "rentwatch.toml"
    config.write_text(
        f'database = "{db_path}"\njobstore = "jobs.sqlite"\n[snapshot]\nschedule = "50 23 * * *"\n',
        encoding="utf-8",
    )
    checked = as_json("run", "--config", config, "--check")
    assert checked["ok"] is True and checked["jobs"] == [] and checked["inbox"] is None
    once = as_json("run", "--config", config, "--once")
    assert [o["job"] for o in once] == ["snapshot"]

    saved = tmp_path / "p.html"
    url = "https://hz.lianjia.com/zufang/"
    saved.write_bytes(
        f"<!-- saved from url=({len(url):04d}){url} -->\n".encode()
        + paginate([Card("HZ1000000000000000099", "丽晶国际", "2800")])["/zufang/"]
    )
    ingested = as_json("ingest", saved, "--as-of", DAY, db_path=db_path)
    assert ingested["listings"] == 1 and ingested["files"][0]["city"] == "hz"
    assert ingested["files"][0]["day_from"] == "--as-of"


def test_text_off_a_terminal_keeps_every_character(tmp_path, db_path):
    long_name = "丽晶国际" + "很长的名字" * 40
    with LocalSite() as site:
        site.set_pages(paginate([Card("HZ1000000000000000001", long_name, "3000")]))
        scrape_local(site.url, DAY, "--no-progress", db_path=db_path)
    out = run_cli("buildings", "list", db_path=db_path).output
    assert f"lianjia:1811000000001\t{long_name}\t江干\t九堡\t1" in out
    runs = run_cli("runs", db_path=db_path).output.splitlines()
    assert runs[0].split("\t")[:5] == ["run", "source", "day", "scope", "status"]
    assert runs[1].split("\t")[4] == "ok"
