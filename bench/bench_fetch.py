"""Fetch throughput: rentwatch's Fetcher against Scrapy, same pages, same concurrency.

    .venv/bin/python bench/bench_fetch.py [--pages 1000] [--big 10000] [--concurrency 16]

A minimal asyncio HTTP server (its own process) answers ``/p/<n>`` with a ~60 KB
Lianjia-like list page (30 listing cards, a different page per n). Then, each in its own
subprocess so that CPU time and peak RSS are each side's own:

* ours:   Fetcher, politeness off (delay 0, ``--concurrency`` per host), robots.txt off,
          every body archived into a temporary SQLite file (sha256 + zlib), decoded,
          checked for blocks, then parsed with selectolax Lexbor (titles and rents);
* ours, httpcore: the same with httpx's own connection pool instead of LeanTransport;
* scrapy: CrawlerProcess, same concurrency, no delay, robots.txt off, AutoThrottle off,
          parsing the same fields with ``response.css`` (parsel/lxml); no archive.

Printed: pages/s over the crawl, CPU seconds per page (crawl only, and the whole process
from ``os.wait4`` including interpreter start and imports), peak RSS, and ours/Scrapy
ratios. Ours runs again with ``--big`` pages to show peak memory does not grow with the
page count. Targets: >= 1.5x Scrapy's pages/s, CPU/page <= Scrapy's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ITEMS_PER_PAGE = 30

# -- the page --------------------------------------------------------------------------

_CARD = """
<div class="content__list--item" data-house_code="HZ{n:08d}{i:02d}" data-ad_type="0">
  <a class="content__list--item--aside" href="/zufang/HZ{n:08d}{i:02d}.html" target="_blank">
    <img alt="整租·钱江新城{i}号 2室1厅 南" src="https://image1.ljcdn.com/x/{n}/{i}.jpg" class="lazyload">
  </a>
  <div class="content__list--item--main">
    <p class="content__list--item--title">
      <a class="twoline" target="_blank" href="/zufang/HZ{n:08d}{i:02d}.html">整租·钱江新城{i}号 2室1厅 南</a>
    </p>
    <p class="content__list--item--des">
      <a target="_blank" href="/zufang/jianggan/">江干</a>-<a href="/zufang/qianjiangxincheng/" target="_blank">钱江新城</a>-<a title="钱江新城{i}号" href="/zufang/c18110000{i:05d}/" target="_blank">钱江新城{i}号</a>
      <i>/</i>{area}㎡<i>/</i>南<i>/</i>2室1厅1卫<span class="hide"><i>/</i>中楼层 （28层）</span>
    </p>
    <p class="content__list--item--bottom oneline"><i class="content__item__tag--is_subway_house">近地铁</i><i class="content__item__tag--decoration">精装</i></p>
    <p class="content__list--item--brand oneline"><span class="brand">链家</span><span class="content__list--item--time oneline">3天前维护</span></p>
    <span class="content__list--item-price"><em>{rent}</em> 元/月</span>
  </div>
</div>"""

_HEAD = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>杭州租房信息_杭州出租房源|房屋出租价格【杭州链家租房】</title>
<style>{css}</style><script>{js}</script></head><body>
<div class="nav">{nav}</div><div class="content__list">"""

_TAIL = """</div>
<div class="content__pg" data-totalpage="100" data-curpage="{n}"></div>
<span class="content__title--hl">3000</span></body></html>"""


def _template() -> bytes:
    cards = "".join(
        _CARD.format(n=0, i=i, area=30 + i % 90, rent=1500 + (i * 13) % 6000).replace(
            "HZ00000000", "HZ@@N@@"
        )
        for i in range(ITEMS_PER_PAGE)
    )
    head = _HEAD.format(
        css=".content__list--item{margin:0;padding:12px}" * 200,
        js="window.__page=@@N@@;" + "var a=function(x){return x*2};" * 300,
        nav="<a href='/zufang/'>租房</a>" * 150,
    )
    return (head + cards + _TAIL.format(n="@@N@@")).encode()


_PAGE = _template()


def make_page(n: int) -> bytes:
    """Page n: the same cards, its own listing ids and page number (so its own archive row)."""
    return _PAGE.replace(b"@@N@@", b"%08d" % n)


# -- the server (its own process) -------------------------------------------------------

_REQUEST_LINE = re.compile(rb"GET /p/(\d+)")


async def _serve_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            match = _REQUEST_LINE.match(head)
            if match:
                n = int(match.group(1))
                body = make_page(n)
                status = b"200 OK"
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


async def _server_main() -> None:
    server = await asyncio.start_server(_serve_client, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


# -- ours --------------------------------------------------------------------------------


def _ours_main(port: int, pages: int, concurrency: int, transport: str = "lean") -> dict:
    import logging

    import httpx
    from selectolax.lexbor import LexborHTMLParser

    sys.path.insert(0, str(REPO))
    from db import open_db
    from db.pages import PageArchive
    from scrapers.fetch import Fetcher, FetchSettings
    from scrapers.source import Politeness

    logging.disable(logging.INFO)  # one log line per request would measure the log handler
    settings = FetchSettings(
        obey_robots=False,
        autothrottle=False,
        politeness=Politeness(delay=0, jitter=0, concurrency=concurrency),
    )
    items = 0

    def parse(text: str) -> int:
        tree = LexborHTMLParser(text)
        count = 0
        for card in tree.css("div.content__list--item"):
            title = card.css_first("p.content__list--item--title a")
            rent = card.css_first("span.content__list--item-price em")
            if title is not None and rent is not None and title.text() and rent.text():
                count += 1
        return count

    async def crawl(archive: PageArchive) -> None:
        nonlocal items
        urls = iter(range(pages))
        pool = httpx.AsyncHTTPTransport() if transport == "httpcore" else None
        async with Fetcher(
            settings, archive=archive, as_of="2024-05-01", transport=pool
        ) as fetcher:

            async def worker() -> None:
                nonlocal items
                for n in urls:  # the shared iterator: N workers, memory flat in the page count
                    result = await fetcher.fetch(f"http://127.0.0.1:{port}/p/{n}")
                    if not result.ok:
                        raise SystemExit(f"bench page {n} failed: {result.error or result.blocked}")
                    items += parse(result.text or "")
                    archive.mark_parsed(result.page_id, ok=True, records=ITEMS_PER_PAGE)

            await asyncio.gather(*(worker() for _ in range(concurrency)))

    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "bench.db")
        cpu0, t0 = time.process_time(), time.perf_counter()
        asyncio.run(crawl(PageArchive(db)))
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        archived = db.execute("SELECT count(*) FROM pages").fetchone()[0]
        db.close()
    assert items == pages * ITEMS_PER_PAGE, items
    assert archived == pages, archived
    return {"pages": pages, "items": items, "wall": wall, "cpu": cpu}


# -- scrapy ------------------------------------------------------------------------------


def _scrapy_main(port: int, pages: int, concurrency: int) -> dict:
    import scrapy
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    state = {"items": 0, "pages": 0}

    class BenchSpider(scrapy.Spider):
        name = "bench"
        start_urls = [f"http://127.0.0.1:{port}/p/{n}" for n in range(pages)]

        def parse(self, response):
            state["pages"] += 1
            for card in response.css("div.content__list--item"):
                title = card.css("p.content__list--item--title a::text").get()
                rent = card.css("span.content__list--item-price em::text").get()
                if title and rent:
                    state["items"] += 1
            return ()

    process = CrawlerProcess(
        settings={
            "LOG_LEVEL": "ERROR",
            "TELNETCONSOLE_ENABLED": False,
            "ROBOTSTXT_OBEY": False,
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_DELAY": 0,
            "RANDOMIZE_DOWNLOAD_DELAY": False,
            "AUTOTHROTTLE_ENABLED": False,
            "COOKIES_ENABLED": False,
            "USER_AGENT": "rentwatch-bench",
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
    assert state["pages"] == pages, state
    return {
        "pages": pages,
        "items": state["items"],
        "wall": times["t1"] - times["t0"],
        "cpu": times["cpu1"] - times["cpu0"],
    }


# -- orchestration -----------------------------------------------------------------------


def run_side(side: str, port: int, pages: int, concurrency: int) -> dict:
    """Run one side in a child process; add its whole-process CPU and peak RSS (wait4)."""
    cmd = [sys.executable, __file__, "--worker", side, "--port", str(port)]
    cmd += ["--pages", str(pages), "--concurrency", str(concurrency)]
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
        f"{name:<18}{r['pages']:>7}{r['pages'] / r['wall']:>10.0f}"
        f"{1000 * r['cpu'] / r['pages']:>14.2f}{1000 * r['process_cpu'] / r['pages']:>16.2f}"
        f"{r['peak_rss_mb']:>12.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="rentwatch Fetcher vs Scrapy on a local server")
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--big", type=int, default=10000, help="pages for the memory run (0: skip)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--worker", choices=["server", "ours", "ours-httpcore", "scrapy"], help=argparse.SUPPRESS
    )
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "server":
        asyncio.run(_server_main())
        return
    if args.worker:
        if args.worker == "scrapy":
            result = _scrapy_main(args.port, args.pages, args.concurrency)
        else:
            transport = "httpcore" if args.worker == "ours-httpcore" else "lean"
            result = _ours_main(args.port, args.pages, args.concurrency, transport)
        print(json.dumps(result), flush=True)
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--worker", "server"], stdout=subprocess.PIPE, cwd=REPO
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        page_kb = len(make_page(0)) / 1024
        print(
            f"{args.pages} pages of {page_kb:.0f} KB ({ITEMS_PER_PAGE} cards each), "
            f"concurrency {args.concurrency}, server on 127.0.0.1:{port}, {os.cpu_count()} CPUs"
        )
        run_side("ours", port, 50, args.concurrency)  # warm the server and the OS caches
        ours = run_side("ours", port, args.pages, args.concurrency)
        scrapy_ = run_side("scrapy", port, args.pages, args.concurrency)
        httpcore = run_side("ours-httpcore", port, args.pages, args.concurrency)
        big = run_side("ours", port, args.big, args.concurrency) if args.big else None
    finally:
        server.terminate()
        server.wait()

    print(
        f"\n{'':<18}{'pages':>7}{'pages/s':>10}{'CPU ms/page':>14}"
        f"{'(whole proc)':>16}{'peak RSS MB':>12}"
    )
    print(_row("rentwatch", ours))
    print(_row("scrapy", scrapy_))
    print(_row("ours, httpcore", httpcore))
    if big:
        print(_row("rentwatch (big)", big))
    speed = (ours["pages"] / ours["wall"]) / (scrapy_["pages"] / scrapy_["wall"])
    cpu = (ours["cpu"] / ours["pages"]) / (scrapy_["cpu"] / scrapy_["pages"])
    proc_cpu = (ours["process_cpu"] / ours["pages"]) / (scrapy_["process_cpu"] / scrapy_["pages"])
    print(f"\nours/scrapy pages/s:      {speed:.2f}x   (target >= 1.5x)")
    print(f"ours/scrapy CPU per page: {cpu:.2f}x   (whole process {proc_cpu:.2f}x; target <= 1.0x)")
    print(f"ours/scrapy peak RSS:     {ours['peak_rss_mb'] / scrapy_['peak_rss_mb']:.2f}x")
    if big:
        print(
            f"peak RSS, ours: {ours['peak_rss_mb']:.0f} MB at {ours['pages']} pages, "
            f"{big['peak_rss_mb']:.0f} MB at {big['pages']} pages"
        )


if __name__ == "__main__":
    main()
