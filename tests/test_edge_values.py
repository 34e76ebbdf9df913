"""Values checked at the edge, through the CLI (issue 20): numbers no listing shows and
mojibake names are flagged and counted in the run, never stored as plausible data; the
first parse reads the body as archived, so ``reparse`` gives the same records; saved
Ziroom detail pages reparse as they were ingested."""

from __future__ import annotations

import json

import pytest

from scrapers.registry import get_source
from tests.cli_helpers import rows, run_cli, scrape_local
from tests.lianjia_site import Card, LocalSite, list_page
from tests.realpages import real_dir, real_path

DAY = "2026-10-01"


def _page(tmp_path, cards: list[Card], name: str = "list.html"):
    path = tmp_path / name
    path.write_bytes(list_page(cards, page=1, total_pages=1, total=len(cards)))
    return path


def test_suspect_numbers_are_counted_in_the_run_and_not_stored(tmp_path, db_path):
    cards = [
        Card("HZ2600000000000000001", "丽晶国际", "-3000"),
        Card("HZ2600000000000000002", "丽晶国际", "1e309"),
        Card("HZ2600000000000000003", "丽晶国际", "3000", area="0"),
        Card("HZ2600000000000000004", "丽晶国际", "3000", area="100000"),
        Card("HZ2600000000000000009", "丽晶国际", "3200", area="48"),
    ]
    # The synthetic pages name no host (relative links only): their city is given.
    result = run_cli(
        "ingest", _page(tmp_path, cards), "--source", "lianjia", "--city", "hz", "--as-of", DAY,
        db_path=db_path,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = result.output.strip().splitlines()[-1]
    assert summary == (
        "run 1: 1 pages, 5 listings, 0 rejected, 4 suspect values not stored "
        "(area absurd 2, rent negative 1, rent non_finite 1)"
    )
    assert rows(db_path, "SELECT listing_id, rent, area FROM listings ORDER BY listing_id") == [
        ("HZ2600000000000000001", None, 53.0),
        ("HZ2600000000000000002", None, 53.0),
        ("HZ2600000000000000003", 3000.0, None),
        ("HZ2600000000000000004", 3000.0, None),  # not 100000 ㎡
        ("HZ2600000000000000009", 3200.0, 48.0),
    ]
    # The observation of the day carries no rent either: the ad is a unit of unknown rent.
    assert rows(db_path, "SELECT count(*) FROM listing_observations WHERE rent IS NULL") == [(2,)]
    (count, kinds), *_ = rows(db_path, "SELECT suspect_values, suspect_kinds FROM runs")
    assert count == 4
    assert json.loads(kinds) == {"area:absurd": 2, "rent:negative": 1, "rent:non_finite": 1}
    runs = run_cli("runs", db_path=db_path)
    assert runs.exit_code == 0
    # Off a terminal `runs` prints tab-separated lines (issue 21: no text lost to a table).
    header = next(line for line in runs.output.splitlines() if "suspect" in line)
    row = next(line for line in runs.output.splitlines() if line.startswith("1\t"))
    assert row.split("\t")[header.split("\t").index("suspect")] == "4"


def test_a_scrape_counts_suspect_values_in_its_run(db_path):
    cards = [
        Card("HZ2600000000000000001", "丽晶国际", "-3000"),
        Card("HZ2600000000000000002", "丽晶国际", "3100"),
    ]
    with LocalSite() as site:
        site.set_pages({"/zufang/": list_page(cards, page=1, total_pages=1, total=2)})
        result = scrape_local(site.url, DAY, "--no-progress", db_path=db_path)
    assert result.exit_code == 0, result.output
    assert "ok, 1 pages, 2 listings, 1 suspect value not stored (rent negative 1)" in result.output
    assert rows(db_path, "SELECT status, suspect_values FROM runs") == [("ok", 1)]
    assert rows(db_path, "SELECT rent FROM listings ORDER BY listing_id") == [(None,), (3100.0,)]


def test_a_page_of_mixed_gbk_and_utf8_stores_no_mojibake_name(tmp_path, db_path):
    cards = [
        Card("HZ2600000000000000001", "星耀城", "3000"),
        Card("HZ2600000000000000002", "丽晶国际", "3100"),
        Card("HZ2600000000000000003", "金色海岸", "3200"),
    ]
    body = list_page(cards, page=1, total_pages=1, total=3)
    # One card's name was pasted in GBK into a UTF-8 page.
    mixed = body.replace("丽晶国际".encode(), "丽晶国际".encode("gbk"))
    assert mixed != body
    path = tmp_path / "mixed.html"
    path.write_bytes(mixed)
    result = run_cli(
        "ingest", path, "--source", "lianjia", "--city", "hz", "--as-of", DAY, db_path=db_path
    )
    assert result.exit_code == 0, result.output
    assert "1 suspect value not stored (community mojibake 1)" in result.output
    # The ad is still a unit of the day, in its district; it only has no building name.
    assert rows(db_path, "SELECT listing_id, community, district FROM listings ORDER BY 1") == [
        ("HZ2600000000000000001", "星耀城", "江干"),
        ("HZ2600000000000000002", None, "江干"),
        ("HZ2600000000000000003", "金色海岸", "江干"),
    ]
    assert rows(db_path, "SELECT suspect_kinds FROM runs") == [('{"community:mojibake": 1}',)]
    snapshot = run_cli("snapshot", "--date", DAY, db_path=db_path)
    assert snapshot.exit_code == 0, snapshot.output
    names = [name for (name,) in rows(db_path, "SELECT name FROM buildings ORDER BY name")]
    assert names == ["星耀城", "金色海岸"]


@pytest.mark.parametrize(
    "name",
    [
        "丽晶国际".encode().decode("latin-1"),  # UTF-8 read as Latin-1: 'ä¸½æ\x99¶…'
        "丽晶国际".encode().decode("gb18030"),  # UTF-8 read as GBK: '涓芥櫠鍥介檯'
        "丽晶\ufffd\ufffd",  # bytes that fitted no charset
    ],
)
def test_mojibake_names_are_recognised(name):
    from scrapers.suspect import looks_mojibake

    assert looks_mojibake(name)


@pytest.mark.parametrize(
    "name", ["丽晶国际", "绿城·桂花园", "坪山", "溪山", "SOHO尚都", "Café 公寓"]
)
def test_real_names_are_not_mojibake(name):
    from scrapers.suspect import looks_mojibake

    # 坪山 and 溪山: their GBK bytes are valid UTF-8 too, but spell Latin letters.
    assert not looks_mojibake(name)


def test_no_name_on_the_real_saved_pages_is_called_mojibake():
    from scrapers.suspect import check_record

    real_path("ziroom/ziroom_list_sh_2016-11.html")  # skips without the real pages
    sources = {"lianjia": "lianjia", "anjuke": "anjuke", "58": "58", "ziroom": "ziroom"}
    names = 0
    for folder, source_name in sources.items():
        source = get_source(source_name)
        for path in sorted(real_dir(folder).glob("*.htm*")):
            body, url = path.read_bytes(), path.resolve().as_uri()
            try:
                records = source.parse_list(body, url).records
            except Exception:  # noqa: BLE001 (pages of other kinds: not this test's subject)
                continue
            for record in records:
                names += record.community is not None
                flags = check_record(record)
                assert not [f for f in flags if f.endswith("mojibake")], (path.name, flags)
    assert names > 100


PHONE = "13812345678"


@pytest.mark.parametrize("how", ["ingest", "scrape"])
def test_the_first_parse_reads_the_body_as_archived_so_reparse_gives_the_same_records(
    tmp_path, db_path, how
):
    cards = [
        Card("HZ2600000000000000001", "星耀城", "3000"),
        Card("HZ2600000000000000002", "金色海岸", "3200"),
    ]
    body = list_page(cards, page=1, total_pages=1, total=2)
    with_phone = body.replace("整租·星耀城".encode(), f"整租·星耀城 {PHONE}".encode())
    assert with_phone != body
    if how == "ingest":
        path = tmp_path / "list.html"
        path.write_bytes(with_phone)
        result = run_cli(
            "ingest", path, "--source", "lianjia", "--city", "hz", "--as-of", DAY, db_path=db_path
        )
    else:
        with LocalSite() as site:
            site.set_pages({"/zufang/": with_phone})
            result = scrape_local(site.url, DAY, "--no-progress", db_path=db_path)
    assert result.exit_code == 0, result.output
    query = "SELECT * FROM listings ORDER BY listing_id"
    first = rows(db_path, query)
    titles = [t for (t,) in rows(db_path, "SELECT title FROM listings ORDER BY listing_id")]
    assert titles[0].startswith("整租·星耀城") and PHONE not in titles[0]
    reparse = run_cli("reparse", db_path=db_path)
    assert reparse.exit_code == 0, reparse.output
    assert rows(db_path, query) == first
    assert PHONE.encode() not in db_path.read_bytes()


def test_reparse_reads_saved_ziroom_detail_pages_as_ingest_did(db_path):
    folder = real_path("ziroom/ziroom_detail_sh_2016-11_1.html").parent
    # Ziroom's saved pages name www.ziroom.com, no city's host: each gets its file name's city.
    for city in ("sh", "bj"):
        pages = sorted(folder.glob(f"*_{city}_*.html"))
        result = run_cli("ingest", *pages, "--source", "ziroom", "--city", city, "--as-of", DAY,
                         db_path=db_path)  # fmt: skip
        assert result.exit_code == 0, result.output
    query = "SELECT source, listing_id, title, rent, area, community FROM listings ORDER BY 2"
    ingested = rows(db_path, query)
    details = rows(db_path, "SELECT count(*) FROM pages p WHERE p.url LIKE '%detail%'")
    assert details == [(3,)]
    reparse = run_cli("reparse", db_path=db_path)
    assert reparse.exit_code == 0, reparse.output
    assert "reparsed 6 pages" in reparse.output and "0 errors" in reparse.output
    assert "not a list page" not in reparse.output
    assert rows(db_path, query) == ingested
    assert rows(db_path, "SELECT parse_status, count(*) FROM pages GROUP BY 1") == [("ok", 6)]
