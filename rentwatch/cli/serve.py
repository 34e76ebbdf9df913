"""``rentwatch serve``: Datasette on the database, as ``datasette rentwatch.db`` shows it
(the site itself is the installed plugin, rentwatch.datasette.plugin)."""

from __future__ import annotations

import errno
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

    _check_listen(host, port)
    try:
        serve_datasette(db_path, host, port, open_browser=open_browser, on_ready=ready)
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
