"""Complaints as rows for a spreadsheet or a script (`wallboard ticket list --format csv|json`).

`export_rows` streams: the database hands rows over a batch at a time (a server-side cursor
on PostgreSQL, SQLite's own cursor), each becomes a plain dict and is written before the
next batch is read, so a million complaints export in the memory of one batch. Columns and
their meaning: docs/OUTCOMES.md ("The export").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select

from db import tables
from tickets.outcomes import acknowledged_on_time, resolve_budget, resolved_on_time
from tickets.queries import COMPLAINTS, ComplaintQueries, ComplaintSelect
from tickets.statuses import ref_of
from wallboard.text import csv_cell

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
    for values in _export_lists(queries, settings, query, now, local_time=True):
        yield dict(zip(COLUMNS, values, strict=True))


def _export_lists(
    queries: ComplaintQueries, settings: Settings, query: ComplaintSelect, now: float, *, local_time: bool
) -> Iterator[list[Any]]:
    """`export_rows`' values in COLUMNS order, as lists (no dict per row for the CSV); with
    `local_time` False times stay epoch seconds (for `export_cells` to write)."""
    calendar = queries.calendar
    tz = calendar.tz if local_time else None
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
            yield [
                ref_of(complaint_id),
                _local(created_at, tz),
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
                _local(ack_due_at, tz),
                _local(acknowledged_at, tz),
                acknowledged_on_time(acknowledged_at, ack_due_at, now),
                _local(resolve_due_at, tz),
                _local(resolved_at, tz),
                resolved_on_time(calendar, budget, created_at, resolved_at, paused_seconds, paused_since, now),
                _local(next_follow_up_at, tz),
                _local(due_at, tz),
                _local(closed_at, tz),
                root_cause,
                escalation_level,
                customer_confirmed,
                _local(updated_at, tz),
            ]


def _local(at: float | None, tz: Any) -> datetime | float | None:
    """`at` as a local datetime in `tz`; as it is with no zone (None: epoch seconds kept)."""
    if at is None or tz is None:
        return at
    return datetime.fromtimestamp(at, tz)


# -- CSV: cells ready for csv.writer ------------------------------------------------------

_EPOCH = datetime(1970, 1, 1)
# A cell starting with one of these goes through `csv_cell` (a formula made literal); so
# does one with anything but printable ASCII in it. The rest are written as they are.
_FORMULA_FIRST = frozenset("=+-@\t\r")


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))


class LocalTimes:
    """Epoch seconds as local "YYYY-MM-DD HH:MM:SS" (no offset: as spreadsheets read a
    time), as `datetime.fromtimestamp(at, tz)` gives them, without a time-zone conversion
    per value: the zone's offset is looked up once per hour of time (an hour with a change
    of offset in it is converted value by value), the date's text once per day, and the
    time of day is integer arithmetic. A million rows of eight times: the conversions and
    the formatting were most of the export (a third of a datetime's cost, measured)."""

    def __init__(self, tz: Any) -> None:
        self.tz = tz
        self._offsets: dict[int, float | None] = {}
        self._dates: dict[int, str] = {}  # day since the epoch -> "YYYY-MM-DD "

    def text(self, at: float) -> str:
        hour = int(at // 3600)
        try:
            offset = self._offsets[hour]
        except KeyError:
            offset = self._offset_of(hour)
        # The offset changes within this hour, or the instant rounds (to the microsecond, as
        # datetime rounds before converting) into the next hour, whose offset may differ.
        if offset is None or at - hour * 3600 > 3599.999999:
            return datetime.fromtimestamp(at, self.tz).replace(tzinfo=None).isoformat(" ", "seconds")
        local = at + offset
        whole = int(local)
        # Rounded to the microsecond (half to even) as datetime does, then cut to the second.
        if round((local - whole) * 1e6) == 1_000_000:
            whole += 1
        day, second = divmod(whole, 86400)
        date_text = self._dates.get(day)
        if date_text is None:
            date_text = self._dates[day] = (_EPOCH + timedelta(days=day)).isoformat(" ")[:11]
        minutes, second = divmod(second, 60)
        hours, minutes = divmod(minutes, 60)
        two = _TWO_DIGITS
        return f"{date_text}{two[hours]}:{two[minutes]}:{two[second]}"

    def _offset_of(self, hour: int) -> float | None:
        first = datetime.fromtimestamp(hour * 3600, self.tz).utcoffset()
        last = datetime.fromtimestamp(hour * 3600 + 3599.999999, self.tz).utcoffset()
        found = first.total_seconds() if first is not None and first == last else None
        self._offsets[hour] = found
        return found


def export_cells(
    queries: ComplaintQueries, settings: Settings, query: ComplaintSelect, now: float
) -> Iterator[list[Any]]:
    """`export_rows` as CSV cells in COLUMNS order: local times as text, flags yes/no
    (None: empty), people's text that a spreadsheet could run as a formula made literal
    (`csv_cell`), control characters made visible."""
    times = [i for i, name in enumerate(COLUMNS) if name in TIME_COLUMNS]
    flags = [i for i, name in enumerate(COLUMNS) if name in FLAG_COLUMNS]
    texts = [i for i, name in enumerate(COLUMNS) if name in OUTSIDE_TEXT_COLUMNS]
    local = LocalTimes(queries.calendar.tz).text
    formula_first = _FORMULA_FIRST
    for cells in _export_lists(queries, settings, query, now, local_time=False):
        for i in times:
            if (at := cells[i]) is not None:
                cells[i] = local(at)
        for i in flags:
            if (flag := cells[i]) is not None:
                cells[i] = "yes" if flag else "no"
        for i in texts:
            text = cells[i]
            # Most cells are plain ASCII text that cannot be a formula: left as they are.
            if text and not (text.isascii() and text.isprintable() and text[0] not in formula_first):
                cells[i] = csv_cell(text)
        yield cells
