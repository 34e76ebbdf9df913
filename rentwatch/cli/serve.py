"""``rentwatch serve``: Datasette on the database, as ``datasette rentwatch.db`` shows it
(the site itself is the installed plugin, rentwatch.datasette.plugin)."""

from __future__ import annotations

import ipaddress
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
@click.option(
    "--with-pages",
    is_flag=True,
    help="Also serve the archived page bodies (page_bodies.body; hidden by default).",
)
def serve_command(db_path: str, host: str, port: int, open_browser: bool, with_pages: bool) -> None:
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

    if not _loopback(host):
        click.echo(
            f"Warning: listening on {host}, not only this machine: anyone who can reach port "
            f"{port} can read every table of {db_path} (listings, buildings, snapshots, runs, "
            "the fetched URLs) and run read-only SQL on it; archived page bodies are "
            + ("served too (--with-pages)." if with_pages else "not served."),
            err=True,
        )

    def ready(url: str) -> None:
        click.echo(f"Serving {db_path} at {url}  (dashboards: {url}-/dashboards; Ctrl-C to stop)")

    try:
        serve_datasette(
            db_path, host, port, open_browser=open_browser, on_ready=ready, with_pages=with_pages
        )
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from exc


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface
