"""``rentwatch scrape``, ``ingest``, ``reparse``, ``runs`` and ``sources``."""

from __future__ import annotations

import click
from rich.table import Table

from db import open_db
from db.runs import recent_runs, run_status, suspect_summary
from pipeline.collect.crawl import ScopeError, scrape
from rentwatch.cli.exits import (  # noqa: F401 (EXIT_* are this module's public names)
    EXIT_BLOCKED,
    EXIT_DISALLOWED,
    EXIT_FAILED,
    exit_for,
)
from rentwatch.cli.group import main
from rentwatch.cli.options import console, day_callback, db_option
from scrapers.errors import PolitenessRefused, UnknownSource
from scrapers.registry import all_sources, get_source

#: What the Error line adds to the run's message, per status.
_CONSEQUENCE = {
    "blocked": "no observation was stored for the blocked scope, so its buildings have no "
    "data (not zero) for the day",
    "layout_changed": "the parser needs updating; `rentwatch reparse` reads the archived pages "
    "again after the fix",
}


def _source_or_fail(name: str):
    try:
        return get_source(name)
    except UnknownSource as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("scrape")
@click.argument("source_name", metavar="SOURCE")
@click.option("--city", required=True, help="City code as the site uses it, e.g. hz for Hangzhou.")
@click.option(
    "--district",
    "districts",
    multiple=True,
    help="Only this district (the site's slug); repeatable.",
)
@click.option(
    "--building",
    "buildings",
    multiple=True,
    help="Only this building (registry name or the site's 小区 id); repeatable.",
)
@click.option("--tracked", is_flag=True, help="Every registry building with an id on this site.")
@click.option(
    "--base-url", help="Replace scheme and host of the real site (tests, local demo sites)."
)
@click.option(
    "--as-of",
    callback=day_callback,
    help="Observation date YYYY-MM-DD (default: today, Asia/Shanghai).",
)
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    help="Seconds between requests to one host (overrides the source).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="Requests at once to one host (overrides the source).",
)
@click.option(
    "--user-agent",
    help="User-Agent to send (default names rentwatch and its contact URL); "
    "a search engine's crawler name is refused.",
)
@click.option(
    "--proxy",
    help="Proxy URL for every request (http://, https://, socks5://); "
    "default: HTTP_PROXY / HTTPS_PROXY / ALL_PROXY from the environment.",
)
@click.option(
    "--i-have-permission",
    is_flag=True,
    help="The site allows a delay under 1 s or more than 2 requests at once.",
)
@click.option(
    "--max-pages",
    type=click.IntRange(min=1),
    help="List pages per scope at most (default: the source's cap, 100 for most).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar even on a terminal.")
@db_option
def scrape_command(
    source_name: str,
    city: str,
    districts: tuple[str, ...],
    buildings: tuple[str, ...],
    tracked: bool,
    base_url: str | None,
    as_of: str | None,
    delay: float | None,
    concurrency: int | None,
    user_agent: str | None,
    proxy: str | None,
    i_have_permission: bool,
    max_pages: int | None,
    no_progress: bool,
    db_path: str,
) -> None:
    """Fetch SOURCE's listing pages and store pages, listings and the day's observations.

    Exit status: 0 ok (also when the site's page limit cut the list: a warning says so),
    1 failed, 3 blocked by the site, 4 forbidden by robots.txt, 5 site unreachable,
    6 layout changed, 7 not a rental page (README, "Exit statuses").
    """
    _source_or_fail(source_name)
    from scrapers.fetch import FetchSettings

    overrides: dict = {"user_agent": user_agent} if user_agent else {}
    if proxy:
        overrides["proxy"] = proxy
    settings = FetchSettings(**overrides) if overrides else None
    db = open_db(db_path)
    try:
        report = scrape(
            db,
            source_name,
            city=city,
            districts=list(districts),
            buildings=list(buildings),
            tracked=tracked,
            base_url=base_url,
            as_of=as_of,
            delay=delay,
            concurrency=concurrency,
            settings=settings,
            progress=not no_progress,
            i_have_permission=i_have_permission,
            max_pages=max_pages,
        )
    except (ScopeError, PolitenessRefused) as exc:
        raise click.ClickException(str(exc)) from exc
    for scope in report.scopes:
        # A scope that did not end ok is told once, in the Error or Warning line below.
        said = f": {scope.message}" if scope.status == "ok" else ""
        click.echo(f"{source_name} {scope.label} [{scope.status}] run {scope.run_id}{said}")
    status = report.status
    suspect = suspect_summary(report.suspect)
    click.echo(
        f"{source_name} {report.as_of}: {status}, {report.pages} pages, {report.listings} listings"
        + (f", {suspect}" if suspect else "")
    )
    if status == "partial":
        click.echo(f"Warning: {report.message}", err=True)
    elif status != "ok":
        tail = f"; {_CONSEQUENCE[status]}" if status in _CONSEQUENCE else ""
        click.echo(f"Error: {source_name} {status}: {report.message}{tail}", err=True)
        raise SystemExit(exit_for(status))


@main.command("sources")
def sources_command() -> None:
    """List the sources with their hosts and what each can do."""
    table = Table("source", "site", "hosts", "list", "detail", "building", "district", "verified")
    for source in all_sources():
        caps = source.capabilities
        table.add_row(
            source.name,
            source.title,
            ", ".join(source.hosts),
            *(
                "yes" if c else "-"
                for c in (caps.list, caps.detail, caps.building_query, caps.district_query)
            ),
            (
                "no (markup from public scrapers)"
                if source.unverified
                else source.verified_note
                if source.verified_note
                else "real pages"
            ),
        )
    console().print(table)


@main.command("runs")
@click.option("--limit", default=20, show_default=True, help="How many recent runs.")
@db_option
def runs_command(limit: int, db_path: str) -> None:
    """Recent scrape and ingest runs: what each fetched, stored, and how it ended."""
    db = open_db(db_path, must_exist=True)
    table = Table(
        "run",
        "source",
        "day",
        "scope",
        "status",
        "pages",
        "listings",
        "requests",
        "retries",
        "KB",
        "seconds",
        "suspect",
        "message",
    )
    for run in recent_runs(db, limit):
        scope = run["district"] or (
            f"building {run['building_id']}" if run["building_id"] else run["city"] or ""
        )
        table.add_row(
            str(run["id"]),
            run["source"] or "",
            run["as_of"] or "",
            scope,
            run["status"] or "",
            str(run["pages"] or 0),
            str(run["listings"] or 0),
            str(run["requests"] or 0),
            str(run["retries"] or 0),
            f"{(run['bytes'] or 0) / 1024:.0f}",
            f"{run['duration_s'] or 0:.1f}",
            "" if run.get("suspect_values") is None else str(run["suspect_values"]),
            (run["message"] or "")[:120],
        )
    console().print(table)


@main.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--source", "source_name", required=True, help="The site the pages were saved from.")
@click.option(
    "--as-of",
    callback=day_callback,
    help="Day the pages were saved (default: today, Asia/Shanghai).",
)
@click.option("--city", help="City code the pages belong to, e.g. hz.")
@db_option
def ingest_command(
    paths: tuple[str, ...], source_name: str, as_of: str | None, city: str | None, db_path: str
) -> None:
    """Parse pages saved in a browser (files or folders) into the same tables as a scrape.

    Every file is archived first; a page that is not SOURCE's listing page is rejected
    with the reason, while the good files are kept. Exit status 1 when a page was
    rejected, or the status of the one reason every page was rejected for (3 blocked,
    6 layout changed, 7 not a rental page). Only regular files are read.
    """
    from pipeline.collect.ingest import ingest

    _source_or_fail(source_name)
    db = open_db(db_path)
    try:
        report = ingest(db, list(paths), source_name=source_name, as_of=as_of, city=city)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    for item in report.files:
        click.echo(f"{'ok      ' if item.ok else 'REJECTED'} {item.path}: {item.message}")
    suspect = suspect_summary(report.suspect)
    click.echo(
        f"run {report.run_id}: {len(report.files)} pages, {report.listings} listings, {len(report.rejected)} rejected"
        + (f", {suspect}" if suspect else "")
    )
    if report.rejected:
        status = run_status(db, report.run_id)
        # Every page rejected for one reason exits with that reason's status; a mix exits 1.
        raise SystemExit(exit_for(status[0]) if status and status[0] != "partial" else EXIT_FAILED)


@main.command("reparse")
@click.option("--source", "source_name", help="Only pages of this source.")
@click.option("--since", callback=day_callback, help="Only pages observed on or after this day.")
@click.option("--until", callback=day_callback, help="Only pages observed on or before this day.")
@db_option
def reparse_command(
    source_name: str | None, since: str | None, until: str | None, db_path: str
) -> None:
    """Rebuild listings and observations from the page archive, fetching nothing.

    Run it after a parser fix, then `rentwatch snapshot --since DAY` for the days it touched.
    """
    from pipeline.collect.reparse import reparse

    if source_name:
        _source_or_fail(source_name)
    db = open_db(db_path)
    report = reparse(db, source_name=source_name, since=since, until=until)
    for line in report.errors[:20]:
        click.echo(f"error: {line}", err=True)
    if len(report.errors) > 20:
        click.echo(f"… and {len(report.errors) - 20} more errors", err=True)
    repaired = (
        f", runs repaired: {', '.join(map(str, report.runs_repaired))}"
        if report.runs_repaired
        else ""
    )
    suspect = suspect_summary(report.suspect)
    click.echo(
        f"reparsed {report.pages} pages, {report.listings} listings, {len(report.errors)} errors{repaired}"
        + (f", {suspect}" if suspect else "")
    )
    if report.errors:
        raise SystemExit(EXIT_FAILED)
