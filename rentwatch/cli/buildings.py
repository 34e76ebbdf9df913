"""``rentwatch buildings``: the building registry."""

from __future__ import annotations

import click

from db import open_db
from db.buildings import import_buildings
from pipeline.buildings.registry_csv import RegistryError, read_buildings_csv
from rentwatch.cli.group import main
from rentwatch.cli.options import db_option, echo_json, json_option, print_rows


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


def _best_match(community: str, names: list[tuple[int, str, str, str]]) -> tuple[str, float] | None:
    """The registry building whose name or alias the 小区 name most resembles (name, score)."""
    from rapidfuzz import fuzz

    from pipeline.buildings.names import name_key

    best: tuple[str, float] | None = None
    for _, spelling, registry_name, city in names:
        score = fuzz.ratio(name_key(community, city), name_key(spelling, city))
        if best is None or score > best[1]:
            best = (registry_name, round(score, 1))
    return best


def _show(db_path: str, text: str | None, as_json: bool) -> None:
    from db.buildings import registry_buildings, registry_names
    from db.listings import seen_communities

    db = open_db(db_path)
    registry = registry_buildings(db, text)
    names = registry_names(db)
    seen = seen_communities(db, text)
    for row in seen:
        match = None if row["building"] else _best_match(row["community"], names)
        row["best_match"] = row["building"] or (match[0] if match else None)
        row["match_score"] = 100.0 if row["building"] else (match[1] if match else None)
    if as_json:
        echo_json({"registry": registry, "seen": seen})
        return
    print_rows(
        ["id", "building", "city", "district", "板块", "units", "aliases", "site ids", "listings"],
        [
            [
                r["id"],
                r["name"],
                r["city"],
                r["district"],
                r["subdistrict"],
                r["total_units"],
                r["aliases"],
                r["site_ids"],
                r["listings"],
            ]
            for r in registry
        ],
        title=f"{len(registry)} registry buildings",
    )
    print_rows(
        ["source:id", "小区", "district", "板块", "listings", "seen", "registry building"],
        [
            [
                f"{r['source']}:{r['site_id']}" if r["site_id"] else f"{r['source']}:-",
                r["community"],
                r["district"],
                r["subdistrict"],
                r["listings"],
                f"{r['first_seen']}..{r['last_seen']}",
                r["building"]
                or (f"{r['best_match']}? ({r['match_score']:.0f})" if r["best_match"] else "—"),
            ]
            for r in seen
        ],
        title=f"{len(seen)} 小区 names seen in stored pages",
    )


@buildings.command("list")
@json_option
@db_option
def list_command(as_json: bool, db_path: str) -> None:
    """Registry buildings, and the 小区 names and site ids seen in stored pages.

    A seen 小区 shows the registry building its listings went to, or the one it most
    resembles with a "?" and a score; register its id with `rentwatch buildings add-id`.
    """
    _show(db_path, None, as_json)


@buildings.command("find")
@click.argument("text")
@json_option
@db_option
def find_command(text: str, as_json: bool, db_path: str) -> None:
    """Like `buildings list`, only what holds TEXT: a name, alias, district, 板块 or site id."""
    _show(db_path, text, as_json)


@buildings.command("add-id")
@click.argument("building")
@click.argument("site_id", metavar="SOURCE:ID")
@db_option
def add_id_command(building: str, site_id: str, db_path: str) -> None:
    """Give BUILDING (registry id, name or alias) its 小区 id on a site, e.g. lianjia:1811000000001.

    `rentwatch scrape SOURCE --tracked` then asks the site for that building's listings.
    """
    from db.buildings import add_site_id, building_with_site_id, find_building
    from scrapers.errors import UnknownSource
    from scrapers.registry import get_source

    source, sep, ident = site_id.partition(":")
    if not sep or not source or not ident.strip():
        raise click.BadParameter(
            f"{site_id!r} is not SOURCE:ID, e.g. lianjia:1811000000001", param_hint="SOURCE:ID"
        )
    try:
        get_source(source)
    except UnknownSource as exc:
        raise click.ClickException(str(exc)) from exc
    db = open_db(db_path)
    target = find_building(db, building)
    if target is None:
        raise click.ClickException(f"no building {building!r} in the registry")
    owner = building_with_site_id(db, source, ident.strip())
    if owner is not None and find_building(db, owner) != target:
        raise click.ClickException(f"{source}:{ident.strip()} is already the id of {owner!r}")
    added = add_site_id(db, target, source, ident.strip())
    click.echo(
        f"building {target} ({building}): {source}:{ident.strip()} "
        + ("added" if added else "was already there")
    )
