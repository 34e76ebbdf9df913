"""listings.created_on: the site's creation day of an ad, stored at parse time, backfilled
by migration m008 (in SQL) and by ``rentwatch reparse`` (through the parsers)."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta

import sqlite_utils

from db.migrations import MIGRATIONS
from scrapers.lianjia import house_code_at, house_code_time
from scrapers.record import SHANGHAI
from tests.cli_helpers import rows, run_cli, scrape_local
from tests.lianjia_site import Card, LocalSite, paginate

DAY = "2026-11-20"


def _codes() -> list[str]:
    """House codes around the edges of the id clock, and a spread of ordinary ones."""
    rng = random.Random(17)
    moments = [
        datetime(2014, 1, 1, 0, 0, tzinfo=SHANGHAI),  # the first year taken as a time
        datetime(2013, 12, 31, 23, 59, tzinfo=SHANGHAI),  # before it: an old numeric code
        datetime(2026, 10, 1, 23, 59, 59, tzinfo=SHANGHAI),  # a day's last second
        datetime(2026, 10, 1, 16, 0, 0, tzinfo=UTC),  # Shanghai's midnight
        datetime(2026, 10, 1, 15, 59, 59, 999000, tzinfo=UTC),  # a millisecond before it
    ]
    moments += [
        datetime(2015, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(400_000_000))
        for _ in range(300)
    ]
    codes = [house_code_at("hz", m, rng.randrange(1 << 23)) for m in moments]
    return codes + ["242188", "HZ1", "HZ0001", "hz2351983958486687744", "HZ23519839584866877x4"]


def test_the_migration_backfills_the_same_days_as_the_parser(tmp_path):
    db = sqlite_utils.Database(tmp_path / "old.db")
    done = [fn for name, fn in MIGRATIONS if name < "m008"]
    for fn in done:
        fn(db)
    codes = _codes()
    db["listings"].insert_all(
        [{"source": "lianjia", "listing_id": c} for c in codes]
        + [{"source": "58", "listing_id": codes[2]}]  # another site's ids tell nothing
    )
    dict(MIGRATIONS)["m008_listings_created_on"](db)
    stored = {
        (s, c): d for s, c, d in db.execute("SELECT source, listing_id, created_on FROM listings")
    }
    expected = {c: (t.date().isoformat() if (t := house_code_time(c)) else None) for c in codes}
    assert {c: stored[("lianjia", c)] for c in codes} == expected
    assert sum(d is not None for d in expected.values()) == 304  # all but the 2013 one: not vacuous
    assert stored[("58", codes[2])] is None


def test_a_scrape_stores_the_creation_day_and_reparse_fills_it_again(db_path):
    moment = datetime(2026, 11, 3, 9, 30, tzinfo=SHANGHAI)
    cards = [Card(house_code_at("hz", moment, i), "丽晶国际", str(3000 + i)) for i in range(3)]
    cards.append(Card("HZ1000000001", "丽晶国际", "3500"))  # 2010: an old code, not a time
    with LocalSite() as site:
        site.set_pages(paginate(cards))
        result = scrape_local(site.url, DAY, db_path=db_path)
        assert result.exit_code == 0, result.output
    query = "SELECT listing_id, created_on FROM listings ORDER BY created_on IS NULL, listing_id"
    stored = rows(db_path, query)
    assert [d for _, d in stored] == ["2026-11-03"] * 3 + [None]
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE listings SET created_on = NULL")
    result = run_cli("reparse", "--source", "lianjia", db_path=db_path)
    assert result.exit_code == 0, result.output
    assert rows(db_path, query) == stored
