"""The `wallboard` command line. Scriptable: JSON or CSV for machines, tables for people.

Textual is imported only by the commands that open the TUI, so scripted commands start fast.
Bad input gets one line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sys
import threading
import time
from datetime import date, datetime, time as clock_time

import click

from wallboard.config import ConfigError, Settings, load_settings


class Failure(click.ClickException):
    """A user-facing error: printed as one line."""


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _open(ctx: click.Context, *, migrate: bool):
    from db import open_database
    from db.migrate import SchemaMismatch

    try:
        return open_database(_settings(ctx).database_url(), migrate=migrate)
    except SchemaMismatch as exc:
        raise Failure(str(exc)) from None


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.toml to use.")
@click.option("--as", "user", metavar="USER",
              help="All-in-one: the user at the keyboard, for complaints (default: your login name, if it is a user).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, user: str | None) -> None:
    """Call-centre wallboard and complaint tracker.

    With no command: the all-in-one wallboard (feed, scheduler and TUI on the embedded database).
    """
    try:
        ctx.obj = {"settings": load_settings(config_path)}
    except ConfigError as exc:
        raise Failure(str(exc)) from None
    if ctx.invoked_subcommand is None:
        from wallboard.runtime import run_all_in_one

        run_all_in_one(_settings(ctx), user)


# -- db ----------------------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create the database or migrate it to the newest schema."""
    from db.migrate import head_revision

    _open(ctx, migrate=True)
    click.echo(f"database at revision {head_revision()}")


# -- ingest ------------------------------------------------------------------------


@cli.group("ingest")
def ingest_group() -> None:
    """Import call data from a call-centre source."""


@ingest_group.command("queue-log")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--follow", is_flag=True, help="Keep reading new lines as Asterisk writes them (through rotation).")
@click.pass_context
def ingest_queue_log(ctx: click.Context, path: str, follow: bool) -> None:
    """Import an Asterisk queue_log; run again to import only what was added since."""
    from wallboard.ingest import QueueLogIngest

    _ingest_file(ctx, QueueLogIngest, path, follow)


@ingest_group.command("jsonl")
@click.argument("path", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--follow", is_flag=True, help="Keep reading new lines as they are written (through rotation).")
@click.pass_context
def ingest_jsonl(ctx: click.Context, path: str, follow: bool) -> None:
    """Import JSON lines, one event per line, from a file or - for standard input.

    Each line: {"ts": epoch or ISO 8601, "kind": "call_entered", "callid": ..., "queue": ...};
    kinds and fields are those of wallboard.events.
    """
    from wallboard.ingest import JsonLinesIngest, ingest_stream

    if path != "-":
        if not os.path.isfile(path):
            raise Failure(f"{path}: no such file")
        _ingest_file(ctx, JsonLinesIngest, path, follow)
        return
    engine = _open(ctx, migrate=True)
    summary = ingest_stream(engine, _settings(ctx), sys.stdin, _stop_on_signals())
    _print_summary(summary)


def _ingest_file(ctx: click.Context, ingest_class, path: str, follow: bool) -> None:
    engine = _open(ctx, migrate=True)
    ingest = ingest_class(engine, _settings(ctx), path)
    if follow:
        click.echo(f"following {path} (Ctrl-C to stop)", err=True)
        summary = ingest.follow(_stop_on_signals())
    else:
        summary = _with_progress(ingest, path)
    _print_summary(summary)


def _print_summary(summary) -> None:
    for line_no, reason in summary.errors[:5]:
        click.echo(f"  line {line_no}: {reason}", err=True)
    click.echo(summary.line(), err=True)  # last: scripts read the final line


def _with_progress(ingest, path: str):
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


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


# -- simulate ----------------------------------------------------------------------


@cli.command("simulate")
@click.option("--hours", type=click.FloatRange(min=0, min_open=True), help="Simulated hours to run (default: until stopped).")
@click.option("--start", "start_at", help="Simulated start time, ISO 8601 (default: now, or --hours before now with --fast).")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), help="Simulated seconds per real second (config: simulator.speed).")
@click.option("--fast", is_flag=True, help="As fast as the machine allows.")
@click.option("--seed", type=int, help="Random seed (config: simulator.seed).")
@click.option("--agents", type=click.IntRange(min=1), help="Agents on the roster (config: simulator.agents).")
@click.option("--calls-per-hour", type=click.FloatRange(min=0, min_open=True), help="Peak calls per hour.")
@click.option("--queue-log", "queue_log", type=click.Path(dir_okay=False), help="Write an Asterisk queue_log here instead of the database.")
@click.pass_context
def simulate(ctx, hours, start_at, speed, fast, seed, agents, calls_per_hour, queue_log) -> None:
    """Run the seeded synthetic floor into the database or a queue_log file."""
    from wallboard.live import SimulationRun, simulator_settings

    settings = _settings(ctx)
    if queue_log and hours is None:
        raise Failure("--queue-log needs --hours")
    sim = simulator_settings(settings, seed=seed, agents=agents, calls_per_hour=calls_per_hour)
    now = time.time()
    if start_at:
        start = _parse_when(start_at, settings, "--start")
    elif fast and hours and not queue_log:
        start = now - hours * 3600
    else:
        start = now
    run = SimulationRun(sim, start=start, hours=hours)
    if queue_log:
        written = run.write_queue_log(queue_log)
        click.echo(f"wrote {written} lines to {queue_log}", err=True)
        return
    engine = _open(ctx, migrate=True)
    rate = None if fast else (speed or settings.simulator.speed)
    stop = _stop_on_signals()
    applied = run.into_database(engine, settings, speed=rate, stop=stop)
    click.echo(f"applied {applied} events", err=True)


# -- reports -----------------------------------------------------------------------


@cli.group("report")
def report_group() -> None:
    """Figures over a window of time (by the time calls entered the queue)."""


def _window_options(fn):
    fn = click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)(fn)
    fn = click.option("--all", "everything", is_flag=True, help="Every call in the database.")(fn)
    fn = click.option("--to", "until", help="End (exclusive), ISO 8601 date or time; default now.")(fn)
    fn = click.option("--from", "since", help="Start, ISO 8601 date or time; default start of today.")(fn)
    return fn


def _window(settings: Settings, since, until, everything) -> tuple[float | None, float | None]:
    from wallboard.counts import day_start

    if everything:
        if since or until:
            raise Failure("--all cannot be combined with --from/--to")
        return None, None
    start = _parse_when(since, settings, "--from") if since else day_start(settings, time.time())
    end = _parse_when(until, settings, "--to") if until else None
    if end is not None and end <= start:
        raise Failure("--to must be after --from")
    return start, end


def _report_inputs(ctx: click.Context, since, until, everything):
    """Settings, window and database for a report; the schema is checked, never changed."""
    settings = _settings(ctx)
    start, end = _window(settings, since, until, everything)
    return settings, start, end, _open(ctx, migrate=False)


def _parse_when(text: str, settings: Settings, option: str) -> float:
    """ISO 8601 date or date-time; without an offset it is the site's local time."""
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), clock_time())
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise Failure(f"{option}: {text!r} is not an ISO 8601 date or time (e.g. 2026-11-23T08:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.site.tz)
    return moment.timestamp()


@report_group.command("queues")
@_window_options
@click.pass_context
def report_queues(ctx, since, until, everything, fmt) -> None:
    """Offered, answered, abandoned, service level, ASA, AHT per queue and in total."""
    from wallboard.metrics import queue_report

    settings, start, end, engine = _report_inputs(ctx, since, until, everything)
    with engine.connect() as connection:
        report = queue_report(connection, settings, start, end)
    rows = report.queues + [report.total]
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _emit_rows(rows, fmt)


@report_group.command("agents")
@_window_options
@click.pass_context
def report_agents(ctx, since, until, everything, fmt) -> None:
    """Calls answered, talk time, AHT and time in each state per agent."""
    from wallboard.metrics import AGENT_STATES, agent_report

    _, start, end, engine = _report_inputs(ctx, since, until, everything)
    with engine.connect() as connection:
        agents = agent_report(connection, start, end, time.time())
    if fmt == "json":
        click.echo(json.dumps({"agents": agents}, indent=2))
        return
    flat = []
    for row in agents:
        line = {k: row[k] for k in ("agent", "answered", "talk_seconds", "aht_seconds")}
        for state in AGENT_STATES:
            line[f"{state}_seconds"] = row["states"].get(state, 0.0)
        line["pause_reasons"] = "; ".join(f"{k}={v:.0f}s" for k, v in sorted(row["pause_reasons"].items()))
        flat.append(line)
    _emit_rows(flat, fmt)


def _emit_rows(rows: list[dict], fmt: str) -> None:
    if not rows:
        click.echo("no calls in this window", err=True)
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        click.echo(buffer.getvalue(), nl=False)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold")
    for name in rows[0]:
        text_column = name in ("queue", "agent", "pause_reasons")
        table.add_column(name.replace("_", " "), justify="left" if text_column else "right", no_wrap=text_column)
    for row in rows:
        # Text, not str: queue and agent names come from outside and are shown literally.
        table.add_row(*(Text("-" if value is None else str(value)) for value in row.values()))
    # Piped output is for reading later, not for a terminal's width: don't squeeze it.
    Console(width=None if sys.stdout.isatty() else 250).print(table)


# -- processes: TUI only, feed only ------------------------------------------------


@cli.command("ui")
@click.option("--as", "user", metavar="USER",
              help="The user looking (set by the SSH front door for each session; default: your login name, if it is a user).")
@click.pass_context
def ui(ctx: click.Context, user: str | None) -> None:
    """The wallboard TUI only, on a database another process keeps live."""
    from wallboard.runtime import run_ui

    run_ui(_settings(ctx), user)


@cli.command("serve")
@click.option("--ssh-port", type=click.IntRange(0, 65535), metavar="N", help="SSH port (config: ssh.port; 0: any free port).")
@click.option("--no-ssh", is_flag=True, help="Without the SSH front door.")
@click.option("--feed", "feed_kind", type=click.Choice(["none", "simulator", "queue-log", "ami"]),
              help="Which feed to run (config: feed.kind).")
@click.pass_context
def serve(ctx: click.Context, ssh_port: int | None, no_ssh: bool, feed_kind: str | None) -> None:
    """The site server, headless: feed, reminders and the SSH front door, until Ctrl-C or SIGTERM.

    A second server on the same database stands by and takes over within 15 s of the first stopping.
    """
    from wallboard.runtime import run_serve

    settings = _settings(ctx)
    if feed_kind is not None:
        settings.feed.kind = feed_kind
    if ssh_port is not None:
        settings.ssh.port = ssh_port
    if no_ssh:
        settings.ssh.enabled = False
    run_serve(settings)


@cli.group("ssh")
def ssh_group() -> None:
    """The SSH front door: connection log and host key."""


@ssh_group.command("sessions")
@click.option("--user", metavar="USER", help="Only this user's sessions.")
@click.option("--limit", type=click.IntRange(min=1, max=100_000), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def ssh_sessions(ctx: click.Context, user: str | None, limit: int, fmt: str) -> None:
    """Who logged in over SSH, from where, when and for how long (newest first)."""
    from wallboard.ssh_access import recent_sessions
    from wallboard.ssh_server import format_duration

    settings = _settings(ctx)
    rows = recent_sessions(_open(ctx, migrate=False), limit=limit, user=user)
    if fmt == "json":
        click.echo(json.dumps({"sessions": rows}, indent=2))
        return
    now = time.time()
    table = [
        {
            "user": row["user"],
            "role": row["role"],
            "from": f"{row['peer_address']}:{row['peer_port']}",
            "started": datetime.fromtimestamp(row["started_at"], settings.site.tz).strftime("%Y-%m-%d %H:%M:%S"),
            "duration": format_duration((row["ended_at"] or now) - row["started_at"]),
            "ended": row["end_reason"] or "running",
            "terminal": row["term"] or "-",
            "key": row["key_fingerprint"] or "-",
        }
        for row in rows
    ]
    if not table:
        click.echo("no SSH sessions yet", err=True)
        return
    _emit_rows(table, fmt)


@ssh_group.command("host-key")
@click.pass_context
def ssh_host_key(ctx: click.Context) -> None:
    """The server's host key fingerprint (created now if there is none yet), to give to users."""
    from wallboard.ssh_server import host_key_path, load_or_create_host_key

    path = host_key_path(_settings(ctx))
    click.echo(f"{load_or_create_host_key(path).get_fingerprint()} {path}")

# The complaint tracker's command groups (tickets/cli.py).
from tickets.cli import notifications as _notifications_command  # noqa: E402
from tickets.cli import ticket as _ticket_group, user as _user_group  # noqa: E402

cli.add_command(_ticket_group)
cli.add_command(_user_group)
cli.add_command(_notifications_command)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"wallboard: {exc.format_message()}", err=True)
        sys.exit(1 if isinstance(exc, Failure) else exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except OSError as exc:
        click.echo(f"wallboard: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, no traceback
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(exc, SQLAlchemyError):
            raise
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        click.echo(f"wallboard: database error: {detail}", err=True)
        sys.exit(1)
