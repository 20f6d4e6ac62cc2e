"""`wallboard caller ...`: the callers waiting now, and the abusive/malicious flag on callers.

`list` shows the waiting callers with their markers (as the board does, numbers masked
unless --full-numbers); `list --flagged` the flagged callers with the history of each
flag. `flag` (any agent, with a reason), `confirm` and `clear` (supervisors): the service
checks who may. Every command takes `--json`; errors are one line and exit status 1.
Caller numbers and reasons come from outside: printed literally (rich `Text`, no markup).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from tickets.caller_records import CallerFlagInfo
from tickets.errors import TicketError
from wallboard.calls.waiting import WaitingCaller, waiting_callers
from wallboard.cli.common import Failure, open_database_of, settings_of
from wallboard.config import Settings
from wallboard.text import format_duration, json_text, printable

if TYPE_CHECKING:
    from tickets.callers import CallerService


class _Group(click.Group):
    """Usage errors and refusals: one line, exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise Failure(exc.format_message()) from None
        except TicketError as exc:
            raise Failure(str(exc)) from None


def _service(ctx: click.Context) -> CallerService:
    from tickets.callers import CallerService

    return CallerService(open_database_of(ctx, migrate=True), settings_of(ctx))


def _echo_json(data: object) -> None:
    click.echo(json_text(data))


def _local(at: float | None, settings: Settings) -> str:
    return "-" if at is None else datetime.fromtimestamp(at, settings.site.tz).strftime("%Y-%m-%d %H:%M")


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
as_option = click.option("--as", "actor", required=True, metavar="USER", help="The user acting (kept in the history).")


@click.group("caller", cls=_Group)
def caller() -> None:
    """Callers: who is waiting now, and the abusive/malicious flag."""


@caller.command("list")
@click.option("--flagged", is_flag=True, help="Flagged callers, with the history of each flag.")
@click.option("--all", "include_cleared", is_flag=True, help="With --flagged: cleared flags too.")
@click.option("--number", metavar="NUMBER", help="With --flagged: this caller only.")
@click.option("--full-numbers", is_flag=True, help="Waiting callers: numbers unmasked.")
@json_option
@click.pass_context
def list_callers(
    ctx: click.Context, flagged: bool, include_cleared: bool, number: str | None, full_numbers: bool, as_json: bool
) -> None:
    """The callers waiting now (queue, position, wait, markers), or with --flagged the flagged callers."""
    settings = settings_of(ctx)
    if not flagged:
        if include_cleared or number:
            raise Failure("--all and --number go with --flagged")
        _list_waiting(ctx, settings, full_numbers, as_json)
        return
    flags = _service(ctx).flags(include_cleared=include_cleared, caller=number)
    if as_json:
        _echo_json([f.as_dict(settings.site.tz) for f in flags])
        return
    if not flags:
        click.echo("no flagged callers", err=True)
        return
    _print_flags(flags, settings)


def _list_waiting(ctx: click.Context, settings: Settings, full_numbers: bool, as_json: bool) -> None:
    from dataclasses import replace

    from wallboard.store.waiting import read_waiting

    engine = open_database_of(ctx, migrate=True)
    now = time.time()
    if full_numbers:
        settings = replace(settings, callers=replace(settings.callers, mask_keep_first=0, mask_keep_last=0))
    with engine.connect() as connection:
        callers = waiting_callers(read_waiting(connection, settings, now), settings, now)
    if as_json:
        _echo_json([_waiting_dict(c) for c in callers])
        return
    if not callers:
        click.echo("nobody waiting", err=True)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold")
    for name in ("queue", "pos", "wait", "caller", "markers"):
        table.add_column(name, no_wrap=name != "markers", justify="right" if name in ("pos", "wait") else "left")
    for c in callers:
        cells = (c.queue, str(c.position), format_duration(c.wait_seconds), c.caller, "  ".join(c.markers()))
        table.add_row(*(Text(printable(value)) for value in cells))
    _console().print(table)


def _waiting_dict(c: WaitingCaller) -> dict[str, object]:
    return {
        "queue": c.queue,
        "position": c.position,
        "wait_seconds": round(c.wait_seconds, 1),
        "caller": c.caller,
        "callid": c.callid,
        "calls_in_window": c.calls_in_window,
        "repeat": c.repeat,
        "open_complaints": c.open_complaints,
        "most_urgent_complaint": c.urgent_ref,
        "most_urgent_due": c.urgent_state,
        "open_callbacks": c.open_callbacks,
        "flag": c.flag_status,
        "flag_reason": c.flag_reason,
    }


def _console() -> Any:
    import sys

    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200, highlight=False, markup=False, emoji=False)


def _print_flags(flags: list[CallerFlagInfo], settings: Settings) -> None:
    from rich.text import Text

    console = _console()
    for index, f in enumerate(flags):
        if index:
            console.print()
        source = "" if f.source == "caller" else f" (on complaint {f.source})"
        console.print(Text(f"{printable(f.caller)}  {f.status_words}{source}", style="bold"))
        console.print(Text(f"  reason: {printable(f.reason or '-')}"))
        for e in f.history:
            note = f": {printable(e.note)}" if e.note else ""
            console.print(
                Text(f"  {_local(e.at, settings)}  {e.action:<15} {e.actor or 'the system'} -> {e.status}{note}")
            )


def _done(info: CallerFlagInfo, as_json: bool, settings: Settings) -> None:
    if as_json:
        _echo_json(info.as_dict(settings.site.tz))
    else:
        click.echo(f"{printable(info.caller)}: {info.status_words}")


@caller.command("flag")
@click.argument("number")
@as_option
@click.option("--reason", required=True, help="Why: what the caller did.")
@json_option
@click.pass_context
def flag(ctx: click.Context, number: str, actor: str, reason: str, as_json: bool) -> None:
    """Flag a caller abusive or malicious (an agent's flag awaits a supervisor's confirmation)."""
    _done(_service(ctx).flag(number, actor, reason=reason), as_json, settings_of(ctx))


@caller.command("confirm")
@click.argument("number")
@as_option
@click.option("--note", help="Optional note.")
@json_option
@click.pass_context
def confirm(ctx: click.Context, number: str, actor: str, note: str | None, as_json: bool) -> None:
    """Confirm an agent's flag on a caller (supervisors)."""
    _done(_service(ctx).confirm(number, actor, note=note), as_json, settings_of(ctx))


@caller.command("clear")
@click.argument("number")
@as_option
@click.option("--note", required=True, help="Why the flag is cleared.")
@json_option
@click.pass_context
def clear(ctx: click.Context, number: str, actor: str, note: str, as_json: bool) -> None:
    """Clear a caller's flag, saying why (supervisors)."""
    _done(_service(ctx).clear(number, actor, note=note), as_json, settings_of(ctx))
