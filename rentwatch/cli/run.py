"""``rentwatch run``: the unattended daily job (see :mod:`rentwatch.scheduler`)."""

from __future__ import annotations

import logging
from typing import Any

import click

from rentwatch.cli.group import main
from rentwatch.cli.options import echo_json, json_option
from rentwatch.config import DEFAULT_CONFIG, ConfigError, load_config, runnable_problems
from rentwatch.scheduler import (
    FAILED_STATUSES,
    SchedulerError,
    due_on,
    outcome_log,
    run_forever,
    run_once,
    today,
)


@main.command("run")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=DEFAULT_CONFIG,
    show_default=True,
    help="The config file: sources, schedules, database.",
)
@click.option("--once", is_flag=True, help="Run today's scrapes and the snapshot now, then exit.")
@click.option("--check", is_flag=True, help="Check the config, print the jobs, run nothing.")
@json_option
def run_command(config_path: str, once: bool, check: bool, as_json: bool) -> None:
    """Scrape every configured source on its schedule and snapshot each day.

    Runs until SIGTERM or Ctrl-C, which stop it once the job in flight has finished.
    With --once it runs today's jobs and exits, non-zero if a scrape failed or was blocked.
    """
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    # The scheduler's own lines say what it does; show them unless -v already shows more.
    sched_log = logging.getLogger("rentwatch.scheduler")
    if sched_log.getEffectiveLevel() > logging.INFO:
        sched_log.setLevel(logging.INFO)

    if check:
        errors, warnings = runnable_problems(config)
        if errors:
            raise click.ClickException("; ".join(errors))
        for warning in warnings:
            click.echo(f"Warning: {warning}", err=True)
        day = today(config)
        due = {j.id for j in due_on(config, day)}
        jobs: list[dict[str, Any]] = [
            {
                "id": job.id,
                "source": job.name,
                "city": job.city,
                "districts": list(job.districts),
                "buildings": list(job.buildings),
                "tracked": job.tracked,
                "schedule": job.schedule.describe(),
                "due_today": job.id in due,
            }
            for job in config.sources
        ]
        if as_json:
            echo_json(
                {
                    "config": str(config.path),
                    "ok": True,
                    "warnings": warnings,
                    "database": str(config.database),
                    "jobstore": str(config.jobstore),
                    "timezone": config.timezone,
                    "inbox": str(config.inbox) if config.inbox else None,
                    "jobs": jobs,
                    "snapshot": config.snapshot.schedule.describe()
                    if config.snapshot.enabled
                    else None,
                }
            )
            return
        click.echo(f"config {config.path}: ok" + (" (see the warnings)" if warnings else ""))
        click.echo(
            f"database {config.database}, job store {config.jobstore}, zone {config.timezone}"
        )
        for job in jobs:
            scope = ", ".join(
                [f"districts {' '.join(job['districts'])}"] * bool(job["districts"])
                + [f"buildings {' '.join(job['buildings'])}"] * bool(job["buildings"])
                + ["tracked buildings"] * bool(job["tracked"])
            )
            when = "due today" if job["due_today"] else "not due today"
            click.echo(
                f"  {job['id']}: {job['source']} {job['city']} {scope or 'whole city'}; "
                f"schedule {job['schedule']} ({when})"
            )
        if config.inbox:
            click.echo(f"  inbox: pages saved into {config.inbox}, taken in before the snapshot")
        if config.snapshot.enabled:
            click.echo(
                f"  snapshot: after the day's scrapes; fallback {config.snapshot.schedule.describe()}"
            )
        return

    try:
        if once:
            # The outcomes are printed below, once; the scheduler's own line would repeat them.
            outcome_log.setLevel(logging.ERROR)
            outcomes = run_once(config)
        else:
            run_forever(config)
            return
    except SchedulerError as exc:
        raise click.ClickException(str(exc)) from exc
    bad = [o for o in outcomes if o.status in FAILED_STATUSES]
    if as_json:
        echo_json(
            [
                {"job": o.job_id, "day": o.day, "status": o.status, "message": o.message}
                for o in outcomes
            ]
        )
    else:
        for o in outcomes:
            click.echo(f"{o.job_id} {o.day}: {o.status} ({o.message})")
        if not outcomes:
            click.echo("no jobs configured")
    if bad:
        raise click.ClickException(
            f"{len(bad)} of {len(outcomes)} jobs did not succeed: "
            + "; ".join(f"{o.job_id}: {o.status}" for o in bad)
        )
