"""``rentwatch scrape``, ``ingest``, ``reparse``, ``runs`` and ``sources``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

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
from rentwatch.cli.options import day_callback, db_option, echo_json, json_option, print_rows
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
@json_option
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
    as_json: bool,
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
    status = report.status
    suspect = suspect_summary(report.suspect)
    if as_json:
        echo_json(
            {
                "source": source_name,
                "as_of": report.as_of,
                "status": status,
                "pages": report.pages,
                "listings": report.listings,
                "suspect": dict(report.suspect),
                "message": report.message,
                "scopes": [
                    {
                        "run": s.run_id,
                        "scope": s.label,
                        "status": s.status,
                        "pages": s.pages,
                        "listings": s.listings,
                        "message": s.message,
                    }
                    for s in report.scopes
                ],
            }
        )
    else:
        for scope in report.scopes:
            # A scope that did not end ok is told once, in the Error or Warning line below.
            said = f": {scope.message}" if scope.status == "ok" else ""
            click.echo(f"{source_name} {scope.label} [{scope.status}] run {scope.run_id}{said}")
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
@json_option
def sources_command(as_json: bool) -> None:
    """List the sources with their hosts and what each can do."""
    rows: list[dict[str, Any]] = []
    for source in all_sources():
        caps = source.capabilities
        rows.append(
            {
                "source": source.name,
                "site": source.title,
                "hosts": list(source.hosts),
                "list": caps.list,
                "detail": caps.detail,
                "building": caps.building_query,
                "district": caps.district_query,
                "verified": not source.unverified,
                "verified_note": (
                    "no (markup from public scrapers)"
                    if source.unverified
                    else source.verified_note
                    if source.verified_note
                    else "real pages"
                ),
            }
        )
    if as_json:
        echo_json(rows)
        return
    print_rows(
        ["source", "site", "hosts", "list", "detail", "building", "district", "verified"],
        [
            [
                r["source"],
                r["site"],
                ", ".join(r["hosts"]),
                *("yes" if r[k] else "-" for k in ("list", "detail", "building", "district")),
                r["verified_note"],
            ]
            for r in rows
        ],
    )


@main.command("runs")
@click.option("--limit", default=20, show_default=True, help="How many recent runs.")
@json_option
@db_option
def runs_command(limit: int, as_json: bool, db_path: str) -> None:
    """Recent scrape and ingest runs: what each fetched, stored, and how it ended."""
    db = open_db(db_path, must_exist=True)
    runs = recent_runs(db, limit)
    if as_json:
        echo_json(runs)
        return
    rows = []
    for run in runs:
        scope = run["district"] or (
            f"building {run['building_id']}" if run["building_id"] else run["city"] or ""
        )
        rows.append(
            [
                run["id"],
                run["source"],
                run["as_of"],
                scope,
                run["status"],
                run["pages"] or 0,
                run["listings"] or 0,
                run["requests"] or 0,
                run["retries"] or 0,
                f"{(run['bytes'] or 0) / 1024:.0f}",
                f"{run['duration_s'] or 0:.1f}",
                "" if run.get("suspect_values") is None else run["suspect_values"],
                run["message"] or "",
            ]
        )
    print_rows(
        [
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
        ],
        rows,
    )


@main.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--source",
    "source_name",
    help="The site the pages were saved from (default: each page's host says).",
)
@click.option(
    "--as-of",
    callback=day_callback,
    help="Day the pages were saved (default: the page's saved date, else the file's time).",
)
@click.option("--city", help="City code the pages belong to, e.g. hz (checked against each page).")
@click.option(
    "--watch",
    "watch_dir",
    type=click.Path(file_okay=False),
    help="Take in every page dropped into this folder, moving each to done/ or rejected/, "
    "until Ctrl-C.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds between two looks into the --watch folder.",
)
@json_option
@db_option
def ingest_command(
    paths: tuple[str, ...],
    source_name: str | None,
    as_of: str | None,
    city: str | None,
    watch_dir: str | None,
    interval: float,
    as_json: bool,
    db_path: str,
) -> None:
    """Parse pages saved in a browser (files or folders) into the same tables as a scrape.

    Each page's site and city come from its host, its day from the page (SingleFile's
    saved date, an MHTML file's Date) or the file's time; --source, --city and --as-of
    are checked against what the page says. Every page taken in is archived first; a page
    that is not a listing page of its site, or of another city, is rejected with the
    reason and the exit status is 1, while the good ones are kept.
    Exit status 1 when a page was rejected, or the status of the one reason every page was
    rejected for (3 blocked, 6 layout changed, 7 not a rental page). Only regular files are
    read.
    """
    from pipeline.collect.inbox import take_in, watch

    if source_name:
        _source_or_fail(source_name)
    if not paths and not watch_dir:
        raise click.UsageError("give the saved pages (files or folders), or --watch FOLDER")
    db = open_db(db_path)
    if watch_dir:
        if not Path(watch_dir).is_dir():
            raise click.ClickException(f"no such folder: {watch_dir}")
        click.echo(f"watching {watch_dir} every {interval:g} s; Ctrl-C stops", err=True)
        try:
            watch(
                db,
                watch_dir,
                interval=interval,
                on_report=lambda r: _print_take_in(r, as_json),
                source_name=source_name,
                city=city,
                as_of=as_of,
            )
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
        return
    try:
        report = take_in(db, list(paths), source_name=source_name, as_of=as_of, city=city)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    _print_take_in(report, as_json)
    if report.rejected:
        # Every page rejected for one reason exits with that reason's status; a mix, or a page
        # refused before any run (another city, no site), exits 1.
        statuses = {row[0] for r in report.run_ids if (row := run_status(db, r))}
        refused_before = any(item.run_id is None for item in report.rejected)
        one = statuses.pop() if len(statuses) == 1 and not refused_before else None
        raise SystemExit(exit_for(one) if one and one not in ("ok", "partial") else EXIT_FAILED)


def _print_take_in(report, as_json: bool) -> None:
    if as_json:
        echo_json(report.as_dict())
        return
    for item in report.files:
        where = (
            f" [{item.source} {item.city} {item.day}, day from {item.day_from}]" if item.ok else ""
        )
        click.echo(f"{'ok      ' if item.ok else 'REJECTED'} {item.path}: {item.message}{where}")
    runs = ", ".join(map(str, report.run_ids)) or "none"
    suspect = suspect_summary(report.suspect)
    click.echo(
        f"run {runs}: {len(report.files)} pages, {report.listings} listings, "
        f"{len(report.rejected)} rejected" + (f", {suspect}" if suspect else "")
    )


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
