"""``rentwatch buildings``: the building registry."""

from __future__ import annotations

import click

from db import open_db
from db.buildings import import_buildings
from pipeline.buildings.registry_csv import RegistryError, read_buildings_csv
from rentwatch.cli.group import main
from rentwatch.cli.options import db_option


@main.group()
def buildings() -> None:
    """The building registry: names, aliases, districts, flat counts, site ids."""


@buildings.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False))
@db_option
def import_command(csv_file: str, db_path: str) -> None:
    """Import or update buildings from CSV_FILE.

    Columns: name,aliases,city,district,total_units (aliases joined by "|",
    total_units may be empty); optional subdistrict and site_ids ("lianjia:123|58:456").
    Re-importing updates buildings by (city, name) and never duplicates them. A bad
    line stops the import before anything is written.
    """
    try:
        rows = read_buildings_csv(csv_file)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    db = open_db(db_path)
    report = import_buildings(db, rows)
    click.echo(
        f"{len(rows)} buildings read: {report.created} new, {report.updated} updated, "
        f"{report.aliases_added} aliases and {report.site_ids_added} site ids added"
    )
