"""Rebuild listings and observations from the page archive, without fetching.

After a parser fix, ``rentwatch reparse`` reads every archived body again. Upserts
make it idempotent; a run that failed only because its pages could not be parsed
becomes ``ok`` once all of them parse.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import sqlite_utils

from db.pages import PageArchive
from db.runs import run_status, set_status, set_suspect
from pipeline.collect.parse_store import parse_and_store, parse_saved_and_store
from scrapers.errors import PageError, UnknownSource
from scrapers.registry import get_source


@dataclass(slots=True)
class ReparseReport:
    pages: int = 0
    listings: int = 0
    errors: list[str] = field(default_factory=list)
    runs_repaired: list[int] = field(default_factory=list)
    #: Values not stored because no listing can show them, by "field:kind".
    suspect: Counter[str] = field(default_factory=Counter)


def reparse(
    db: sqlite_utils.Database,
    *,
    source_name: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> ReparseReport:
    if source_name:
        get_source(source_name)  # an unknown name is an error, not an empty reparse
    archive = PageArchive(db)
    report = ReparseReport()
    run_pages: dict[int, list[bool]] = defaultdict(list)
    run_urls: dict[int, set[str]] = defaultdict(set)
    run_wanted: dict[int, set[str]] = defaultdict(set)
    run_suspect: dict[int, Counter[str]] = defaultdict(Counter)
    sources = {}
    for page in list(archive.pages_for_reparse(source=source_name, since=since, until=until)):
        if page.source is None or page.as_of is None:
            report.errors.append(f"page {page.id}: archived without a source or a day")
            continue
        if page.source not in sources:
            try:
                sources[page.source] = get_source(page.source)
            except UnknownSource as exc:
                report.errors.append(f"page {page.id}: {exc}")
                continue
        source = sources[page.source]
        url = page.final_url or page.url
        ok = True
        try:
            if page.kind in ("list", "detail"):
                stored = parse_and_store(
                    db,
                    source,
                    page_id=page.id,
                    url=url,
                    kind=page.kind,
                    as_of=page.as_of,
                    run_id=page.run_id,
                )
            else:  # saved by a person: tried as the kinds ingest tried it as
                stored = parse_saved_and_store(
                    db, source, page_id=page.id, url=url, as_of=page.as_of, run_id=page.run_id
                )
            report.listings += stored.listings
            report.suspect.update(stored.suspect)
            if page.run_id is not None:
                run_suspect[page.run_id].update(stored.suspect)
            if stored.page is not None and page.run_id is not None:
                run_wanted[page.run_id].update(source.following_urls(stored.page))
        except PageError as exc:
            ok = False
            report.errors.append(f"page {page.id} {page.url}: {exc}")
        report.pages += 1
        if page.run_id is not None:
            run_pages[page.run_id].append(ok)
            run_urls[page.run_id].update({page.url, page.final_url or page.url})
    for run_id, oks in run_pages.items():
        # The count follows the parsers: a fix that reads a value now counts it no more.
        set_suspect(db, run_id, run_suspect[run_id])
        row = run_status(db, run_id)
        # Only parse failures can be repaired by a reparse: a blocked or unreachable page stays so.
        # A run that stopped at an unreadable page never fetched the pages after it: it stays
        # failed unless every page its pages link to is in the archive too.
        complete = run_wanted[run_id] <= run_urls[run_id]
        if (
            row
            and row[0] == "failed"
            and all(oks)
            and complete
            and archive.unusable_pages(run_id) == 0
        ):
            set_status(
                db, run_id, "ok", f"repaired by reparse ({len(oks)} pages parse now); was: {row[1]}"
            )
            report.runs_repaired.append(run_id)
    return report
