"""`wallboard callback ...`: call-backs for callers who hung up waiting (tickets/callbacks.py).

Every command takes `--json`; the ones that change a request take `--as USER` and
`--expect-version N`, like `wallboard ticket`. Errors are one line on stderr and exit
status 1. Caller numbers and notes are printed literally (rich Text, never markup).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import click

from tickets.intents import intent
from tickets.records import ATTEMPT_OUTCOMES, SEVERITIES, CallbackInfo, typed
from wallboard.cli.common import open_database_of, settings_of
from wallboard.cli.tickets import _echo_json, _Group, as_option, json_option
from wallboard.config import Settings
from wallboard.text import format_duration, printable

if TYPE_CHECKING:
    from tickets.callbacks import CallbackService

version_option = click.option(
    "--expect-version",
    "expect_version",
    type=click.IntRange(min=1),
    metavar="N",
    help="Refuse the change unless the call-back is still at this version (as last read).",
)


def _service(ctx: click.Context) -> CallbackService:
    from tickets.callbacks import CallbackService

    return CallbackService(open_database_of(ctx, migrate=True), settings_of(ctx))


def _local(at: float | None, settings: Settings) -> str:
    if at is None:
        return "-"
    return datetime.fromtimestamp(at, settings.site.tz).strftime("%Y-%m-%d %H:%M")


def _done(info: CallbackInfo, verb: str, as_json: bool) -> None:
    if as_json:
        _echo_json(info.as_dict())
        return
    owner = info.owner or "-"
    ended = f" ({printable(info.end_note)})" if info.end_note else ""
    click.echo(f"{info.ref} {verb}: {info.status_label}{ended}, owner {printable(owner)}, version {info.version}")


@click.group("callback", cls=_Group)
def callback() -> None:
    """Call-backs for callers who hung up waiting: list, take, attempt, assign, close."""


def _intent_command(name: str) -> Callable[[Callable[..., None]], click.Command]:
    """A `wallboard callback` command named and described by the intents' table."""
    it = intent(name)
    return callback.command(it.command, help=it.summary)


@callback.command("list")
@click.option("--all", "everything", is_flag=True, help="Ended ones too (newest first); default: the open ones.")
@click.option("--queue", metavar="QUEUE", help="Only this queue's.")
@click.option("--owner", metavar="USER", help="Only this user's.")
@json_option
@click.pass_context
def callback_list(ctx: click.Context, everything: bool, queue: str | None, owner: str | None, as_json: bool) -> None:
    """The shared list: open call-backs, the most urgent first."""
    rows = _service(ctx).list_callbacks(open_only=not everything, queue=queue, owner=owner)
    if as_json:
        _echo_json([row.as_dict() for row in rows])
        return
    if not rows:
        click.echo("no call-backs", err=True)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    settings = settings_of(ctx)
    table = Table(box=None, header_style="bold")
    for name in ("ref", "caller", "queue", "hung up", "waited", "abandons", "due", "status", "owner", "tries", "v"):
        table.add_column(name, no_wrap=True)
    for row in rows:
        cells = (
            row.ref,
            row.caller_number,
            row.queue,
            _local(row.hung_up_at, settings),
            format_duration(row.wait_seconds),
            str(row.abandons),
            _local(row.due_at, settings),
            row.status_label,
            row.owner or "-",
            f"{row.attempts}/{row.max_attempts}",
            str(row.version),
        )
        table.add_row(*(Text(printable(cell)) for cell in cells))
    Console(width=None if sys.stdout.isatty() else 200, highlight=False, markup=False, emoji=False).print(table)


@callback.command("show")
@click.argument("ref")
@json_option
@click.pass_context
def callback_show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """One call-back: its attempts, its history and the caller's recent calls."""
    info = _service(ctx).get(ref)
    if as_json:
        _echo_json(info.as_dict())
        return
    settings = settings_of(ctx)
    lines = [
        f"{info.ref}  {info.status_label}" + (f" ({info.end_note})" if info.end_note else ""),
        f"caller {info.caller_number}, {info.queue}, hung up {_local(info.hung_up_at, settings)} "
        f"after {format_duration(info.wait_seconds)} ({info.abandons} abandon{'s' if info.abandons != 1 else ''})",
        f"due {_local(info.due_at, settings)}, owner {info.owner or '-'}, attempts {info.attempts}/{info.max_attempts}, "
        f"version {info.version}",
    ]
    lines += [
        f"  attempt {_local(a.at, settings)} {a.by}: {a.outcome}" + (f" ({a.note})" if a.note else "")
        for a in info.attempt_list
    ]
    lines += [
        f"  call {_local(c.enter_at, settings)} {c.queue}: {c.outcome}" + (f" ({c.agent})" if c.agent else "")
        for c in info.recent_calls
    ]
    lines += [
        f"  {_local(e.at, settings)} {e.actor or 'system'}: {e.kind} {e.new or ''} {e.note or ''}".rstrip()
        for e in info.events
    ]
    for text_line in lines:
        click.echo(printable(text_line))


@callback.command("abandons")
@json_option
@click.pass_context
def callback_abandons(ctx: click.Context, as_json: bool) -> None:
    """Abandoned calls that could be call-backs and are not yet ([callbacks] auto = false)."""
    rows = _service(ctx).abandons_to_request()
    if as_json:
        _echo_json(
            [
                {"call_id": r.call_id, "caller": r.caller_number, "queue": r.queue, "hung_up_at": r.hung_up_at}
                for r in rows
            ]
        )
        return
    settings = settings_of(ctx)
    for r in rows:
        click.echo(printable(f"{r.call_id}  {r.caller_number}  {r.queue}  {_local(r.hung_up_at, settings)}"))


@_intent_command("callback_request")
@click.argument("call_id", type=int)
@as_option
@json_option
@click.pass_context
def callback_request(ctx: click.Context, call_id: int, actor: str, as_json: bool) -> None:
    _done(_service(ctx).request_callback(call_id, actor), intent("callback_request").verb, as_json)


@_intent_command("callback_take")
@click.argument("ref", required=False)
@click.option("--queue", metavar="QUEUE", help="Without REF: the next one of this queue.")
@as_option
@version_option
@json_option
@click.pass_context
def callback_take(
    ctx: click.Context, ref: str | None, queue: str | None, actor: str, expect_version: int | None, as_json: bool
) -> None:
    info = _service(ctx).take_callback(ref, actor, queue=queue, expect_version=expect_version)
    _done(info, f"taken by {actor}", as_json)


@_intent_command("callback_attempt")
@click.argument("ref")
@click.option("--outcome", required=True, type=click.Choice(typed(ATTEMPT_OUTCOMES)))
@click.option("--note", help="What happened (kept in the history).")
@as_option
@version_option
@json_option
@click.pass_context
def callback_attempt(
    ctx: click.Context, ref: str, outcome: str, note: str | None, actor: str, expect_version: int | None, as_json: bool
) -> None:
    info = _service(ctx).record_attempt(ref, actor, outcome=outcome, note=note, expect_version=expect_version)
    _done(info, f"attempt {info.attempts}/{info.max_attempts} {outcome}", as_json)


@_intent_command("callback_assign")
@click.argument("ref")
@click.option("--to", "to", required=True, metavar="USER", help="Who calls back.")
@click.option("--note", help="Why (kept in the history, told to them).")
@as_option
@version_option
@json_option
@click.pass_context
def callback_assign(
    ctx: click.Context, ref: str, to: str, note: str | None, actor: str, expect_version: int | None, as_json: bool
) -> None:
    info = _service(ctx).assign_callback(ref, actor, to=to, note=note, expect_version=expect_version)
    _done(info, f"assigned to {to}", as_json)


@_intent_command("callback_close")
@click.argument("ref")
@click.option("--note", required=True, help="Why it needs no call (kept in the history).")
@as_option
@version_option
@json_option
@click.pass_context
def callback_close(
    ctx: click.Context, ref: str, note: str, actor: str, expect_version: int | None, as_json: bool
) -> None:
    info = _service(ctx).close_callback(ref, actor, note=note, expect_version=expect_version)
    _done(info, "closed", as_json)


@_intent_command("callback_complaint")
@click.argument("ref")
@click.option("--subject", help="The complaint's subject (default: from the call-back).")
@click.option("--description", help="The complaint's description (default: from the call-back).")
@click.option("--customer", help="The customer's name (default: the caller's number).")
@click.option("--severity", default="normal", show_default=True, type=click.Choice(SEVERITIES))
@as_option
@version_option
@json_option
@click.pass_context
def callback_complaint(
    ctx: click.Context,
    ref: str,
    subject: str | None,
    description: str | None,
    customer: str | None,
    severity: str,
    actor: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    info = _service(ctx).callback_to_complaint(
        ref,
        actor,
        subject=subject,
        description=description,
        customer=customer,
        severity=severity,
        expect_version=expect_version,
    )
    _done(info, f"made complaint {info.complaint_ref}", as_json)
