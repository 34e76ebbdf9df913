"""rentwatch against a hostile server: each attack of issue 19 served on 127.0.0.1.

One server per test, with one path per attack (as Scrapy's mock server has). Every
scrape runs the real CLI in a child process whose address space is capped
(``RLIMIT_AS``: what it had after its imports plus :data:`MEMORY_MARGIN`), so a
decompression bomb ends in a ``MemoryError`` there rather than in the test runner; the
child writes its peak RSS at exit. Each test asserts the run's status and one-line
message (never a traceback, never ``running``), bounded memory and time, and what the
archive holds.
"""

from __future__ import annotations

import gzip
import os
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from rentwatch.sim.server import LoopbackSite
from tests.lianjia_site import Card, list_page, paginate

REPO = Path(__file__).resolve().parent.parent
#: Address space the scrape may add to what its imports took.
MEMORY_MARGIN = 512 * 1024 * 1024
#: Peak RSS a scrape of these small sites stays under (a 20 MiB page included).
PEAK_RSS_MB = 300
ROBOTS_OK = b"User-agent: *\nDisallow: /private/\n"


# -- the hostile server ----------------------------------------------------------------


@dataclass(slots=True)
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Route = Answer | Callable[[str], Answer]


class HostileServer:
    """The loopback site (rentwatch.sim.server.LoopbackSite) answering each path from
    ``routes`` (exact path, then prefix), writing the raw head itself so that a route can
    send any status and headers, however broken."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = {"/robots.txt": Answer(body=ROBOTS_OK)}
        self.routes.update(routes or {})
        self.hits: list[tuple[float, str]] = []  # (arrival, request target as sent)
        self._lock = threading.Lock()
        self._site = LoopbackSite(handler=self._handler())
        self.port = self._site.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        with self._lock:
            return [target for _, target in self.hits]

    def _route(self, target: str) -> Answer:
        path = target.split("://", 1)[-1].split("/", 1)[-1] if "://" in target else target[1:]
        path = "/" + path
        bare = path.split("?", 1)[0]
        route = self.routes.get(path) or self.routes.get(bare)
        if route is None:
            prefixes = [p for p in self.routes if p.endswith("*") and bare.startswith(p[:-1])]
            route = self.routes[max(prefixes, key=len)] if prefixes else Answer(404, b"not here")
        return route(path) if callable(route) else route

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                with server._lock:
                    server.hits.append((time.monotonic(), self.path))
                answer = server._route(self.path)
                head = [f"HTTP/1.1 {answer.status} X"]
                headers = {"Content-Type": "text/html; charset=utf-8", **answer.headers}
                headers.setdefault("Content-Length", str(len(answer.body)))
                head += [f"{k}: {v}" for k, v in headers.items()]
                try:
                    self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        return Handler

    def __enter__(self) -> HostileServer:
        self._site.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._site.stop()


# -- the scrape in a child under a memory limit ----------------------------------------

_CHILD = r"""
import atexit, os, resource, sys
from rentwatch.cli import main
import httpx, pipeline.collect.crawl, selectolax.lexbor  # noqa: loaded before the limit

def vm_size():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

limit = vm_size() + int(os.environ["HOSTILE_MEMORY_MARGIN"])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

def report():
    with open(os.environ["HOSTILE_RSS_FILE"], "w") as out:
        out.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))

atexit.register(report)
sys.argv = ["rentwatch", *sys.argv[1:]]
main()
"""


@dataclass(slots=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float
    db: Path

    def runs(self) -> list[tuple[str, str]]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute("SELECT status, message FROM runs ORDER BY id").fetchall()

    def pages(self) -> list[tuple]:
        """(url, final_url, kind, status, body size or None, error) of every archived page."""
        with sqlite3.connect(self.db) as conn:
            return conn.execute(
                "SELECT p.url, p.final_url, p.kind, p.status, b.size, p.error FROM pages p "
                "LEFT JOIN page_bodies b ON b.hash = p.content_hash ORDER BY p.id"
            ).fetchall()


def run_cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
    """``rentwatch ARGS`` in a child capped at its start size + MEMORY_MARGIN."""
    db = tmp_path / "hostile.db"
    rss_file = tmp_path / "peak_rss"
    child_env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")} | {
        "HOSTILE_MEMORY_MARGIN": str(MEMORY_MARGIN),
        "HOSTILE_RSS_FILE": str(rss_file),
        # One malloc arena: each thread's 64 MB arena reservation would count in RLIMIT_AS.
        "MALLOC_ARENA_MAX": "1",
        "PYTHONPATH": str(REPO),
    }
    child_env.update(env or {})
    argv = [sys.executable, "-c", _CHILD, *args]
    if args and args[0] == "scrape":
        argv += ["--db", str(db), "--no-progress"]
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, env=child_env, timeout=timeout, cwd=REPO
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"rentwatch {' '.join(args)} still running after {timeout} s: {exc.stderr!r}")
    seconds = time.monotonic() - started
    peak = int(rss_file.read_text()) / 1024 if rss_file.exists() else float("nan")
    return Outcome(done.returncode, done.stdout, done.stderr, seconds, peak, db)


def scrape(tmp_path: Path, server: HostileServer, *extra: str, source: str = "lianjia", **kw):
    return run_cli(
        tmp_path,
        "scrape",
        source,
        "--city",
        "hz" if source == "lianjia" else "sh",
        "--base-url",
        server.base_url,
        "--as-of",
        "2024-05-01",
        "--delay",
        "0",
        *extra,
        **kw,
    )


def assert_clean_failure(out: Outcome, status: str, words: str) -> str:
    """One run, ended with ``status``, its message holding ``words``; no traceback anywhere."""
    assert "Traceback" not in out.stderr, out.stderr
    runs = out.runs()
    assert [s for s, _ in runs] == [status], runs
    message = runs[0][1]
    assert words in message and "\n" not in message, message
    assert out.peak_rss_mb < PEAK_RSS_MB, out.peak_rss_mb
    return message


def lianjia_page(total_pages: int = 1, url_pattern: str = "/zufang/pg{page}/") -> bytes:
    cards = [Card(f"HZ{2351274914700328960 + n}", "新天地", "3500") for n in range(3)]
    return list_page(cards, page=1, total_pages=total_pages, total=3, url_pattern=url_pattern)


# -- bombs -----------------------------------------------------------------------------


def gzip_of_zeros(mib: int) -> bytes:
    """A valid gzip stream of ``mib`` MiB of zeros (about 1 KB per MiB), built without
    compressing them all: after a full flush zlib restarts, so one flushed MiB repeats."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    first = z.compress(zeros) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(zeros) + z.flush(zlib.Z_FULL_FLUSH)
    crc, block = 0, bytes(16 << 20)
    for _ in range(mib // 16):
        crc = zlib.crc32(block, crc)
    # An empty final block (fixed Huffman), then the trailer: CRC-32 and size mod 2**32.
    trailer = b"\x03\x00" + struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)
    return first + again * (mib - 1) + trailer


@pytest.fixture(scope="module")
def gigabyte_bomb() -> bytes:
    return gzip_of_zeros(1024)


def test_the_bomb_is_what_it_claims():
    bomb = gzip_of_zeros(32)
    assert len(bomb) < 40_000 and gzip.decompress(bomb) == bytes(32 << 20)


# -- the table of issue 19, one test per row -------------------------------------------


def test_double_gzip_page_is_refused_unread_and_unarchived(tmp_path, gigabyte_bomb):
    outer = gzip.compress(gigabyte_bomb)  # 25 KB -> 1 MB -> 1 GiB
    answer = Answer(body=outer, headers={"Content-Encoding": "gzip, gzip"})
    with HostileServer({"/zufang/": answer}) as server:
        out = scrape(tmp_path, server)
    message = assert_clean_failure(out, "failed", "more than one content-coding (gzip, gzip)")
    assert out.code == 1 and out.seconds < 20
    assert "/zufang/" in message
    page = [p for p in out.pages() if p[2] == "list"]
    assert len(page) == 1 and page[0][4] is None  # the refusal is recorded, no body


def test_gzip_bombed_robots_txt_is_read_within_its_cap(tmp_path, gigabyte_bomb):
    robots = Answer(body=gigabyte_bomb, headers={"Content-Encoding": "gzip"})
    with HostileServer({"/robots.txt": robots, "/zufang/": Answer(body=lianjia_page())}) as server:
        out = scrape(tmp_path, server)
    assert_clean_failure(out, "ok", "1 pages, 3 listings")
    robots_rows = [p for p in out.pages() if p[2] == "robots"]
    assert len(robots_rows) == 1
    assert robots_rows[0][4] == 512 * 1024  # the first 512 KiB kept, the rest never decoded


@pytest.mark.parametrize("where", ["other-host", "link-local"])
def test_redirect_off_the_site_is_refused(tmp_path, where):
    with HostileServer({"*": Answer(body=lianjia_page())}) as other:
        target = {
            "other-host": f"{other.base_url}/zufang/",
            "link-local": "http://169.254.169.254/latest/meta-data/",
        }[where]
        redirect = Answer(302, headers={"Location": target})
        with HostileServer({"/zufang/": redirect}) as server:
            out = scrape(tmp_path, server, timeout=30)
        assert other.paths() == []
    message = assert_clean_failure(out, "failed", "off the site")
    assert target in message and out.seconds < 15
    assert all(target not in (p[1] or "") or p[4] is None for p in out.pages())
    assert not any(p[0] == target for p in out.pages())


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:{other}/zufang/pg{{page}}/",
        "http://169.254.169.254/zufang/pg{{page}}/",
        "file:///etc/passwd{{page}}",
    ],
    ids=["other-host", "link-local", "file"],
)
def test_pager_template_off_the_site_is_not_followed(tmp_path, template):
    with HostileServer({"*": Answer(body=b"<html>secret</html>")}) as other:
        pattern = template.format(other=other.port)
        page = lianjia_page(total_pages=99, url_pattern=pattern)
        with HostileServer({"/zufang/": Answer(body=page)}) as server:
            out = scrape(tmp_path, server, timeout=30)
            assert server.paths() == ["/robots.txt", "/zufang/"]
        assert other.paths() == []
    message = assert_clean_failure(out, "partial", "98 links not followed")
    assert "refused" in message and out.seconds < 15
    assert [p[0] for p in out.pages() if p[2] == "list"] == [f"{server.base_url}/zufang/"]
    with sqlite3.connect(out.db) as conn:
        assert conn.execute("SELECT errors FROM runs").fetchone()[0] >= 98  # counted in the run


@pytest.mark.parametrize("what", ["page", "robots.txt"])
@pytest.mark.parametrize("location", ["javascript:alert(1)", "mailto:a@example.com"])
def test_redirect_to_javascript_or_mailto_is_a_one_line_refusal(tmp_path, what, location):
    path = "/zufang/" if what == "page" else "/robots.txt"
    routes = {
        "/zufang/": Answer(body=lianjia_page()),
        path: Answer(302, headers={"Location": location}),
    }
    with HostileServer(routes) as server:
        out = scrape(tmp_path, server, timeout=30)
    status = "failed" if what == "page" else "disallowed"
    message = assert_clean_failure(out, status, "is not http or https")
    assert location.split(":")[0] in message and out.code in (1, 4)


def _ziroom_page(path: str) -> Answer:
    n = int(path.partition("p=")[2] or 1)
    body = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>上海租房 自如</title></head>
<body><ul id="houseList"><li><div class="txt"><h3><a href="/z/vr/{60000000 + n}.html">和祥佳园2居室-南卧</a>
</h3><h4><a>[浦东] 张江</a></h4><div class="detail"><p><span>12 ㎡</span><span>6/6层</span></p></div>
</div><div class="priceDetail"><p class="price">￥ {1500 + n}</p></div></li></ul>
<div id="page"><a class="active">{n}</a><a class="next" href="/z/nl/?p={n + 1}">下一页</a></div>
</body></html>"""
    return Answer(body=body.encode())


def test_endless_next_links_stop_at_the_page_cap(tmp_path):
    with HostileServer({"/z/nl/": _ziroom_page}) as server:
        out = scrape(tmp_path, server, source="ziroom", timeout=60)
        lists = [p for p in server.paths() if p.startswith("/z/nl/")]
    message = assert_clean_failure(out, "partial", "stopped at the page cap of 100 pages")
    assert len(lists) == 100 and "split the query" in message


def test_deeply_nested_page_is_refused_before_the_parser(tmp_path):
    nested = b"<!DOCTYPE html><html><body>" + b"<div>" * 100_000 + b"</div>" * 100_000
    page = nested + b"</body></html>"
    assert len(page) > 1_000_000
    with HostileServer({"/zufang/": Answer(body=page)}) as server:
        out = scrape(tmp_path, server)
    assert_clean_failure(out, "failed", "hostile page")
    assert out.seconds < 10  # the CLI's start included; Lexbor alone takes about a minute


def test_the_markup_check_is_quick():
    from scrapers.fetch.shape import markup_refusal

    page = b"<html><body>" + b"<div><span>" * 100_000 + b"</body></html>"
    started = time.process_time()
    assert markup_refusal(page) == "elements nested more than 1,000 deep"
    flat = b"<html><body>" + b"<p>a</p>" * 300_000 + b"</body></html>"
    assert markup_refusal(flat) == "more than 200,000 elements"
    assert time.process_time() - started < 1.0


def test_crawl_delay_is_a_floor_even_with_delay_zero(tmp_path):
    pages = paginate(
        [Card(f"HZ{2351274914700328960 + n}", "新天地", "3500") for n in range(9)], per_page=3
    )
    routes: dict[str, Route] = {p: Answer(body=b) for p, b in pages.items()}
    routes["/robots.txt"] = Answer(body=b"User-agent: *\nCrawl-delay: 1\nDisallow: /private/\n")
    with HostileServer(routes) as server:
        out = scrape(tmp_path, server)
        starts = sorted(at for at, target in server.hits if target.startswith("/zufang/"))
    assert_clean_failure(out, "ok", "3 pages, 9 listings")
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert len(gaps) == 2 and min(gaps) >= 0.95, gaps


def test_impolite_settings_against_a_real_host_are_refused(tmp_path):
    out = run_cli(
        tmp_path,
        "scrape",
        "lianjia",
        "--city",
        "hz",
        "--delay",
        "0",
        "--concurrency",
        "16",
        "--db",
        str(tmp_path / "x.db"),
    )
    assert out.code != 0 and "Traceback" not in out.stderr
    assert "below the politeness floor" in out.stderr and "hz.lianjia.com" in out.stderr
    assert "--i-have-permission" in out.stderr


def test_impolite_config_fails_run_check(tmp_path):
    config = tmp_path / "rentwatch.toml"
    job = '[[sources]]\nname = "lianjia"\ncity = "hz"\nschedule = "* * * * *"\n'
    config.write_text(f'database = "x.db"\n{job}delay = 0\nconcurrency = 50\n')
    out = run_cli(tmp_path, "run", "--config", str(config), "--check")
    assert out.code != 0 and "Traceback" not in out.stderr
    assert "below the politeness floor" in out.stderr and "(line 6)" in out.stderr
    config.write_text(
        f'database = "x.db"\n{job}delay = 0\nconcurrency = 50\ni_have_permission = true\n'
    )
    assert run_cli(tmp_path, "run", "--config", str(config), "--check").code == 0


def test_search_engine_user_agent_is_refused(tmp_path):
    robots = b"User-agent: Googlebot\nAllow: /\n\nUser-agent: *\nDisallow: /\n"
    routes = {"/robots.txt": Answer(body=robots), "/zufang/": Answer(body=lianjia_page())}
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    with HostileServer(routes) as server:
        out = scrape(tmp_path, server, "--user-agent", googlebot)
        assert server.paths() == []
    assert out.code != 0 and "Traceback" not in out.stderr
    assert "search engine's crawler (Googlebot)" in out.stderr


@pytest.mark.parametrize("how", ["environment", "--proxy"])
def test_requests_go_through_the_proxy(tmp_path, how):
    # The "proxy" answers absolute-form requests itself; the site must see nothing.
    with HostileServer({"/zufang/": Answer(body=lianjia_page())}) as proxy:
        with HostileServer({"*": Answer(500, b"direct request")}) as site:
            if how == "environment":
                env = {"HTTP_PROXY": proxy.base_url, "HTTPS_PROXY": proxy.base_url}
                out = scrape(tmp_path, site, env=env)
            else:
                out = scrape(tmp_path, site, "--proxy", proxy.base_url)
            assert site.paths() == []
        assert f"{site.base_url}/zufang/" in proxy.paths()
    assert_clean_failure(out, "ok", "1 pages, 3 listings")


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_of_days_is_reported_not_waited(tmp_path, status):
    routes = {"/zufang/": Answer(status, b"go away", {"Retry-After": "999999"})}
    with HostileServer(routes) as server:
        out = scrape(tmp_path, server, timeout=30)
        assert server.paths().count("/zufang/") == 1
    run_status = "blocked" if status == 429 else "failed"
    message = assert_clean_failure(out, run_status, "the site asked to wait 999,999 s, 11.6 days")
    assert out.seconds < 15 and f"HTTP {status}" in message


def test_page_over_the_cap_is_refused_and_not_archived(tmp_path):
    big = b"<html><body>" + b"x" * (21 * 1024 * 1024) + b"</body></html>"
    with HostileServer({"/zufang/": Answer(body=big)}) as server:
        out = scrape(tmp_path, server)
    assert_clean_failure(out, "failed", "over the 20 MiB cap")
    assert [p[4] for p in out.pages() if p[2] == "list"] == [None]


def test_trickled_body_is_cut_by_the_total_timeout():
    """A byte every 0.2 s keeps each read under the read timeout; the whole is bounded."""
    import asyncio

    from scrapers.fetch import Fetcher, FetchSettings

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def trickle() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        try:
            for _ in range(100):
                conn.sendall(b"x")
                time.sleep(0.2)
        except OSError:
            pass
        conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    config = FetchSettings(obey_robots=False, allow_private=True, total_timeout=1.0, max_retries=0)

    async def go():
        async with Fetcher(config) as fetcher:
            return await fetcher.fetch(f"http://127.0.0.1:{port}/slow")

    started = time.monotonic()
    result = asyncio.run(go())
    assert time.monotonic() - started < 5
    assert result.error.startswith("timeout: no complete answer within 1 s")
    listener.close()
