"""End to end: a local site in the Lianjia markup, the real CLI, a real SQLite file."""

from __future__ import annotations

import pytest

from tests.cli_helpers import rows, run_cli, scrape_local
from tests.lianjia_site import Card, LocalSite, paginate

DAY = "2026-11-20"


def market() -> list[Card]:
    cards = []
    for i in range(70):
        building = ["丽晶国际", "金色海岸", "钱江世纪城A座"][i % 3]
        cards.append(
            Card(
                house_code=f"HZ{2351274914700328960 + i}",
                community=building,
                rent=str(3000 + 10 * i),
                area=str(40 + i % 5),
                resblock_id=f"18110000000{i % 3}",
            )
        )
    return cards


@pytest.fixture
def site():
    with LocalSite() as s:
        s.set_pages(paginate(market()))
        yield s


def scrape(site, db_path, *extra, day=DAY):
    return scrape_local(site.url, day, *extra, db_path=db_path)


def test_scrape_follows_every_page_and_stores_listings_and_observations(site, db_path):
    result = scrape(site, db_path)
    assert result.exit_code == 0, result.output
    assert "ok, 3 pages, 70 listings" in result.output
    assert site.hits == {"/robots.txt": 1, "/zufang/": 1, "/zufang/pg2/": 1, "/zufang/pg3/": 1}
    assert rows(db_path, "SELECT count(*) FROM listings") == [(70,)]
    assert rows(db_path, f"SELECT count(*) FROM listing_observations WHERE date = '{DAY}'") == [
        (70,)
    ]
    row = rows(
        db_path,
        "SELECT community, rent, area, layout, floor_band, total_floors, tenure, district, subdistrict "
        "FROM listings WHERE listing_id = 'HZ2351274914700328961'",
    )
    assert row == [("金色海岸", 3010.0, 41.0, "2室1厅1卫", "中楼层", 28, "whole", "江干", "九堡")]
    run = rows(db_path, "SELECT status, pages, listings, requests, as_of FROM runs")
    assert run == [("ok", 3, 70, 4, DAY)]
    # Every page is archived, content-addressed, before it is parsed.
    assert rows(
        db_path, "SELECT count(*), sum(parse_status = 'ok') FROM pages WHERE kind = 'list'"
    ) == [(3, 3)]


def test_scraping_the_same_day_twice_leaves_the_same_rows(site, db_path):
    assert scrape(site, db_path).exit_code == 0
    first = rows(
        db_path, "SELECT source, listing_id, rent, first_seen, last_seen FROM listings ORDER BY 2"
    )
    obs = rows(db_path, "SELECT listing_id, date, rent FROM listing_observations ORDER BY 1")
    assert scrape(site, db_path).exit_code == 0
    assert (
        rows(
            db_path,
            "SELECT source, listing_id, rent, first_seen, last_seen FROM listings ORDER BY 2",
        )
        == first
    )
    assert (
        rows(db_path, "SELECT listing_id, date, rent FROM listing_observations ORDER BY 1") == obs
    )
    # The same bodies are stored once however often they are fetched.
    assert rows(db_path, "SELECT count(*) FROM pages WHERE kind = 'list'") == [(6,)]
    assert rows(db_path, "SELECT count(*) FROM page_bodies") == [(4,)]  # 3 pages + robots.txt


def test_a_later_day_extends_last_seen_and_adds_observations(site, db_path):
    assert scrape(site, db_path, day="2026-11-20").exit_code == 0
    assert scrape(site, db_path, day="2026-11-21").exit_code == 0
    assert rows(db_path, "SELECT DISTINCT first_seen, last_seen FROM listings") == [
        ("2026-11-20", "2026-11-21")
    ]
    assert rows(db_path, "SELECT count(*) FROM listing_observations") == [(140,)]


def test_a_page_of_another_kind_fails_the_run_and_keeps_what_was_stored(site, db_path):
    assert scrape(site, db_path, day="2026-11-19").exit_code == 0
    site.set_route(
        "/zufang/",
        "<html><head><title>某某论坛</title></head><body><p>hello</p></body></html>".encode(),
    )
    result = scrape(site, db_path)
    assert result.exit_code == 1
    assert "lianjia" in result.output and "/zufang/" in result.output
    assert rows(db_path, "SELECT count(*) FROM listings") == [(70,)]
    assert rows(db_path, f"SELECT count(*) FROM listing_observations WHERE date = '{DAY}'") == [
        (0,)
    ]
    assert rows(db_path, "SELECT status FROM runs ORDER BY id") == [("ok",), ("failed",)]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>\xe6\x9d\xad\xe5\xb7\x9e\xe7\xa7\x9f\xe6\x88\xbf</title></head><body><div class="content__list"><div class="content__list--item" data-house_code="HZ1"',
    ],
    ids=["empty", "truncated"],
)
def test_an_empty_or_truncated_body_is_a_clear_failure(site, db_path, body):
    site.set_route("/zufang/", body)
    result = scrape(site, db_path)
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output
    assert rows(db_path, "SELECT status FROM runs") == [("failed",)]
    assert rows(db_path, "SELECT count(*) FROM listing_observations") == [(0,)]


def test_a_captcha_page_is_blocked_not_empty(site, db_path):
    site.set_route(
        "/zufang/pg2/",
        "<html><head><title>人机认证</title></head><body>请完成验证</body></html>".encode(),
    )
    result = scrape(site, db_path)
    assert result.exit_code == 3, result.output
    assert "blocked" in result.output
    assert rows(db_path, "SELECT status, blocked FROM runs") == [("blocked", 1)]
    assert rows(db_path, "SELECT count(*) FROM pages WHERE blocked = 1") == [(1,)]


def test_robots_txt_forbidding_everything_stops_before_the_first_listing_request(site, db_path):
    site.set_route(
        "/robots.txt",
        b"User-agent: Baiduspider\nAllow: /\n\nUser-agent: *\nDisallow: /\n",
        headers={"Content-Type": "text/plain"},
    )
    result = scrape(site, db_path)
    assert result.exit_code == 4, result.output
    assert "robots.txt" in result.output and "forbids /zufang/" in result.output
    assert site.hits == {"/robots.txt": 1}
    assert rows(db_path, "SELECT status FROM runs") == [("disallowed",)]


def test_unknown_source_names_the_known_ones(db_path):
    result = run_cli("scrape", "nosuchsite", "--city", "hz", db_path=db_path)
    assert result.exit_code == 1
    assert "unknown source 'nosuchsite'" in result.output and "lianjia" in result.output


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "20261120"])
def test_an_invalid_date_is_refused(db_path, bad):
    result = run_cli("scrape", "lianjia", "--city", "hz", "--as-of", bad, db_path=db_path)
    assert result.exit_code == 2
    assert f"invalid --as-of {bad!r}" in result.output


def test_scraping_one_tracked_building_asks_only_for_its_page(site, db_path, tmp_path):
    csv_file = tmp_path / "b.csv"
    csv_file.write_text(
        "name,aliases,city,district,total_units,site_ids\n丽晶国际,丽晶国际公寓,hz,江干,300,lianjia:1811000000001\n",
        encoding="utf-8",
    )
    assert run_cli("buildings", "import", csv_file, db_path=db_path).exit_code == 0
    cards = [c for c in market() if c.resblock_id == "1811000000001"]
    site.set_pages(paginate(cards, prefix="/zufang/c1811000000001/"))
    result = scrape(site, db_path, "--building", "丽晶国际")
    assert result.exit_code == 0, result.output
    assert "/zufang/" not in site.hits and site.hits["/zufang/c1811000000001/"] == 1
    assert rows(db_path, "SELECT count(*) FROM listings") == [(len(cards),)]
    assert rows(db_path, "SELECT building_id, status FROM runs") == [(1, "ok")]
    unknown = scrape(site, db_path, "--building", "不存在大厦")
    assert unknown.exit_code == 1 and "no building '不存在大厦' in the registry" in unknown.output


def test_scrape_then_snapshot_gives_building_daily_from_what_the_pages_held(tmp_path, db_path):
    import statistics

    registry = tmp_path / "b.csv"
    registry.write_text(
        "name,aliases,city,district,total_units\n丽晶国际,丽晶国际公寓,hz,江干,300\n金色海岸,,hz,江干,\n",
        encoding="utf-8",
    )
    assert run_cli("buildings", "import", registry, db_path=db_path).exit_code == 0
    # 丽晶国际: 34 look-alike flats of one agency (one agency never lists a flat twice), and a
    # shared room. 金色海岸: 3 flats, each advertised by two agencies a few yuan apart, under
    # the building's other spelling too.
    lijing = [
        Card(
            f"HZ{2500000000000000000 + i}",
            "丽晶国际公寓" if i % 2 else "丽晶国际",
            str(3000 + 20 * i),
        )
        for i in range(34)
    ]
    room = Card(
        "HZ2500000000000000999", "丽晶国际", "1500", area="12", tenure="合租", layout="3室1厅1卫"
    )
    jinse = []
    for flat, (area, rent) in enumerate([("88", 5000), ("95", 5600), ("120", 7000)]):
        for agency, bump in (("链家", 0), ("贝壳优选", 60)):
            jinse.append(
                Card(
                    f"HZ{2600000000000000000 + 10 * flat + bump // 60}",
                    "金色海岸",
                    str(rent + bump),
                    area=area,
                    layout="3室2厅2卫",
                    floor="高楼层",
                    floors=18,
                    brand=agency,
                    resblock_id="1811000000002",
                )
            )
    with LocalSite() as site:
        site.set_pages(paginate([*lijing, room, *jinse]))
        assert scrape(site, db_path).exit_code == 0
    result = run_cli("snapshot", "--date", DAY, db_path=db_path)
    assert result.exit_code == 0, result.output
    daily = {
        name: row
        for name, *row in rows(
            db_path,
            "SELECT b.name, d.listings, d.units, d.units_min, d.units_max, d.rooms, d.median_rent, "
            "d.p25_rent, d.p75_rent, d.median_rent_per_m2, d.vacancy_rate FROM building_daily d "
            f"JOIN buildings b ON b.id = d.building_id WHERE d.date = '{DAY}'",
        )
    }
    rents = [3000 + 20 * i for i in range(34)]
    q1, _, q3 = statistics.quantiles(rents, n=4, method="inclusive")
    assert daily["丽晶国际"] == [
        35,  # ads seen, the room included
        34,  # flats
        34,
        34,
        1,  # the shared room
        statistics.median(rents),
        q1,
        q3,
        round(statistics.median(r / 53 for r in rents), 2),
        round(34 / 300, 4),
    ]
    # Two ads a flat, merged into 3 units; a unit's rent is the median of its ads.
    listings, units, low, high, rooms, median, *_rest, vacancy = daily["金色海岸"]
    assert (listings, units, low, rooms, median, vacancy) == (6, 3, 3, 0, 5630.0, None)
    assert high == 6
    # the stated interval holds the estimate, and 34 flats of distinct rents leave it narrow
    intervals = {
        name: (low, units, high)
        for name, low, units, high in rows(
            db_path,
            "SELECT b.name, d.units_low, d.units, d.units_high FROM building_daily d "
            f"JOIN buildings b ON b.id = d.building_id WHERE d.date = '{DAY}'",
        )
    }
    assert all(low <= units <= high for low, units, high in intervals.values())
    low, _, high = intervals["丽晶国际"]
    assert 30 <= low <= 34 <= high <= 38


def test_a_run_records_the_sites_total_beside_the_distinct_ads_it_collected(site, db_path):
    assert scrape(site, db_path).exit_code == 0
    # The list shifted while it was paged: page 2 starts with the last card of page 1 again,
    # and the card that slid from page 2 to page 1 was never served.
    cards = market()
    site.set_pages(paginate([*cards[:30], cards[29], *cards[31:]]))
    assert scrape(site, db_path, day="2026-11-21").exit_code == 0
    assert rows(db_path, "SELECT as_of, site_total, distinct_listings FROM runs ORDER BY id") == [
        (DAY, 70, 70),
        ("2026-11-21", 70, 69),
    ]
