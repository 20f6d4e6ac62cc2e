"""Complaints as rows for a spreadsheet or a script (`wallboard ticket list --format csv|json`).

`export_rows` streams: the database hands rows over a batch at a time (a server-side cursor
on PostgreSQL, SQLite's own cursor), each becomes a plain dict and is written before the
next batch is read, so a million complaints export in the memory of one batch. Columns and
their meaning: docs/OUTCOMES.md ("The export").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select

from db import tables
from tickets.outcomes import acknowledged_on_time, resolve_budget, resolved_on_time
from tickets.queries import COMPLAINTS, ComplaintQueries, ComplaintSelect
from tickets.statuses import ref_of

if TYPE_CHECKING:
    from wallboard.config import Settings

# Rows fetched from the database at a time: the export's memory is about this many rows.
BATCH = 2_000

# The columns, in order. Times are in the site's time zone.
COLUMNS = (
    "ref",
    "created_at",
    "status",
    "severity",
    "owner",
    "customer",
    "contact",
    "channel",
    "category",
    "queue",
    "agent",
    "callid",
    "subject",
    "ack_due_at",
    "acknowledged_at",
    "ack_on_time",
    "resolve_due_at",
    "resolved_at",
    "resolved_on_time",
    "next_follow_up_at",
    "due_at",
    "closed_at",
    "root_cause",
    "escalation_level",
    "customer_confirmed",
    "updated_at",
)
TIME_COLUMNS = frozenset(name for name in COLUMNS if name.endswith("_at"))
FLAG_COLUMNS = frozenset({"ack_on_time", "resolved_on_time", "customer_confirmed"})
# Text typed by people or taken from the call data (the rest is the tracker's own words).
OUTSIDE_TEXT_COLUMNS = frozenset({"owner", "customer", "contact", "category", "queue", "agent", "callid", "subject"})

# The owner's name, joined to the complaints of the list's query (Core tables, as that query).
_owner = tables.users.alias("owner")
_SOURCE = (
    COMPLAINTS.c.id,
    COMPLAINTS.c.created_at,
    COMPLAINTS.c.status,
    COMPLAINTS.c.severity,
    _owner.c.name,
    COMPLAINTS.c.customer_name,
    COMPLAINTS.c.customer_contact,
    COMPLAINTS.c.channel,
    COMPLAINTS.c.category,
    COMPLAINTS.c.call_queue,
    COMPLAINTS.c.call_agent,
    COMPLAINTS.c.callid,
    COMPLAINTS.c.subject,
    COMPLAINTS.c.ack_due_at,
    COMPLAINTS.c.acknowledged_at,
    COMPLAINTS.c.resolve_due_at,
    COMPLAINTS.c.resolved_at,
    COMPLAINTS.c.sla_paused_seconds,
    COMPLAINTS.c.sla_paused_since,
    COMPLAINTS.c.next_follow_up_at,
    COMPLAINTS.c.due_at,
    COMPLAINTS.c.closed_at,
    COMPLAINTS.c.root_cause,
    COMPLAINTS.c.escalation_level,
    COMPLAINTS.c.customer_confirmed,
    COMPLAINTS.c.updated_at,
)


def export_query(query: ComplaintSelect) -> Select[*tuple[Any, ...]]:
    """The export's columns of the complaints `query` selects (its filters, not its
    order: the export goes by reference, the primary key, with no sort to hold)."""
    return (
        query.with_only_columns(*_SOURCE)
        .outerjoin(_owner, _owner.c.id == COMPLAINTS.c.owner_id)
        .order_by(None)
        .order_by(COMPLAINTS.c.id)
    )


def export_rows(
    queries: ComplaintQueries, settings: Settings, query: ComplaintSelect, now: float
) -> Iterator[dict[str, Any]]:
    """Each complaint `query` selects as a dict of COLUMNS: times as local datetimes (None
    when unset), on-time flags True, False or None (pending), as the report judges them."""
    calendar = queries.calendar
    tz = calendar.tz
    budgets: dict[str, float] = {}
    # Core rows, not the ORM's: a tenth of the cost per row, which is what a million cost.
    with queries.engine.connect() as connection:
        result = connection.execution_options(yield_per=BATCH).execute(export_query(query))
        for (
            complaint_id,
            created_at,
            status,
            severity,
            owner,
            customer,
            contact,
            channel,
            category,
            queue,
            agent,
            callid,
            subject,
            ack_due_at,
            acknowledged_at,
            resolve_due_at,
            resolved_at,
            paused_seconds,
            paused_since,
            next_follow_up_at,
            due_at,
            closed_at,
            root_cause,
            escalation_level,
            customer_confirmed,
            updated_at,
        ) in result:
            budget = budgets.get(severity)
            if budget is None:
                budget = budgets[severity] = resolve_budget(settings, severity)
            yield {
                "ref": ref_of(complaint_id),
                "created_at": _local(created_at, tz),
                "status": status,
                "severity": severity,
                "owner": owner,
                "customer": customer,
                "contact": contact,
                "channel": channel,
                "category": category,
                "queue": queue,
                "agent": agent,
                "callid": callid,
                "subject": subject,
                "ack_due_at": _local(ack_due_at, tz),
                "acknowledged_at": _local(acknowledged_at, tz),
                "ack_on_time": acknowledged_on_time(acknowledged_at, ack_due_at, now),
                "resolve_due_at": _local(resolve_due_at, tz),
                "resolved_at": _local(resolved_at, tz),
                "resolved_on_time": resolved_on_time(
                    calendar, budget, created_at, resolved_at, paused_seconds, paused_since, now
                ),
                "next_follow_up_at": _local(next_follow_up_at, tz),
                "due_at": _local(due_at, tz),
                "closed_at": _local(closed_at, tz),
                "root_cause": root_cause,
                "escalation_level": escalation_level,
                "customer_confirmed": customer_confirmed,
                "updated_at": _local(updated_at, tz),
            }


def _local(at: float | None, tz: Any) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, tz)
