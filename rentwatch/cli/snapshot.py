"""``rentwatch snapshot``: (re)compute the daily building and district snapshots."""

from __future__ import annotations

import click
import sqlite_utils
from rich.console import Console

from db import open_db
from db.snapshots import day_rows
from pipeline.dates import InvalidDate, day_range, today_shanghai
from pipeline.snapshot import snapshot_day
from rentwatch.cli.group import main
from rentwatch.cli.options import console as make_console
from rentwatch.cli.options import day_callback, db_option, echo_json, json_option, print_rows


def _fmt(value: object, digits: int = 0) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


@main.command("snapshot")
@click.option(
    "--date",
    "day",
    callback=day_callback,
    help="Day to compute (YYYY-MM-DD); default today in Asia/Shanghai.",
)
@click.option(
    "--since", callback=day_callback, help="Compute every day from this one to --date, in order."
)
@click.option(
    "--limit", default=30, show_default=True, help="Buildings shown in the table (0: none)."
)
@json_option
@db_option
def snapshot_command(
    day: str | None, since: str | None, limit: int, as_json: bool, db_path: str
) -> None:
    """(Re)compute building_daily and district_daily for a day (or a range).

    Resolves new listings to buildings, flags bait and errors, groups ads into units
    (flats), and writes one row per building and day; re-running gives the same rows.
    A building no successful scrape covered that day gets a row of nulls, not zeros.
    """
    day = day or today_shanghai()
    try:
        days = day_range(since, day) if since else [day]
    except InvalidDate as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    db = open_db(db_path, must_exist=True)
    console = make_console()
    reports = []
    for d in days:
        report = snapshot_day(db, d)
        if as_json:
            reports.append(
                {
                    "date": d,
                    "buildings": report.buildings,
                    "null_buildings": report.null_buildings,
                    "listings": report.listings,
                    "units": report.units,
                    "units_low": report.units_low,
                    "units_high": report.units_high,
                    "new_units": report.new_units,
                    "gone_units": report.gone_units,
                    "flagged": report.flagged,
                    "new_building_names": report.resolve.new_buildings,
                }
            )
            continue
        console.print(
            f"{d}: {report.buildings} buildings with data, {report.null_buildings} without; "
            f"{report.listings} ads -> {report.units} units "
            f"({report.units_low}-{report.units_high}), {report.new_units} new, "
            f"{report.gone_units} gone, {report.flagged} ads flagged "
            f"[{report.seconds:.2f}s]"
        )
        if report.resolve.new_buildings:
            console.print(
                f"  {report.resolve.new_buildings} building name(s) not in the registry: "
                "see `rentwatch buildings unmatched`"
            )
    if as_json:
        echo_json({"days": reports, "buildings": day_rows(db, days[-1])[:limit] if limit else []})
    elif limit:
        print_day(console, db, days[-1], limit)


def print_day(console: Console, db: sqlite_utils.Database, day: str, limit: int) -> None:
    rows = day_rows(db, day)
    print_rows(
        [
            "building",
            "district",
            "ads",
            "units",
            "90 % interval",
            "median rent",
            "元/㎡",
            "vacancy",
            "new",
            "gone",
        ],
        [
            [
                r["name"],
                r["district"] or "",
                _fmt(r["listings"]),
                _fmt(r["units"]),
                "—" if r["units"] is None else f"{r['units_low']}-{r['units_high']}",
                _fmt(r["median_rent"]),
                _fmt(r["median_rent_per_m2"], 1),
                "—" if r["vacancy_rate"] is None else f"{r['vacancy_rate']:.1%}",
                _fmt(r["new_units"]),
                _fmt(r["gone_units"]),
            ]
            for r in rows[:limit]
        ],
        title=f"Buildings on {day}",
    )
    if len(rows) > limit:
        console.print(f"{len(rows) - limit} more buildings in building_daily")
