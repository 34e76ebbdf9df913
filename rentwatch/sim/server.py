"""An HTTP server on 127.0.0.1 serving the simulated market's current day."""

from __future__ import annotations

import json
import random
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rentwatch.sim.market import Market, SimAd
from rentwatch.sim.pages import PER_PAGE, list_page, registry_csv

_LIST = re.compile(r"^/zufang/(?:(?P<scope>c\d+|[a-z][a-z0-9-]*)/)?(?:pg(?P<page>\d+)/)?$")


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
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                status, ctype, body = server.respond(self.path.split("?")[0])
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

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
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
