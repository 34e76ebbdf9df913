"""Ingest pages a person saved in their own browser, as readily as fetched ones.

Each file is archived like a fetched page (kind ``saved``) before it is parsed, so a
later ``reparse`` treats both alike. A page that is not the source's (another site,
a block page, a 小区 page) is rejected with the reason, and the other files go on.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from db.pages import PageArchive
from db.runs import (
    BLOCKED,
    FAILED,
    LAYOUT_CHANGED,
    NOT_RENTAL_PAGE,
    OK,
    PARTIAL,
    RunCounts,
    finish_run,
    start_run,
    suspect_summary,
)
from pipeline.collect.parse_store import parse_saved_and_store
from pipeline.collect.saved import parse_saved
from pipeline.dates import today_shanghai
from scrapers.errors import (
    BlockedPage,
    LayoutChanged,
    NotAListingPage,
    NotARentalPage,
    PageError,
)
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
    #: Values not stored because no listing can show them, by "field:kind".
    suspect: Counter[str] = field(default_factory=Counter)

    @property
    def listings(self) -> int:
        return sum(f.listings for f in self.files)

    @property
    def rejected(self) -> list[IngestedFile]:
        return [f for f in self.files if not f.ok]


def saved_page_url(body: bytes, path: Path) -> str:
    """The URL the page was saved from, when the browser or the page says so."""
    return parse_saved(body).url or path.resolve().as_uri()


def expand_paths(paths: list[str | Path]) -> tuple[list[Path], list[IngestedFile]]:
    """Files as given and folders walked for HTML files, in a stable order; and what was skipped.

    Only regular files are read: a FIFO named ``a.html`` would block the read for ever, and
    a device or socket is no saved page. Symbolic links to folders are not followed, so a
    link loop cannot make the walk endless; a link to a file is read, a broken or looping
    link is skipped with the reason.
    """
    files: list[Path] = []
    skipped: list[IngestedFile] = []
    for item in paths:
        path = Path(item)
        if path.is_dir() and not path.is_symlink():
            found = []
            for folder, _dirs, names in os.walk(path, followlinks=False):
                found += [Path(folder, n) for n in names if Path(n).suffix.lower() in HTML_SUFFIXES]
            candidates = sorted(found)
        elif path.exists() or path.is_symlink():
            candidates = [path]
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
        for candidate in candidates:
            problem = _not_a_regular_file(candidate)
            if problem:
                skipped.append(IngestedFile(candidate, False, message=f"skipped: {problem}"))
            else:
                files.append(candidate)
    return files, skipped


def _not_a_regular_file(path: Path) -> str | None:
    try:
        mode = path.stat().st_mode  # follows a link to the file it names
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    what = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a device or socket"
    )
    return f"{what}, not a saved page (only regular files are read)"


def rejection(source: Source, exc: PageError) -> tuple[str, str]:
    """(run status, reason in words) for a page that is not read: one reason, said once."""
    if isinstance(exc, BlockedPage):
        return BLOCKED, f"blocked: {exc.reason}"
    if isinstance(exc, LayoutChanged):
        return LAYOUT_CHANGED, f"layout changed: {_without_source(source, exc)}"
    if isinstance(exc, NotARentalPage):
        return NOT_RENTAL_PAGE, f"not a rental page: {_without_source(source, exc)}"
    if isinstance(exc, NotAListingPage):
        return FAILED, f"not a {source.name} listing page: {_without_source(source, exc)}"
    return FAILED, _without_source(source, exc)


def _without_source(source: Source, exc: PageError) -> str:
    """The parser's message without its "source: " prefix and the file URL it ends with."""
    words = str(exc.args[0]) if exc.args else str(exc)
    if isinstance(exc, BlockedPage):
        words = exc.reason
    return words.removeprefix(f"{source.name}: ")


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
    files, skipped = expand_paths(paths)
    archive = PageArchive(db)
    run_id = start_run(db, source=source.name, as_of=as_of, city=city, kind="ingest")
    report = IngestReport(run_id, list(skipped))
    counts = RunCounts(errors=len(skipped), suspect=report.suspect)
    statuses: list[str] = []
    incomplete = 0
    try:
        for path in files:
            size = path.stat().st_size
            if size > MAX_BODY_SIZE:
                # The same cap as a fetched page: never read, never archived.
                message = (
                    f"rejected: {size:,} bytes, over the {MAX_BODY_SIZE // 2**20} MiB page cap"
                )
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
            first_error: PageError | None = None
            try:
                stored = parse_saved_and_store(
                    db, source, page_id=page_id, url=url, as_of=as_of, run_id=run_id
                )
            except PageError as exc:
                first_error = exc
            else:
                outcome = IngestedFile(
                    path,
                    True,
                    stored.kind,
                    stored.listings,
                    f"{stored.listings} listings"
                    + (
                        f", {stored.incomplete} without area or layout" if stored.incomplete else ""
                    ),
                )
                counts.suspect.update(stored.suspect)
                incomplete += stored.incomplete
            if outcome is None:
                status, reason = (
                    rejection(source, first_error) if first_error else (FAILED, "not read")
                )
                statuses.append(status)
                outcome = IngestedFile(path, False, message=f"rejected: {reason}")
                counts.errors += 1
            report.files.append(outcome)
            counts.listings += outcome.listings
    except BaseException as exc:
        # Whatever stopped the loop (a full disk, Ctrl-C), the run is closed, if it can be.
        with contextlib.suppress(sqlite3.Error):
            words = " ".join(f"{type(exc).__name__}: {exc}".split())
            finish_run(db, run_id, status=FAILED, message=f"stopped: {words}", counts=counts)
        raise

    finish_run(
        db,
        run_id,
        status=_run_status(report, statuses),
        message=(
            f"{len(report.files)} saved pages, {len(report.rejected)} rejected, "
            f"{report.listings} listings"
            + (f", {incomplete} cards without area or layout" if incomplete else "")
            + (f"; {suspect_summary(report.suspect)}" if report.suspect else "")
            + (f"; {note}" if note else "")
        ),
        counts=counts,
    )
    return report


def _run_status(report: IngestReport, statuses: list[str]) -> str:
    """ok; partial when some files were read; else the files' one status, or failed."""
    if not report.rejected:
        return OK
    if len(report.rejected) < len(report.files):
        return PARTIAL
    return statuses[0] if statuses and len(set(statuses)) == 1 else FAILED
