"""`wallboard ingest ...` and `wallboard simulate`: call data into the database."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

import click

from wallboard.cli.common import Failure, open_database_of, parse_when, settings_of, stop_on_signals
from wallboard.text import printable

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from wallboard.feeds.files import FileIngest, IngestSummary


@click.group("ingest")
def ingest_group() -> None:
    """Import call data from a call-centre source."""


feed_option = click.option(
    "--feed",
    "feed_name",
    metavar="NAME",
    help="As the config's [[feeds]] entry NAME: its checkpoint and site label, so `serve` goes on from here.",
)


@ingest_group.command("queue-log")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--follow", is_flag=True, help="Keep reading new lines as Asterisk writes them (through rotation).")
@feed_option
@click.pass_context
def ingest_queue_log(ctx: click.Context, path: str, follow: bool, feed_name: str | None) -> None:
    """Import an Asterisk queue_log; run again to import only what was added since."""
    from wallboard.feeds.files import QueueLogIngest

    _ingest_file(ctx, QueueLogIngest, path, follow, feed_name)


@ingest_group.command("jsonl")
@click.argument("path", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--follow", is_flag=True, help="Keep reading new lines as they are written (through rotation).")
@feed_option
@click.pass_context
def ingest_jsonl(ctx: click.Context, path: str, follow: bool, feed_name: str | None) -> None:
    """Import JSON lines, one event per line, from a file or - for standard input.

    Each line: {"ts": epoch or ISO 8601, "kind": "call_entered", "callid": ..., "queue": ...};
    kinds and fields are those of wallboard.calls.events.
    """
    from wallboard.feeds.files import JsonLinesIngest, ingest_stream

    if path != "-":
        if not os.path.isfile(path):
            raise Failure(f"{path}: no such file")
        _ingest_file(ctx, JsonLinesIngest, path, follow, feed_name)
        return
    if feed_name is not None:
        raise Failure("--feed needs a file: standard input has no checkpoint")
    engine = open_database_of(ctx, migrate=True)
    summary = ingest_stream(engine, settings_of(ctx), sys.stdin, stop_on_signals())
    _after_bulk_write(engine)
    _print_summary(summary)


def _ingest_file(
    ctx: click.Context, ingest_class: type[FileIngest], path: str, follow: bool, feed_name: str | None = None
) -> None:
    settings = settings_of(ctx)
    name, site = None, None
    if feed_name is not None:
        spec = next((spec for spec in settings.feed_specs() if spec.name == feed_name), None)
        if spec is None or not settings.feeds:
            raise Failure(f"no [[feeds]] entry is named {feed_name!r} in the config")
        if spec.kind != ingest_class.kind:
            raise Failure(f"feed {feed_name!r} is of kind {spec.kind!r}, not {ingest_class.kind!r}")
        name, site = spec.name, spec.site
    engine = open_database_of(ctx, migrate=True)
    ingest = ingest_class(engine, settings, path, name=name, site=site)
    # Call-back requests from the abandons read (tickets/callbacks.py): after each write
    # while following, once at the end of a run.
    from tickets.callbacks import CallbackIntake

    callbacks = CallbackIntake(engine, settings)
    if follow:
        click.echo(f"following {path} (Ctrl-C to stop)", err=True)
        summary = ingest.follow(stop_on_signals(), after_write=callbacks.run_logged)
    else:
        summary = _with_progress(ingest, path)
        _after_bulk_write(engine)
        callbacks.run_logged()
    _print_summary(summary)


def _after_bulk_write(engine: Engine) -> None:
    """Fresh planner statistics once a bulk ingest has grown the tables (db.maintenance)."""
    from db.maintenance import after_bulk_write

    after_bulk_write(engine)


def _print_summary(summary: IngestSummary) -> None:
    for line_no, reason in summary.errors[:5]:
        click.echo(printable(f"  line {line_no}: {reason}"), err=True)  # a bad line's text, from outside
    for lost in summary.lost:
        click.echo(printable(f"wallboard: LOST: {lost}"), err=True)
    click.echo(printable(summary.line()), err=True)  # last: scripts read the final line
    if summary.lost:
        sys.exit(3)  # what could be read is in; exit status 3 tells a script that lines were lost


def _with_progress(ingest: FileIngest, path: str) -> IngestSummary:
    if not sys.stderr.isatty():
        return ingest.run()
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    _, offset = ingest.checkpoint()
    total = max(os.path.getsize(path) - offset, 0)
    columns = (
        TextColumn("ingest"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[rate]} lines/s"),
        TimeRemainingColumn(),
    )
    started = time.monotonic()
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("ingest", total=total, rate=0)

        def report(bytes_read: int, lines_read: int) -> None:
            rate = int(lines_read / max(time.monotonic() - started, 1e-6))
            bar.update(task, completed=bytes_read, rate=f"{rate:,}")

        return ingest.run(progress=report)


@click.command("simulate")
@click.option(
    "--hours", type=click.FloatRange(min=0, min_open=True), help="Simulated hours to run (default: until stopped)."
)
@click.option(
    "--start", "start_at", help="Simulated start time, ISO 8601 (default: now, or --hours before now with --fast)."
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    help="Simulated seconds per real second (config: simulator.speed).",
)
@click.option("--fast", is_flag=True, help="As fast as the machine allows.")
@click.option("--seed", type=int, help="Random seed (config: simulator.seed).")
@click.option("--agents", type=click.IntRange(min=1), help="Agents on the roster (config: simulator.agents).")
@click.option("--calls-per-hour", type=click.FloatRange(min=0, min_open=True), help="Peak calls per hour.")
@click.option(
    "--queue-log",
    "queue_log",
    type=click.Path(dir_okay=False),
    help="Write an Asterisk queue_log here instead of the database.",
)
@click.pass_context
def simulate(
    ctx: click.Context,
    hours: float | None,
    start_at: str | None,
    speed: float | None,
    fast: bool,
    seed: int | None,
    agents: int | None,
    calls_per_hour: float | None,
    queue_log: str | None,
) -> None:
    """Run the seeded synthetic floor into the database or a queue_log file."""
    from wallboard.feeds.live import SimulationRun, simulator_settings

    settings = settings_of(ctx)
    if queue_log and hours is None:
        raise Failure("--queue-log needs --hours")
    sim = simulator_settings(settings, seed=seed, agents=agents, calls_per_hour=calls_per_hour)
    now = time.time()
    if start_at:
        start = parse_when(start_at, settings, "--start")
    elif fast and hours and not queue_log:
        start = now - hours * 3600
    else:
        start = now
    run = SimulationRun(sim, start=start, hours=hours)
    if queue_log:
        written = run.write_queue_log(queue_log)
        click.echo(f"wrote {written} lines to {queue_log}", err=True)
        return
    engine = open_database_of(ctx, migrate=True)
    rate = None if fast else (speed or settings.simulator.speed)
    stop = stop_on_signals()
    applied = run.into_database(engine, settings, speed=rate, stop=stop)
    if rate is None:
        _after_bulk_write(engine)
    click.echo(f"applied {applied} events", err=True)
