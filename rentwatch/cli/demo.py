"""``rentwatch demo``: the embedded default for a fresh machine."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import click

from db import open_db
from db.demo import is_demo_database, record_demo_market
from rentwatch.cli.group import main
from rentwatch.cli.options import console


def _is_demo_database(path: Path) -> bool:
    db = open_db(path, migrate=False)
    try:
        return is_demo_database(db)
    finally:
        db.close()


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM stops the demo the way Ctrl-C does (the simulation's own cleanup runs)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _free_port(host: str, wanted: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind((host, wanted))
            return wanted
        except OSError:
            sock.bind((host, 0))
            return sock.getsockname()[1]


@main.command("demo")
@click.option(
    "--db",
    "db_path",
    default="demo.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the demo database (replaced if it is a demo database).",
)
@click.option(
    "--days",
    default=30,
    show_default=True,
    type=click.IntRange(1, 365),
    help="Simulated days to scrape and snapshot.",
)
@click.option("--start", default="2026-10-01", show_default=True, help="First simulated day.")
@click.option("--seed", default=7, show_default=True, help="Seed of the simulated market.")
@click.option(
    "--cuts",
    default=0.04,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Landlords' daily chance of cutting the price of a flat on offer for two weeks or "
    "more, by 3-10 % (0: prices never change).",
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address Datasette listens on."
)
@click.option(
    "--port",
    default=8001,
    show_default=True,
    help="Datasette port (a free one is taken if it is busy).",
)
@click.option("--no-serve", is_flag=True, help="Stop after the simulation and the tables.")
def demo_command(
    db_path: str,
    days: int,
    start: str,
    seed: int,
    cuts: float,
    host: str,
    port: int,
    no_serve: bool,
) -> None:
    """Simulate a Hangzhou rental market on 127.0.0.1 and measure it end to end.

    Buildings such as 丽晶国际 in 九堡 empty over the weeks, and landlords of flats long
    on offer cut their price; each empty flat is advertised by several agents in the real
    Lianjia markup. Every simulated day goes through the
    real `rentwatch scrape` and `rentwatch snapshot` code; then the buildings table and
    the estimate's error against the simulation's truth are printed, and Datasette
    serves the result with its charts until Ctrl-C.
    """
    from pipeline.dates import parse_day
    from rentwatch.cli.snapshot import print_day
    from rentwatch.serve import serve_datasette
    from rentwatch.sim.run import evaluate, run_simulation

    start = parse_day(start, what="--start")
    path = Path(db_path)
    if path.exists() and not _is_demo_database(path):
        raise click.ClickException(
            f"{path} exists and is not a demo database; choose another --db so nothing is overwritten"
        )
    # Built beside the target and moved into place only when complete: an interrupted demo
    # leaves the previous demo.db as it was and a .partial file that the next run replaces.
    partial = Path(f"{path}.partial")
    _remove_database(partial)
    out = console()
    out.print(f"Simulating {days} days of a Hangzhou rental market from {start} into {path} …")

    def on_day(day: str, info: dict) -> None:
        out.print(
            f"  {day}: scrape {info['scrape']}, {info['pages']} pages, "
            f"{info['ads']} ads -> {info['units']} units"
        )

    try:
        with _sigterm_interrupts():
            result = run_simulation(
                partial, days=days, start=start, seed=seed, on_day=on_day, cut_chance=cuts
            )
            db = open_db(partial)
            record_demo_market(db, seed=seed, start=start, days=days, cut_chance=cuts)
            db.close()
            _remove_database(path)
            os.replace(partial, path)
    except KeyboardInterrupt:
        out.print(
            f"Interrupted: {path} was not changed; `rentwatch demo` again starts over "
            f"(it replaces the unfinished {partial.name})."
        )
        raise SystemExit(130) from None
    db = open_db(path)
    print_day(out, db, result.days[-1], 20)
    scores = evaluate(db, result.truth)
    if scores["building_days"]:
        out.print(
            f"Against the simulation's truth ({scores['building_days']} building-days with 5+ empty flats): "
            f"units off by {scores['units_mape']:.1%} on average, a plain ad count by {scores['ads_mape']:.1%}; "
            f"median rent off by {scores['median_rent_mape'] or 0:.1%}."
        )
        out.print(
            f"Price cuts: {scores['price_cuts_counted']} counted, "
            f"{scores['price_cuts_true']} made by the landlords."
        )
    out.print(f"{result.pages} pages scraped in {result.seconds:.0f} s.")
    db.close()
    if no_serve:
        return
    port = _free_port(host, port)

    def ready(url: str) -> None:
        out.print(
            f"Datasette is serving {path} at {url}  (charts: {url}-/dashboards)  Ctrl-C stops it."
        )

    serve_datasette(path, host, port, on_ready=ready)
    out.print("Stopped.")
