"""How fast each source parses the real saved list pages, beside two baselines measured
in the same run: the bare Lexbor parse of the same bytes plus one CSS query for the
cards (the floor any selectolax parser stands on), and BeautifulSoup (html.parser)
making the same card selection (what many public scrapers use).

    .venv/bin/python bench/bench_parse.py [--runs 15] [--min-time 0.05] [--only lianjia]

Each figure is the best of ``--runs`` rounds; in a round the baseline and the parsers
run one after the other, each repeating the page for at least ``--min-time`` seconds,
so that load from other processes falls on all of them alike. The paired column is the
median over rounds of (parser rate / baseline rate) within the same round.
Target: Lianjia parse + normalise at >= 60 % of the bare Lexbor rate (best-of rates);
the last line says PASS or MISS. glibc's heap trimming is turned off for the run (see
steady_heap): with it on, the ratio moved by ten points with what had run before.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import importlib
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selectolax.lexbor import LexborHTMLParser  # noqa: E402

from scrapers import registry  # noqa: E402
from scrapers.errors import UnknownSource  # noqa: E402
from tests.realpages import REAL_FIXTURES  # noqa: E402

LIANJIA_ITEMS = "div.content__list > div.content__list--item"
#: Lianjia parse + normalise rate as a share of the bare Lexbor rate on the same page.
TARGET = 0.60


@dataclass(frozen=True)
class Case:
    source: str
    page: str  # relative to REAL_FIXTURES
    url: str
    item_selector: str


CASES = (
    Case("lianjia", "lianjia/beike_zufang_list_sz_2020-03.html",
         "https://sz.lianjia.com/zufang/", LIANJIA_ITEMS),
    Case("lianjia", "lianjia/beike_zufang_list_hz_2019-09_localized.html",
         "https://hz.lianjia.com/zufang/", LIANJIA_ITEMS),
    Case("beike", "lianjia/beike_zufang_list_sz_2020-03.html",
         "https://sz.zu.ke.com/zufang/", LIANJIA_ITEMS),
    Case("lianjia-toml", "lianjia/beike_zufang_list_sz_2020-03.html",
         "https://sz.lianjia.com/zufang/", LIANJIA_ITEMS),
    Case("58", "58/58_chuzu_list_sz_2020-03_fontsecret.html",
         "https://sz.58.com/chuzu/", "ul.house-list > li.house-cell"),
    Case("58", "58/58_chuzu_list_bj_dashanzi_2018-05.html",
         "http://bj.58.com/dashanzi/chuzu/", "ul.listUl > li"),
    Case("ziroom", "ziroom/ziroom_list_sh_2016-11.html",
         "http://sh.ziroom.com/z/nl/", "ul#houseList > li"),
    Case("ziroom", "ziroom/ziroom_list_bj_2017-08.html",
         "http://www.ziroom.com/z/nl/", "ul#houseList > li"),
)  # fmt: skip


def load_source(name: str):
    """The registered source, or the bundled TOML one; None (with the reason) when missing."""
    if name == "lianjia-toml":
        from scrapers.declarative import BUNDLED_SOURCES, load_declarative_source

        return load_declarative_source(BUNDLED_SOURCES / "example_lianjia.toml"), None
    try:
        return registry.get_source(name), None
    except (UnknownSource, ImportError, AttributeError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def normaliser() -> tuple[Callable[[list], None], str]:
    """Per-record normalisation from pipeline.units.normalize, as far as it exists in this tree."""
    try:
        norm = importlib.import_module("pipeline.units.normalize")
    except ImportError as exc:
        return (lambda records: None), f"no pipeline.units.normalize ({exc}); parse only"
    parts = [
        n for n in ("monthly_rent", "normalize_area", "normalize_orientation") if hasattr(norm, n)
    ]

    def apply(records: list) -> None:
        for r in records:
            if "monthly_rent" in parts:
                norm.monthly_rent(r.rent, r.rent_text, r.rent_high)
            if "normalize_area" in parts:
                norm.normalize_area(r.area)
            if "normalize_orientation" in parts:
                norm.normalize_orientation(r.orientation)

    return apply, "pipeline.units.normalize: " + (", ".join(parts) or "nothing usable")


# glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def reads_in_use() -> str:
    """Which bulk node reads the parsers use (scrapers/domread.py)."""
    from scrapers import domread

    if domread.COMPILED_MISSING is not None:
        return f"through selectolax ({domread.COMPILED_MISSING})"
    if os.environ.get(domread.NO_COMPILED_ENV):
        return f"through selectolax ({domread.NO_COMPILED_ENV} is set)"
    return "compiled (scrapers/_lexbor_read.c)"


def steady_heap() -> str:
    """Keep freed memory in the process, so that no function pays another's page faults.

    By default glibc gives a large freed block back to the system (munmap, or trimming
    the heap top) and the next parse faults the pages in again. Which function pays
    depends on what ran before: the same parser measured 61 % of bare Lexbor after the
    parsers alone and 49 % after BeautifulSoup had grown the heap. With trimming and
    mmap for large blocks off, every function runs on a warm heap, as in a long
    scraping process, and the ratios repeat from run to run.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return "default allocator (no glibc mallopt here; ratios may move between runs)"
    ok = (
        mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)
        and mallopt(_M_TRIM_THRESHOLD, 1024 * 1024 * 1024)
        and mallopt(_M_TOP_PAD, 16 * 1024 * 1024)
    )
    if not ok:
        return "default allocator (mallopt refused; ratios may move between runs)"
    return "glibc heap kept warm (mmap threshold 32 MiB, no trimming); --default-heap to turn off"


def calibrate(fn: Callable[[], object], min_time: float) -> int:
    """How many calls of ``fn`` last at least ``min_time`` seconds."""
    fn()  # warm up: imports, caches, the font map's first build
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return n
        n = max(n * 2, int(n * min_time / max(elapsed, 1e-9)) + 1)


def rounds(
    fns: dict[str, Callable[[], object]], runs: int, min_time: float
) -> dict[str, list[float]]:
    """Pages per second of each function in each of ``runs`` rounds.

    The functions alternate within every round, so that load from other processes on
    the machine falls on the baseline and the parser alike rather than on whichever ran
    during a busy moment; many short rounds give each function many chances at a
    quiet moment.
    """
    counts = {name: calibrate(fn, min_time) for name, fn in fns.items()}
    measured: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            n = counts[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            measured[name].append(n / (time.perf_counter() - start))
    return measured


def rates(fns: dict[str, Callable[[], object]], runs: int, min_time: float) -> dict[str, float]:
    """Pages per second of each function: the best of ``runs`` alternating rounds."""
    return {name: max(r) for name, r in rounds(fns, runs, min_time).items()}


def paired_ratio(parser: list[float], baseline: list[float]) -> float:
    """Median over rounds of parser rate / baseline rate measured in the same round."""
    return statistics.median(p / b for p, b in zip(parser, baseline, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="alternating rounds (best of)")
    parser.add_argument(
        "--min-time", type=float, default=0.05, help="seconds per function per round"
    )
    parser.add_argument("--no-bs4", action="store_true", help="skip the BeautifulSoup baseline")
    parser.add_argument(
        "--only", action="append", metavar="SOURCE", help="only these sources (repeatable)"
    )
    parser.add_argument(
        "--default-heap",
        action="store_true",
        help="leave glibc's heap trimming on (ratios then depend on what ran before)",
    )
    args = parser.parse_args(argv)
    heap = "default allocator (--default-heap)" if args.default_heap else steady_heap()
    # Parsers warn once per skipped card; thousands of repeats would bury the table.
    logging.disable(logging.WARNING)

    try:
        from bs4 import BeautifulSoup
    except ImportError:
        BeautifulSoup = None  # noqa: N806
    normalise, norm_note = normaliser()
    print(f"real pages: {REAL_FIXTURES}")
    print(f"normalise: {norm_note}")
    print(f"heap: {heap}")
    print(f"node reads: {reads_in_use()}")
    print(
        f"best of {args.runs} alternating rounds, each >= {args.min_time}s per function; "
        "rates in pages/second\n"
    )
    header = (
        f"{'source':<13}{'page':<44}{'cards':>6}{'lexbor':>9}{'parse':>9}{'+norm':>9}"
        f"{'bs4':>8}{'+norm/lexbor':>14}{'paired':>8}{'+norm/bs4':>11}"
    )
    print(header)
    print("-" * len(header))

    summary: dict[str, list[float]] = {}
    paired: dict[str, list[float]] = {}
    for case in CASES:
        if args.only and case.source not in args.only:
            continue
        source, missing = load_source(case.source)
        if source is None:
            print(f"{case.source:<13}skipped: {missing}")
            continue
        body = (REAL_FIXTURES / case.page).read_bytes()

        def bare(body: bytes = body, sel: str = case.item_selector) -> int:
            return len(LexborHTMLParser(body).css(sel))

        def parse(body: bytes = body, url: str = case.url, source=source):
            return source.parse_list(body, url)

        def parse_norm(body: bytes = body, url: str = case.url, source=source) -> None:
            normalise(source.parse_list(body, url).records)

        records = parse().records
        measured = rounds(
            {"lexbor": bare, "parse": parse, "full": parse_norm}, args.runs, args.min_time
        )
        lexbor, parsed, full = (max(measured[k]) for k in ("lexbor", "parse", "full"))
        pair = paired_ratio(measured["full"], measured["lexbor"])
        paired.setdefault(case.source, []).append(pair)
        soup_rate = None
        if BeautifulSoup is not None and not args.no_bs4:

            def soup(body: bytes = body, sel: str = case.item_selector) -> int:
                return len(BeautifulSoup(body, "html.parser").select(sel))

            soup_rate = rates({"bs4": soup}, max(2, args.runs // 2), args.min_time)["bs4"]
        ratio = full / lexbor
        summary.setdefault(case.source, []).append(ratio)
        soup_col = f"{soup_rate:>8.1f}" if soup_rate else f"{'-':>8}"
        vs_soup = f"{full / soup_rate:>10.1f}x" if soup_rate else f"{'-':>11}"
        print(
            f"{case.source:<13}{Path(case.page).name[:43]:<44}{len(records):>6}"
            f"{lexbor:>9.1f}{parsed:>9.1f}{full:>9.1f}{soup_col}"
            f"{ratio:>13.0%} {pair:>7.0%} {vs_soup}"
        )

    print()
    for name, ratios in summary.items():
        pairs = paired[name]
        print(
            f"{name:<13} parse+normalise = {min(ratios):.0%} .. {max(ratios):.0%} of bare Lexbor"
            f" (paired {min(pairs):.0%} .. {max(pairs):.0%})"
        )
    lianjia = summary.get("lianjia")
    if lianjia:
        worst = min(lianjia)
        verdict = "PASS" if worst >= TARGET else "MISS"
        print(
            f"\n{verdict}: Lianjia parse+normalise at {worst:.0%} of bare Lexbor "
            f"(worst page; target >= {TARGET:.0%})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
