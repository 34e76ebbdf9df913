"""``rentwatch run``: the unattended daily job (see :mod:`rentwatch.scheduler`)."""

from __future__ import annotations

import logging

import click

from rentwatch.cli.group import main
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
def run_command(config_path: str, once: bool, check: bool) -> None:
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
        click.echo(f"config {config.path}: ok" + (" (see the warnings)" if warnings else ""))
        click.echo(
            f"database {config.database}, job store {config.jobstore}, zone {config.timezone}"
        )
        due = {j.id for j in due_on(config, day)}
        for job in config.sources:
            scope = ", ".join(
                [f"districts {' '.join(job.districts)}"] * bool(job.districts)
                + [f"buildings {' '.join(job.buildings)}"] * bool(job.buildings)
                + ["tracked buildings"] * job.tracked
            )
            when = "due today" if job.id in due else "not due today"
            click.echo(
                f"  {job.id}: {job.name} {job.city} {scope or 'whole city'}; "
                f"schedule {job.schedule.describe()} ({when})"
            )
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
    bad = []
    for o in outcomes:
        click.echo(f"{o.job_id} {o.day}: {o.status} ({o.message})")
        if o.status in FAILED_STATUSES:
            bad.append(o)
    if not outcomes:
        click.echo("no jobs configured")
    if bad:
        raise click.ClickException(
            f"{len(bad)} of {len(outcomes)} jobs did not succeed: "
            + "; ".join(f"{o.job_id}: {o.status}" for o in bad)
        )
