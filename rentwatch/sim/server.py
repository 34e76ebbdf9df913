"""HTTP on 127.0.0.1: ``LoopbackSite``, the one small server the simulator and the tests'
sites are built on, and ``SimServer``, the simulated market's current day."""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from rentwatch.sim.market import Market, SimAd
from rentwatch.sim.pages import PER_PAGE, list_page, registry_csv

_LIST = re.compile(r"^/zufang/(?:(?P<scope>c\d+|[a-z][a-z0-9-]*)/)?(?:pg(?P<page>\d+)/)?$")


#: An answer: status, headers (Content-Type at least) and body.
Answer = tuple[int, dict[str, str], bytes]


class LoopbackSite:
    """A ThreadingHTTPServer on 127.0.0.1 in a daemon thread; ``start``/``stop`` or ``with``.

    Each GET is answered with ``respond(path)`` (the path without its query), with a
    Content-Length. A test that needs answers beyond that (kept-alive connections,
    dropped sockets, TLS) passes its own ``handler`` class instead.
    """

    def __init__(
        self,
        respond: Callable[[str], Answer] | None = None,
        *,
        handler: type[BaseHTTPRequestHandler] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if handler is None:
            if respond is None:
                raise ValueError("LoopbackSite needs either respond or handler")
            handler = _answering(respond)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        address = self.httpd.server_address
        self.host, self.port = str(address[0]), int(address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _answering(respond: Callable[[str], Answer]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            status, headers, body = respond(self.path.split("?")[0])
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


class SimServer:
    """Serves ``market`` as it stands on the day set with ``set_day``; start/stop or ``with``.

    ``drift``: the chance, at each list page read after the first, that an agency
    refreshes one of the ads further down the list and it jumps to the top, as on the
    site: every ad from the top to its old place shifts down by one, and the crawl, which
    has read the top already, never sees it that day (and sees another ad twice).
    ``drifted`` counts the jumps.
    """

    def __init__(self, market: Market, *, drift: float = 0.0) -> None:
        self.market = market
        self.drift = drift
        self.drifted = 0
        self.lock = threading.Lock()
        self._lists: dict[str, list[SimAd]] = {}
        self._drift_rng = random.Random(0)
        self.requests = 0
        self.site = LoopbackSite(self._answer)

    @property
    def url(self) -> str:
        return self.site.base_url

    def _answer(self, path: str) -> Answer:
        status, ctype, body = self.respond(path)
        return status, {"Content-Type": ctype}, body

    def set_day(self, index: int) -> None:
        """Show the market on day ``index`` (the market must have been advanced to it)."""
        ads = self.market.live_ads(index)
        # The site's own order: stable within a day, reshuffled the next.
        random.Random(index * 7919 + 13).shuffle(ads)
        lists: dict[str, list[SimAd]] = {"": ads}
        for ad in ads:
            b = self.market.building_of(ad)
            for key in (b.district_slug, b.subdistrict_slug, f"c{b.resblock_id}"):
                lists.setdefault(key, []).append(ad)
        with self.lock:
            self._lists = lists
            self._drift_rng = random.Random(index * 104729 + 7)

    def respond(self, path: str) -> tuple[int, str, bytes]:
        with self.lock:
            self.requests += 1
            lists = self._lists
            m = _LIST.match(path)
            if m and self.drift and int(m.group("page") or 1) > 1:
                self._refresh_one(lists.get(m.group("scope") or "", []), int(m.group("page")))
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        if path == "/registry.csv":
            return 200, "text/csv; charset=utf-8", registry_csv(self.market).encode()
        if path == "/truth.json":
            day = self.market.date_of(self.market.day)
            truth = {
                name: {"vacant": t.vacant, "median_rent": t.median_rent}
                for (name, d), t in self.market.truth.items()
                if d == day
            }
            return 200, "application/json", json.dumps(truth, ensure_ascii=False).encode()
        if m:
            scope = m.group("scope") or ""
            page = int(m.group("page") or 1)
            prefix = f"/zufang/{scope}/" if scope else "/zufang/"
            return (
                200,
                "text/html; charset=utf-8",
                list_page(self.market, lists.get(scope, []), prefix, page),
            )
        return 404, "text/html; charset=utf-8", b"<html><body>not found</body></html>"

    def _refresh_one(self, ads: list[SimAd], page: int) -> None:
        """With chance ``drift``, move an ad from page ``page`` or later to the top."""
        first = (page - 1) * PER_PAGE
        if len(ads) <= first or self._drift_rng.random() >= self.drift:
            return
        ads.insert(0, ads.pop(self._drift_rng.randrange(first, len(ads))))
        self.drifted += 1

    def start(self) -> SimServer:
        self.site.start()
        return self

    def stop(self) -> None:
        self.site.stop()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
