"""``rentwatch buildings unmatched`` and ``rentwatch buildings alias``: names outside the registry."""

from __future__ import annotations

import click
from rich.table import Table

from db import open_db
from db.buildings import find_building
from db.resolution import building_place, confirm_alias, unmatched_buildings
from pipeline.buildings.names import display_name, name_key
from pipeline.buildings.resolve import suggest_match
from rentwatch.cli.buildings import buildings
from rentwatch.cli.options import console, db_option


@buildings.command("unmatched")
@db_option
def unmatched_command(db_path: str) -> None:
    """Building names from listings that match no registry building (status unverified).

    Each shows its listings, sources, sample spellings and the registry building it
    most resembles; confirm with `rentwatch buildings alias REGISTRY_NAME SPELLING`.
    """
    db = open_db(db_path, must_exist=True)
    rows = unmatched_buildings(db)
    if not rows:
        click.echo("every listing's building is in the registry")
        return
    table = Table(title=f"{len(rows)} building names not in the registry")
    for col in ("id", "name", "district", "listings", "sources", "spellings", "suggested match"):
        table.add_column(col)
    for r in rows:
        suggestion = suggest_match(db, r["id"])
        table.add_row(
            str(r["id"]),
            r["name"],
            r["district"] or "",
            str(r["listings"]),
            r["sources"] or "",
            r["samples"] or "",
            f"{suggestion[1]} ({suggestion[2]:.0f})" if suggestion else "—",
        )
    console().print(table)


@buildings.command("alias")
@click.argument("building")
@click.argument("name")
@db_option
def alias_command(building: str, name: str, db_path: str) -> None:
    """Make NAME an alias of BUILDING (registry id or name); a person's alias beats any guess.

    Listings already put under an unverified building of that name move to BUILDING and
    are grouped into units again at the next snapshot.
    """
    db = open_db(db_path)
    target = find_building(db, building)
    place = None if target is None else building_place(db, target)
    if target is None or place is None:
        raise click.ClickException(f"no building {building!r} in the registry")
    alias = display_name(name)
    moved = confirm_alias(db, target, alias, alias_key=name_key(alias, place[1]))
    click.echo(f"{alias!r} is now an alias of building {target}; {moved} listings moved to it")
