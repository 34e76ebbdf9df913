"""The ``rentwatch`` group itself; each command module adds its commands to ``main``."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from db.connection import DatabaseProblem
from scrapers.errors import ScrapeError


class RentwatchGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ScrapeError, DatabaseProblem) as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=RentwatchGroup)
@click.version_option(package_name="rentwatch")
@click.option("-v", "--verbose", count=True, help="More log lines (-v info, -vv debug).")
@click.option(
    "--sources",
    "source_files",
    multiple=True,
    type=click.Path(exists=True),
    help="A TOML source definition, or a folder of them, to add to the built-in sources.",
)
def main(verbose: int, source_files: tuple[str, ...]) -> None:
    """rentwatch: empty flats and asking rents per apartment building, day by day."""
    from scrapers.registry import add_declarative

    for path in source_files:
        add_declarative(path)
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
