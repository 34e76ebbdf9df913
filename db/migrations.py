"""Versioned schema changes. Each migration runs once, in order, inside one transaction.

To change the schema, append a new function decorated with ``@migration`` at the end
of this file; never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

from db.transactions import write_transaction

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def applied(db: sqlite_utils.Database) -> set[str]:
    if "_migrations" not in db.table_names():
        return set()
    return {row["name"] for row in db.table("_migrations").rows}


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations; returns the names applied now."""
    if "_migrations" not in db.table_names():
        db.table("_migrations").create(
            {"name": str, "applied_at": str}, pk="name", if_not_exists=True
        )
    done = applied(db)
    ran = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        # One transaction per migration, all of it or none; two processes opening an old
        # database at once: the second finds the migration done once it gets the lock.
        with write_transaction(db):
            if name in applied(db):
                continue
            fn(db)
            db.table("_migrations").insert(
                {"name": name, "applied_at": datetime.now(UTC).isoformat()}
            )
        ran.append(name)
    return ran


@migration
def m001_initial(db: sqlite_utils.Database) -> None:
    db.table("buildings").create(
        {
            "id": int,
            "name": str,
            "city": str,
            "district": str,
            "subdistrict": str,
            "total_units": int,
            # verified: from the registry; unverified: created from a listing's 小区 name
            "status": str,
            "created_at": str,
        },
        pk="id",
        not_null={"name"},
        defaults={"status": "verified", "city": ""},
    )
    db.table("buildings").create_index(["city", "name"], unique=True)

    db.table("building_aliases").create(
        {
            "id": int,
            "building_id": int,
            "alias": str,
            "alias_key": str,  # normalized form used for matching
            "origin": str,  # manual | import | auto | fuzzy
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("building_id", "buildings", "id")],
        not_null={"building_id", "alias"},
    )
    db.table("building_aliases").create_index(["building_id", "alias"], unique=True)
    db.table("building_aliases").create_index(["alias_key"])

    # Which 小区 id or query a site uses for a tracked building (Lianjia: resblock id).
    db.table("building_sources").create(
        {"building_id": int, "source": str, "site_id": str, "query": str},
        pk=("building_id", "source", "site_id"),
        foreign_keys=[("building_id", "buildings", "id")],
    )
    db.table("building_sources").create_index(["source", "site_id"])

    db.table("runs").create(
        {
            "id": int,
            "source": str,
            "city": str,
            "district": str,  # scope of the run: a district slug, or null for the whole city
            "building_id": int,  # scope: one tracked building, or null
            "as_of": str,  # observation date, Asia/Shanghai
            "started_at": str,
            "finished_at": str,
            # running | ok | partial | blocked | failed | interrupted
            "status": str,
            "message": str,
            "pages": int,
            "listings": int,
            "errors": int,
            "blocked": int,
            "requests": int,
            "bytes": int,
            "retries": int,
            "pages_by_status": str,  # JSON {"200": 10, "429": 1}
            "duration_s": float,
            "base_url": str,
            "pid": int,
        },
        pk="id",
        defaults={"status": "running", "blocked": 0},
    )
    db.table("runs").create_index(["as_of", "source"])

    # Content-addressed bodies: the same bytes are stored once, zlib-compressed.
    db.table("page_bodies").create(
        {"hash": str, "body": bytes, "size": int, "compression": str},
        pk="hash",
    )
    db.table("pages").create(
        {
            "id": int,
            "run_id": int,
            "source": str,
            "url": str,
            "final_url": str,
            "kind": str,  # list | detail | robots | saved
            "as_of": str,
            "fetched_at": str,
            "status": int,
            "content_hash": str,
            "encoding": str,
            "etag": str,
            "last_modified": str,
            "blocked": int,
            "block_reason": str,
            "error": str,
            "parse_status": str,  # pending | ok | error | skipped
            "parse_error": str,
            "records": int,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("content_hash", "page_bodies", "hash")],
        defaults={"blocked": 0, "parse_status": "pending"},
    )
    db.table("pages").create_index(["url"])
    db.table("pages").create_index(["source", "as_of"])
    db.table("pages").create_index(["run_id"])

    db.table("units").create(
        {
            "id": int,
            "building_id": int,
            "tenure": str,
            "layout": str,
            "area": float,
            "floor_band": str,
            "total_floors": int,
            "orientation": str,
            "first_seen": str,
            "last_seen": str,
            "status": str,  # live | gone
            "gone_on": str,
            "reason": str,  # why the ads were merged, for a person to check
            "ads": int,
        },
        pk="id",
        foreign_keys=[("building_id", "buildings", "id")],
    )
    db.table("units").create_index(["building_id"])

    db.table("listings").create(
        {
            "id": int,
            "source": str,
            "listing_id": str,
            "building_id": int,
            "unit_id": int,
            "url": str,
            "title": str,
            "tenure": str,
            "is_apartment": int,
            "is_promoted": int,
            "district": str,
            "subdistrict": str,
            "community": str,
            "community_id": str,
            "rent": float,
            "rent_high": float,
            "rent_text": str,
            "area": float,
            "area_text": str,
            "layout": str,
            "rooms": int,
            "halls": int,
            "baths": int,
            "floor_band": str,
            "total_floors": int,
            "floor_text": str,
            "orientation": str,
            "agent_key": str,
            "brand": str,
            "listed_text": str,
            "listed_date": str,
            "first_seen": str,
            "last_seen": str,
            "flags": str,  # normalization flags, e.g. "bait_low,area_out_of_range"
            "extra": str,  # JSON of site-specific fields
        },
        pk="id",
        foreign_keys=[("building_id", "buildings", "id"), ("unit_id", "units", "id")],
        not_null={"source", "listing_id"},
        defaults={"is_apartment": 0, "is_promoted": 0},
    )
    db.table("listings").create_index(["source", "listing_id"], unique=True)
    db.table("listings").create_index(["building_id"])
    db.table("listings").create_index(["unit_id"])

    db.table("listing_observations").create(
        {"listing_id": int, "date": str, "rent": float, "run_id": int, "page_id": int},
        pk=("listing_id", "date"),
        foreign_keys=[
            ("listing_id", "listings", "id"),
            ("run_id", "runs", "id"),
            ("page_id", "pages", "id"),
        ],
    )
    db.table("listing_observations").create_index(["date"])

    measures = {
        "listings": int,  # live ads seen that day
        "units": int,  # estimated distinct empty flats
        "units_low": int,
        "units_high": int,
        "rooms": int,  # shared rooms on offer
        "median_rent": float,  # 元/月, whole flats
        "p25_rent": float,
        "p75_rent": float,
        "median_rent_per_m2": float,
        "median_room_rent": float,
        "vacancy_rate": float,
        "new_units": int,
        "gone_units": int,
        "price_cuts": int,
        "median_days_on_market": float,
        "sources": str,
    }
    db.table("building_daily").create(
        {"building_id": int, "date": str, **measures, "total_units": int},
        pk=("building_id", "date"),
        foreign_keys=[("building_id", "buildings", "id")],
    )
    db.table("building_daily").create_index(["date"])
    db.table("district_daily").create(
        {
            "city": str,
            "district": str,
            "subdistrict": str,
            "date": str,
            **measures,
            "buildings": int,
        },
        pk=("city", "district", "subdistrict", "date"),
    )

    db.table("manual_observations").create(
        {
            "id": int,
            "building_id": int,
            "date": str,
            "vacant": int,
            "note": str,
            "origin": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("building_id", "buildings", "id")],
    )
    db.table("manual_observations").create_index(["building_id", "date"])


@migration
def m002_runs_kind(db: sqlite_utils.Database) -> None:
    # scrape | ingest: saved pages cover only the buildings they show, a scrape its whole scope.
    db.table("runs").add_column("kind", str, not_null_default="scrape")


@migration
def m003_listings_title_search(db: sqlite_utils.Database) -> None:
    # Full-text search over listing titles. SQLite's default tokenizer keeps a run of Chinese
    # characters as one token, so "丽晶" would never match "丽晶国际"; the trigram tokenizer
    # indexes every three characters and matches any substring of 3+ characters (shorter
    # queries fall back to LIKE in the canned query). The index keeps its own copy of the
    # title rather than pointing at listings (external content), so no write path, not even
    # INSERT OR REPLACE, can leave it out of step: every trigger replaces the row by id.
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS listings_fts USING fts5(title, tokenize='trigram')"
    )
    db.execute(
        "INSERT INTO listings_fts (rowid, title) SELECT id, title FROM listings "
        "WHERE title IS NOT NULL"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS listings_fts_insert AFTER INSERT ON listings BEGIN "
        "DELETE FROM listings_fts WHERE rowid = new.id; "
        "INSERT INTO listings_fts (rowid, title) SELECT new.id, new.title "
        "WHERE new.title IS NOT NULL; END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS listings_fts_update AFTER UPDATE OF id, title ON listings "
        "BEGIN DELETE FROM listings_fts WHERE rowid IN (old.id, new.id); "
        "INSERT INTO listings_fts (rowid, title) SELECT new.id, new.title "
        "WHERE new.title IS NOT NULL; END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS listings_fts_delete AFTER DELETE ON listings BEGIN "
        "DELETE FROM listings_fts WHERE rowid = old.id; END"
    )


@migration
def m004_unit_links(db: sqlite_utils.Database) -> None:
    # Why each ad belongs to its unit, one row per ad, for a person to check in Datasette.
    db.table("unit_links").create(
        {
            "listing_id": int,
            "unit_id": int,
            "building_id": int,
            "linked_on": str,  # the snapshot day that made the link
            "kind": str,  # first | match | repost
            "reason": str,
            "score": float,
        },
        pk="listing_id",
        foreign_keys=[("listing_id", "listings", "id"), ("unit_id", "units", "id")],
    )
    db.table("unit_links").create_index(["unit_id"])
    db.table("units").add_column("rent", float)  # median monthly rent of its ads when last seen
    db.table("units").add_column("agents", int)  # distinct advertisers (source + agent key)
    db.table("units").add_column("sources", str)
    db.table("listings").add_column("rent_monthly", float)  # last normalized monthly rent


@migration
def m005_title_trigger_and_run_site_id(db: sqlite_utils.Database) -> None:
    # The daily upsert sets every listing's title; rewriting its search row each time made a
    # day's write several times slower (docs/performance.md, Snapshots). Only a changed
    # title touches the index.
    db.execute("DROP TRIGGER IF EXISTS listings_fts_update")
    db.execute(
        "CREATE TRIGGER listings_fts_update AFTER UPDATE OF id, title ON listings "
        "WHEN old.id IS NOT new.id OR old.title IS NOT new.title "
        "BEGIN DELETE FROM listings_fts WHERE rowid IN (old.id, new.id); "
        "INSERT INTO listings_fts (rowid, title) SELECT new.id, new.title "
        "WHERE new.title IS NOT NULL; END"
    )
    # The site's 小区 id a building-scoped run asked for, also when no registry building has it.
    db.table("runs").add_column("site_id", str)


@migration
def m006_run_completeness(db: sqlite_utils.Database) -> None:
    # What the site said its list held (the total on its first page) and how many distinct
    # ads the run collected: equal means the crawl missed none that day, so an ad missing
    # from it is gone from the site, not lost to the list shifting while it was paged.
    db.table("runs").add_column("site_total", int)
    db.table("runs").add_column("distinct_listings", int)


@migration
def m007_days_watched(db: sqlite_utils.Database) -> None:
    # The first day a successful crawl covered the building, and per snapshot row the
    # days since: a building's first weeks watched carry the larger error (the flats on
    # offer when watching began are grouped from one day's ads).
    db.table("buildings").add_column("first_watched", str)
    db.table("building_daily").add_column("days_watched", int)


@migration
def m008_listings_created_on(db: sqlite_utils.Database) -> None:
    # The day the site created the ad, when its id says so (Lianjia and Beike house codes
    # are time-ordered ids), stored at parse time so the snapshot no longer asks the parsers.
    db.table("listings").add_column("created_on", str)
    # Backfill of the ads stored before: the house-code clock of scrapers.lianjia
    # (house_code_time) as it stood when this migration shipped, in SQL because db/ imports
    # nothing from scrapers/ (tests/test_created_on.py checks that both agree). Two
    # letters and at most 19 digits within a 64-bit integer; the id shifted right by 23
    # bits counts milliseconds from 2010-11-04 01:42:54.657 UTC; the day is Shanghai's;
    # years outside 2014-2099 are old numeric codes, not times. `rentwatch reparse` also
    # fills the column, through the parsers.
    day = (
        "date((1288834974657 + (CAST(substr(listing_id, 3) AS INTEGER) >> 23) + 28800000) "
        "/ 1000, 'unixepoch')"
    )
    db.execute(
        f"UPDATE listings SET created_on = CASE WHEN CAST(strftime('%Y', {day}) AS INTEGER) "
        f"BETWEEN 2014 AND 2099 THEN {day} END "
        "WHERE source IN ('lianjia', 'beike') AND listing_id GLOB '[A-Z][A-Z][0-9]*' "
        "AND substr(listing_id, 3) NOT GLOB '*[^0-9]*' AND length(listing_id) <= 21 "
        "AND (length(listing_id) < 21 OR substr(listing_id, 3) <= '9223372036854775807')"
    )


@migration
def m012_listings_search_places(db: sqlite_utils.Database) -> None:
    # The search box finds a listing by where it is, not only by its title: the 小区 as the
    # site writes it, the 板块 and the district. The index keeps its own copy (see m003) and
    # stays trigram: 3+ characters use it, shorter terms are matched with LIKE by the search.
    for trigger in ("insert", "update", "delete"):
        db.execute(f"DROP TRIGGER IF EXISTS listings_fts_{trigger}")
    db.execute("DROP TABLE IF EXISTS listings_fts")
    columns = "title, community, subdistrict, district"
    db.execute(f"CREATE VIRTUAL TABLE listings_fts USING fts5({columns}, tokenize='trigram')")
    db.execute(f"INSERT INTO listings_fts (rowid, {columns}) SELECT id, {columns} FROM listings")
    new = "new.id, new.title, new.community, new.subdistrict, new.district"
    db.execute(
        "CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings BEGIN "
        "DELETE FROM listings_fts WHERE rowid = new.id; "
        f"INSERT INTO listings_fts (rowid, {columns}) VALUES ({new}); END"
    )
    # Only a changed searched column touches the index (the daily upsert rewrites every row).
    changed = " OR ".join(
        f"old.{c} IS NOT new.{c}" for c in ("id", "title", "community", "subdistrict", "district")
    )
    db.execute(
        f"CREATE TRIGGER listings_fts_update AFTER UPDATE OF id, {columns} ON listings "
        f"WHEN {changed} BEGIN DELETE FROM listings_fts WHERE rowid IN (old.id, new.id); "
        f"INSERT INTO listings_fts (rowid, {columns}) VALUES ({new}); END"
    )
    db.execute(
        "CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN "
        "DELETE FROM listings_fts WHERE rowid = old.id; END"
    )


@migration
def m014_scrub_archived_bodies(db: sqlite_utils.Database) -> None:
    """Phone numbers and agents' names out of the bodies archived before the archive
    removed them (db.privacy); a scrubbed body is stored under its new hash."""
    import hashlib
    import zlib

    from db.privacy import scrub_body

    encodings = dict(
        db.execute(
            "SELECT content_hash, max(encoding) FROM pages WHERE content_hash IS NOT NULL "
            "GROUP BY content_hash"
        ).fetchall()
    )
    hashes = [row[0] for row in db.execute("SELECT hash FROM page_bodies").fetchall()]
    for old in hashes:
        data, compression = db.execute(
            "SELECT body, compression FROM page_bodies WHERE hash = ?", [old]
        ).fetchone()
        body = zlib.decompress(data) if compression == "zlib" else bytes(data)
        clean = scrub_body(body, encodings.get(old))
        if clean == body:
            continue
        new = hashlib.sha256(clean).hexdigest()
        db.execute(
            "INSERT OR IGNORE INTO page_bodies (hash, body, size, compression) "
            "VALUES (?, ?, ?, 'zlib')",
            [new, zlib.compress(clean, 6), len(clean)],
        )
        db.execute("UPDATE pages SET content_hash = ? WHERE content_hash = ?", [new, old])
        db.execute("DELETE FROM page_bodies WHERE hash = ?", [old])
    # open_db's secure_delete zeroes the deleted bodies' bytes in the file.


@migration
def m016_run_statuses_one_meaning(db: sqlite_utils.Database) -> None:
    """runs.status words that mean one thing each (issue 20), for the rows written before.

    A robots.txt that never answered made a run 'disallowed', and a changed layout or a
    page of another kind made it 'failed'; their messages say which. Blocked runs judged
    by a script URL alone ('/captcha', 'geetest' in a page's markup) are 'failed': what
    the page was is not known, only that nothing showed a block.
    """
    db.execute(
        "UPDATE runs SET status = 'unreachable' "
        "WHERE status = 'disallowed' AND message LIKE '%robots.txt unreachable%'"
    )
    db.execute(
        "UPDATE runs SET status = 'layout_changed' "
        "WHERE status = 'failed' AND message LIKE 'layout changed on %'"
    )
    db.execute(
        "UPDATE runs SET status = 'not_rental_page' WHERE status = 'failed' AND kind = 'scrape' "
        "AND (message LIKE '%not a rental list page%' OR message LIKE '%, not a list page%')"
    )
    db.execute(
        "UPDATE runs SET status = 'failed', message = message || ' (no evidence of a block: "
        "only a script URL)' WHERE status = 'blocked' "
        "AND (message LIKE '%page shows ''/captcha''%' OR message LIKE '%page shows ''geetest''%')"
    )


@migration
def m019_runs_suspect_values(db: sqlite_utils.Database) -> None:
    """Values a run's pages held that no listing can show (a negative or exponent rent, an
    area of 0 or 100000, a mojibake 小区 name), not stored as data but counted: in all, and
    as a JSON object of counts by "field:kind" (scrapers.suspect). Runs before: NULL."""
    db.table("runs").add_column("suspect_values", int)
    db.table("runs").add_column("suspect_kinds", str)


@migration
def m009_market_params(db: sqlite_utils.Database) -> None:
    # The market's parameters the snapshot fitted from each day's ads, per city (building_id
    # NULL) and per building: what the units model believed on each day (issue 18).
    db.table("market_params").create(
        {
            "city": str,
            "building_id": int,
            "date": str,
            "parameter": str,
            "value": float,
            "n": int,
        },
        foreign_keys=[("building_id", "buildings", "id")],
    )
    db.table("market_params").create_index(["date", "city"])
    db.table("market_params").create_index(["building_id", "parameter", "date"])


@migration
def m010_building_daily_model(db: sqlite_utils.Database) -> None:
    # An experimental second estimate beside the contract's `units`, `units_low`,
    # `units_high` (which stay the de-duplication's): the count model's posterior mean and
    # 90 % interval from the ads alone, and its figure calibrated by a person's latest count
    # (`units_model_calibrated`, with `calibration`, the factor applied).
    for column, kind in (
        ("units_model", int),
        ("units_model_low", int),
        ("units_model_high", int),
        ("units_model_calibrated", int),
        ("calibration", float),
    ):
        db.table("building_daily").add_column(column, kind)


@migration
def m020_units_bounds_apart(db: sqlite_utils.Database) -> None:
    # `units_low` and `units_high` become the stated 90 % interval of `units` (issue 18);
    # the bounds they held until now, the fewest and the most flats the ads can be, move to
    # `units_min` and `units_max`. Rows written before keep the bounds in all four columns
    # until their day is snapshot again.
    for table in ("building_daily", "district_daily"):
        db.table(table).add_column("units_min", int)
        db.table(table).add_column("units_max", int)
        db.execute(f"UPDATE [{table}] SET units_min = units_low, units_max = units_high")
