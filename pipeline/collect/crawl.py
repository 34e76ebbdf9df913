"""Drive a source: plan its list URLs, fetch them politely, archive, parse, store.

One scrape covers one or more *scopes* (the whole city, a district, a tracked
building) and records one ``runs`` row per scope. A scope's data counts for the
day only if its run ends ``ok``: a blocked, forbidden, failed or truncated scope
leaves the affected buildings with no data (null), never with zero.

Bounded and on the site: each scope fetches at most its source's ``max_pages``
(:data:`DEFAULT_MAX_PAGES` for sources that set none, such as next-link paging), every
URL the pages point at must be on the source's hosts (or the ``--base-url`` host:
:class:`scrapers.fetch.guard.SiteGuard`), and any failure, expected or not, ends the
scope's run with a status and a one-line message instead of leaving it ``running``.
Before the first request, the politeness floor and the User-Agent are checked
(:mod:`scrapers.fetch.policy`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import sqlite_utils

from db.buildings import find_building, site_ids_for, tracked_buildings
from db.pages import PageArchive
from db.runs import (
    BLOCKED,
    DISALLOWED,
    FAILED,
    LAYOUT_CHANGED,
    NOT_RENTAL_PAGE,
    PARTIAL,
    UNREACHABLE,
    RunCounts,
    finish_run,
    start_run,
    suspect_summary,
)
from pipeline.collect.parse_store import StoredPage, parse_and_store
from pipeline.dates import today_shanghai
from scrapers.errors import (
    BlockedPage,
    FetchError,
    HostilePage,
    LayoutChanged,
    NotARentalPage,
    PageError,
    PolitenessRefused,
    ScrapeError,
)
from scrapers.fetch import Fetcher, FetchResult, FetchSettings
from scrapers.fetch.guard import SiteGuard
from scrapers.fetch.policy import politeness_refusal, user_agent_refusal
from scrapers.fetch.throttle import politeness_for as host_politeness
from scrapers.record import ListPage
from scrapers.registry import get_source
from scrapers.source import Politeness, Source

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

log = logging.getLogger(__name__)

#: One path segment a city code, district slug or site id may be.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")

#: Pages one scope fetches at most when its source sets no ``max_pages`` (next-link paging).
DEFAULT_MAX_PAGES = 100

#: The status of a whole scrape is the worst of its scopes': a failure nobody foresaw
#: first, then what needs the code changed, then what the site or the network did.
_SEVERITY = {
    FAILED: 8,
    LAYOUT_CHANGED: 7,
    NOT_RENTAL_PAGE: 6,
    BLOCKED: 5,
    DISALLOWED: 4,
    UNREACHABLE: 3,
    PARTIAL: 2,
    "ok": 1,
}
#: Statuses after which the next scopes of the run are skipped: asking the same host
#: again would only annoy it (blocked, disallowed) or fail the same way (unreachable).
_STOPPING = (BLOCKED, DISALLOWED, UNREACHABLE)


class ScopeError(ScrapeError):
    """A scope that cannot be planned (an unknown building, a source without that query)."""


class RegistryScopeError(ScopeError):
    """A scope the building registry cannot plan yet: a building or id it does not hold."""


@dataclass(slots=True)
class Scope:
    label: str
    urls: list[str]
    district: str | None = None
    building_id: int | None = None
    site_id: str | None = None


@dataclass(slots=True)
class ScopeResult:
    run_id: int
    label: str
    status: str
    message: str
    pages: int
    listings: int
    #: Values not stored because no listing can show them, by "field:kind".
    suspect: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class ScrapeReport:
    source: str
    as_of: str
    scopes: list[ScopeResult] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        if not self.scopes:
            return "ok"
        return max((s.status for s in self.scopes), key=lambda s: _SEVERITY.get(s, 8))

    @property
    def listings(self) -> int:
        return sum(s.listings for s in self.scopes)

    @property
    def pages(self) -> int:
        return sum(s.pages for s in self.scopes)

    @property
    def suspect(self) -> Counter[str]:
        return sum((s.suspect for s in self.scopes), Counter())

    @property
    def message(self) -> str:
        return "; ".join(f"{s.label}: {s.message}" for s in self.scopes if s.status != "ok") or (
            f"{self.pages} pages, {self.listings} listings"
        )


def _list_urls(
    source: Source,
    city: str,
    *,
    district: str | None = None,
    building: str | None = None,
    base_url: str | None = None,
) -> list[str]:
    """The source's first URLs, a bad city code, slug or site id refused as a ScopeError.

    Whatever a source's own rules, a value that goes into a URL path is one path segment
    of letters, digits, '-' and '_': never '../admin', a query or another host.
    """
    for what, value in (("--city", city), ("--district", district), ("--building", building)):
        if value is not None and not _SEGMENT.fullmatch(value):
            raise ScopeError(
                f"{source.name}: {what} {value!r} is not a slug or site id "
                "(letters, digits, '-' and '_' only)"
            )
    try:
        return source.list_urls(city, district=district, building=building, base_url=base_url)
    except ValueError as exc:
        raise ScopeError(str(exc)) from exc


def plan_scopes(
    db: sqlite_utils.Database,
    source: Source,
    *,
    city: str,
    districts: list[str] | None = None,
    buildings: list[str] | None = None,
    tracked: bool = False,
    base_url: str | None = None,
) -> list[Scope]:
    """What to ask the site for: the city, some districts, or some buildings."""
    scopes: list[Scope] = []
    for district in districts or []:
        if not source.capabilities.district_query:
            raise ScopeError(f"source {source.name} cannot query by district")
        scopes.append(
            Scope(
                f"district {district}",
                _list_urls(source, city, district=district, base_url=base_url),
                district=district,
            )
        )
    wanted: list[tuple[int | None, str, str]] = []  # (building id, label, site id)
    for name in buildings or []:
        building_id = find_building(db, name, city=city)
        if building_id is None:
            # A raw site id (e.g. Lianjia's resblock id) is allowed: the building is unknown to us.
            if name.lstrip("c").isdigit():
                wanted.append((None, f"site id {name}", name))
                continue
            raise RegistryScopeError(
                f"no building {name!r} in the registry (import it with `rentwatch buildings import`)"
            )
        ids = site_ids_for(db, building_id, source.name)
        if not ids:
            raise RegistryScopeError(
                f"building {name!r} has no {source.name} id; add one in the registry CSV's site_ids "
                f"column, e.g. {source.name}:<id>"
            )
        wanted.extend((building_id, f"building {name}", site_id) for site_id in ids)
    if tracked:
        found = tracked_buildings(db, source.name, city)
        if not found:
            raise RegistryScopeError(f"no tracked buildings in {city} with a {source.name} id")
        wanted.extend((t.building_id, f"building {t.name}", t.site_id) for t in found)
    if wanted and not source.capabilities.building_query:
        raise ScopeError(f"source {source.name} cannot query by building")
    seen: set[str] = set()
    for building_id, label, site_id in wanted:
        if site_id in seen:
            continue
        seen.add(site_id)
        scopes.append(
            Scope(
                label,
                _list_urls(source, city, building=site_id, base_url=base_url),
                building_id=building_id,
                site_id=site_id,
            )
        )
    if not scopes:
        scopes.append(Scope(f"city {city}", _list_urls(source, city, base_url=base_url)))
    return scopes


def politeness_for(source: Source, delay: float | None, concurrency: int | None) -> Politeness:
    base = source.politeness
    return Politeness(
        delay=base.delay if delay is None else delay,
        jitter=base.jitter if (delay is None or delay > 0) else 0.0,
        concurrency=base.concurrency if concurrency is None else concurrency,
    )


class _Progress:
    """A rich progress bar on a terminal; one plain line per page otherwise (cron, CI, logs)."""

    def __init__(self, enabled: bool) -> None:
        self._bar: Progress | None = None
        self._lines = enabled and not sys.stderr.isatty()
        if enabled and sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=False
            )
        self._task: TaskID | None = None
        self._label = ""
        self._done = 0
        self._total = 0

    def __enter__(self) -> _Progress:
        if self._bar:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar:
            self._bar.stop()

    def scope(self, label: str) -> None:
        self._label, self._done, self._total = label, 0, 1
        if self._bar:
            self._task = self._bar.add_task(label, total=1)

    def add_total(self, n: int) -> None:
        self._total += n
        if self._bar and self._task is not None:
            self._bar.update(self._task, total=self._total)

    def page(self, url: str, outcome: str) -> None:
        self._done += 1
        if self._bar and self._task is not None:
            self._bar.advance(self._task)
        elif self._lines:
            print(
                f"{self._label}: page {self._done}/{self._total} {url}: {outcome}", file=sys.stderr
            )


@dataclass(slots=True)
class _PageFailure:
    status: str  # one of db.runs.RUN_STATUSES other than ok and partial
    message: str


def _store_fetched_page(
    db: sqlite_utils.Database,
    archive: PageArchive,
    source: Source,
    url: str,
    result: FetchResult,
    run_id: int,
    as_of: str,
) -> StoredPage | _PageFailure:
    """Parse and store one fetched page, or say why the scope cannot go on."""
    if result.refused:
        return _PageFailure(FAILED, f"not fetched: {result.refused}")
    if result.unreachable:
        # Checked before robots: an unreachable robots.txt also forbids everything (RFC 9309),
        # but what the person must fix is the network or the address, not a permission.
        return _PageFailure(
            UNREACHABLE,
            f"{result.unreachable}; nothing was stored. Check the network, the DNS and the "
            "address, then run again",
        )
    if result.disallowed:
        host = urlsplit(url).netloc
        return _PageFailure(
            DISALLOWED,
            f"robots.txt of {host} forbids {urlsplit(url).path} ({result.disallowed}); "
            "nothing was fetched from it. Save pages in your browser and use "
            "`rentwatch ingest`, or ask the site for permission",
        )
    if result.blocked:
        return _PageFailure("blocked", f"blocked at {url}: {result.blocked}")
    if not result.ok or result.body is None:
        return _PageFailure(
            "failed", f"could not fetch {url}: {result.error or f'HTTP {result.status}'}"
        )
    if result.page_id is None:  # nothing is parsed that was not archived first
        return _PageFailure("failed", f"{url} was fetched but not archived")
    try:
        return parse_and_store(
            db,
            source,
            page_id=result.page_id,
            url=result.final_url or url,
            kind="list",
            as_of=as_of,
            run_id=run_id,
            # The archive the Fetcher stored the page through: the parse reads the very
            # bytes it stored (scrubbed), as a reparse will, without reading them back.
            archive=archive,
        )
    except BlockedPage as exc:
        return _PageFailure("blocked", f"blocked at {url}: {exc.reason}")
    except HostilePage as exc:
        return _PageFailure("failed", f"hostile page at {url}: {exc.reason}; not parsed")
    except LayoutChanged as exc:
        where = f" (selector {exc.selector})" if exc.selector else ""
        # Zero cards under a positive total is also how some sites answer a bot quietly.
        return _PageFailure(
            LAYOUT_CHANGED, f"layout changed on {source.name}{where}, or a quiet block: {exc}"
        )
    except NotARentalPage as exc:
        return _PageFailure(NOT_RENTAL_PAGE, f"not a rental page: {exc}")
    except PageError as exc:
        return _PageFailure("failed", f"{source.name} could not read {url}: {exc}")


def _truncation(source: Source, page: ListPage) -> str | None:
    if source.max_pages and page.total_pages and page.total_pages > source.max_pages:
        return (
            f"the site reports {page.total_pages} pages but serves only "
            f"{source.max_pages}: split the query by --district or --building"
        )
    return None


async def _crawl_scope(
    db: sqlite_utils.Database,
    archive: PageArchive,
    fetcher: Fetcher,
    source: Source,
    scope: Scope,
    run_id: int,
    as_of: str,
    progress: _Progress,
    max_pages: int,
) -> _ScopeCrawl:
    """Fetch and store every list page of one scope, at most ``max_pages`` of them."""
    seen: set[str] = set()
    pending = list(scope.urls)[:max_pages]
    refused: list[str] = []
    capped = False
    pages = listings = incomplete = 0
    truncated: str | None = None
    site_total: int | None = None
    distinct: set[str] = set()
    suspect: Counter[str] = Counter()
    progress.add_total(len(pending) - 1)

    async def fetch_one(url: str) -> tuple[str, FetchResult]:
        return url, await fetcher.fetch(url, kind="list", source=source)

    while pending:
        batch = [u for u in dict.fromkeys(pending) if u not in seen]
        pending = []
        seen.update(batch)
        tasks = [asyncio.create_task(fetch_one(u)) for u in batch]
        try:
            for next_done in asyncio.as_completed(tasks):
                url, result = await next_done
                stored = _store_fetched_page(db, archive, source, url, result, run_id, as_of)
                if isinstance(stored, _PageFailure):
                    progress.page(url, stored.status)
                    return _ScopeCrawl(
                        stored.status, stored.message, pages, listings, suspect=suspect
                    )
                progress.page(url, f"{stored.listings} listings")
                pages += 1
                listings += stored.listings
                incomplete += stored.incomplete
                suspect.update(stored.suspect)
                if stored.page is None:
                    continue
                if site_total is None:
                    site_total = stored.page.total_count
                distinct.update(r.listing_id for r in stored.page.records)
                truncated = truncated or _truncation(source, stored.page)
                following = []
                for link in dict.fromkeys(source.following_urls(stored.page)):
                    if link in seen or link in pending:
                        continue
                    reason = fetcher.guard.refusal(link)
                    if reason:
                        refused.append(reason)
                        continue
                    following.append(link)
                room = max_pages - len(seen) - len(pending)
                if len(following) > room:
                    capped = True
                    following = following[: max(room, 0)]
                progress.add_total(len(following))
                pending.extend(following)
        finally:
            for task in tasks:
                task.cancel()
    notes = [truncated] if truncated else []
    if capped:
        notes.append(
            f"stopped at the page cap of {max_pages} pages; the site links to more: "
            "split the query by --district or --building"
        )
    if refused:
        fetcher.count_refused(len(refused))
        notes.append(f"{len(refused)} links not followed ({refused[0]})")
    status, message = (
        ("partial", "; ".join(notes)) if notes else ("ok", f"{pages} pages, {listings} listings")
    )
    if incomplete:
        message += f"; {incomplete} cards without area or layout"
    return _ScopeCrawl(
        status,
        message,
        pages,
        listings,
        site_total,
        len(distinct),
        refused=len(refused),
        suspect=suspect,
    )


@dataclass(slots=True)
class _ScopeCrawl:
    status: str
    message: str
    pages: int
    listings: int
    #: The site's count of the scope's ads (first page read), and the distinct ads stored:
    #: equal when the crawl missed none (none moved past it while it paged the list).
    site_total: int | None = None
    distinct: int = 0
    #: Links the pages pointed at that were off the site (not followed).
    refused: int = 0
    suspect: Counter[str] = field(default_factory=Counter)


def _counts(before: dict, after: dict, pages: int, listings: int, status: str) -> RunCounts:
    by_status = {
        k: v - (before.get("pages_by_status") or {}).get(k, 0)
        for k, v in (after.get("pages_by_status") or {}).items()
    }
    return RunCounts(
        pages=pages,
        listings=listings,
        errors=after.get("errors", 0)
        - before.get("errors", 0)
        + after.get("refused", 0)
        - before.get("refused", 0)
        + (status == "failed"),
        requests=after.get("requests", 0) - before.get("requests", 0),
        bytes=after.get("bytes", 0) - before.get("bytes", 0),
        retries=after.get("retries", 0) - before.get("retries", 0),
        blocked=status == "blocked",
        pages_by_status={k: v for k, v in by_status.items() if v},
    )


async def _scrape(
    db: sqlite_utils.Database,
    source: Source,
    scopes: list[Scope],
    *,
    city: str,
    as_of: str,
    base_url: str | None,
    settings: FetchSettings,
    progress: bool,
    max_pages: int,
) -> ScrapeReport:
    report = ScrapeReport(source.name, as_of)
    archive = PageArchive(db)
    #: (status, reason) once a scope ended in one of _STOPPING: the next scopes are skipped.
    stop: tuple[str, str] | None = None
    async with Fetcher(settings, archive=archive, source_name=source.name, as_of=as_of) as fetcher:
        with _Progress(progress) as bar:
            for scope in scopes:
                run_id = start_run(
                    db,
                    source=source.name,
                    as_of=as_of,
                    city=city,
                    district=scope.district,
                    building_id=scope.building_id,
                    site_id=scope.site_id,
                    base_url=base_url,
                )
                if stop:
                    status, message = stop
                    counts = RunCounts(blocked=status == BLOCKED)
                    finish_run(db, run_id, status=status, message=message, counts=counts)
                    report.scopes.append(ScopeResult(run_id, scope.label, status, message, 0, 0))
                    continue
                fetcher.run_id = run_id
                bar.scope(f"{source.name} {scope.label}")
                before = dict(fetcher.stats)
                try:
                    crawl = await _crawl_scope(
                        db, archive, fetcher, source, scope, run_id, as_of, bar, max_pages
                    )
                except FetchError as exc:
                    # The retry budget ran out: on a host that never answered, it is unreachable.
                    status = UNREACHABLE if getattr(exc, "unreachable", False) else FAILED
                    crawl = _ScopeCrawl(status, _one_line(str(exc)), 0, 0)
                    stop = (
                        status,
                        f"skipped: {source.name} {status} earlier in this run (run {run_id})",
                    )
                except Exception as exc:  # noqa: BLE001 (any failure ends the run with a status)
                    # A bug or a page nobody foresaw must not leave the run 'running'; its
                    # message is the run's, the traceback is for -v.
                    log.info("%s %s: unexpected failure", source.name, scope.label, exc_info=True)
                    words = _one_line(f"{type(exc).__name__}: {exc}")
                    crawl = _ScopeCrawl(FAILED, f"unexpected failure: {words}", 0, 0)
                    stop = (
                        FAILED,
                        f"skipped: {source.name} failed earlier in this run (run {run_id})",
                    )
                status, message = crawl.status, crawl.message
                counts = _counts(before, fetcher.stats, crawl.pages, crawl.listings, status)
                counts.site_total, counts.distinct_listings = crawl.site_total, crawl.distinct
                counts.suspect = crawl.suspect
                if crawl.suspect:
                    message += f"; {suspect_summary(crawl.suspect)}"
                finish_run(db, run_id, status=status, message=message, counts=counts)
                report.scopes.append(
                    ScopeResult(
                        run_id,
                        scope.label,
                        status,
                        message,
                        crawl.pages,
                        crawl.listings,
                        crawl.suspect,
                    )
                )
                if status in _STOPPING and stop is None:
                    # Said once: the skipped scopes point at this run instead of repeating it.
                    stop = (
                        status,
                        f"skipped: {source.name} {status} earlier in this run (run {run_id})",
                    )
        report.stats = dict(fetcher.stats)
    return report


def _one_line(text: str, limit: int = 500) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def site_settings(
    source: Source,
    scopes: list[Scope],
    settings: FetchSettings,
    *,
    city: str,
    base_url: str | None,
    i_have_permission: bool = False,
) -> FetchSettings:
    """``settings`` held to this site: its hosts only, and the politeness floor checked.

    Raises :class:`PolitenessRefused` for a search engine's User-Agent, or a delay or
    concurrency below the floor against a host that is not loopback or private.
    """
    refusal = user_agent_refusal(settings.user_agent)
    if refusal:
        raise PolitenessRefused(refusal)
    urls = [url for scope in scopes for url in scope.urls]
    if base_url:
        guard = SiteGuard.for_site((), base_url)
        hosts, allow_private = guard.hosts, guard.allow_private
    else:
        declared = {pattern.format(city=city).lower() for pattern in source.hosts}
        declared |= {(urlsplit(url).hostname or "").lower() for url in urls}
        hosts, allow_private = frozenset(declared - {""}), False
    for url in urls:
        polite = host_politeness(settings, url, source)
        host = urlsplit(url).hostname
        refusal = politeness_refusal(
            host, polite.delay, polite.concurrency, permission=i_have_permission
        )
        if refusal:
            raise PolitenessRefused(refusal)
    return dataclasses.replace(settings, allowed_hosts=hosts, allow_private=allow_private)


def scrape(
    db: sqlite_utils.Database,
    source_name: str,
    *,
    city: str,
    districts: list[str] | None = None,
    buildings: list[str] | None = None,
    tracked: bool = False,
    base_url: str | None = None,
    as_of: str | None = None,
    delay: float | None = None,
    concurrency: int | None = None,
    settings: FetchSettings | None = None,
    progress: bool = False,
    i_have_permission: bool = False,
    max_pages: int | None = None,
) -> ScrapeReport:
    """Scrape one source for one day. The CLI and the scheduler both call this.

    ``i_have_permission``: the site allows a delay under 1 s or more than 2 requests at
    once; ``max_pages``: fewer pages per scope than the source's cap.
    Raises :class:`PolitenessRefused` before any request when the settings are impolite.
    """
    source = get_source(source_name)
    as_of = as_of or today_shanghai()
    scopes = plan_scopes(
        db,
        source,
        city=city,
        districts=districts,
        buildings=buildings,
        tracked=tracked,
        base_url=base_url,
    )
    settings = settings or FetchSettings()
    if delay is not None or concurrency is not None:
        # This run's override wins over the source's and the config's politeness for its hosts.
        override = politeness_for(source, delay, concurrency)
        hosts = {urlsplit(url).netloc for scope in scopes for url in scope.urls}
        settings = dataclasses.replace(
            settings, per_host={**settings.per_host, **dict.fromkeys(hosts, override)}
        )
    settings = site_settings(
        source,
        scopes,
        settings,
        city=city,
        base_url=base_url,
        i_have_permission=i_have_permission,
    )
    cap = source.max_pages or DEFAULT_MAX_PAGES
    if max_pages is not None:
        if max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, got {max_pages}")
        cap = min(cap, max_pages)
    return asyncio.run(
        _scrape(
            db,
            source,
            scopes,
            city=city,
            as_of=as_of,
            base_url=base_url,
            settings=settings,
            progress=progress,
            max_pages=cap,
        )
    )
