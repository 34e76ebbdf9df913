"""``rentwatch.toml``: what the scheduled job scrapes, when, and where it keeps its data.

Loading checks everything a scheduler would trip over later (unknown keys, wrong types,
cron expressions, time zones) and reports it as :class:`ConfigError` naming the key and
its line in the file, so a typo is found when the file is read, not at 6 a.m.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_CONFIG = "rentwatch.toml"
DEFAULT_TIMEZONE = "Asia/Shanghai"
#: Fields a schedule table may hold: APScheduler's CronTrigger arguments.
CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, the key and the line."""


@dataclass(frozen=True)
class Schedule:
    """A cron schedule: either a five-field crontab line or CronTrigger fields (with seconds)."""

    crontab: str | None = None
    fields: tuple[tuple[str, str], ...] = ()

    def trigger(self, timezone: str):
        from apscheduler.triggers.cron import CronTrigger

        if self.crontab is not None:
            return CronTrigger.from_crontab(self.crontab, timezone=timezone)
        return CronTrigger(timezone=timezone, **dict(self.fields))

    def describe(self) -> str:
        if self.crontab is not None:
            return self.crontab
        return " ".join(f"{k}={v}" for k, v in self.fields)


@dataclass(frozen=True)
class SourceJob:
    """One scheduled scrape: a registered source over a city, some districts or buildings."""

    id: str
    name: str
    city: str
    schedule: Schedule
    districts: tuple[str, ...] = ()
    buildings: tuple[str, ...] = ()
    #: Also every registry building of the city that has an id on this source.
    tracked: bool = False
    delay: float | None = None
    concurrency: int | None = None
    base_url: str | None = None
    #: Proxy URL for this job's requests; None: the config's ``proxy``, else the environment.
    proxy: str | None = None
    #: The site allows a delay under 1 s or more than 2 requests at once.
    i_have_permission: bool = False


@dataclass(frozen=True)
class SnapshotJob:
    #: Fallback time: the snapshot normally runs as soon as the day's scrapes are done;
    #: at this time it runs anyway for a day whose scrapes never all finished.
    schedule: Schedule = field(default_factory=lambda: Schedule(crontab="50 23 * * *"))
    enabled: bool = True


@dataclass(frozen=True)
class Config:
    path: Path
    database: Path
    jobstore: Path
    timezone: str = DEFAULT_TIMEZONE
    sources: tuple[SourceJob, ...] = ()
    snapshot: SnapshotJob = field(default_factory=SnapshotJob)
    #: A folder of pages saved in a browser, taken in before each day's snapshot.
    inbox: Path | None = None

    def source(self, job_id: str) -> SourceJob:
        for s in self.sources:
            if s.id == job_id:
                return s
        raise ConfigError(
            f"{self.path}: no source with id {job_id!r} (have: {', '.join(s.id for s in self.sources)})"
        )


# -- loading ----------------------------------------------------------------------------


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read and check a config file. Relative paths in it are relative to the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} not found") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc})") from exc
    return parse_config(text, path)


def parse_config(text: str, path: str | Path = DEFAULT_CONFIG) -> Config:
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends with "(at line N, column M)"
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return _Checker(text, path).config(data)


class _Checker:
    def __init__(self, text: str, path: Path) -> None:
        self.lines = text.splitlines()
        self.path = path
        self.base = path.parent

    # Where a key sits, for messages about values (tomllib only locates syntax errors).
    def line_of(self, key: str, *, table: str | None = None, nth: int = 0) -> int | None:
        """Line (1-based) of ``key = ...``, searched after the ``nth`` header of ``table``."""
        start = 0
        if table is not None:
            header = re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\s*\]\]?\s*(#.*)?$")
            seen = -1
            for i, line in enumerate(self.lines):
                if header.match(line):
                    seen += 1
                    if seen == nth:
                        start = i
                        break
            else:
                return None
        pattern = re.compile(r"^\s*(\[\[?\s*)?" + re.escape(key) + r"\s*(=|\]|\.)")
        inline = re.compile(r"[{,]\s*" + re.escape(key) + r"\s*=")
        for i in range(start, len(self.lines)):
            line = self.lines[i]
            if i > start and table is not None and line.lstrip().startswith("["):
                break
            if pattern.match(line) or inline.search(line):
                return i + 1
        return start + 1 if table is not None else None

    def fail(
        self, key: str, problem: str, *, table: str | None = None, nth: int = 0
    ) -> ConfigError:
        line = self.line_of(key.split(".")[-1], table=table, nth=nth)
        where = f" (line {line})" if line else ""
        name = (
            f"{table}[{nth}].{key}" if table == "sources" else (f"{table}.{key}" if table else key)
        )
        return ConfigError(f"{self.path}{where}: {name}: {problem}")

    def config(self, data: dict[str, Any]) -> Config:
        known = {"database", "jobstore", "timezone", "sources", "snapshot", "proxy", "inbox"}
        for key in data:
            if key not in known:
                raise self.fail(key, f"unknown key (known: {', '.join(sorted(known))})")
        database = self.path_value(data, "database", "rentwatch.db")
        jobstore = self.path_value(
            data, "jobstore", str(database.name) + ".jobs.sqlite", near=database
        )
        if jobstore.resolve() == database.resolve():
            raise self.fail(
                "jobstore",
                "must be a different file from database (a long write would lock the scheduler)",
            )
        timezone = data.get("timezone", DEFAULT_TIMEZONE)
        if not isinstance(timezone, str):
            raise self.fail("timezone", f"expected a time zone name such as {DEFAULT_TIMEZONE!r}")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise self.fail("timezone", f"unknown time zone {timezone!r}") from exc

        proxy = data.get("proxy")
        if proxy is not None:
            self.check_proxy(proxy)
        raw_sources = data.get("sources", [])
        if not isinstance(raw_sources, list):
            raise self.fail("sources", "expected [[sources]] tables")
        sources = tuple(
            self.source(s, i, timezone, default_proxy=proxy) for i, s in enumerate(raw_sources)
        )
        ids = [s.id for s in sources]
        for i, job_id in enumerate(ids):
            if job_id in ids[:i]:
                raise self.fail(
                    "id",
                    f"duplicate job id {job_id!r}: give one of them a distinct id",
                    table="sources",
                    nth=i,
                )
        snapshot = self.snapshot(data.get("snapshot", {}), timezone)
        inbox = self.path_value(data, "inbox", "") if "inbox" in data else None
        return Config(self.path, database, jobstore, timezone, sources, snapshot, inbox)

    def path_value(
        self, data: dict[str, Any], key: str, default: str, *, near: Path | None = None
    ) -> Path:
        value = data.get(key)
        if value is None:
            return (near.parent / default) if near is not None else self.base / default
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "expected a file path (a string)")
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base / p

    def check_proxy(self, proxy: Any, *, nth: int | None = None) -> None:
        if not isinstance(proxy, str) or not re.match(r"(https?|socks5h?)://[^/\s]+", proxy):
            raise self.fail(
                "proxy",
                'expected a proxy URL such as "http://127.0.0.1:3128" (http, https, socks5)',
                table="sources" if nth is not None else None,
                nth=nth or 0,
            )

    def source(
        self, raw: Any, nth: int, timezone: str, *, default_proxy: str | None = None
    ) -> SourceJob:
        table = "sources"
        if not isinstance(raw, dict):
            raise self.fail("sources", "each source must be a [[sources]] table")
        known = {
            "id",
            "name",
            "city",
            "districts",
            "buildings",
            "tracked",
            "schedule",
            "delay",
            "concurrency",
            "base_url",
            "proxy",
            "i_have_permission",
        }
        for key in raw:
            if key not in known:
                raise self.fail(
                    key, f"unknown key (known: {', '.join(sorted(known))})", table=table, nth=nth
                )
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise self.fail(
                "name", 'required: the source\'s name, e.g. "lianjia"', table=table, nth=nth
            )
        from scrapers.registry import names

        if name not in names():
            raise self.fail(
                "name",
                f"unknown source {name!r} (known: {', '.join(names())})",
                table=table,
                nth=nth,
            )
        city = raw.get("city")
        if not isinstance(city, str) or not city:
            raise self.fail(
                "city", 'required: the site\'s city code, e.g. "hz"', table=table, nth=nth
            )
        districts = self.str_list(raw, "districts", nth)
        buildings = self.str_list(raw, "buildings", nth)
        tracked = raw.get("tracked", False)
        if not isinstance(tracked, bool):
            raise self.fail("tracked", "expected true or false", table=table, nth=nth)
        job_id = raw.get("id", f"{name}-{city}")
        if not isinstance(job_id, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", job_id):
            raise self.fail("id", "expected letters, digits, '-', '_' or '.'", table=table, nth=nth)
        if "schedule" not in raw:
            raise self.fail(
                "schedule", 'required, e.g. "0 6 * * *" (06:00 every day)', table=table, nth=nth
            )
        schedule = self.schedule(raw["schedule"], timezone, "schedule", table=table, nth=nth)
        delay = raw.get("delay")
        if delay is not None and (
            isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0
        ):
            raise self.fail(
                "delay", "expected seconds between requests, a number >= 0", table=table, nth=nth
            )
        concurrency = raw.get("concurrency")
        if concurrency is not None and (
            isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
        ):
            raise self.fail("concurrency", "expected a whole number >= 1", table=table, nth=nth)
        base_url = raw.get("base_url")
        if base_url is not None and (
            not isinstance(base_url, str) or not re.match(r"https?://", base_url)
        ):
            raise self.fail("base_url", "expected an http:// or https:// URL", table=table, nth=nth)
        proxy = raw.get("proxy", default_proxy)
        if "proxy" in raw:
            self.check_proxy(proxy, nth=nth)
        permission = raw.get("i_have_permission", False)
        if not isinstance(permission, bool):
            raise self.fail("i_have_permission", "expected true or false", table=table, nth=nth)
        self.check_politeness(name, city, delay, concurrency, base_url, permission, nth)
        return SourceJob(
            id=job_id,
            name=name,
            city=city,
            schedule=schedule,
            districts=districts,
            buildings=buildings,
            tracked=tracked,
            delay=float(delay) if delay is not None else None,
            concurrency=concurrency,
            base_url=base_url,
            proxy=proxy,
            i_have_permission=permission,
        )

    def check_politeness(
        self,
        name: str,
        city: str,
        delay: float | None,
        concurrency: int | None,
        base_url: str | None,
        permission: bool,
        nth: int,
    ) -> None:
        """The same floor ``rentwatch scrape`` applies: refused here, at load and ``--check``."""
        from urllib.parse import urlsplit

        from scrapers.fetch.policy import politeness_refusal
        from scrapers.registry import get_source

        source = get_source(name)
        polite = source.politeness
        if base_url:
            host = urlsplit(base_url).hostname
        else:
            try:
                host = urlsplit(source.base_url(city)).hostname
            except ValueError:
                host = None
        refusal = politeness_refusal(
            host,
            polite.delay if delay is None else delay,
            polite.concurrency if concurrency is None else concurrency,
            permission=permission,
        )
        if refusal:
            key = "delay" if delay is not None and delay < 1 else "concurrency"
            raise self.fail(key, refusal, table="sources", nth=nth)

    def str_list(self, raw: dict[str, Any], key: str, nth: int) -> tuple[str, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "expected a list of non-empty strings", table="sources", nth=nth)
        return tuple(value)

    def schedule(
        self, value: Any, timezone: str, key: str, *, table: str, nth: int = 0
    ) -> Schedule:
        if isinstance(value, str):
            schedule = Schedule(crontab=value.strip())
        elif isinstance(value, dict):
            for k, v in value.items():
                if k not in CRON_FIELDS:
                    raise self.fail(
                        key,
                        f"unknown cron field {k!r} (known: {', '.join(CRON_FIELDS)})",
                        table=table,
                        nth=nth,
                    )
                if not isinstance(v, str | int) or isinstance(v, bool):
                    raise self.fail(
                        key, f"cron field {k!r} must be a string or a number", table=table, nth=nth
                    )
            schedule = Schedule(fields=tuple((k, str(v)) for k, v in value.items()))
        else:
            raise self.fail(
                key,
                'expected a crontab line such as "0 6 * * *" or a table {hour = 6}',
                table=table,
                nth=nth,
            )
        try:
            schedule.trigger(timezone)
        except ValueError as exc:
            raise self.fail(
                key, f"bad cron schedule {schedule.describe()!r}: {exc}", table=table, nth=nth
            ) from exc
        return schedule

    def snapshot(self, raw: Any, timezone: str) -> SnapshotJob:
        if not isinstance(raw, dict):
            raise self.fail("snapshot", "expected a [snapshot] table")
        for key in raw:
            if key not in {"schedule", "enabled"}:
                raise self.fail(key, "unknown key (known: enabled, schedule)", table="snapshot")
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            raise self.fail("enabled", "expected true or false", table="snapshot")
        if "schedule" in raw:
            return SnapshotJob(
                self.schedule(raw["schedule"], timezone, "schedule", table="snapshot"), enabled
            )
        return SnapshotJob(enabled=enabled)


# -- what a run needs beyond the file ---------------------------------------------------


def runnable_problems(config: Config) -> tuple[list[str], list[str]]:
    """What would stop each job at run time, checked now: (errors, warnings).

    Every scope is planned as a run plans it (city code, district slugs, registry buildings
    and their ids on the source, raw site ids) against the registry in the config's
    database. With no database yet, a building the registry must hold is a warning (the
    job fails until ``rentwatch buildings import``); every other problem is an error.
    The politeness floor is checked when the file is loaded. The database is only read,
    and a missing one is not created.
    """
    import sqlite_utils

    from db.connection import open_db
    from db.migrations import apply_migrations
    from pipeline.collect.crawl import RegistryScopeError, ScopeError, plan_scopes
    from scrapers.registry import get_source

    exists = config.database.exists()
    db = open_db(config.database) if exists else sqlite_utils.Database(memory=True)
    if not exists:
        apply_migrations(db)  # an empty registry, in memory
    errors: list[str] = []
    warnings: list[str] = []
    try:
        for job in config.sources:
            try:
                plan_scopes(
                    db,
                    get_source(job.name),
                    city=job.city,
                    districts=list(job.districts) or None,
                    buildings=list(job.buildings) or None,
                    tracked=job.tracked,
                    base_url=job.base_url,
                )
            except RegistryScopeError as exc:
                if exists:
                    errors.append(f"{config.path}: job {job.id}: {exc}")
                else:
                    warnings.append(
                        f"{config.path}: job {job.id}: {exc}; there is no database at "
                        f"{config.database} yet, so the job fails until the buildings are imported"
                    )
            except ScopeError as exc:
                errors.append(f"{config.path}: job {job.id}: {exc}")
    finally:
        db.close()
    return errors, warnings
