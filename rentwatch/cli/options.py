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
    """A rich console; off a terminal rich assumes 80 columns and folds long lines, so widen it
    past any line a command prints (tables off a terminal go through ``print_rows``)."""
    import sys

    return Console() if sys.stdout.isatty() else Console(width=100_000)


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON (one document) instead of text."
    )(fn)


def echo_json(data: Any) -> None:
    """One JSON document on stdout; Chinese stays readable (no \\u escapes)."""
    import json

    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def print_rows(columns: list[str], rows: list[list[Any]], *, title: str | None = None) -> None:
    """A table for a person on a terminal; off a terminal, the title line (if any) and
    tab-separated lines that never lose text.

    rich folds or cuts cells to fit its width, which a script reading the output cannot undo.
    """
    import sys

    if sys.stdout.isatty():
        from rich.table import Table

        table = Table(*columns, title=title)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console().print(table)
        return
    lines = [title] if title else []
    lines.append("\t".join(columns))
    lines.extend("\t".join("" if v is None else _one_line(str(v)) for v in row) for row in rows)
    click.echo("\n".join(lines))
    sys.stdout.flush()  # a long-running command (the demo) goes on after its table


def _one_line(text: str) -> str:
    return text.replace("\t", " ").replace("\n", " ")
