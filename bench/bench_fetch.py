"""The whole scrape against Scrapy doing the same work, on real-markup pages.

    .venv/bin/python bench/bench_fetch.py [--districts 5] [--rounds 3] [--concurrency 16]

A minimal asyncio HTTP server (its own process) answers ``/zufang/<district>/`` and
``/zufang/<district>/pg<n>/`` with a Lianjia list page: the real saved Shenzhen page
(``$RENTWATCH_REAL_FIXTURES/lianjia/beike_zufang_list_sz_2020-03.html``, 162 KB, 30
cards) with its listing ids made unique per page and its pager pointed at the
district, so that every page stores new rows, as on a first day. Without the fixtures
it falls back to a hand-written page in the same markup. Each district is 100 pages.

Then, in rounds, the two sides alternate (which one goes first alternates too), each in
its own child process so that CPU time and peak RSS (``os.wait4``) are its own:

* rentwatch: ``pipeline.collect.crawl.scrape()``, as the CLI calls it: robots.txt,
  the site guard, politeness (delay 0 and ``--concurrency`` per host: loopback), each
  page archived (sha256 + zstd), checked for blocks, parsed once by ``LianjiaSource``,
  its rows stored in SQLite;
* scrapy: a ``CrawlerProcess`` spider with the same concurrency, robots.txt obeyed, no
  delay, AutoThrottle off, parsing each page with the same ``LianjiaSource.parse_list``
  and following the same ``following_urls``; an item pipeline stores the same rows with
  the same ``db.listings.save_records`` into its own SQLite file. Scrapy keeps no
  archive: that work is rentwatch's alone.

The same work on both sides: the same pages from the same server, fetched at the same
concurrency (``--concurrency`` requests at once to the one host; both obey robots.txt),
each parsed once by the same parser, and the same rows stored by the same
``save_records`` into a fresh SQLite file (the run asserts equal pages and rows). What
only rentwatch does, and pays for in its figures: the runs rows, the site guard, each
page's body archived (sha256 and zstd) with its ``pages`` row before it is parsed, the
markup shape check, the decode for the block check, and the parse status written back.
Scrapy keeps no archive at all. The clocks start where each side's crawl starts:
Scrapy's at ``spider_opened``, after it has imported and built everything it runs;
rentwatch's just before ``scrape()``, after importing what ``scrape()`` would otherwise
import on first use (:func:`_import_what_scrape_loads_on_first_use`).

Printed per side: pages/s, CPU ms per page over the crawl (``time.process_time``), CPU
per page of the whole process (interpreter start and imports included), peak RSS; then
min / median / max over the rounds of the paired ratios (rentwatch / Scrapy). Target:
CPU per page <= Scrapy's. ``--concurrency 2`` is the most the politeness floor allows
against a real site without ``--i-have-permission``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PAGES_PER_DISTRICT = 100
AS_OF = "2024-05-01"
FIXTURE = "lianjia/beike_zufang_list_sz_2020-03.html"

# -- the page --------------------------------------------------------------------------

_CODE = re.compile(rb"([A-Z]{2}\d{9})\d{6,}")
_PAGER = re.compile(rb'<div class="content__pg"[^>]*>')


def _real_template() -> bytes | None:
    root = os.environ.get("RENTWATCH_REAL_FIXTURES")
    path = Path(root) / FIXTURE if root else None
    if path is None or not path.exists():
        return None
    body = path.read_bytes()
    seen: dict[bytes, bytes] = {}

    def code(match: re.Match[bytes]) -> bytes:
        # Each distinct id gets its own slot; the page number fills the placeholder.
        key = match.group(0)
        if key not in seen:
            seen[key] = match.group(1) + b"@@N@@%02d" % len(seen)
        return seen[key]

    body = _CODE.sub(code, body)
    pager = (
        b'<div class="content__pg" data-el="page_navigation" '
        b'data-url="/zufang/@@D@@/pg{page}/" data-totalPage=100 data-curPage=@@P@@>'
    )
    return _PAGER.sub(pager, body, count=1)


def _written_template() -> bytes:
    sys.path.insert(0, str(REPO))
    from tests.lianjia_site import Card, list_page

    cards = [
        Card(f"HZ23512749@@N@@{i:02d}", f"钱江新城{i}号", str(1500 + 37 * i), area=str(30 + i))
        for i in range(30)
    ]
    return list_page(cards, page=0, total_pages=100, total=3000).replace(
        b'data-url="/zufang/pg{page}/" data-totalPage=100 data-curPage=0',
        b'data-url="/zufang/@@D@@/pg{page}/" data-totalPage=100 data-curPage=@@P@@',
    )


def page_template() -> tuple[bytes, str]:
    real = _real_template()
    return (real, "real saved page") if real else (_written_template(), "hand-written page")


def make_page(template: bytes, district: int, page: int) -> bytes:
    return (
        template.replace(b"@@N@@", b"%03d%03d" % (district, page))
        .replace(b"@@D@@", b"d%d" % district)
        .replace(b"@@P@@", b"%d" % page)
    )


# -- the server (its own process) -------------------------------------------------------

_REQUEST = re.compile(rb"GET /zufang/d(\d+)/(?:pg(\d+)/)? ")


def _server_main() -> None:
    template, _ = page_template()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                match = _REQUEST.match(head)
                if match:
                    page = int(match.group(2) or 1)
                    body, status = make_page(template, int(match.group(1)), page), b"200 OK"
                else:
                    body, status = b"not found", b"404 Not Found"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html; charset=utf-8\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- rentwatch ---------------------------------------------------------------------------


def _import_what_scrape_loads_on_first_use() -> None:
    """Scrapy has imported all it runs before ``spider_opened`` starts its clock (two codec
    modules come later); ``scrape()`` imports the source's module and httpx its transport
    stack on first use: about 0.1 s once, which is not CPU per page. Loaded here, off the clock.
    """
    import anyio._backends._asyncio  # noqa: F401
    import h11  # noqa: F401
    import httpcore  # noqa: F401

    from scrapers.registry import get_source

    get_source("lianjia")


def _ours_main(port: int, districts: int, concurrency: int) -> dict:
    import logging

    from db import open_db
    from pipeline.collect.crawl import scrape

    logging.disable(logging.INFO)  # one log line per request would measure the log handler
    _import_what_scrape_loads_on_first_use()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "bench.db")
        cpu0, t0 = time.process_time(), time.perf_counter()
        report = scrape(
            db,
            "lianjia",
            city="hz",
            districts=[f"d{k}" for k in range(districts)],
            base_url=f"http://127.0.0.1:{port}",
            as_of=AS_OF,
            delay=0,
            concurrency=concurrency,
        )
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        rows = db.execute("SELECT count(*) FROM listings").fetchone()[0]
        archived = db.execute("SELECT count(*) FROM pages WHERE kind = 'list'").fetchone()[0]
        db.close()
    assert report.status == "ok", report.message
    return {"pages": report.pages, "rows": rows, "archived": archived, "wall": wall, "cpu": cpu}


# -- scrapy ------------------------------------------------------------------------------


def _scrapy_main(port: int, districts: int, concurrency: int) -> dict:
    import scrapy
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from db import open_db
    from db.listings import save_records
    from scrapers.lianjia import LianjiaSource

    source = LianjiaSource()
    state = {"pages": 0}
    tmp = tempfile.TemporaryDirectory()
    db = open_db(Path(tmp.name) / "scrapy.db")

    class StorePipeline:
        """The rows of each page into SQLite, as rentwatch stores them."""

        def process_item(self, item, spider=None):
            save_records(db, item["records"], as_of=AS_OF)
            return item

    class BenchSpider(scrapy.Spider):
        name = "bench"
        start_urls = [f"http://127.0.0.1:{port}/zufang/d{k}/" for k in range(districts)]

        def parse(self, response):
            state["pages"] += 1
            page = source.parse_list(response.body, response.url)
            yield {"records": page.records}
            for url in source.following_urls(page):
                yield scrapy.Request(url, callback=self.parse)

    process = CrawlerProcess(
        settings={
            "LOG_LEVEL": "ERROR",
            "TELNETCONSOLE_ENABLED": False,
            "ROBOTSTXT_OBEY": True,
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_DELAY": 0,
            "RANDOMIZE_DOWNLOAD_DELAY": False,
            "AUTOTHROTTLE_ENABLED": False,
            "COOKIES_ENABLED": False,
            "USER_AGENT": "rentwatch-bench",
            "ITEM_PIPELINES": {StorePipeline: 300},
        }
    )
    crawler = process.create_crawler(BenchSpider)
    times: dict[str, float] = {}

    def opened(spider):
        times["t0"], times["cpu0"] = time.perf_counter(), time.process_time()

    def closed(spider):
        times["t1"], times["cpu1"] = time.perf_counter(), time.process_time()

    crawler.signals.connect(opened, signal=signals.spider_opened)
    crawler.signals.connect(closed, signal=signals.spider_closed)
    process.crawl(crawler)
    process.start()
    rows = db.execute("SELECT count(*) FROM listings").fetchone()[0]
    db.close()
    tmp.cleanup()
    return {
        "pages": state["pages"],
        "rows": rows,
        "archived": 0,
        "wall": times["t1"] - times["t0"],
        "cpu": times["cpu1"] - times["cpu0"],
    }


# -- orchestration -----------------------------------------------------------------------


def run_side(side: str, port: int, districts: int, concurrency: int) -> dict:
    """One side in a child process; its whole-process CPU and peak RSS from wait4."""
    cmd = [sys.executable, __file__, "--worker", side, "--port", str(port)]
    cmd += ["--districts", str(districts), "--concurrency", str(concurrency)]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=REPO)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{side} worker failed with exit code {child.returncode}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["process_cpu"] = usage.ru_utime + usage.ru_stime
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def _row(name: str, r: dict) -> str:
    return (
        f"{name:<11}{r['pages']:>7}{r['rows']:>8}{r['pages'] / r['wall']:>10.0f}"
        f"{1000 * r['cpu'] / r['pages']:>13.2f}{1000 * r['process_cpu'] / r['pages']:>15.2f}"
        f"{r['peak_rss_mb']:>13.0f}"
    )


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description="rentwatch scrape() vs Scrapy on a local server")
    parser.add_argument("--districts", type=int, default=5, help="100 pages each")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--worker", choices=["server", "ours", "scrapy"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "server":
        _server_main()
        return
    if args.worker:
        main_of = _scrapy_main if args.worker == "scrapy" else _ours_main
        print(json.dumps(main_of(args.port, args.districts, args.concurrency)), flush=True)
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--worker", "server"], stdout=subprocess.PIPE, cwd=REPO
    )
    template, what = page_template()
    rounds: list[tuple[dict, dict]] = []
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        print(
            f"{args.districts * PAGES_PER_DISTRICT} pages a side a round ({what}, "
            f"{len(make_page(template, 0, 1)) / 1024:.0f} KB), concurrency {args.concurrency}, "
            f"{args.rounds} rounds, {os.cpu_count()} CPUs"
        )
        run_side("ours", port, 1, args.concurrency)  # warm the server and the OS caches
        print(
            f"\n{'':<11}{'pages':>7}{'rows':>8}{'pages/s':>10}{'CPU ms/page':>13}"
            f"{'(whole proc)':>15}{'peak RSS MB':>13}"
        )
        for n in range(args.rounds):
            order = ["ours", "scrapy"] if n % 2 == 0 else ["scrapy", "ours"]
            got = {side: run_side(side, port, args.districts, args.concurrency) for side in order}
            rounds.append((got["ours"], got["scrapy"]))
            print(_row("rentwatch", got["ours"]))
            print(_row("scrapy", got["scrapy"]))
    finally:
        server.terminate()
        server.wait()

    for ours, theirs in rounds:
        assert ours["pages"] == theirs["pages"] and ours["rows"] == theirs["rows"], (ours, theirs)
    speed = [(o["pages"] / o["wall"]) / (s["pages"] / s["wall"]) for o, s in rounds]
    cpu = [(o["cpu"] / o["pages"]) / (s["cpu"] / s["pages"]) for o, s in rounds]
    proc = [(o["process_cpu"] / o["pages"]) / (s["process_cpu"] / s["pages"]) for o, s in rounds]
    rss = [o["peak_rss_mb"] / s["peak_rss_mb"] for o, s in rounds]
    print("\nrentwatch / Scrapy, min / median / max over the rounds:")
    print(f"  pages/s                  {_spread(speed)}")
    print(f"  CPU per page (crawl)     {_spread(cpu)}   (target <= 1.00)")
    print(f"  CPU per page (process)   {_spread(proc)}")
    print(f"  peak RSS                 {_spread(rss)}")
    # The rounds' ratios move with the machine's load from one run of a side to the next;
    # the CPU of all rounds together weighs each page alike.
    ours_ms = 1000 * sum(o["cpu"] for o, _ in rounds) / sum(o["pages"] for o, _ in rounds)
    theirs_ms = 1000 * sum(s["cpu"] for _, s in rounds) / sum(s["pages"] for _, s in rounds)
    print(
        f"  CPU per page, all rounds {ours_ms:.2f} ms / {theirs_ms:.2f} ms = "
        f"{ours_ms / theirs_ms:.2f}   ({sum(c > 1 for c in cpu)} of {len(cpu)} rounds over 1)"
    )


if __name__ == "__main__":
    main()
