"""`wallboard report ...`: figures over a window of time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from wallboard.cli.common import Failure, emit_rows, open_database_of, parse_when, settings_of
from wallboard.config import Settings
from wallboard.text import format_duration, json_text

if TYPE_CHECKING:
    from sqlalchemy import Engine

Command = TypeVar("Command", bound=Callable[..., object])


@click.group("report")
def report_group() -> None:
    """Figures over a window of time (by the time calls entered the queue)."""


def _window_options(fn: Command) -> Command:
    fn = click.option(
        "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
    )(fn)
    fn = click.option("--all", "everything", is_flag=True, help="Every call in the database.")(fn)
    fn = click.option("--to", "until", help="End (exclusive), ISO 8601 date or time; default now.")(fn)
    fn = click.option("--from", "since", help="Start, ISO 8601 date or time; default start of today.")(fn)
    return fn


def _window(
    settings: Settings, since: str | None, until: str | None, everything: bool
) -> tuple[float | None, float | None]:
    from wallboard.calls.counts import day_start

    if everything:
        if since or until:
            raise Failure("--all cannot be combined with --from/--to")
        return None, None
    start = parse_when(since, settings, "--from") if since else day_start(settings, time.time())
    end = parse_when(until, settings, "--to") if until else None
    if end is not None and end <= start:
        raise Failure("--to must be after --from")
    return start, end


def _report_inputs(
    ctx: click.Context, since: str | None, until: str | None, everything: bool
) -> tuple[Settings, float | None, float | None, Engine]:
    """Settings, window and database for a report; the schema is checked, never changed."""
    settings = settings_of(ctx)
    start, end = _window(settings, since, until, everything)
    return settings, start, end, open_database_of(ctx, migrate=False)


@report_group.command("queues")
@_window_options
@click.pass_context
def report_queues(ctx: click.Context, since: str | None, until: str | None, everything: bool, fmt: str) -> None:
    """Offered, answered, abandoned, service level, ASA, AHT per queue and in total."""
    from wallboard.store.metrics import queue_report

    settings, start, end, engine = _report_inputs(ctx, since, until, everything)
    with engine.connect() as connection:
        report = queue_report(connection, settings, start, end)
    rows = report.queues + [report.total]
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        emit_rows(rows, fmt)


@report_group.command("agents")
@_window_options
@click.pass_context
def report_agents(ctx: click.Context, since: str | None, until: str | None, everything: bool, fmt: str) -> None:
    """Calls answered, talk time, AHT and time in each state per agent."""
    from wallboard.store.metrics import AGENT_STATES, agent_report

    _, start, end, engine = _report_inputs(ctx, since, until, everything)
    with engine.connect() as connection:
        agents = agent_report(connection, start, end, time.time())
    if fmt == "json":
        click.echo(json.dumps({"agents": agents}, indent=2))
        return
    flat: list[dict[str, object]] = []
    for row in agents:
        line: dict[str, object] = {k: row[k] for k in ("agent", "answered", "talk_seconds", "aht_seconds")}
        for state in AGENT_STATES:
            line[f"{state}_seconds"] = row["states"].get(state, 0.0)
        line["pause_reasons"] = "; ".join(f"{k}={v:.0f}s" for k, v in sorted(row["pause_reasons"].items()))
        flat.append(line)
    emit_rows(flat, fmt)


@report_group.command("callbacks")
@_window_options
@click.pass_context
def report_callbacks(ctx: click.Context, since: str | None, until: str | None, everything: bool, fmt: str) -> None:
    """Call-backs per day and queue (by when the caller first hung up): requested, reached,
    reached by the due time (% of requested), got through by themselves, given up, median
    time from the hang-up to the first attempt."""
    from tickets.callbacks import callback_report

    settings, start, end, engine = _report_inputs(ctx, since, until, everything)
    rows = callback_report(engine, settings, start, end)
    if fmt == "json":
        click.echo(json.dumps({"callbacks": rows}, indent=2))
    else:
        emit_rows(rows, fmt)


@report_group.command("complaints")
@click.option("--from", "since", help="Start, ISO 8601 date or time; default 30 days before the start of today.")
@click.option("--to", "until", help="End (exclusive), ISO 8601 date or time; default now.")
@click.option(
    "--by",
    type=click.Choice(["queue", "agent", "owner", "category", "severity", "root-cause", "channel", "week"]),
    default="queue",
    show_default=True,
    help="The groups: queue and agent of the call each complaint was logged from.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def report_complaints(ctx: click.Context, since: str | None, until: str | None, by: str, fmt: str) -> None:
    """Whether promises are kept: the complaints received in the window, per group and in total
    (definitions: docs/OUTCOMES.md)."""
    from tickets.errors import TicketError
    from tickets.outcomes import outcome_report
    from wallboard.calls.counts import day_start

    settings = settings_of(ctx)
    now = time.time()
    start = parse_when(since, settings, "--from") if since else day_start(settings, now) - 30 * 86400
    end = parse_when(until, settings, "--to") if until else now
    if end <= start:
        raise Failure("--to must be after --from")
    try:
        report = outcome_report(open_database_of(ctx, migrate=False), settings, start, end, now, by)
    except TicketError as exc:
        raise Failure(str(exc)) from None
    if fmt == "json":
        click.echo(json_text(report.as_dict()))
        return
    rows = [figures.as_dict() for figures in (*report.groups, report.total)]
    if fmt == "csv":
        emit_rows(rows, fmt)
        return
    # Two dozen figures per group: a column per group reads better than a row per group.
    figures = [name for name in rows[0] if name != "group"]
    emit_rows(
        [
            {"figure": _figure_label(name), **{str(row["group"]): _figure_cell(name, row[name]) for row in rows}}
            for name in figures
        ],
        fmt,
        text_columns=("figure",),
        literal_headings=True,
    )
    if report.pareto:
        click.echo("\nRoot causes (Pareto)")
        emit_rows(
            [
                {
                    "root_cause": share.root_cause,
                    "count": share.count,
                    "share_pct": share.share_pct,
                    "cumulative_pct": share.cumulative_pct,
                    "categories": "; ".join(f"{c.category} {c.count} ({c.share_pct:g}%)" for c in share.categories),
                }
                for share in report.pareto
            ],
            fmt,
            text_columns=("root_cause", "categories"),
        )


@report_group.command("quality")
@click.option("--from", "since", help="Start, ISO 8601 date or time; default the first of this month.")
@click.option("--to", "until", help="End (exclusive), ISO 8601 date or time; default now.")
@click.option(
    "--by",
    type=click.Choice(["agent", "team", "queue", "criterion", "evaluator", "week"]),
    default="agent",
    show_default=True,
    help="The groups (teams: [quality] teams).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def report_quality(ctx: click.Context, since: str | None, until: str | None, by: str, fmt: str) -> None:
    """Quality beside the call KPIs, over the calls answered in the window: coverage, target,
    mean score, critical failures, disputes, coaching; answered calls, AHT, complaints per
    1,000 calls (definitions: docs/QUALITY.md)."""
    from datetime import datetime

    from tickets.errors import TicketError
    from tickets.quality.report import quality_report

    settings = settings_of(ctx)
    now = time.time()
    if since:
        start = parse_when(since, settings, "--from")
    else:
        local = datetime.fromtimestamp(now, settings.site.tz)
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
    end = parse_when(until, settings, "--to") if until else now
    if end <= start:
        raise Failure("--to must be after --from")
    try:
        report = quality_report(open_database_of(ctx, migrate=False), settings, start, end, by)
    except TicketError as exc:
        raise Failure(str(exc)) from None
    if fmt == "json":
        click.echo(json_text(report.as_dict()))
        return
    rows = [*report.rows, report.total]
    emit_rows(
        rows,
        fmt,
        empty="no evaluations or answered calls in this window",
        text_columns=("group", "criterion", "title"),
    )


def _figure_label(name: str) -> str:
    """A figure's name for people: durations lose their unit (the cells show h:mm:ss)."""
    return name.removesuffix("_seconds").replace("_pct", " %").replace("_", " ")


def _figure_cell(name: str, value: object) -> str:
    if value is None:
        return "-"
    if name.endswith("_seconds") and isinstance(value, int | float):
        return format_duration(value)
    return str(value)
