"""A local site in the real Lianjia list markup, for end-to-end tests.

Pages are written from plain data by the simulator's card writer
(rentwatch/sim/pages.py; never copied from the real site) and served on 127.0.0.1 by the simulator's LoopbackSite. Each path can be
swapped at run time to a block page, an error status or a broken body.
"""

from __future__ import annotations

import threading

from rentwatch.sim.pages import Card, card_html, cards_page
from rentwatch.sim.server import Answer, LoopbackSite

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


class LocalSite(LoopbackSite):
    """A site on 127.0.0.1 serving a dict of path -> (status, headers, body); robots.txt
    allows everything unless set; anything else is 404. Start it with ``with``."""

    def __init__(self) -> None:
        self.routes: dict[str, Answer] = {}
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        super().__init__(self._answer)

    @property
    def url(self) -> str:
        return self.base_url

    def _answer(self, path: str) -> Answer:
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            route = self.routes.get(path)
        if route is None:
            if path == "/robots.txt":
                route = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")
            else:
                route = (404, {}, b"<html><body>not found</body></html>")
        status, headers, body = route
        return status, {"Content-Type": "text/html; charset=utf-8", **headers}, body

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
