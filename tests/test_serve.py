"""`rentwatch serve`: a real Datasette process on a real port, asked over HTTP."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from db import open_db
from rentwatch.datasette import build_metadata
from rentwatch.datasette.tables import TABLES

CONTRACT_TABLES = (
    "buildings",
    "building_aliases",
    "listings",
    "listing_observations",
    "runs",
    "pages",
    "units",
    "building_daily",
    "district_daily",
    "manual_observations",
)
DAYS = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]


def fill(db_path: Path) -> None:
    db = open_db(db_path)
    with db.conn:
        db["buildings"].insert_all(
            [
                {
                    "id": 1,
                    "name": "丽晶国际",
                    "city": "hz",
                    "district": "上城",
                    "subdistrict": "九堡",
                    "total_units": 400,
                    "status": "verified",
                },
                {
                    "id": 2,
                    "name": "金色海岸",
                    "city": "hz",
                    "district": "滨江",
                    "subdistrict": "滨江",
                    "total_units": 200,
                    "status": "verified",
                },
                {
                    "id": 3,
                    "name": "九堡家苑三区",
                    "city": "hz",
                    "district": "上城",
                    "subdistrict": "九堡",
                    "status": "unverified",
                },
                {
                    "id": 4,
                    "name": "钱江世纪城某苑",
                    "city": "hz",
                    "district": "萧山",
                    "subdistrict": "钱江世纪城",
                    "status": "unverified",
                },
            ]
        )
        db["building_aliases"].insert(
            {"building_id": 1, "alias": "丽晶国际中心", "origin": "import"}
        )
        listings = [
            (1, "L1", 1, "整租·丽晶国际 2室1厅 南", [4200, 4200, 3900, 3600]),
            (2, "L2", 1, "整租·丽晶国际 1室1厅 北", [3000, 3000, 3000, 3000]),
            (3, "L3", 2, "整租·金色海岸 3室2厅 南", [6000, 6000, 5800, 5900]),
            (4, "L4", 3, "合租·九堡家苑三区 4居室 次卧", [1500, 1500, 1500, 1400]),
            (5, "L5", 4, "整租·钱江世纪城某苑 2室1厅 南 100%满意", [5000, 5000, 5000, 5000]),
            (6, "L6", 3, "整租·九堡家苑三区 1室0厅 西", [2100, None, None, None]),
        ]
        for lid, code, building, title, rents in listings:
            seen = [d for d, r in zip(DAYS, rents, strict=True) if r is not None]
            db["listings"].insert(
                {
                    "id": lid,
                    "source": "lianjia",
                    "listing_id": code,
                    "building_id": building,
                    "title": title,
                    "rent": [r for r in rents if r][-1],
                    "first_seen": seen[0],
                    "last_seen": seen[-1],
                }
            )
            for day, rent in zip(DAYS, rents, strict=True):
                if rent is not None:
                    db["listing_observations"].insert(
                        {"listing_id": lid, "date": day, "rent": rent}
                    )
        # 丽晶国际 empties (8 -> 20 units), 金色海岸 stays about the same (5 -> 6), and one
        # day of 金色海岸 has no data: null, not zero.
        for i, day in enumerate(DAYS):
            db["building_daily"].insert(
                {
                    "building_id": 1,
                    "date": day,
                    "listings": 10 + 4 * i,
                    "units": 8 + 4 * i,
                    "units_low": 6 + 4 * i,
                    "units_high": 10 + 4 * i,
                    "median_rent": 4000 - 100 * i,
                    "p25_rent": 3500,
                    "p75_rent": 4500,
                    "total_units": 400,
                    "vacancy_rate": (8 + 4 * i) / 400,
                }
            )
            db["building_daily"].insert(
                {
                    "building_id": 2,
                    "date": day,
                    "units": None if i == 2 else 5 + (i == 3),
                    "total_units": 200,
                    "vacancy_rate": None if i == 2 else (5 + (i == 3)) / 200,
                }
            )
            db["district_daily"].insert(
                {
                    "city": "hz",
                    "district": "上城",
                    "subdistrict": "九堡",
                    "date": day,
                    "units": 30 + i,
                    "units_low": 25 + i,
                    "units_high": 36 + i,
                    "median_rent": 3000 + i,
                    "buildings": 2,
                }
            )
        db["manual_observations"].insert_all(
            [
                {"building_id": 1, "date": "2026-11-02", "vacant": 13, "origin": "notice-board"},
                {"building_id": 1, "date": "2026-11-04", "vacant": 22, "origin": "notice-board"},
            ]
        )
        db["runs"].insert(
            {"source": "lianjia", "city": "hz", "as_of": DAYS[-1], "status": "ok", "pages": 3}
        )
    db.close()


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("serve") / "rentwatch.db"
    fill(db_path)
    port = free_port()
    exe = Path(sys.executable).with_name("rentwatch")
    proc = subprocess.Popen(
        [str(exe), "serve", "--db", str(db_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    deadline = time.monotonic() + 60
    while True:
        try:
            client.get("/-/versions.json")
            break
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"rentwatch serve did not start: {proc.stdout.read()}")
            time.sleep(0.1)
    yield client
    client.close()
    proc.terminate()
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    assert f"Serving {db_path} at http://127.0.0.1:{port}/" in out


def query(client: httpx.Client, name: str, **params: str) -> list[dict]:
    r = client.get(f"/rentwatch/{name}.json", params={**params, "_shape": "array"})
    assert r.status_code == 200, r.text
    return r.json()


def test_every_table_and_column_has_a_description(fresh_db):
    # Fails when a migration adds a table or column without saying what it means.
    described = build_metadata("rentwatch")["databases"]["rentwatch"]["tables"]
    assert set(CONTRACT_TABLES) <= set(fresh_db.table_names())
    for table in fresh_db.table_names():
        if described.get(table, {}).get("hidden"):
            continue
        assert described.get(table, {}).get("description"), f"{table}: no description"
        columns = {c.name for c in fresh_db[table].columns}
        missing = columns - set(described[table]["columns"])
        assert not missing, f"{table}: no description for {sorted(missing)}"
    assert set(TABLES["building_daily"]["columns"]) >= {"median_rent", "units_low", "units_high"}


def test_tables_and_metadata(server):
    tables = {t["name"]: t for t in server.get("/rentwatch.json").json()["tables"]}
    for table in CONTRACT_TABLES:
        assert table in tables
    assert tables["listings_fts"]["hidden"] is True
    assert tables["buildings"]["count"] == 4
    meta = server.get("/-/metadata.json").json()
    assert meta["title"] == "rentwatch: empty flats and asking rents, building by building"
    columns = meta["databases"]["rentwatch"]["tables"]["building_daily"]["columns"]
    assert columns["median_rent"] == "Median asking rent of whole flats (整租), 元/月."
    page = server.get("/rentwatch/building_daily").text
    assert "Median asking rent of whole flats (整租), 元/月." in page
    rows = server.get("/rentwatch/building_daily.json", params={"_shape": "array"}).json()
    assert rows[0]["date"] == "2026-11-04"  # newest first by default


def test_building_trend_by_name_and_alias(server):
    rows = query(server, "building_trend", building="丽晶国际")
    assert [r["date"] for r in rows] == DAYS
    assert [r["units"] for r in rows] == [8, 12, 16, 20]
    assert [r["notice_board_vacant"] for r in rows] == [None, 13, None, 22]
    assert rows[-1]["vacancy_pct"] == 5.0
    assert query(server, "building_trend", building="丽晶国际中心") == rows
    assert query(server, "building_trend", building="没有这个楼") == []


def test_vacancy_rise(server):
    rows = query(server, "vacancy_rise", days="3")
    assert [(r["building"], r["units_before"], r["units_now"], r["rise"]) for r in rows] == [
        ("丽晶国际", 8, 20, 12),
        ("金色海岸", 5, 6, 1),
    ]
    # Two days back is 11-02; 金色海岸 has data that day too.
    rows = query(server, "vacancy_rise", days="2")
    assert [(r["building"], r["date_before"], r["rise"]) for r in rows] == [
        ("丽晶国际", "2026-11-02", 8),
        ("金色海岸", "2026-11-02", 1),
    ]


def test_rent_cuts(server):
    rows = query(server, "rent_cuts")
    assert [(r["listing"], r["rent_before"], r["rent_now"], r["cut"]) for r in rows] == [
        (1, 4200, 3600, 600),
        (4, 1500, 1400, 100),  # same cut as 3, larger share of the rent
        (3, 6000, 5900, 100),
    ]
    assert rows[0]["building"] == "丽晶国际"
    assert rows[0]["cut_pct"] == 14.3


def test_unmatched_buildings(server):
    rows = query(server, "unmatched_buildings")
    assert [(r["name"], r["listings"]) for r in rows] == [
        ("九堡家苑三区", 2),
        ("钱江世纪城某苑", 1),
    ]


@pytest.mark.parametrize(
    ("q", "ids"),
    [
        ("九堡", [4, 6]),  # two characters: the LIKE fallback
        ("堡", [4, 6]),
        ("丽晶国际", [1, 2]),  # the trigram index
        ("晶国际 2室", [1]),
        ("钱江世纪城", [5]),
        ("%", [5]),  # a literal percent sign, not a wildcard
        ("0%", [5]),
        ("满_", []),  # "_" is not a wildcard either ("满意" must not match)
        ("没有", []),
    ],
)
def test_search_listings(server, q, ids):
    rows = query(server, "search_listings", q=q)
    assert sorted(r["id"] for r in rows) == ids


def test_table_search_box_uses_trigram_index(server):
    r = server.get("/rentwatch/listings.json", params={"_search": "九堡家苑", "_shape": "array"})
    assert sorted(row["id"] for row in r.json()) == [4, 6]


def test_dashboards_are_listed_and_open_on_the_story_building(server):
    page = server.get("/-/dashboards").text
    for title in ("One building", "One district or 板块", "Notice boards against the estimate"):
        assert title in page
    r = server.get("/-/dashboards/building")
    assert r.status_code == 302
    assert "building=%E4%B8%BD%E6%99%B6%E5%9B%BD%E9%99%85" in r.headers["location"]
    page = server.get("/-/dashboards/building", params={"building": "丽晶国际"}).text
    assert "vega-lite.min.js" in page and "renderChart('units'" in page
