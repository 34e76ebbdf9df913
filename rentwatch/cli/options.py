"""Options shared by every command, as decorators (sqlite-utils' ``output_options`` style)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from rich.console import Console

from db.connection import default_db_path
from pipeline.dates import InvalidDate, parse_day


def db_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        default=default_db_path,
        show_default="rentwatch.db or $RENTWATCH_DB",
        help="SQLite database file.",
    )(fn)


def day_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_day(value, what=f"--{param.name.replace('_', '-')}")
    except InvalidDate as exc:
        raise click.BadParameter(str(exc)) from exc


def console() -> Console:
    """A rich console; off a terminal rich assumes 80 columns and folds wide tables, so widen it."""
    import sys

    return Console() if sys.stdout.isatty() else Console(width=180)
