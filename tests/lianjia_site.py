"""A local site in the real Lianjia list markup, for end-to-end tests.

Pages are written by these helpers from plain data (never copied from the real
site) and served on 127.0.0.1 by a ThreadingHTTPServer in a thread. Each path can be
swapped at run time to a block page, an error status or a broken body.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(slots=True)
class Card:
    house_code: str
    community: str
    rent: str
    area: str = "53"
    layout: str = "2室1厅1卫"
    orientation: str = "南"
    floor: str = "中楼层"
    floors: int = 28
    tenure: str = "整租"
    district: str = "江干"
    district_slug: str = "jianggan"
    subdistrict: str = "九堡"
    subdistrict_slug: str = "jiubao"
    resblock_id: str = "1811000000001"
    brand: str = "链家"


def card_html(card: Card) -> str:
    e = html.escape
    title = f"{card.tenure}·{card.community} {card.layout[:4]} {card.orientation}"
    return f"""
<div class="content__list--item" data-el="listItem" data-house_code="{e(card.house_code)}" data-ad_type="0">
  <a class="content__list--item--aside" target="_blank" href="/zufang/{e(card.house_code)}.html" title="{e(title)}"></a>
  <div class="content__list--item--main">
    <p class="content__list--item--title twoline"><a target="_blank" href="/zufang/{e(card.house_code)}.html">{e(title)}</a></p>
    <p class="content__list--item--des">
      <a target="_blank" href="/zufang/{card.district_slug}/">{e(card.district)}</a>-<a href="/zufang/{card.subdistrict_slug}/" target="_blank">{e(card.subdistrict)}</a>-<a title="{e(card.community)}" href="/zufang/c{card.resblock_id}/" target="_blank">{e(card.community)}</a>
      <i>/</i> {e(card.area)}㎡ <i>/</i>{e(card.orientation)} <i>/</i> {e(card.layout)}
      <span class="hide"><i>/</i> {e(card.floor)} （{card.floors}层）</span>
    </p>
    <p class="content__list--item--brand oneline"><span class="brand">{e(card.brand)}</span>
      <span class="content__list--item--time oneline">今天维护</span></p>
    <span class="content__list--item-price"><em>{e(card.rent)}</em> 元/月</span>
  </div>
</div>"""


def list_page(
    cards: list[Card],
    *,
    page: int,
    total_pages: int,
    total: int,
    url_pattern: str = "/zufang/pg{page}/",
) -> bytes:
    items = "".join(card_html(c) for c in cards)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>杭州租房信息_杭州出租房源【杭州链家租房】</title></head><body>
<div class="content w1150" id="content"><div class="content__article">
<p class="content__title">已为您找到 <span class="content__title--hl">{total}</span> 套杭州租房</p>
<div class="content__list">{items}</div>
<div class="content__pg" data-el="page_navigation" data-url="{url_pattern}" data-totalPage={total_pages} data-curPage={page}></div>
</div></div></body></html>""".encode()


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
