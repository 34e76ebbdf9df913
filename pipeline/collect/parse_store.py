"""Parse one archived page with its source and store what it holds.

Shared by the crawl (right after a fetch), ``ingest`` (saved pages) and ``reparse``
(the archive after a parser fix), so the three can never disagree.

Each page is parsed once: the source's ``parse_list`` looks for block pages on the
same tree it reads the cards from (the fetch layer only judges status and URL). Before
that, a cheap byte scan (:func:`scrapers.fetch.shape.markup_refusal`) refuses markup
built to exhaust the parser, as :class:`HostilePage`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlite_utils

from db.listings import save_records
from db.pages import PageArchive
from scrapers.errors import BlockedPage, HostilePage, LayoutChanged, PageError
from scrapers.fetch.shape import markup_refusal
from scrapers.record import ListingRecord, ListPage
from scrapers.source import Source

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StoredPage:
    kind: str
    listings: int
    page: ListPage | None = None
    #: Cards read without an area or a layout (a run adds them up and says so).
    incomplete: int = 0


#: Past this share of a page's cards without area or layout, the markup moved, not the data;
#: on a page of fewer cards than INCOMPLETE_MIN_CARDS one odd ad could be all there is.
INCOMPLETE_ALARM = 0.5
INCOMPLETE_MIN_CARDS = 3


def incomplete_cards(records: list[ListingRecord]) -> int:
    """Flat cards (not brand-apartment buildings) that yielded no area or no layout."""
    return sum(
        1
        for r in records
        if not r.is_apartment and (r.area is None or (r.layout_text is None and r.rooms is None))
    )


def parse_and_store(
    db: sqlite_utils.Database,
    source: Source,
    *,
    page_id: int,
    body: bytes,
    url: str,
    kind: str,
    as_of: str,
    run_id: int | None,
) -> StoredPage:
    """Parse ``body`` as a ``kind`` page ("list" or "detail") and upsert its records.

    On a page the parser does not understand, marks the archived page as a parse error
    (or as blocked) and re-raises: nothing is stored from it.
    """
    archive = PageArchive(db)
    try:
        refusal = markup_refusal(body)
        if refusal:
            raise HostilePage(refusal, url)
        if kind == "detail":
            record = source.parse_detail(body, url)
            count = save_records(db, [record], as_of=as_of, run_id=run_id, page_id=page_id)
            archive.mark_parsed(page_id, ok=True, records=count)
            return StoredPage("detail", count)
        page = source.parse_list(body, url)
        incomplete = incomplete_cards(page.records)
        flats = sum(1 for r in page.records if not r.is_apartment)
        if flats >= INCOMPLETE_MIN_CARDS and incomplete > flats * INCOMPLETE_ALARM:
            raise LayoutChanged(
                f"{source.name}: {incomplete} of {flats} cards have no area or no layout: "
                "the page's markup no longer matches the parser",
                url,
            )
    except BlockedPage as exc:
        archive.mark_blocked(page_id, exc.reason)
        raise
    except PageError as exc:
        archive.mark_parsed(page_id, ok=False, error=str(exc))
        raise
    count = save_records(db, page.records, as_of=as_of, run_id=run_id, page_id=page_id)
    archive.mark_parsed(page_id, ok=True, records=count)
    log.info("%s: %d listings from %s", source.name, count, url)
    return StoredPage("list", count, page, incomplete)
