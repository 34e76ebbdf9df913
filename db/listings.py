"""Writing parsed listing records: ``listings`` (one row per site's ad) and
``listing_observations`` (one row per ad and day).

Both writes are upserts keyed on natural keys, so storing the same page twice for a
day (a re-run after a crash, a reparse) leaves the same rows. The ad's descriptive
fields follow its newest observation; first_seen/last_seen widen to cover every day
it was observed, in whatever order days are (re)processed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from db.transactions import write_transaction
from scrapers.record import ListingRecord

#: Record fields copied into ``listings`` as they are (column name -> record attribute).
_COPIED = (
    "url",
    "title",
    "tenure",
    "district",
    "subdistrict",
    "community",
    "community_id",
    "rent",
    "rent_high",
    "rent_text",
    "area",
    "area_text",
    "rooms",
    "halls",
    "baths",
    "floor_band",
    "total_floors",
    "floor_text",
    "orientation",
    "agent_key",
    "brand",
    "listed_text",
    "listed_date",
)
_DESCRIPTIVE = (*_COPIED, "layout", "is_apartment", "is_promoted", "extra")
#: created_on is the site's creation day of the ad, a function of its id: any record of
#: the ad may fill it (a reparse of an older page too), none clears it.
_COLUMNS = ("source", "listing_id", *_DESCRIPTIVE, "first_seen", "last_seen", "created_on")

_UPSERT_LISTING = (
    f"INSERT INTO listings ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    "ON CONFLICT(source, listing_id) DO UPDATE SET "
    + ", ".join(
        f"{c} = CASE WHEN excluded.last_seen >= listings.last_seen THEN excluded.{c} ELSE listings.{c} END"
        for c in _DESCRIPTIVE
    )
    + ", first_seen = MIN(listings.first_seen, excluded.first_seen)"
    ", last_seen = MAX(listings.last_seen, excluded.last_seen)"
    ", created_on = COALESCE(excluded.created_on, listings.created_on)"
)

# The WHERE true lets SQLite tell the upsert clause from a join (see "Parsing Ambiguity" in its docs).
_UPSERT_OBSERVATION = (
    "INSERT INTO listing_observations (listing_id, date, rent, run_id, page_id) "
    "SELECT id, ?, ?, ?, ? FROM listings WHERE source = ? AND listing_id = ? AND true "
    "ON CONFLICT(listing_id, date) DO UPDATE SET rent = excluded.rent, "
    "run_id = excluded.run_id, page_id = excluded.page_id"
)


def layout_of(record: ListingRecord) -> str | None:
    """A canonical layout string, "2室1厅1卫", from parsed counts, else the site's text."""
    if record.rooms is None and record.halls is None:
        return record.layout_text
    parts = [f"{record.rooms or 0}室", f"{record.halls or 0}厅"]
    if record.baths is not None:
        parts.append(f"{record.baths}卫")
    return "".join(parts)


def _listing_row(record: ListingRecord, as_of: str) -> list[Any]:
    values: list[Any] = [record.source, record.listing_id]
    values.extend(getattr(record, name) for name in _COPIED)
    values.append(layout_of(record))
    values.append(int(record.is_apartment))
    values.append(int(record.is_promoted))
    values.append(
        json.dumps(record.extra, ensure_ascii=False, sort_keys=True) if record.extra else None
    )
    values.extend([as_of, as_of, record.created_on])
    return values


def save_records(
    db: sqlite_utils.Database,
    records: Sequence[ListingRecord],
    *,
    as_of: str,
    run_id: int | None = None,
    page_id: int | None = None,
    observe: bool = True,
) -> int:
    """Upsert records and (when ``observe``) their observation for ``as_of``. One transaction.

    Returns the number of distinct listings written. A record seen twice on one page
    (a promoted card repeated) is stored once.
    """
    unique: dict[tuple[str, str], ListingRecord] = {}
    for record in records:
        unique.setdefault((record.source, record.listing_id), record)
    if not unique:
        return 0
    with write_transaction(db):
        db.conn.executemany(_UPSERT_LISTING, (_listing_row(r, as_of) for r in unique.values()))
        if observe:
            db.conn.executemany(
                _UPSERT_OBSERVATION,
                ((as_of, r.rent, run_id, page_id, r.source, r.listing_id) for r in unique.values()),
            )
    return len(unique)


def seen_communities(db: sqlite_utils.Database, text: str | None = None) -> list[dict[str, Any]]:
    """The 小区 names and site ids stored listings carry, with their counts and the registry
    building they resolved to (null while unresolved or unverified); ``text`` filters."""
    like = f"%{text}%" if text else "%"
    return list(
        db.query(
            "SELECT l.source, l.community_id AS site_id, l.community, "
            "max(l.district) AS district, max(l.subdistrict) AS subdistrict, "
            "count(*) AS listings, min(l.first_seen) AS first_seen, max(l.last_seen) AS last_seen, "
            "max(CASE WHEN b.status = 'verified' THEN b.name END) AS building "
            "FROM listings l LEFT JOIN buildings b ON b.id = l.building_id "
            "WHERE l.community IS NOT NULL AND (l.community LIKE :t OR "
            "coalesce(l.community_id, '') LIKE :t OR coalesce(l.district, '') LIKE :t OR "
            "coalesce(l.subdistrict, '') LIKE :t) "
            "GROUP BY l.source, l.community_id, l.community ORDER BY listings DESC, l.community",
            {"t": like},
        )
    )
