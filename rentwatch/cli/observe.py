"""``rentwatch observe``: counts of empty flats a person saw, stored beside the estimates."""

from __future__ import annotations

import click

from db import open_db
from db.observations import ManualObservation, compare, save
from pipeline.observations import ObservationError, read_csv, resolve_building
from rentwatch.cli.group import main
from rentwatch.cli.options import day_callback, db_option, echo_json, json_option, print_rows


@main.group()
def observe() -> None:
    """Manual observations: empty flats counted on a notice board or a visit."""


@observe.command("add")
@click.argument("building")
@click.option("--date", "day", required=True, callback=day_callback, help="Day seen (YYYY-MM-DD).")
@click.option("--vacant", required=True, type=click.IntRange(min=0), help="Empty flats counted.")
@click.option("--note", default=None, help="Where the count comes from.")
@db_option
def add_command(building: str, day: str, vacant: int, note: str | None, db_path: str) -> None:
    """Store one count for BUILDING (registry id, name or alias)."""
    db = open_db(db_path)
    try:
        building_id = resolve_building(db, building, "BUILDING")
    except ObservationError as exc:
        raise click.ClickException(str(exc)) from exc
    written = save(db, [ManualObservation(building_id, day, vacant, note)])
    click.echo(
        f"{building}: {vacant} empty flats on {day} " + ("stored" if written else "already stored")
    )


@observe.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False))
@db_option
def import_command(csv_file: str, db_path: str) -> None:
    """Import counts from CSV_FILE (columns building,date,vacant,note); a bad line imports nothing."""
    db = open_db(db_path)
    try:
        rows = read_csv(db, csv_file)
    except ObservationError as exc:
        raise click.ClickException(str(exc)) from exc
    written = save(db, rows)
    click.echo(
        f"{len(rows)} observations read, {written} stored, {len(rows) - written} already there"
    )


@observe.command("list")
@json_option
@db_option
def list_command(as_json: bool, db_path: str) -> None:
    """Manual counts beside the estimated units of the same building and day."""
    db = open_db(db_path, must_exist=True)
    rows = list(compare(db))
    if as_json:
        echo_json(rows)
        return
    print_rows(
        ["building", "date", "seen vacant", "units", "low-high", "ads", "note"],
        [
            [
                r["name"],
                r["date"],
                r["vacant"],
                "—" if r["units"] is None else r["units"],
                "—" if r["units"] is None else f"{r['units_low']}-{r['units_high']}",
                "—" if r["listings"] is None else r["listings"],
                r["note"] or "",
            ]
            for r in rows
        ],
        title="Manual observations vs estimates",
    )
