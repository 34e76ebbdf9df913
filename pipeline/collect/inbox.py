"""Take in saved pages: from files given to ``rentwatch ingest``, or an inbox folder.

Each page's site and city come from its host (the URL it says it was saved from, or the
host its own links name), its day from the page (SingleFile's saved date, the MHTML Date
header), else the file's time, else today; ``--source``, ``--city`` and ``--as-of`` given
by a person win over a guess but never over what the page declares: a Shenzhen page under
``--city hz`` is rejected with the reason. Pages of one site, city and day go in as one
ingest run, whose message says where the day came from.

An inbox folder is emptied this way: every file ends in ``done/`` or ``rejected/`` (with
``NAME.reason.txt`` beside it), and a body already archived as a saved page is never taken
in twice.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import sqlite_utils

from db.pages import content_hash, saved_page_with_hash
from pipeline.collect.ingest import HTML_SUFFIXES, IngestedFile, expand_paths, ingest
from pipeline.collect.saved import SavedPage, read_saved
from pipeline.dates import today_shanghai
from scrapers.fetch.body import MAX_BODY_SIZE
from scrapers.registry import all_sources, get_source
from scrapers.source import Source

log = logging.getLogger(__name__)

DONE, REJECTED = "done", "rejected"
#: Host labels that are a city's code on the sites (hz.lianjia.com, sz.zu.ke.com, bj.58.com,
#: wh.zu.anjuke.com). The sites' own services sit on hosts of the same shape
#: (upassport.lianjia.com, dianpu.lianjia.com, catcher.ziroom.com, jxjump.58.com): a label
#: outside this list names no city, so a login or tracking host never gives a page its city;
#: a page of a city not listed here is taken in with --city.
CITY_CODES = frozenset(
    {
        "bj", "sh", "gz", "sz", "tj", "cq", "cd", "wh", "hz", "nj", "su", "xa", "cs", "zz",
        "jn", "qd", "dl", "sy", "xm", "fz", "hf", "km", "nn", "gy", "ty", "sjz", "hui", "dg",
        "fs", "zs", "zh", "wx", "nb", "yt", "lf", "cc", "hrb", "nc", "wz", "jx", "sx", "tz",
        "cz", "yz", "nt", "xz", "bd", "ts", "lz", "yc", "hk", "sanya", "wlmq", "hhht", "yy",
    }
)  # fmt: skip


@dataclass(slots=True)
class Site:
    source: str
    city: str | None
    host: str


@dataclass(slots=True)
class TakenFile:
    path: Path
    ok: bool
    message: str
    source: str | None = None
    city: str | None = None
    day: str | None = None
    day_from: str | None = None
    run_id: int | None = None
    listings: int = 0


@dataclass(slots=True)
class TakeInReport:
    files: list[TakenFile] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)
    #: Suspect values not stored, by "field:kind", over all the runs.
    suspect: Counter[str] = field(default_factory=Counter)

    @property
    def listings(self) -> int:
        return sum(f.listings for f in self.files)

    @property
    def rejected(self) -> list[TakenFile]:
        return [f for f in self.files if not f.ok]

    def as_dict(self) -> dict:
        return {
            "runs": self.run_ids,
            "pages": len(self.files),
            "listings": self.listings,
            "rejected": len(self.rejected),
            "suspect": dict(self.suspect),
            "files": [
                {
                    "path": str(f.path),
                    "ok": f.ok,
                    "message": f.message,
                    "source": f.source,
                    "city": f.city,
                    "day": f.day,
                    "day_from": f.day_from,
                    "run": f.run_id,
                    "listings": f.listings,
                }
                for f in self.files
            ],
        }


def _host_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(re.escape("{city}"), r"(?P<city>[a-z]+)") + "$")


def site_of_host(host: str, sources: list[Source]) -> Site | None:
    """The source whose host pattern this host fits, and its city where the label is a city's
    code: sz.zu.ke.com is beike in sz; upassport.lianjia.com is lianjia in no city."""
    host = host.lower().split(":")[0]
    for source in sources:
        for pattern in source.hosts:
            m = _host_pattern(pattern).match(host)
            if m:
                city = m.groupdict().get("city")
                return Site(source.name, city if city in CITY_CODES else None, host)
    return None


def site_of_page(page: SavedPage) -> tuple[Site | None, bool]:
    """The page's site and city, and whether the page declares them (its URL) or its links
    only suggest them.

    Both are facts about the page, whichever parser ``--source`` names: a Beike page read
    as Lianjia's is still on hz.zu.ke.com, and another site's page keeps its city so that
    the parser, not a missing city, says why it is not the source's. Without a URL, the
    page's host is the known site's host its links name most, a city's host winning a tie;
    a host whose label is not a city code (www.ziroom.com, pic.ziroom.com) gives the site
    but no city.
    """
    every = all_sources()
    if page.url and (site := site_of_host(urlsplit(page.url).netloc, every)):
        return site, True
    return _most_linked(page, every), False


def _most_linked(page: SavedPage, sources: list[Source]) -> Site | None:
    best: tuple[int, bool] | None = None
    chosen = None
    for host, n in page.hosts.items():
        site = site_of_host(host, sources)
        if site and (best is None or (n, site.city is not None) > best):
            best, chosen = (n, site.city is not None), site
    return chosen


@dataclass(slots=True)
class _Plan:
    path: Path
    page: SavedPage
    source: str
    city: str | None
    declared: bool
    base_url: str | None
    #: The city the page's links name, for a page that does not declare its URL.
    suggested: str | None


def take_in(
    db: sqlite_utils.Database,
    paths: list[str | Path],
    *,
    source_name: str | None = None,
    city: str | None = None,
    as_of: str | None = None,
    skip_seen: bool = False,
) -> TakeInReport:
    """Ingest saved pages, each under its own site, city and day (see the module's text)."""
    report = TakeInReport()
    if source_name:
        get_source(source_name)  # an unknown name is an error before any file is read
    plans: list[_Plan] = []
    batch: dict[str, Path] = {}
    files, skipped = expand_paths(paths)
    for path in files:
        if (size := path.stat().st_size) > MAX_BODY_SIZE:
            # The same cap as a fetched page: never read, never archived.
            cap = f"rejected: {size:,} bytes, over the {MAX_BODY_SIZE // 2**20} MiB page cap"
            report.files.append(TakenFile(path, False, cap))
            continue
        page = read_saved(path)
        site, declared = site_of_page(page)
        reason = None
        digest = content_hash(page.body)
        if skip_seen and (seen := saved_page_with_hash(db, digest)):
            reason = f"already taken in: the same page is archived as page {seen[0]} of {seen[1]}"
        elif skip_seen and digest in batch:
            reason = f"already taken in: the same page as {batch[digest].name}"
        elif site is None and source_name is None:
            reason = (
                "no site: the page names no URL of a known site (saved-from comment, canonical "
                "link, og:url) and its links name none; give --source"
            )
        elif declared and site and city and site.city and site.city != city:
            reason = f"a page of city {site.city!r} ({site.host}), not of --city {city!r}"
        if reason:
            report.files.append(TakenFile(path, False, f"rejected: {reason}"))
            continue
        batch[digest] = path
        assert site is not None or source_name is not None
        name = source_name or site.source  # type: ignore[union-attr]
        page_city = site.city if site else None
        base = None
        if not (declared and page.url) and site and site.city:
            base = f"https://{site.host}/"
        plans.append(
            _Plan(
                path,
                page,
                name,
                page_city if declared else None,
                declared,
                page.url if declared else base,
                None if declared else page_city,
            )
        )
    _settle_cities(plans, city, report)
    groups: dict[tuple[str, str, str, str], list[_Plan]] = {}
    for plan in plans:
        if plan.city is None:
            continue
        day, day_from = _day(plan.page, as_of)
        groups.setdefault((plan.source, plan.city, day, day_from), []).append(plan)
    for (name, run_city, day, day_from), group in groups.items():
        # What could not be read (a FIFO, a link loop) is counted in the first run, which is
        # then partial, as a run that read only some of the pages it was given is.
        unread: list[str | Path] = [item.path for item in skipped]
        skipped = []
        result = ingest(
            db,
            unread + [p.path for p in group],
            source_name=name,
            as_of=day,
            city=run_city,
            urls={p.path: p.base_url for p in group if p.base_url},
            note=f"observed {day}, the day from {day_from}",
        )
        report.run_ids.append(result.run_id)
        report.suspect.update(result.suspect)
        for item in result.files:
            report.files.append(_taken(item, name, run_city, day, day_from, result.run_id))
    # With no run to count them in, they are still told.
    report.files += [TakenFile(item.path, False, item.message) for item in skipped]
    return report


def _settle_cities(plans: list[_Plan], city: str | None, report: TakeInReport) -> None:
    """A city for every page: its own, else --city, else the city the other pages declare,
    else the one its links suggest; a page left without one is rejected (a run needs a city)."""
    declared = Counter(p.city for p in plans if p.city)
    fallback = city or (declared.most_common(1)[0][0] if declared else None)
    for plan in list(plans):
        if plan.city:
            continue
        plan.city = fallback or plan.suggested
        if plan.city is None:
            plans.remove(plan)
            report.files.append(
                TakenFile(
                    plan.path,
                    False,
                    "rejected: no city: the page names no host with a city; give --city",
                )
            )


def _day(page: SavedPage, as_of: str | None) -> tuple[str, str]:
    if as_of:
        return as_of, "--as-of"
    if page.saved_day and page.day_from:
        return page.saved_day, page.day_from
    return today_shanghai(), "today (the page and the file gave none)"


def _taken(
    item: IngestedFile, source: str, city: str, day: str, day_from: str, run_id: int
) -> TakenFile:
    return TakenFile(
        item.path, item.ok, item.message, source, city, day, day_from, run_id, item.listings
    )


# -- the inbox folder ------------------------------------------------------------------------


def inbox_files(folder: Path) -> list[Path]:
    """Saved pages waiting in the inbox, oldest first (its top level: ``done/``, ``rejected/``
    and a "Save page as, complete" ``NAME_files/`` folder are not pages)."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in HTML_SUFFIXES]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def take_in_folder(
    db: sqlite_utils.Database,
    folder: str | Path,
    *,
    source_name: str | None = None,
    city: str | None = None,
    as_of: str | None = None,
) -> TakeInReport:
    """Ingest every page waiting in ``folder`` and move each to done/ or rejected/."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no such inbox folder: {folder}")
    files = inbox_files(folder)
    if not files:
        return TakeInReport()
    report = take_in(
        db, list(files), source_name=source_name, city=city, as_of=as_of, skip_seen=True
    )
    for item in report.files:
        _file_away(folder, item)
    return report


def _file_away(folder: Path, item: TakenFile) -> None:
    target = folder / (DONE if item.ok else REJECTED)
    target.mkdir(exist_ok=True)
    dest = _free_name(target, item.path.name)
    shutil.move(str(item.path), dest)
    # "Save page as, complete" writes NAME_files/ beside NAME.html: it goes along.
    assets = item.path.with_name(item.path.stem + "_files")
    if assets.is_dir():
        shutil.move(str(assets), dest.with_name(dest.stem + "_files"))
    if not item.ok:
        dest.with_name(dest.name + ".reason.txt").write_text(item.message + "\n", encoding="utf-8")


def _free_name(folder: Path, name: str) -> Path:
    dest = folder / name
    n = 1
    while dest.exists():
        stem, dot, suffix = name.rpartition(".")
        dest = folder / (f"{stem}-{n}.{suffix}" if dot else f"{name}-{n}")
        n += 1
    return dest


def watch(
    db: sqlite_utils.Database,
    folder: str | Path,
    *,
    interval: float,
    on_report: Callable[[TakeInReport], None],
    stop: Callable[[], bool] = lambda: False,
    **options: str | None,
) -> None:
    """Take in the folder every ``interval`` seconds until ``stop()`` says so (or Ctrl-C)."""
    while not stop():
        report = take_in_folder(db, folder, **options)
        if report.files:
            on_report(report)
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline and not stop():
            time.sleep(min(0.2, interval))
