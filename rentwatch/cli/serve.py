"""``rentwatch serve``: Datasette on the database, as ``datasette rentwatch.db`` shows it
(the site itself is the installed plugin, rentwatch.datasette.plugin)."""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path

import click

from rentwatch.cli.exits import EXIT_SERVE
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

    _check_listen(host, port)
    try:
        serve_datasette(
            db_path, host, port, open_browser=open_browser, on_ready=ready, with_pages=with_pages
        )
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    except SystemExit as exc:
        # uvicorn ends its own startup failures with sys.exit(3), the scrape's "blocked".
        if exc.code not in (0, None):
            raise ServeError(f"the server on {host}:{port} could not start") from exc
        raise


class ServeError(click.ClickException):
    """``serve`` could not serve; its own exit status, apart from every scrape status."""

    exit_code = EXIT_SERVE


def _check_listen(host: str, port: int) -> None:
    """Bind the address once before the server does, to say in one line why it cannot."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, *_rest, address = infos[0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        why = "the port is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise ServeError(f"cannot listen on {host}:{port}: {why}") from exc


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface
