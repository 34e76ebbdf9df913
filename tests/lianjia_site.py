"""A local site in the real Lianjia list markup, for end-to-end tests.

Pages are written from plain data by the simulator's card writer
(rentwatch/sim/pages.py; never copied from the real site) and served on 127.0.0.1 by a ThreadingHTTPServer in a thread. Each path can be
swapped at run time to a block page, an error status or a broken body.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rentwatch.sim.pages import Card, card_html, cards_page

__all__ = ["Card", "LocalSite", "card_html", "list_page", "paginate"]


def list_page(
    cards: list[Card],
    *,
    page: int,
    total_pages: int,
    total: int,
    url_pattern: str = "/zufang/pg{page}/",
) -> bytes:
    return cards_page(
        cards, page=page, total_pages=total_pages, total=total, url_pattern=url_pattern
    )


def paginate(
    cards: list[Card], *, per_page: int = 30, prefix: str = "/zufang/"
) -> dict[str, bytes]:
    """Paths and bodies of a list split into pages: ``prefix`` is page 1, then ``prefix``pg2/ …"""
    chunks = [cards[i : i + per_page] for i in range(0, len(cards), per_page)] or [[]]
    pages = {}
    for number, chunk in enumerate(chunks, start=1):
        path = prefix if number == 1 else f"{prefix}pg{number}/"
        pages[path] = list_page(
            chunk,
            page=number,
            total_pages=len(chunks),
            total=len(cards),
            url_pattern=f"{prefix}pg{{page}}/",
        )
    return pages


class LocalSite:
    """A threaded HTTP server on 127.0.0.1 serving a dict of path -> (status, headers, body)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                with site.lock:
                    site.hits[path] = site.hits.get(path, 0) + 1
                    route = site.routes.get(path)
                if route is None:
                    if path == "/robots.txt":
                        route = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")
                    else:
                        route = (
                            404,
                            {"Content-Type": "text/html"},
                            b"<html><body>not found</body></html>",
                        )
                status, headers, body = route
                self.send_response(status)
                headers = {"Content-Type": "text/html; charset=utf-8", **headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def set_pages(self, pages: dict[str, bytes]) -> None:
        with self.lock:
            for path, body in pages.items():
                self.routes[path] = (200, {}, body)

    def set_route(
        self, path: str, body: bytes, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        with self.lock:
            self.routes[path] = (status, headers or {}, body)

    def clear(self) -> None:
        with self.lock:
            self.routes.clear()

    def __enter__(self) -> LocalSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
