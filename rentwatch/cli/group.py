"""The ``rentwatch`` group itself; each command module adds its commands to ``main``."""

from __future__ import annotations

import logging
import sqlite3
import sys
from typing import Any

import click

from db.connection import DatabaseUnusable, database_error
from db.transactions import DatabaseProblem
from scrapers.errors import ScrapeError


class RentwatchGroup(click.Group):
    """Known errors of any command become one ``Error:`` line and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ScrapeError, DatabaseUnusable, DatabaseProblem) as exc:
            raise click.ClickException(str(exc)) from exc
        except sqlite3.Error as exc:
            raise click.ClickException(database_error(exc)) from exc
        except OverflowError as exc:
            raise click.ClickException(
                f"a number too large to store ({exc}); nothing of this command was stored"
            ) from exc


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
