"""``rentwatch serve``: Datasette on the database, as ``datasette rentwatch.db`` shows it
(the site itself is the installed plugin, rentwatch.datasette.plugin)."""

from __future__ import annotations

from pathlib import Path

import click

from rentwatch.cli.group import main
from rentwatch.cli.options import db_option
from rentwatch.serve import serve_datasette


@main.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8001, show_default=True)
@click.option("--open", "open_browser", is_flag=True, help="Open the dashboards in a browser.")
def serve_command(db_path: str, host: str, port: int, open_browser: bool) -> None:
    """Browse the database in Datasette: tables, canned queries, search and dashboards.

    The same site as `datasette rentwatch.db` (rentwatch installs a Datasette plugin); this
    brings the schema up to date first. The scheduler may keep writing to the database
    meanwhile. Ctrl-C stops the server.
    """
    if not Path(db_path).exists():
        raise click.ClickException(
            f"no database at {db_path}: scrape into it first (rentwatch run --once), "
            "or try rentwatch demo"
        )

    def ready(url: str) -> None:
        click.echo(f"Serving {db_path} at {url}  (dashboards: {url}-/dashboards; Ctrl-C to stop)")

    try:
        serve_datasette(db_path, host, port, open_browser=open_browser, on_ready=ready)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from exc
