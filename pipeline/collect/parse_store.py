"""Parse one archived page with its source and store what it holds.

Shared by the crawl (right after a fetch), ``ingest`` (saved pages) and ``reparse``
(the archive after a parser fix), so the three can never disagree: each parses the
body as the archive keeps it (phone numbers and names removed, ``db.privacy``), never
the bytes that came in, so a reparse reproduces every record exactly. A saved page is
tried as the same kinds by ``ingest`` and ``reparse`` (:func:`parse_saved_and_store`).

Every record's values are checked before it is stored (:func:`scrapers.suspect.check_record`):
a suspect number or a mojibake name is not kept, and is counted by kind in
:attr:`StoredPage.suspect` for the run.

Each page is parsed once: the source's ``parse_list`` looks for block pages on the
same tree it reads the cards from (the fetch layer only judges status and URL). Before
that, a cheap byte scan (:func:`scrapers.fetch.shape.markup_refusal`) refuses markup
built to exhaust the parser, as :class:`HostilePage`.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlite_utils

from db.listings import save_records
from db.pages import PageArchive
from db.transactions import write_transaction
from scrapers.errors import (
    BlockedPage,
    HostilePage,
    LayoutChanged,
    NotAListingPage,
    NotARentalPage,
    PageError,
)
from scrapers.fetch.shape import markup_refusal
from scrapers.record import ListingRecord, ListPage
from scrapers.source import Source
from scrapers.suspect import check_record

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StoredPage:
    kind: str
    listings: int
    page: ListPage | None = None
    #: Suspect values not kept, by "field:kind" ("rent:negative", "community:mojibake").
    suspect: Counter[str] = field(default_factory=Counter)
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


def _checked(records: list[ListingRecord]) -> Counter[str]:
    suspect: Counter[str] = Counter()
    for record in records:
        suspect.update(check_record(record))
    return suspect


def parse_and_store(
    db: sqlite_utils.Database,
    source: Source,
    *,
    page_id: int,
    url: str,
    kind: str,
    as_of: str,
    run_id: int | None,
    archive: PageArchive | None = None,
) -> StoredPage:
    """Parse archived page ``page_id`` as a ``kind`` page ("list" or "detail") and upsert
    its records.

    ``archive``: the archive that stored the page, if the caller has it (the crawl's):
    it hands back the bytes it just stored instead of reading them from the database.

    On a page the parser does not understand, marks the archived page as a parse error
    (or as blocked) and re-raises: nothing is stored from it.
    """
    archive = archive or PageArchive(db)
    body = archive.page_body(page_id)
    try:
        refusal = markup_refusal(body)
        if refusal:
            raise HostilePage(refusal, url)
        if kind == "detail":
            record = source.parse_detail(body, url)
            suspect = _checked([record])
            with write_transaction(db):
                count = save_records(db, [record], as_of=as_of, run_id=run_id, page_id=page_id)
                archive.mark_parsed(page_id, ok=True, records=count)
            return StoredPage("detail", count, suspect=suspect)
        page = source.parse_list(body, url)
        # Counted as the parser read the cards, before suspect values are cleared: a value
        # the site shows wrongly is not markup the parser lost.
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
    suspect = _checked(page.records)
    # The rows and the page's parse status are one commit: a page is never marked parsed
    # without its rows, nor its rows stored with the page still pending; and a commit is
    # the dearest statement of the two (docs/performance.md).
    with write_transaction(db):
        count = save_records(db, page.records, as_of=as_of, run_id=run_id, page_id=page_id)
        archive.mark_parsed(page_id, ok=True, records=count)
    log.info("%s: %d listings from %s", source.name, count, url)
    return StoredPage("list", count, page, suspect, incomplete)


def saved_page_kinds(source: Source, url: str) -> list[str]:
    """The kinds a saved page is tried as: by its URL, or list then detail for a page that
    named no URL (archived as its file, or as the bare host its links name: https://host/)."""
    if url.startswith("file:") or urlsplit(url).path in ("", "/"):
        return ["list", "detail"] if source.capabilities.detail else ["list"]
    return [source.page_kind(url)]


def parse_saved_and_store(
    db: sqlite_utils.Database,
    source: Source,
    *,
    page_id: int,
    url: str,
    as_of: str,
    run_id: int | None,
) -> StoredPage:
    """:func:`parse_and_store` for a page a person saved (``ingest``, and its ``reparse``).

    Raises the reason the page cannot be read: the list parser's (what a person most
    likely saved), unless it recognised a rental detail page: then the detail parser's.
    """
    first_error: PageError | None = None
    for kind in saved_page_kinds(source, url):
        try:
            return parse_and_store(
                db, source, page_id=page_id, url=url, kind=kind, as_of=as_of, run_id=run_id
            )
        except PageError as exc:
            if first_error is None or _is_detail(first_error):
                first_error = exc
            if not isinstance(exc, NotAListingPage):
                break
            # a list page that is not one may be a detail page: tried next
    assert first_error is not None  # saved_page_kinds is never empty
    raise first_error


def _is_detail(exc: PageError) -> bool:
    return isinstance(exc, NotARentalPage) and exc.kind == "rental detail"
