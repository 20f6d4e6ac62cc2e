"""What every command shares: the one-line failure, the settings and database of the
invocation, times given on the command line, tables for people and CSV for machines."""

from __future__ import annotations

import csv
import io
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from datetime import time as clock_time
from types import FrameType
from typing import TYPE_CHECKING

import click

from wallboard.config import Settings, load_settings
from wallboard.text import csv_cell, format_duration, printable

if TYPE_CHECKING:
    from sqlalchemy import Engine


class Failure(click.ClickException):
    """A user-facing error: printed as one line, exit status 1."""

    exit_code = 1


def settings_of(ctx: click.Context) -> Settings:
    """The settings loaded by the root command (or, for a group invoked on its own, now)."""
    root = ctx.find_root()
    if root.obj is None:
        root.obj = {"settings": load_settings()}
    settings: Settings = root.obj["settings"]
    return settings


def open_database_of(ctx: click.Context, *, migrate: bool) -> Engine:
    """The invocation's database, opened once and disposed of when the command ends."""
    from db import open_database
    from db.migrate import SchemaMismatch

    engine: Engine | None = ctx.meta.get("wallboard.engine")
    if engine is None:
        try:
            engine = open_database(settings_of(ctx).database_url(), migrate=migrate)
        except SchemaMismatch as exc:
            raise Failure(str(exc)) from None
        ctx.meta["wallboard.engine"] = engine
        ctx.call_on_close(engine.dispose)
    return engine


def stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def parse_when(text: str, settings: Settings, option: str) -> float:
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


def emit_rows(
    rows: Sequence[Mapping[str, object]],
    fmt: str,
    *,
    empty: str = "no calls in this window",
    text_columns: Sequence[str] = ("queue", "agent", "pause_reasons"),
    literal_headings: bool = False,
) -> None:
    """Rows as CSV (cells a spreadsheet takes literally: `csv_safe`) or as a table for people."""
    if not rows:
        click.echo(empty, err=True)
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        # A name from outside must not run as a formula in the spreadsheet that opens this.
        writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
        click.echo(buffer.getvalue(), nl=False)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold")
    for name in rows[0]:
        text_column = name in text_columns
        heading = Text(printable(name)) if literal_headings else _heading(name)
        table.add_column(heading, justify="left" if text_column else "right", no_wrap=text_column)
    for row in rows:
        # Text of printable characters, never markup: names come from outside and are shown literally.
        table.add_row(*(Text(_cell(name, value)) for name, value in row.items()))
    # Piped output is for reading later, not for a terminal's width: don't squeeze it.
    Console(width=None if sys.stdout.isatty() else 250).print(table)


def _heading(column: str) -> str:
    """A column's heading for people: durations lose their unit (the cells show m:ss)."""
    return column.removesuffix("_seconds").replace("_", " ")


def _cell(column: str, value: object) -> str:
    """A table cell for people: durations as m:ss or h:mm:ss (JSON and CSV keep seconds)."""
    if value is None:
        return "-"
    if column.endswith("_seconds") and isinstance(value, int | float):
        return format_duration(value)
    return printable(str(value))
