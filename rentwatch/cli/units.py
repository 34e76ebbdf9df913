"""``rentwatch buildings unmatched`` and ``rentwatch buildings alias``: names outside the registry."""

from __future__ import annotations

import click

from db import open_db
from db.buildings import find_building
from db.resolution import building_place, confirm_alias, unmatched_buildings
from pipeline.buildings.names import display_name, name_key
from pipeline.buildings.resolve import suggest_match
from rentwatch.cli.buildings import buildings
from rentwatch.cli.options import db_option, echo_json, json_option, print_rows


@buildings.command("unmatched")
@json_option
@db_option
def unmatched_command(as_json: bool, db_path: str) -> None:
    """Building names from listings that match no registry building (status unverified).

    Each shows its listings, sources, sample spellings and the registry building it
    most resembles; confirm with `rentwatch buildings alias REGISTRY_NAME SPELLING`.
    """
    db = open_db(db_path, must_exist=True)
    rows = unmatched_buildings(db)
    for r in rows:
        suggestion = suggest_match(db, r["id"])
        r["suggested_match"] = suggestion[1] if suggestion else None
        r["score"] = suggestion[2] if suggestion else None
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("every listing's building is in the registry")
        return
    print_rows(
        ["id", "name", "district", "listings", "sources", "spellings", "suggested match"],
        [
            [
                r["id"],
                r["name"],
                r["district"],
                r["listings"],
                r["sources"],
                r["samples"],
                f"{r['suggested_match']} ({r['score']:.0f})" if r["suggested_match"] else "—",
            ]
            for r in rows
        ],
        title=f"{len(rows)} building names not in the registry",
    )


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
