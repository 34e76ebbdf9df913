"""Serve a rentwatch database with Datasette, as ``datasette rentwatch.db`` would.

Everything the site shows (metadata, canned queries, search, dashboards) comes from the
installed plugin, rentwatch.datasette.plugin; this adds only what a plain ``datasette``
cannot do: the schema is brought up to date first (so an old database gains the search
index before Datasette looks at it), roomier time limits, the dashboards opened in a
browser on request, and a clean exit on Ctrl-C or SIGTERM.

The database is opened in Datasette's normal (mutable) mode: the scheduler keeps writing
while people browse, and WAL lets both happen at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from db import open_db

__all__ = ["SETTINGS", "build_datasette", "database_name", "serve_datasette"]

log = logging.getLogger(__name__)

#: Generous enough for the trend queries over a year of days, short enough to keep a
#: careless ad-hoc query from tying up a worker.
SETTINGS = {"sql_time_limit_ms": 5000, "max_returned_rows": 5000, "facet_time_limit_ms": 500}


def database_name(db_path: str | Path) -> str:
    """The name Datasette gives a file: its stem (``rentwatch.db`` -> ``rentwatch``)."""
    return Path(db_path).stem


def build_datasette(db_path: str | Path, *, with_pages: bool = False):
    """A ready Datasette instance for ``db_path`` (the schema migrated, startup hooks run).

    ``with_pages``: serve the archived page bodies too (the plugin hides them otherwise)."""
    from datasette.app import Datasette

    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(
            f"no database at {path}: scrape into it first, or run `rentwatch demo`"
        )
    open_db(path).close()  # migrations, WAL
    from rentwatch.datasette.plugin import PAGE_BODIES_KEY

    metadata = {"plugins": {"rentwatch": {PAGE_BODIES_KEY: True}}} if with_pages else None
    ds = Datasette(files=[str(path)], settings=SETTINGS, metadata=metadata)
    asyncio.run(ds.invoke_startup())
    return ds


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown, which turns a clean
        Ctrl-C into "Aborted!" and a SIGTERM into death by signal; here the shutdown is the end."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    return Server


def serve_datasette(
    db_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 8001,
    *,
    open_browser: bool = False,
    on_ready: Any = None,
    with_pages: bool = False,
) -> None:
    """Serve until Ctrl-C or SIGTERM (blocking). ``on_ready(url)`` is called once listening."""
    import uvicorn

    _Server = _server_class()
    ds = build_datasette(db_path, with_pages=with_pages)
    url = f"http://{host}:{port}/"
    config = uvicorn.Config(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
    server = _Server(config)

    def announce() -> None:
        # uvicorn sets ``started`` once the socket listens; only then is the URL true.
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            if on_ready is not None:
                on_ready(url)
            if open_browser:
                webbrowser.open(url + "-/dashboards")

    threading.Thread(target=announce, daemon=True).start()
    server.run()
