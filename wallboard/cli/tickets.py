"""`wallboard ticket ...` and `wallboard user ...`: the complaint tracker's command line.

Every command takes `--json`; every mutating ticket command takes `--as USER` and
`--expect-version N`. Errors are one line on stderr and exit status 1 (bad usage too).
Text from outside (customer text, names, caller IDs) is printed literally: through
`printable` (wallboard/text.py), as rich `Text`, never markup; JSON through `json_text`.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tickets.errors import TicketError
from tickets.intents import TABLE, Intent, Note, Subject, intent
from tickets.permissions import Role
from tickets.records import (
    CHANNELS,
    ESCALATION_LEVELS,
    FOLLOW_UP_KINDS,
    OUTCOMES,
    ROOT_CAUSES,
    SEVERITIES,
    ComplaintInfo,
    FollowUpInfo,
    NotificationInfo,
    View,
    typed,
)
from tickets.statuses import Status
from wallboard.cli.common import Failure, open_database_of, settings_of
from wallboard.config import Settings
from wallboard.text import json_text, printable, printable_lines

if TYPE_CHECKING:
    from rich.console import Console

    from tickets.queries import ComplaintQueries
    from tickets.service import ComplaintService


class _Group(click.Group):
    """Usage errors exit 1 like every other error of these commands (the issue's contract)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise Failure(exc.format_message()) from None
        except TicketError as exc:
            raise Failure(str(exc)) from None


def _service(ctx: click.Context) -> ComplaintService:
    from tickets.service import ComplaintService

    return ComplaintService(open_database_of(ctx, migrate=True), settings_of(ctx))


def _queries(ctx: click.Context) -> ComplaintQueries:
    """The reads alone, as the service builds them: a read command does not import the writes."""
    from tickets.queries import ComplaintQueries
    from tickets.sla import BusinessCalendar

    return ComplaintQueries(open_database_of(ctx, migrate=True), BusinessCalendar.from_settings(settings_of(ctx)))


def _echo_json(data: object) -> None:
    click.echo(json_text(data))


def _echo(line: str) -> None:
    """A line for people with text from outside in it: printed literally."""
    click.echo(printable(line))


# -- options shared by the mutating commands -------------------------------------------------

as_option = click.option(
    "--as", "actor", required=True, metavar="USER", help="The user acting (recorded in the audit trail)."
)
version_option = click.option(
    "--expect-version",
    "expect_version",
    type=click.IntRange(min=1),
    metavar="N",
    help="Refuse the change unless the complaint is still at this version (as last read).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _done(info: ComplaintInfo, verb: str, as_json: bool) -> None:
    if as_json:
        _echo_json(info.as_dict())
    else:
        _echo(f"{info.ref} {verb}: {info.status_label}, owner {info.owner or '-'}, version {info.version}")


_RELATIVE = re.compile(r"\+(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_due(value: str, settings: Settings, *, now: float | None = None, option: str = "--due") -> float:
    """`+N[smhd]` from now, or an ISO 8601 time (without an offset: the site's time zone)."""
    now = time.time() if now is None else now
    value = value.strip()
    if match := _RELATIVE.fullmatch(value):
        return now + float(match.group(1)) * _UNITS[match.group(2)]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Failure(
            f"{option}: {value!r} is neither +N[smhd] (e.g. +2h, +1d) nor an ISO 8601 time (e.g. 2026-11-24T10:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.site.tz)
    return moment.timestamp()


# -- ticket ----------------------------------------------------------------------------------


@click.group("ticket", cls=_Group)
def ticket() -> None:
    """Customer complaints: log, own, follow up, resolve, close."""


def _intent_command(name: str) -> Callable[[Callable[..., None]], click.Command]:
    """A `wallboard ticket` command named and described by the intents' table."""
    it = intent(name)
    return ticket.command(it.command, help=it.summary)


@_intent_command("create")
@as_option
@click.option("--customer", required=True, help="Customer's name.")
@click.option("--contact", required=True, help="How to reach the customer (phone, e-mail).")
@click.option("--subject", required=True)
@click.option("--description", required=True)
@click.option("--severity", required=True, type=click.Choice(SEVERITIES))
@click.option("--category")
@click.option(
    "--call", "callid", metavar="CALLID", help="The call it came from (fills queue, agent, caller when known)."
)
@click.option("--channel", default="phone", show_default=True, type=click.Choice(typed(CHANNELS)))
@click.option("--owner", metavar="USER", help="Owner other than yourself (supervisors).")
@click.option("--unassigned", is_flag=True, help="Leave it unassigned (supervisors).")
@json_option
@click.pass_context
def ticket_new(
    ctx: click.Context,
    actor: str,
    customer: str,
    contact: str,
    subject: str,
    description: str,
    severity: str,
    category: str | None,
    callid: str | None,
    channel: str,
    owner: str | None,
    unassigned: bool,
    as_json: bool,
) -> None:
    info = _service(ctx).create(
        actor,
        customer=customer,
        contact=contact,
        subject=subject,
        description=description,
        severity=severity,
        category=category,
        callid=callid,
        channel=channel,
        owner=owner,
        unassigned=unassigned,
    )
    _done(info, intent("create").verb, as_json)


@ticket.command("show")
@click.argument("ref")
@json_option
@click.pass_context
def ticket_show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """A complaint with its audit trail and follow-ups."""
    info = _queries(ctx).get(ref)
    if as_json:
        _echo_json(info.as_dict())
        return
    _print_detail(info, settings_of(ctx))


@ticket.command("list")
@click.option("--owner", metavar="USER")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    metavar="STATUS",
    help=f"{', '.join(s.value for s in Status)} (repeat for several; default: open ones).",
)
@click.option("--all", "every_status", is_flag=True, help="Whatever their status (resolved and closed too).")
@click.option("--overdue", is_flag=True, help="Only open complaints past a due time.")
@click.option("--search", metavar="TEXT", help='Full text: all words must appear; "a phrase"; word* for a prefix.')
@click.option(
    "--view",
    metavar="VIEW",
    help=f"A fixed view ({', '.join(typed([v.value for v in View]))}) or a saved one (with --as).",
)
@click.option("--as", "actor", metavar="USER", help="Whose complaints 'mine' shows; whose saved views --view reads.")
@click.option("--from", "since", help="Received at or after (ISO 8601 date or time, site time zone).")
@click.option("--to", "until", help="Received before (ISO 8601 date or time, site time zone).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="At most this many (default 50 for the table and --json; every match for --format csv|json).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="csv, json: every column a spreadsheet needs, streamed, by reference (see docs/OUTCOMES.md).",
)
@json_option
@click.pass_context
def ticket_list(
    ctx: click.Context,
    owner: str | None,
    statuses: tuple[str, ...],
    every_status: bool,
    overdue: bool,
    search: str | None,
    view: str | None,
    actor: str | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    fmt: str,
    as_json: bool,
) -> None:
    """Complaints, most urgent first (or newest first with --search); --format csv|json
    exports them all, by reference."""
    from wallboard.cli.common import parse_when

    settings = settings_of(ctx)
    queries = _queries(ctx)
    if as_json and fmt != "table":
        raise Failure("--json cannot be combined with --format (--format json is the export)")
    if view:
        if owner or statuses or overdue or search or every_status or since or until:
            raise Failure(
                "--view cannot be combined with --owner, --status, --all, --overdue, --search, --from or --to"
            )
        query = _view_query(ctx, queries, view, actor)
    else:
        if every_status and statuses:
            raise Failure("--all cannot be combined with --status")
        query = queries.matching_query(
            owner=owner,
            statuses=list(statuses) or None,
            every_status=every_status,
            overdue=overdue,
            search=search,
            created_from=parse_when(since, settings, "--from") if since else None,
            created_to=parse_when(until, settings, "--to") if until else None,
        )
    if fmt != "table":
        from tickets.export import export_cells, export_rows

        if limit is not None:
            query = query.limit(limit)
        if fmt == "csv":
            _write_csv(export_cells(queries, settings, query, time.time()))
        else:
            _write_export(export_rows(queries, settings, query, time.time()), fmt)
        return
    if limit is not None and limit > 10_000:
        raise Failure("--limit: at most 10000 for the table and --json (--format csv|json exports any number)")
    rows = queries.page(query, limit or 50)
    if as_json:
        _echo_json({"complaints": [r.as_dict() for r in rows]})
        return
    _print_list(rows, settings)


def _view_query(ctx: click.Context, queries: ComplaintQueries, view: str, actor: str | None) -> Any:
    """A fixed view's query, else the saved view of that name of `actor` (or shared)."""
    if view.strip().lower().replace("-", "_") in {v.value for v in View}:
        return queries.view_query(view, actor)
    if not actor:
        fixed = ", ".join(typed([v.value for v in View]))
        raise Failure(f"no view {view!r}: one of {fixed}, or a saved view with --as USER")
    from tickets.saved_views import SavedViews

    return SavedViews(queries.engine).query(actor, view, queries, time.time())


def _write_csv(rows: Iterator[list[Any]]) -> None:
    """CSV rows to stdout as they come (tickets.export.export_cells made them ready for a
    spreadsheet: local times, yes/no, formula-like text made literal)."""
    import csv

    from tickets.export import COLUMNS

    out = sys.stdout
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(rows)  # None is written as an empty cell
    out.flush()


def _write_export(rows: Iterator[dict[str, Any]], fmt: str) -> None:
    """Rows to stdout as they come, as a JSON document written piece by piece."""
    from tickets.export import COLUMNS, TIME_COLUMNS

    out = sys.stdout
    times = [i for i, name in enumerate(COLUMNS) if name in TIME_COLUMNS]
    time_names = [COLUMNS[i] for i in times]
    out.write('{"complaints": [')
    for n, row in enumerate(rows):
        for name in time_names:
            if (moment := row[name]) is not None:
                row[name] = moment.isoformat(timespec="seconds")
        out.write(",\n" if n else "\n")
        out.write(json_text(row, indent=None))
    out.write("\n]}\n")
    out.flush()


def _note_command(it: Intent) -> None:
    """The command of an intent that takes only a note (`wallboard ticket ack REF --as ann`)."""
    required = it.note is Note.REQUIRED

    @ticket.command(it.command, help=it.summary)
    @click.argument("ref")
    @as_option
    @click.option("--note", required=required, help="Why (kept in the audit trail).")
    @version_option
    @json_option
    @click.pass_context
    def command(
        ctx: click.Context, ref: str, actor: str, note: str | None, expect_version: int | None, as_json: bool
    ) -> None:
        info = getattr(_service(ctx), it.method)(ref, actor, note=note, expect_version=expect_version)
        _done(info, it.verb, as_json)


for _it in TABLE:
    if _it.note is not Note.NONE and _it.subject is Subject.COMPLAINT:
        _note_command(_it)


@_intent_command("assign")
@click.argument("ref")
@click.option("--to", "to", required=True, metavar="USER", help="The new owner.")
@click.option("--note", required=True, help="Why it is handed over.")
@as_option
@version_option
@json_option
@click.pass_context
def ticket_assign(
    ctx: click.Context, ref: str, to: str, note: str, actor: str, expect_version: int | None, as_json: bool
) -> None:
    info = _service(ctx).assign(ref, actor, to=to, note=note, expect_version=expect_version)
    _done(info, f"{intent('assign').verb} to {to}", as_json)


@_intent_command("follow_up")
@click.argument("ref")
@click.option("--due", required=True, help="+N[smhd] from now, or ISO 8601 (e.g. 2026-11-24T10:00).")
@click.option("--note", required=True, help="What was promised.")
@click.option(
    "--kind",
    default="callback",
    show_default=True,
    type=click.Choice(typed(FOLLOW_UP_KINDS)),
    help="A promise to the customer (callback, action) or a corrective action.",
)
@click.option("--owner", metavar="USER", help="Who does it (default: the complaint's owner).")
@as_option
@version_option
@json_option
@click.pass_context
def ticket_follow_up(
    ctx: click.Context,
    ref: str,
    due: str,
    note: str,
    kind: str,
    owner: str | None,
    actor: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    due_at = parse_due(due, settings_of(ctx))
    info = _service(ctx).add_follow_up(
        ref, actor, due_at=due_at, note=note, kind=kind, owner=owner, expect_version=expect_version
    )
    if as_json:
        _echo_json(info.as_dict())
    else:
        newest: FollowUpInfo = max(info.follow_ups, key=lambda f: f.id)
        _echo(
            f"{info.ref} follow-up {newest.id} ({newest.kind}) due {_local(newest.due_at, settings_of(ctx))}, "
            f"owner {newest.owner}, version {info.version}"
        )


@_intent_command("outcome")
@click.argument("ref")
@click.argument("follow_up_id", metavar="FOLLOWUP_ID", type=int)
@click.option("--outcome", required=True, type=click.Choice(typed(OUTCOMES)))
@click.option("--note", required=True)
@click.option("--due", help="With rescheduled: when it is due now (opens a new follow-up).")
@as_option
@version_option
@json_option
@click.pass_context
def ticket_outcome(
    ctx: click.Context,
    ref: str,
    follow_up_id: int,
    outcome: str,
    note: str,
    due: str | None,
    actor: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    new_due = parse_due(due, settings_of(ctx)) if due else None
    info = _service(ctx).record_outcome(
        ref, follow_up_id, actor, outcome=outcome, note=note, new_due_at=new_due, expect_version=expect_version
    )
    _done(info, f"follow-up {follow_up_id} {outcome}", as_json)


@_intent_command("resolve")
@click.argument("ref")
@click.option("--resolution", required=True, help="The answer given to the customer.")
@click.option(
    "--root-cause",
    "root_cause",
    required=True,
    type=click.Choice(list(ROOT_CAUSES)),
    help=", ".join(ROOT_CAUSES.values()) + ".",
)
@as_option
@version_option
@json_option
@click.pass_context
def ticket_resolve(
    ctx: click.Context,
    ref: str,
    resolution: str,
    root_cause: str,
    actor: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    info = _service(ctx).resolve(
        ref, actor, resolution=resolution, root_cause=root_cause, expect_version=expect_version
    )
    _done(info, intent("resolve").verb, as_json)


@_intent_command("close")
@click.argument("ref")
@click.option("--confirmed", is_flag=True, help="The customer confirmed the answer.")
@click.option("--note")
@as_option
@version_option
@json_option
@click.pass_context
def ticket_close(
    ctx: click.Context,
    ref: str,
    confirmed: bool,
    note: str | None,
    actor: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    info = _service(ctx).close(ref, actor, confirmed=confirmed, note=note, expect_version=expect_version)
    _done(info, intent("close").verb, as_json)


@_intent_command("flag_malicious")
@click.argument("ref")
@click.option("--reason", help="Why the contact is malicious or abusive.")
@click.option("--clear", is_flag=True, help="Remove the flag (give the reason with --reason); as `unflag`.")
@as_option
@version_option
@json_option
@click.pass_context
def ticket_flag(
    ctx: click.Context,
    ref: str,
    reason: str | None,
    clear: bool,
    actor: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    if not reason:
        raise Failure("--reason is required")
    service = _service(ctx)
    if clear:
        info = service.clear_malicious(ref, actor, note=reason, expect_version=expect_version)
    else:
        info = service.flag_malicious(ref, actor, reason=reason, expect_version=expect_version)
    _done(info, intent("clear_malicious" if clear else "flag_malicious").verb, as_json)


@_intent_command("update")
@click.argument("ref")
@click.option("--subject")
@click.option("--description")
@click.option("--customer")
@click.option("--contact")
@click.option("--category")
@click.option("--severity", type=click.Choice(SEVERITIES))
@click.option("--channel", type=click.Choice(typed(CHANNELS)))
@as_option
@version_option
@json_option
@click.pass_context
def ticket_edit(
    ctx: click.Context,
    ref: str,
    subject: str | None,
    description: str | None,
    customer: str | None,
    contact: str | None,
    category: str | None,
    severity: str | None,
    channel: str | None,
    actor: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    info = _service(ctx).update_details(
        ref,
        actor,
        expect_version=expect_version,
        subject=subject,
        description=description,
        customer=customer,
        contact=contact,
        category=category,
        severity=severity,
        channel=channel,
    )
    _done(info, intent("update").verb, as_json)


@_intent_command("escalate")
@click.argument("ref")
@click.option(
    "--level",
    required=True,
    type=click.Choice([str(level) for level in ESCALATION_LEVELS]),
    help=", ".join(f"{level} {name}" for level, name in ESCALATION_LEVELS.items()) + ".",
)
@click.option("--note", required=True, help="Why.")
@as_option
@version_option
@json_option
@click.pass_context
def ticket_escalate(
    ctx: click.Context, ref: str, level: str, note: str, actor: str, expect_version: int | None, as_json: bool
) -> None:
    info = _service(ctx).escalate(ref, int(level), actor=actor, note=note, expect_version=expect_version)
    _done(info, intent("escalate").verb, as_json)


@ticket.command("close-stale")
@json_option
@click.pass_context
def ticket_close_stale(ctx: click.Context, as_json: bool) -> None:
    """Close resolved complaints the customer has not answered within [complaints] auto_close_days."""
    closed = _service(ctx).close_stale_resolved()
    if as_json:
        _echo_json({"closed": closed})
    else:
        click.echo(
            f"closed {len(closed)} complaint{'s' * (len(closed) != 1)}" + (f": {', '.join(closed)}" if closed else "")
        )


# -- human output ------------------------------------------------------------------------------


def _local(at: float | None, settings: Settings) -> str:
    if at is None:
        return "-"
    return datetime.fromtimestamp(at, settings.site.tz).strftime("%Y-%m-%d %H:%M")


def _console() -> Console:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200, highlight=False, markup=False, emoji=False)


# -- saved views -------------------------------------------------------------------------------


@ticket.group("view", cls=_Group)
def ticket_view() -> None:
    """Saved views of one's own: a filter and sort under a name (`ticket list --view NAME --as USER`)."""


@ticket_view.command("save")
@click.argument("name")
@as_option
@click.option("--search", metavar="TEXT", help="Full text, as `ticket list --search`.")
@click.option("--status", "statuses", multiple=True, metavar="STATUS", help="Repeat for several; default: open ones.")
@click.option("--all", "every_status", is_flag=True, help="Whatever their status.")
@click.option("--owner", metavar="USER")
@click.option("--severity", "severities", multiple=True, type=click.Choice(SEVERITIES), help="Repeat for several.")
@click.option("--overdue", is_flag=True, help="Only open complaints past a due time.")
@click.option("--from", "since", help="Received at or after (ISO 8601, site time zone).")
@click.option("--to", "until", help="Received before (ISO 8601, site time zone).")
@click.option("--sort", type=click.Choice(["due", "newest", "oldest", "urgency"]), help="Default: by due time.")
@json_option
@click.pass_context
def ticket_view_save(
    ctx: click.Context,
    name: str,
    actor: str,
    search: str | None,
    statuses: tuple[str, ...],
    every_status: bool,
    owner: str | None,
    severities: tuple[str, ...],
    overdue: bool,
    since: str | None,
    until: str | None,
    sort: str | None,
    as_json: bool,
) -> None:
    """Save (or change) your view NAME."""
    from wallboard.cli.common import parse_when

    settings = settings_of(ctx)
    filters: dict[str, Any] = {
        "search": search,
        "statuses": list(statuses),
        "every_status": every_status,
        "owner": owner,
        "severities": list(severities),
        "overdue": overdue,
        "created_from": parse_when(since, settings, "--from") if since else None,
        "created_to": parse_when(until, settings, "--to") if until else None,
        "sort": sort,
    }
    info = _saved_views(ctx).save(actor, name, filters)
    if as_json:
        _echo_json(info.as_dict())
    else:
        _echo(f"view {info.name!r} saved for {info.owner}")


@ticket_view.command("list")
@as_option
@json_option
@click.pass_context
def ticket_view_list(ctx: click.Context, actor: str, as_json: bool) -> None:
    """Your saved views, then those shared with the floor."""
    views = _saved_views(ctx).list_for(actor)
    if as_json:
        _echo_json({"views": [v.as_dict() for v in views]})
        return
    for v in views:
        shown = ", ".join(f"{k}={val}" for k, val in v.filters.as_dict().items()) or "open complaints"
        _echo(f"{v.name}\t{v.owner}{' (shared)' if v.shared else ''}\t{shown}")


@ticket_view.command("delete")
@click.argument("name")
@as_option
@click.pass_context
def ticket_view_delete(ctx: click.Context, name: str, actor: str) -> None:
    """Delete your view NAME (a shared one goes for everyone)."""
    _saved_views(ctx).delete(actor, name)
    _echo(f"view {name!r} deleted")


@ticket_view.command("share")
@click.argument("name")
@as_option
@click.option("--stop", is_flag=True, help="Stop sharing it.")
@click.pass_context
def ticket_view_share(ctx: click.Context, name: str, actor: str, stop: bool) -> None:
    """Share your view NAME with the floor (supervisors)."""
    info = _saved_views(ctx).share(actor, name, not stop)
    _echo(f"view {info.name!r} {'shared with the floor' if info.shared else 'no longer shared'}")


def _saved_views(ctx: click.Context) -> Any:
    from tickets.saved_views import SavedViews

    return SavedViews(open_database_of(ctx, migrate=True))


def _print_list(rows: Sequence[ComplaintInfo], settings: Settings) -> None:
    if not rows:
        click.echo("no complaints", err=True)
        return
    from rich.table import Table
    from rich.text import Text

    now = time.time()
    table = Table(box=None, header_style="bold")
    for name in ("ref", "status", "severity", "owner", "due", "customer", "subject"):
        table.add_column(name, no_wrap=name in ("ref", "status", "due"), overflow="ellipsis")
    for row in rows:
        due = _local(row.due_at, settings) + (" overdue" if row.is_overdue(now) else "")
        cells = (row.ref, row.status_label, row.severity, row.owner or "-", due, row.customer, row.subject)
        table.add_row(*(Text(printable(str(value))) for value in cells))
    _console().print(table)


def _print_detail(info: ComplaintInfo, settings: Settings) -> None:
    from rich.text import Text

    console = _console()
    lines = [
        ("ref", info.ref),
        ("status", info.status_label),
        ("owner", info.owner or "-"),
        ("version", str(info.version)),
        ("severity", info.severity),
        ("subject", info.subject),
        ("customer", info.customer),
        ("contact", info.contact),
        ("channel", info.channel),
        ("category", info.category or "-"),
        ("call", " ".join(x for x in (info.callid, info.call_queue, info.call_agent, info.caller_number) if x) or "-"),
        ("created", f"{_local(info.created_at, settings)} by {info.created_by}"),
        ("acknowledge by", _local(info.ack_due_at, settings)),
        ("resolve by", _local(info.resolve_due_at, settings) + (" (clock paused)" if info.sla_paused else "")),
    ]
    if info.root_cause:
        lines.append(("root cause", info.root_cause))
    if info.resolution:
        lines.append(("resolution", info.resolution))
    if info.customer_confirmed is not None:
        lines.append(("confirmed", "yes" if info.customer_confirmed else "no"))
    if info.malicious:
        lines.append(("MALICIOUS", info.malicious_reason or ""))
    if info.escalation_level:
        lines.append(
            ("escalated", {1: "supervisor", 2: "manager"}.get(info.escalation_level, str(info.escalation_level)))
        )
    for label, value in lines:
        console.print(Text(f"{label:>15}  ") + Text(printable(value)))
    console.print(Text("\ndescription"))
    console.print(Text(printable_lines(info.description)))
    if info.follow_ups:
        console.print(Text("\nfollow-ups"))
        for f in info.follow_ups:
            state = f.outcome.replace("_", " ") if f.outcome else "open"
            console.print(
                Text(printable(f"  #{f.id} {f.kind} due {_local(f.due_at, settings)} owner {f.owner} [{state}] "))
                + Text(printable(f.note))
            )
    console.print(Text("\ntimeline"))
    for e in reversed(info.events):
        change = f"{e.field}: {e.old or '-'} -> {e.new or '-'}" if e.field else ""
        line = Text(printable(f"  {_local(e.at, settings)} {e.actor or 'system'} {e.kind} ")) + Text(printable(change))
        if e.note:
            line += Text(printable(f"  ({e.note})"))
        console.print(line)


# -- user ----------------------------------------------------------------------------------------


@click.group("user", cls=_Group)
def user() -> None:
    """Users, their roles (agent, supervisor, display) and SSH public keys."""


def _read_key(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise Failure(f"{path}: {exc.strerror}") from None


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--key", "key_file", metavar="PUBLIC_KEY_FILE", help="OpenSSH public key (.pub) the user logs in with.")
@json_option
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str, key_file: str | None, as_json: bool) -> None:
    """Add a user."""
    from tickets import users

    info = users.add_user(open_database_of(ctx, migrate=True), name, role, _read_key(key_file) if key_file else None)
    if as_json:
        _echo_json(info.as_dict())
    else:
        _echo(f"added {info.name} ({info.role})" + (f", key {info.keys[0].fingerprint}" if info.keys else ""))


@user.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Removed users too.")
@json_option
@click.pass_context
def user_list(ctx: click.Context, include_removed: bool, as_json: bool) -> None:
    """Users and their keys."""
    from tickets import users

    rows = users.list_users(open_database_of(ctx, migrate=True), include_removed=include_removed)
    if as_json:
        _echo_json({"users": [u.as_dict() for u in rows]})
        return
    if not rows:
        click.echo("no users", err=True)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold")
    for name in ("name", "role", "active", "keys"):
        table.add_column(name)
    for u in rows:
        keys = ", ".join(f"{k.fingerprint} {k.comment or ''}".strip() for k in u.keys) or "-"
        table.add_row(
            Text(printable(u.name)), Text(u.role), Text("yes" if u.active else "removed"), Text(printable(keys))
        )
    _console().print(table)


@user.command("remove")
@click.argument("name")
@json_option
@click.pass_context
def user_remove(ctx: click.Context, name: str, as_json: bool) -> None:
    """Remove a user (they keep their name in the audit trail; their keys stop working)."""
    from tickets import users

    users.remove_user(open_database_of(ctx, migrate=True), name)
    if as_json:
        _echo_json(users.get_user(open_database_of(ctx, migrate=True), name).as_dict())
    else:
        _echo(f"removed {name}")


@user.command("add-key")
@click.argument("name")
@click.argument("key_file", metavar="PUBLIC_KEY_FILE")
@json_option
@click.pass_context
def user_add_key(ctx: click.Context, name: str, key_file: str, as_json: bool) -> None:
    """Let NAME log in with another public key."""
    from tickets import users

    key = users.add_key(open_database_of(ctx, migrate=True), name, _read_key(key_file))
    if as_json:
        _echo_json({"name": name, "fingerprint": key.fingerprint, "type": key.key_type, "comment": key.comment})
    else:
        _echo(f"{name}: added key {key.fingerprint}")


@user.command("remove-key")
@click.argument("name")
@click.argument("fingerprint")
@json_option
@click.pass_context
def user_remove_key(ctx: click.Context, name: str, fingerprint: str, as_json: bool) -> None:
    """Stop a key (named by its SHA256 fingerprint) from logging NAME in."""
    from tickets import users

    users.remove_key(open_database_of(ctx, migrate=True), name, fingerprint)
    if as_json:
        _echo_json(users.get_user(open_database_of(ctx, migrate=True), name).as_dict())
    else:
        _echo(f"{name}: removed key {fingerprint}")


# -- notifications -------------------------------------------------------------------------


@click.command("notifications")
@click.option("--as", "actor", required=True, metavar="USER", help="Whose notifications.")
@click.option("--unread", is_flag=True, help="Only those not read yet.")
@click.option("--mark-read", is_flag=True, help="Mark the listed notifications read.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@json_option
@click.pass_context
def notifications(ctx: click.Context, actor: str, unread: bool, mark_read: bool, limit: int, as_json: bool) -> None:
    """Reminders, escalations and hand-overs for a user, newest first."""
    from tickets import reminders

    engine = open_database_of(ctx, migrate=True)
    try:
        found: list[NotificationInfo] = reminders.notifications_for(engine, actor, unread_only=unread, limit=limit)
        if mark_read and found:
            reminders.mark_read(engine, actor, [n.id for n in found], time.time())
    except TicketError as exc:
        raise Failure(str(exc)) from None
    tz = settings_of(ctx).site.tz
    if as_json:
        _echo_json([n.as_dict(tz) for n in found])
        return
    if not found:
        click.echo("no notifications", err=True)
    for n in found:
        row = n.as_dict(tz)
        flag = " " if n.read else "*"
        _echo(f"{flag} {row['created_at']}  {n.kind:<18} {n.complaint_ref or '-':<9} {n.text}")
