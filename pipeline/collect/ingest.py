"""Ingest pages a person saved in their own browser, as readily as fetched ones.

Each file is archived like a fetched page (kind ``saved``) before it is parsed, so a
later ``reparse`` treats both alike. A page that is not the source's (another site,
a block page, a 小区 page) is rejected with the reason, and the other files go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from db.pages import PageArchive
from db.runs import RunCounts, finish_run, start_run
from pipeline.collect.parse_store import parse_and_store
from pipeline.collect.saved import parse_saved
from pipeline.dates import today_shanghai
from scrapers.errors import NotAListingPage, PageError
from scrapers.fetch.body import MAX_BODY_SIZE
from scrapers.registry import get_source
from scrapers.source import Source

HTML_SUFFIXES = {".html", ".htm", ".shtml", ".mhtml"}


@dataclass(slots=True)
class IngestedFile:
    path: Path
    ok: bool
    kind: str | None = None
    listings: int = 0
    message: str = ""


@dataclass(slots=True)
class IngestReport:
    run_id: int
    files: list[IngestedFile] = field(default_factory=list)

    @property
    def listings(self) -> int:
        return sum(f.listings for f in self.files)

    @property
    def rejected(self) -> list[IngestedFile]:
        return [f for f in self.files if not f.ok]


def saved_page_url(body: bytes, path: Path) -> str:
    """The URL the page was saved from, when the browser or the page says so."""
    return parse_saved(body).url or path.resolve().as_uri()


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Files as given, folders walked for HTML files, in a stable order."""
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in HTML_SUFFIXES))
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return files


def _kinds_to_try(source: Source, url: str, declared: bool) -> list[str]:
    if not declared:
        return ["list", "detail"] if source.capabilities.detail else ["list"]
    kind = source.page_kind(url)
    return [kind]


def ingest(
    db: sqlite_utils.Database,
    paths: list[str | Path],
    *,
    source_name: str,
    as_of: str | None = None,
    city: str | None = None,
    urls: dict[Path, str] | None = None,
    note: str | None = None,
) -> IngestReport:
    """Archive and parse saved pages as one run.

    ``urls`` gives a page's URL where the page does not name it (the host its links name,
    so that its listings' links are absolute on that host); ``note`` ends the run's message.
    """
    source = get_source(source_name)
    as_of = as_of or today_shanghai()
    files = expand_paths(paths)
    archive = PageArchive(db)
    run_id = start_run(db, source=source.name, as_of=as_of, city=city, kind="ingest")
    report = IngestReport(run_id)
    counts = RunCounts()
    incomplete = 0
    for path in files:
        size = path.stat().st_size
        if size > MAX_BODY_SIZE:
            # The same cap as a fetched page: never read, never archived.
            message = f"rejected: {size:,} bytes, over the {MAX_BODY_SIZE // 2**20} MiB page cap"
            report.files.append(IngestedFile(path, False, message=message))
            counts.errors += 1
            continue
        saved = parse_saved(path.read_bytes())
        body = saved.body
        url = saved.url or (urls or {}).get(path) or path.resolve().as_uri()
        page_id = archive.store(
            url=url,
            body=body,
            status=200,
            source=source.name,
            run_id=run_id,
            kind="saved",
            as_of=as_of,
        )
        counts.pages += 1
        counts.bytes += len(body)
        outcome: IngestedFile | None = None
        errors: list[str] = []
        for kind in _kinds_to_try(source, url, saved.url is not None):
            try:
                stored = parse_and_store(
                    db,
                    source,
                    page_id=page_id,
                    body=body,
                    url=url,
                    kind=kind,
                    as_of=as_of,
                    run_id=run_id,
                )
            except NotAListingPage as exc:
                errors.append(str(exc))
                continue
            except PageError as exc:
                errors.append(str(exc))
                break
            outcome = IngestedFile(
                path,
                True,
                kind,
                stored.listings,
                f"{stored.listings} listings"
                + (f", {stored.incomplete} without area or layout" if stored.incomplete else ""),
            )
            incomplete += stored.incomplete
            break
        if outcome is None:
            outcome = IngestedFile(
                path,
                False,
                message=f"rejected: not a {source.name} listing page: {errors[-1] if errors else 'unknown'}",
            )
            counts.errors += 1
        report.files.append(outcome)
        counts.listings += outcome.listings
    status = (
        "ok"
        if not report.rejected
        else ("failed" if len(report.rejected) == len(files) else "partial")
    )
    finish_run(
        db,
        run_id,
        status=status,
        message=f"{len(files)} saved pages, {len(report.rejected)} rejected, {report.listings} listings"
        + (f", {incomplete} cards without area or layout" if incomplete else "")
        + (f"; {note}" if note else ""),
        counts=counts,
    )
    return report
