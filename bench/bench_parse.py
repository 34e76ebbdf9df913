"""How fast each source parses the real saved list pages, beside two baselines that read
the same bytes in the same rounds: the bare Lexbor parse plus one CSS query for the
cards (the floor any selectolax parser stands on), and BeautifulSoup (html.parser)
making the same card selection (what many public scrapers use).

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/bench_parse.py

Same bytes: the Lianjia/Beike parser reads a good page from its list region alone
(scrapers/lianjia.py, _list_region); on such a page both baselines cut the same region,
in every call, and parse that. Other pages are parsed whole by every function.

Paired rounds: in each of ``--runs`` rounds the baselines and the parser run one after
the other, each repeating the page for at least ``--min-time`` seconds, and the round
gives one ratio (parser rate / baseline rate). Load from other processes then falls on
both sides of a ratio alike; the table shows the min / median / max of the ratios.
Every function runs with the same default allocator.
"""

from __future__ import annotations

import argparse
import importlib
import logging
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
from scrapers.lianjia import LianjiaSource, _list_region  # noqa: E402
from tests.realpages import REAL_FIXTURES  # noqa: E402

LIANJIA_ITEMS = "div.content__list > div.content__list--item"


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


def page_cut(source, body: bytes, url: str) -> tuple[Callable[[bytes], bytes], str]:
    """The cut the parser makes of the page before it builds a tree (the baselines make
    the same one), and its name."""
    if isinstance(source, LianjiaSource):
        region = _list_region(body)
        if region is not None and source._parse_list_region(region, url) is not None:
            return _region, "region"
    return _whole, "whole"


def _region(body: bytes) -> bytes:
    region = _list_region(body)
    assert region is not None
    return region


def _whole(body: bytes) -> bytes:
    return body


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


def spread(values: list[float]) -> tuple[float, float, float]:
    """(min, median, max)."""
    return min(values), statistics.median(values), max(values)


def ratios(parser: list[float], baseline: list[float]) -> list[float]:
    """Parser rate / baseline rate, round by round."""
    return [p / b for p, b in zip(parser, baseline, strict=True)]


def fmt_spread(values: list[float], pattern: str) -> str:
    return " / ".join(format(v, pattern) for v in spread(values))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="paired rounds")
    parser.add_argument(
        "--min-time", type=float, default=0.05, help="seconds per function per round"
    )
    parser.add_argument("--no-bs4", action="store_true", help="skip the BeautifulSoup baseline")
    parser.add_argument(
        "--only", action="append", metavar="SOURCE", help="only these sources (repeatable)"
    )
    args = parser.parse_args(argv)
    if not REAL_FIXTURES.is_dir():
        print(
            f"no real saved pages at {REAL_FIXTURES}: set RENTWATCH_REAL_FIXTURES", file=sys.stderr
        )
        return 1
    # Parsers warn once per skipped card; thousands of repeats would bury the table.
    logging.disable(logging.WARNING)

    try:
        from bs4 import BeautifulSoup
    except ImportError:
        BeautifulSoup = None  # noqa: N806
    if BeautifulSoup is None and not args.no_bs4:
        print("no bs4 here (pip install -e '.[bench]'): BeautifulSoup column left out")
    normalise, norm_note = normaliser()
    print(f"real pages: {REAL_FIXTURES}")
    print(f"normalise: {norm_note}")
    print(
        f"{args.runs} paired rounds, each >= {args.min_time}s per function; rates: median "
        "pages/second; ratios: min / median / max over the rounds\n"
    )
    header = (
        f"{'source':<13}{'page':<40}{'bytes':<7}{'cards':>6}{'lexbor':>8}{'+norm':>8}"
        f"{'bs4':>7}  {'+norm / lexbor':<20}{'+norm / bs4':<20}"
    )
    print(header)
    print("-" * len(header))

    summary: dict[str, list[float]] = {}
    for case in CASES:
        if args.only and case.source not in args.only:
            continue
        source, missing = load_source(case.source)
        if source is None:
            print(f"{case.source:<13}skipped: {missing}")
            continue
        body = (REAL_FIXTURES / case.page).read_bytes()
        cut, cut_name = page_cut(source, body, case.url)

        def bare(body: bytes = body, sel: str = case.item_selector, cut=cut) -> int:
            return len(LexborHTMLParser(cut(body)).css(sel))

        def parse_norm(body: bytes = body, url: str = case.url, source=source) -> None:
            normalise(source.parse_list(body, url).records)

        fns: dict[str, Callable[[], object]] = {"lexbor": bare, "full": parse_norm}
        if BeautifulSoup is not None and not args.no_bs4:

            def soup(body: bytes = body, sel: str = case.item_selector, cut=cut) -> int:
                return len(BeautifulSoup(cut(body), "html.parser").select(sel))

            fns["bs4"] = soup
        cards = len(source.parse_list(body, case.url).records)
        measured = rounds(fns, args.runs, args.min_time)
        vs_lexbor = ratios(measured["full"], measured["lexbor"])
        summary.setdefault(case.source, []).extend(vs_lexbor)
        vs_soup = ratios(measured["full"], measured["bs4"]) if "bs4" in measured else None
        soup_rate = f"{statistics.median(measured['bs4']):>7.0f}" if vs_soup else f"{'-':>7}"
        print(
            f"{case.source:<13}{Path(case.page).name[:39]:<40}{cut_name:<7}{cards:>6}"
            f"{statistics.median(measured['lexbor']):>8.0f}"
            f"{statistics.median(measured['full']):>8.0f}{soup_rate}  "
            f"{fmt_spread(vs_lexbor, '.0%'):<20}"
            f"{fmt_spread(vs_soup, '.0f') + ' x' if vs_soup else '-':<20}"
        )

    print()
    for name, values in summary.items():
        print(
            f"{name:<13} parse+normalise / bare Lexbor on the same bytes, all rounds of all "
            f"its pages: {fmt_spread(values, '.0%')}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
