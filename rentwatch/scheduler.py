"""The unattended daily job: scrape each configured source on its cron schedule, then
snapshot the day once all of that day's scrapes have finished (ok or not).

- Jobs are module-level functions with plain arguments (the config path and a job id), so
  APScheduler can keep them in a persistent job store: a SQLite file of its own, apart
  from the data database, so a long scrape writing there never blocks the scheduler.
- The jobs call the same functions as the CLI: :func:`pipeline.collect.crawl.scrape` and
  :func:`pipeline.snapshot.snapshot_day`.
- Jobs run one at a time (one worker thread): two sources on the same site never double
  the request rate, and the snapshot never reads a day half-written.
- The snapshot is chained: when a scrape job finishes it checks whether every scrape job
  due that day has finished, and if so snapshots the day. A fallback cron job snapshots a
  day whose scrapes never all finished (the machine was off, a job misfired).
- A lock file beside the database (``<db>.lock``, the filelock library: an OS lock on every
  platform) keeps a second scheduler off the same database, however it is named (the
  path is resolved through symlinks first); the message names the PID that holds it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from db.connection import DatabaseUnusable, database_error
from db.job_days import DayLog, Outcome
from rentwatch.config import Config, ConfigError, SourceJob, load_config
from scrapers.errors import ScrapeError

log = logging.getLogger(__name__)

#: A job that could not start on time (machine asleep, scheduler down, queue behind a long
#: scrape) still runs if it is at most this late; later than that it waits for the next day.
MISFIRE_GRACE_S = 6 * 3600
SNAPSHOT_JOB_ID = "snapshot"
INBOX_JOB_ID = "inbox"
SCRAPE_PREFIX = "scrape:"
#: Statuses of a scrape that mean the day's data is missing for its scope: the runs'
#: (db.runs), "error" for a job that failed unexpectedly, "stopped" for one not run.
FAILED_STATUSES = (
    "failed",
    "blocked",
    "disallowed",
    "unreachable",
    "layout_changed",
    "not_rental_page",
    "error",
    "stopped",
)
#: How each job ended, one line per job. ``run --once`` prints the outcomes itself and
#: quiets this logger, so that each is said once.
outcome_log = logging.getLogger(__name__ + ".outcome")


#: Errors a job reports in one line: a bad scope, a site, the config, the database.
KNOWN_ERRORS = (ScrapeError, ConfigError, DatabaseUnusable, sqlite3.Error, OverflowError)


class SchedulerError(Exception):
    """Something that keeps the scheduler from running; the message says what to do."""


class DatabaseLocked(SchedulerError):
    pass


# -- the lock -----------------------------------------------------------------------------


def lock_path(db_path: str | os.PathLike[str]) -> Path:
    """The lock of the database file itself: a symlink or a relative path to the same file
    gives the same lock."""
    resolved = Path(db_path).resolve()
    return resolved.with_name(resolved.name + ".lock")


@contextlib.contextmanager
def database_lock(db_path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold ``<db>.lock`` for as long as this process schedules scrapes into ``db_path``.

    An OS lock rather than a PID file: it is released when the process dies, however it
    dies, so a crash never leaves a stale lock behind. The PID inside is only for the message.
    """
    from filelock import FileLock, Timeout

    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        try:
            holder = path.read_text(encoding="ascii", errors="replace").strip() or "unknown"
        except OSError:
            holder = "unknown"
        raise DatabaseLocked(
            f"another rentwatch scheduler (pid {holder}) is already running on "
            f"{Path(db_path).resolve()} (lock {path}); stop it first, or use a different database"
        ) from None
    try:
        path.write_text(f"{os.getpid()}\n", encoding="ascii")
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.write_text("", encoding="ascii")
        lock.release()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def today(config: Config) -> str:
    return datetime.now(ZoneInfo(config.timezone)).date().isoformat()


def due_on(config: Config, day: str) -> list[SourceJob]:
    """The scrape jobs whose schedule fires at least once on ``day`` (in the config's zone)."""
    tz = ZoneInfo(config.timezone)
    start = datetime.combine(date.fromisoformat(day), time(0), tz)
    end = start + timedelta(days=1)
    due = []
    for job in config.sources:
        fire = job.schedule.trigger(config.timezone).get_next_fire_time(None, start)
        if fire is not None and fire < end:
            due.append(job)
    return due


# -- the jobs ------------------------------------------------------------------------------

#: One snapshot at a time, and the check "are all scrapes done?" together with it.
_snapshot_lock = threading.Lock()


def run_source(config: Config, job_id: str, day: str) -> Outcome:
    """Scrape one configured source for ``day`` and record how it ended. Never raises."""
    from db import open_db
    from pipeline.collect.crawl import scrape
    from scrapers.fetch import FetchSettings

    job = config.source(job_id)
    started = _now()
    log.info("scrape %s started for %s", job_id, day)
    try:
        db = open_db(config.database)
        try:
            report = scrape(
                db,
                job.name,
                city=job.city,
                districts=list(job.districts) or None,
                buildings=list(job.buildings) or None,
                tracked=job.tracked,
                base_url=job.base_url,
                as_of=day,
                delay=job.delay,
                concurrency=job.concurrency,
                settings=FetchSettings(proxy=job.proxy) if job.proxy else None,
                i_have_permission=job.i_have_permission,
            )
        finally:
            db.close()
        outcome = Outcome(job_id, day, report.status, report.message)
    except KNOWN_ERRORS as exc:
        # A known error is its message, in the outcome line below; the traceback is for -v.
        _trace(f"scrape {job_id}")
        outcome = Outcome(job_id, day, "failed", _known_error(exc))
    except Exception as exc:  # a job must record its failure, not vanish into a log
        log.exception("scrape %s failed", job_id)
        outcome = Outcome(job_id, day, "error", f"{type(exc).__name__}: {exc}")
    DayLog(config.jobstore).record(outcome, started)
    level = logging.INFO if outcome.status in ("ok", "partial") else logging.WARNING
    outcome_log.log(
        level, "scrape %s for %s: %s (%s)", job_id, day, outcome.status, outcome.message
    )
    return outcome


def _trace(what: str) -> None:
    """The traceback of the error being handled, under -v only (the root logger at info)."""
    if logging.getLogger().isEnabledFor(logging.INFO):
        log.info("%s: traceback", what, exc_info=True)


def _known_error(exc: Exception) -> str:
    if isinstance(exc, sqlite3.Error):
        return database_error(exc)
    return " ".join(str(exc).split())


def run_inbox(config: Config, day: str) -> Outcome:
    """Take in the pages saved into the config's inbox folder; snapshot again any earlier day
    they were saved on (today's snapshot follows). Never raises."""
    from db import open_db
    from pipeline.collect.inbox import take_in_folder
    from pipeline.snapshot import snapshot_day

    assert config.inbox is not None
    try:
        config.inbox.mkdir(parents=True, exist_ok=True)
        db = open_db(config.database)
        try:
            report = take_in_folder(db, config.inbox)
            earlier = sorted({f.day for f in report.files if f.ok and f.day and f.day < day})
            for d in earlier:
                snapshot_day(db, d)
        finally:
            db.close()
        status = "partial" if report.rejected else "ok"
        message = (
            f"{len(report.files)} pages from {config.inbox}, {report.listings} listings, "
            f"{len(report.rejected)} rejected (see {config.inbox / 'rejected'})"
            + (f"; earlier days snapshotted again: {', '.join(earlier)}" if earlier else "")
        )
        outcome = Outcome(INBOX_JOB_ID, day, status, message)
    except KNOWN_ERRORS as exc:
        _trace(f"inbox {config.inbox}")
        outcome = Outcome(INBOX_JOB_ID, day, "failed", _known_error(exc))
    except Exception as exc:  # a job must record its failure, not vanish into a log
        log.exception("inbox %s failed", config.inbox)
        outcome = Outcome(INBOX_JOB_ID, day, "error", f"{type(exc).__name__}: {exc}")
    log.info("inbox %s: %s (%s)", day, outcome.status, outcome.message)
    return outcome


def run_snapshot(config: Config, day: str) -> Outcome:
    """Snapshot ``day`` and record it. Never raises."""
    from db import open_db
    from pipeline.snapshot import snapshot_day

    started = _now()
    try:
        db = open_db(config.database)
        try:
            result = snapshot_day(db, day)
        finally:
            db.close()
        outcome = Outcome(SNAPSHOT_JOB_ID, day, "ok", _describe(result))
    except KNOWN_ERRORS as exc:
        _trace(f"snapshot of {day}")
        outcome = Outcome(SNAPSHOT_JOB_ID, day, "failed", _known_error(exc))
    except Exception as exc:
        log.exception("snapshot of %s failed", day)
        outcome = Outcome(SNAPSHOT_JOB_ID, day, "error", f"{type(exc).__name__}: {exc}")
    DayLog(config.jobstore).record(outcome, started)
    outcome_log.info("snapshot %s: %s %s", day, outcome.status, outcome.message)
    return outcome


def _describe(result: object) -> str:
    if hasattr(result, "buildings") and hasattr(result, "units"):
        return f"{result.buildings} buildings with data, {result.units} empty units"
    return "done"


def maybe_snapshot(config: Config, day: str, *, force: bool = False) -> Outcome | None:
    """Snapshot ``day`` if every scrape due that day has finished (or if ``force``)."""
    with _snapshot_lock:
        finished = DayLog(config.jobstore).finished(day)
        waiting = [j.id for j in due_on(config, day) if j.id not in finished]
        if waiting and not force:
            log.info("snapshot %s waits for: %s", day, ", ".join(waiting))
            return None
        if config.inbox is not None:
            run_inbox(config, day)
        return run_snapshot(config, day)


def scrape_job(config_path: str, job_id: str) -> str:
    """Scheduled entry point of one source: scrape today, then snapshot if the day is done."""
    config = load_config(config_path)
    day = today(config)
    outcome = run_source(config, job_id, day)
    if config.snapshot.enabled:
        maybe_snapshot(config, day)
    return outcome.status


def snapshot_job(config_path: str) -> str:
    """Fallback: snapshot today unless it already happened after the day's last scrape."""
    config = load_config(config_path)
    day = today(config)
    if SNAPSHOT_JOB_ID in DayLog(config.jobstore).finished(day):
        log.info("snapshot %s already done", day)
        return "skipped"
    outcome = maybe_snapshot(config, day, force=True)
    return outcome.status if outcome else "skipped"


# -- running ------------------------------------------------------------------------------


def run_once(config: Config, day: str | None = None) -> list[Outcome]:
    """Today's scrapes, one after another, then the snapshot: for cron and CI.

    SIGTERM or Ctrl-C lets the scrape in flight finish, then skips the rest (and the
    snapshot, since the day is incomplete); the skipped jobs are returned as 'stopped'.
    """
    day = day or today(config)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set():
            os._exit(130)
        log.warning("%s: stopping after the scrape in flight", signal.Signals(signum).name)
        stop.set()

    outcomes: list[Outcome] = []
    with database_lock(config.database), _signals(on_signal):
        for job in due_on(config, day):
            if stop.is_set():
                outcomes.append(Outcome(job.id, day, "stopped", "not run: stopped by a signal"))
                continue
            outcomes.append(run_source(config, job.id, day))
        if config.inbox is not None and not stop.is_set():
            outcomes.append(run_inbox(config, day))
        if config.snapshot.enabled:
            if stop.is_set():
                outcomes.append(
                    Outcome(SNAPSHOT_JOB_ID, day, "stopped", "not run: stopped by a signal")
                )
            else:
                outcomes.append(run_snapshot(config, day))
    return outcomes


@contextlib.contextmanager
def _signals(handler) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread (e.g. under a test runner)
        return
    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def build_scheduler(config: Config):
    """A paused BackgroundScheduler with the config's jobs registered in its persistent store."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    config.jobstore.parent.mkdir(parents=True, exist_ok=True)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{config.jobstore}")},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
        timezone=config.timezone,
    )
    scheduler.start(paused=True)
    config_path = str(config.path.resolve())
    wanted: dict[str, tuple] = {
        f"{SCRAPE_PREFIX}{job.id}": (
            scrape_job,
            job.schedule.trigger(config.timezone),
            [config_path, job.id],
            f"scrape {job.name} {job.city} ({job.id})",
        )
        for job in config.sources
    }
    if config.snapshot.enabled:
        wanted[SNAPSHOT_JOB_ID] = (
            snapshot_job,
            config.snapshot.schedule.trigger(config.timezone),
            [config_path],
            "snapshot (fallback for days whose scrapes did not all finish)",
        )
    for stored in scheduler.get_jobs():
        if stored.id not in wanted:
            log.info("removing job %s: no longer in %s", stored.id, config.path)
            stored.remove()
    for job_id, (func, trigger, args, name) in wanted.items():
        extra = {}
        stored = scheduler.get_job(job_id)
        # Re-adding would compute the next run from now and silently drop a run missed while
        # the scheduler was down; keep the stored time when nothing changed so the misfire
        # grace time can still catch it up.
        if (
            stored is not None
            and repr(stored.trigger) == repr(trigger)
            and list(stored.args) == args
            and stored.next_run_time is not None
        ):
            extra["next_run_time"] = stored.next_run_time
        scheduler.add_job(
            func, trigger, args=args, id=job_id, name=name, replace_existing=True, **extra
        )
    return scheduler


def run_forever(config: Config, *, ready: threading.Event | None = None) -> None:
    """Run the scheduler until SIGTERM or Ctrl-C; then let the job in flight finish and exit."""
    stop = threading.Event()
    signals = {"count": 0}

    def on_signal(signum: int, frame: object) -> None:
        signals["count"] += 1
        name = signal.Signals(signum).name
        if signals["count"] == 1:
            log.warning("%s: stopping after the job in flight finishes (again to force)", name)
            stop.set()
        else:
            # The run in flight stays 'running'; the next scrape marks it 'interrupted'.
            log.warning("%s again: stopping now", name)
            os._exit(130)

    with database_lock(config.database), _signals(on_signal):
        scheduler = build_scheduler(config)
        try:
            scheduler.resume()
            for job in scheduler.get_jobs():
                log.info("job %s: next run %s", job.name, job.next_run_time)
            if ready is not None:
                ready.set()
            while not stop.wait(0.5):
                pass
        finally:
            scheduler.shutdown(wait=True)
    log.info("scheduler stopped")
