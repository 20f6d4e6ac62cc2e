"""The outcome report's judged facts of each complaint (table complaint_outcomes, migration 0022).

What the report needs of a complaint's audit trail and of the SLA calendar, and that does not
move with the report's `now`, is judged here once, when the complaint changes (the service
calls `record` in the change's own transaction), instead of on every report:

- business seconds from receipt to acknowledgement, and SLA time used up to the resolution
  (both in business hours, less the time the SLA clock stood still);
- resolved or closed at least once, and reopened within REOPEN_DAYS of that;
- the highest escalation level reached;
- its promises to the customer: the first and last due time, and how many were missed, kept
  late, moved and kept on time (a complaint whose promises all fall due inside the report's
  window needs no follow-up read);
- the call it was logged from (`Link`): whether the call data knows it, and the queue and agent
  the report counts it under, so the report probes no call entries (migration 0025). Unlike
  the rest a call entry written later changes it without the complaint: triggers on `calls`
  set it again on the complaint's row whenever an entry of its call is written or deleted.

A row holds for the complaint's `version` it was judged at and the business hours' fingerprint
(`BusinessCalendar.fingerprint`) it was judged under; triggers (migration 0022) delete it as
soon as the complaint or one of its follow-ups changes, whoever writes them. The report judges a complaint whose row
is missing or stale itself, with the same `judge` (`judge_stale`), so a figure is never stale,
only slower; `refresh` judges every such complaint again in batches (`wallboard db upgrade`
runs it after migrating, the benchmark's bulk builder fills the table with `judge` too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, Engine, Select, and_, delete, func, insert, or_, select, true
from sqlalchemy import case as when

from db.tables import audit_events as AUDIT
from db.tables import calls as CALLS
from db.tables import complaint_outcomes as OUTCOMES
from db.tables import complaints as COMPLAINTS
from db.tables import follow_ups as FOLLOW_UPS
from tickets.outcome_records import REOPEN_DAYS
from tickets.records import LAPSED, PROMISE_KINDS
from tickets.sla import BusinessCalendar
from tickets.statuses import Status

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_BATCH = 5_000  # complaints per IN list and per refresh transaction
_FINISHED = (Status.RESOLVED.value, Status.CLOSED.value)
# The status moves that decide whether a complaint was reopened (see `reopening`).
REOPENING_MOVES = (Status.RESOLVED.value, Status.CLOSED.value, Status.REOPENED.value)
# On PostgreSQL, the transaction-level advisory lock that keeps a complaint's call link exact
# when the complaint and its call are written at once (migration 0025): the triggers on `calls`
# take it exclusive, `record` and `refresh` take it shared before they read the call's entries,
# so neither judges the link without the other's write (and complaint writes never wait for
# each other on it). SQLite has one writer at a time.
LINK_LOCK = 1_400_240_024


class Judged(NamedTuple):
    """A complaint's facts (one row of complaint_outcomes less its key and validity)."""

    ack_seconds: float | None
    resolve_seconds: float | None
    resolved_ever: bool
    reopened: bool
    highest_level: int


class Promises(NamedTuple):
    """A complaint's promises to the customer (follow-ups of PROMISE_KINDS): the first and
    last due time (None: none), and how many were missed, kept late, moved and kept on time,
    each judged as the report judges a promise due in its window (see `promise_verdict`)."""

    promise_first_due: float | None
    promise_last_due: float | None
    promises_missed: int
    promises_late: int
    promises_moved: int
    promises_kept: int


NO_PROMISES = Promises(None, None, 0, 0, 0, 0)
# What `promise_verdict` judges a promise: its position among Promises' counts.
MISSED, LATE, MOVED, KEPT = range(4)


def promise_verdict(due_at: float, outcome: str | None, outcome_at: float | None) -> int:
    """A promise due: missed (no outcome, or lapsed when its complaint closed), kept late
    (after its due time), moved (rescheduled before it: its successor is judged in its stead)
    or kept on time."""
    if outcome is None or outcome == LAPSED or outcome_at is None:
        return MISSED
    if outcome_at > due_at:
        return LATE
    return MOVED if outcome == "rescheduled" else KEPT


def judge_promises(promises: Iterable[tuple[float, str | None, float | None]]) -> Promises:
    """A complaint's Promises from its promises' (due time, outcome, outcome time)."""
    counts = [0, 0, 0, 0]
    first: float | None = None
    last: float | None = None
    for due_at, outcome, outcome_at in promises:
        counts[promise_verdict(due_at, outcome, outcome_at)] += 1
        first = due_at if first is None else min(first, due_at)
        last = due_at if last is None else max(last, due_at)
    return Promises(first, last, *counts)


def read_promises(connection: Connection | Session, ids: Sequence[int]) -> dict[int, Promises]:
    """The Promises of these complaints (those without any: NO_PROMISES)."""
    found: dict[int, list[tuple[float, str | None, float | None]]] = {}
    wanted = sorted(ids)
    for i in range(0, len(wanted), _BATCH):
        rows = connection.execute(
            select(FOLLOW_UPS.c.complaint_id, FOLLOW_UPS.c.due_at, FOLLOW_UPS.c.outcome, FOLLOW_UPS.c.outcome_at).where(
                FOLLOW_UPS.c.complaint_id.in_(wanted[i : i + _BATCH]), FOLLOW_UPS.c.kind.in_(PROMISE_KINDS)
            )
        )
        for complaint_id, due_at, outcome, outcome_at in rows:
            found.setdefault(complaint_id, []).append((due_at, outcome, outcome_at))
    return {complaint_id: judge_promises(promises) for complaint_id, promises in found.items()}


class Link(NamedTuple):
    """The call a complaint was logged from, as the report counts it (docs/OUTCOMES.md):
    whether the call data knows the call (`linked`), and the queue and agent of its last
    answered entry (else its last entry), or, unlinked, those typed or copied on the
    complaint."""

    linked: bool
    queue: str | None
    agent: str | None


def link_query(dialect: str) -> Select[Any]:
    """(complaint id, linked, queue, agent) of each complaint: `Link` as SQL for the database
    `dialect` names, to be narrowed with a WHERE on COMPLAINTS. The triggers of migration 0025
    judge it the same way."""
    c = COMPLAINTS.c
    # Of the call's entries the last one answered, else the last one.
    last_first = (
        when((CALLS.c.answer_at.is_(None), 0), else_=1).desc(),
        CALLS.c.enter_at.desc(),
        CALLS.c.id.desc(),
    )
    joined: Any
    if dialect == "postgresql":
        # A lateral join, one probe a complaint: joined on the id a correlated subquery
        # found, PostgreSQL hashed every call row instead.
        entry: Any = (
            select(CALLS.c.id, CALLS.c.queue, CALLS.c.agent)
            .where(CALLS.c.callid == c.callid)
            .order_by(*last_first)
            .limit(1)
            .lateral("entry")
        )
        joined = COMPLAINTS.outerjoin(entry, true())
    else:  # SQLite has no lateral join: the entry's id from a correlated subquery, then its row
        entry = CALLS.alias("entry")
        latest = select(CALLS.c.id).where(CALLS.c.callid == c.callid).order_by(*last_first).limit(1)
        joined = COMPLAINTS.outerjoin(entry, entry.c.id == latest.correlate(COMPLAINTS).scalar_subquery())
    on_record = entry.c.id.is_not(None)
    return select(
        c.id,
        on_record,
        when((on_record, entry.c.queue), else_=c.call_queue),
        when((on_record, entry.c.agent), else_=c.call_agent),
    ).select_from(joined)


def read_links(connection: Connection | Session, ids: Sequence[int]) -> dict[int, Link]:
    """The Link of each of these complaints."""
    found: dict[int, Link] = {}
    wanted = sorted(ids)
    dialect = connection.dialect.name if isinstance(connection, Connection) else connection.get_bind().dialect.name
    for i in range(0, len(wanted), _BATCH):
        query = link_query(dialect).where(COMPLAINTS.c.id.in_(wanted[i : i + _BATCH]))
        found.update((row[0], Link(bool(row[1]), row[2], row[3])) for row in connection.execute(query))
    return found


class Trail(NamedTuple):
    """What the audit trail tells the report: status moves (time, new status) among
    REOPENING_MOVES, in order, and the highest escalation level a row named."""

    moves: list[tuple[float, str]]
    highest_level: int


NO_TRAIL = Trail([], 0)


def sla_time_used(
    calendar: BusinessCalendar,
    created_at: float,
    resolved_at: float | None,
    paused_seconds: float,
    paused_since: float | None,
    now: float,
) -> float:
    """Business seconds of SLA time used up to the resolution (or `now` if not resolved),
    less the time the clock stood still. `paused_seconds` holds the pauses that ended;
    a pause still running (waiting, resolved, closed) began at `paused_since`."""
    until = resolved_at if resolved_at is not None else now
    paused = paused_seconds
    if paused_since is not None and paused_since < until:
        paused += calendar.seconds_between(paused_since, until)
    return max(0.0, calendar.seconds_between(created_at, until) - paused)


def reopening(moves: Iterable[tuple[float, str]]) -> tuple[bool, bool]:
    """(resolved or closed at least once, reopened within REOPEN_DAYS of that)."""
    finished_at: float | None = None
    resolved_ever = reopened = False
    for at, status in moves:
        if status in _FINISHED:
            finished_at, resolved_ever = at, True
        elif status == Status.REOPENED and finished_at is not None:
            reopened = reopened or at - finished_at <= REOPEN_DAYS * 86400
    return resolved_ever, reopened


def judge(
    calendar: BusinessCalendar,
    created_at: float,
    acknowledged_at: float | None,
    resolved_at: float | None,
    paused_seconds: float,
    paused_since: float | None,
    escalation_level: int,
    trail: Trail,
) -> Judged:
    """A complaint's facts from its columns and its audit trail."""
    ack_seconds = calendar.seconds_between(created_at, acknowledged_at) if acknowledged_at is not None else None
    resolve_seconds = (
        sla_time_used(calendar, created_at, resolved_at, paused_seconds, paused_since, resolved_at)
        if resolved_at is not None
        else None
    )
    resolved_ever, reopened = reopening(trail.moves)
    return Judged(ack_seconds, resolve_seconds, resolved_ever, reopened, max(trail.highest_level, escalation_level))


def read_trails(connection: Connection | Session, ids: Sequence[int]) -> dict[int, Trail]:
    """The trails of these complaints (those without a row that counts: NO_TRAIL), by the
    audit trail's index (complaint, id)."""
    trails: dict[int, Trail] = {}
    wanted = sorted(ids)
    for i in range(0, len(wanted), _BATCH):
        rows = connection.execute(
            select(AUDIT.c.complaint_id, AUDIT.c.at, AUDIT.c.field, AUDIT.c.new)
            .where(
                AUDIT.c.complaint_id.in_(wanted[i : i + _BATCH]),
                # Only the rows `judge` looks at (the others were half the rows read).
                ((AUDIT.c.field == "status") & AUDIT.c.new.in_(REOPENING_MOVES))
                | (AUDIT.c.field == "escalation_level"),
            )
            .order_by(AUDIT.c.complaint_id, AUDIT.c.id)
        )
        for complaint_id, at, what, new in rows:
            trail = trails.get(complaint_id)
            if trail is None:
                trail = trails[complaint_id] = Trail([], 0)
            if what == "status":
                trail.moves.append((at, new or ""))
            elif new is not None and new.isdigit() and int(new) > trail.highest_level:
                trails[complaint_id] = trail = Trail(trail.moves, int(new))
    return trails


# The complaint's columns `judge` reads, in its order after the calendar (and the id, version).
_JUDGED_COLUMNS = (
    COMPLAINTS.c.id,
    COMPLAINTS.c.version,
    COMPLAINTS.c.created_at,
    COMPLAINTS.c.acknowledged_at,
    COMPLAINTS.c.resolved_at,
    COMPLAINTS.c.sla_paused_seconds,
    COMPLAINTS.c.sla_paused_since,
    COMPLAINTS.c.escalation_level,
)


def _judge_row(calendar: BusinessCalendar, row: Sequence[Any], trail: Trail) -> Judged:
    """`judge` of a row of _JUDGED_COLUMNS."""
    return judge(calendar, row[2], row[3], row[4], row[5], row[6], row[7], trail)


def fact_row(
    calendar: BusinessCalendar, complaint_id: int, version: int, judged: Judged, promises: Promises, link: Link
) -> dict[str, Any]:
    """A complaint_outcomes row."""
    return {
        "complaint_id": complaint_id,
        "version": version,
        "calendar": calendar.fingerprint,
        **judged._asdict(),
        **promises._asdict(),
        **link._asdict(),
    }


def record(session: Session, calendar: BusinessCalendar, complaint_id: int) -> None:
    """Judge one complaint as it now stands in this (write) transaction and keep its facts:
    called by the service after its last change to the complaint (flushed), so the row
    carries the version the change left."""
    session.flush()
    row = session.execute(select(*_JUDGED_COLUMNS).where(COMPLAINTS.c.id == complaint_id)).one()
    trail = read_trails(session, [complaint_id]).get(complaint_id, NO_TRAIL)
    judged = _judge_row(calendar, row, trail)
    promises = read_promises(session, [complaint_id]).get(complaint_id, NO_PROMISES)
    if session.get_bind().dialect.name == "postgresql":
        # Before the call's entries are read: an entry written meanwhile either waits for this
        # transaction (its trigger then sees this complaint) or is seen here (LINK_LOCK).
        session.execute(select(func.pg_advisory_xact_lock_shared(LINK_LOCK)))
    link = read_links(session, [complaint_id])[complaint_id]
    session.execute(delete(OUTCOMES).where(OUTCOMES.c.complaint_id == complaint_id))
    session.execute(insert(OUTCOMES).values(fact_row(calendar, complaint_id, row[1], judged, promises, link)))


def judge_stale(connection: Connection, calendar: BusinessCalendar, rows: Iterable[Sequence[Any]]) -> dict[int, Judged]:
    """Facts judged now for complaints whose kept facts are missing or stale; `rows`:
    (id, created_at, acknowledged_at, resolved_at, paused_seconds, paused_since,
    escalation_level) each."""
    listed = list(rows)
    trails = read_trails(connection, [row[0] for row in listed])
    return {
        row[0]: judge(calendar, row[1], row[2], row[3], row[4], row[5], row[6], trails.get(row[0], NO_TRAIL))
        for row in listed
    }


def stale_condition(calendar: BusinessCalendar) -> Any:
    """True for a complaint (joined to its facts, outer) whose facts are missing or stale."""
    return or_(
        OUTCOMES.c.complaint_id.is_(None),
        OUTCOMES.c.version != COMPLAINTS.c.version,
        OUTCOMES.c.calendar != calendar.fingerprint,
    )


def refresh(engine: Engine, calendar: BusinessCalendar, *, batch: int = _BATCH) -> int:
    """Judge every complaint whose facts are missing or stale, a batch per transaction, in
    id order; returns how many. A complaint changed meanwhile got its facts from the
    service already (its version moved on): its batch row is then stale and left for the
    next refresh or the report to judge."""
    judged_count = 0
    after = 0
    joined = COMPLAINTS.outerjoin(OUTCOMES, OUTCOMES.c.complaint_id == COMPLAINTS.c.id)
    while True:
        with engine.begin() as connection:
            rows = connection.execute(
                select(*_JUDGED_COLUMNS)
                .select_from(joined)
                .where(COMPLAINTS.c.id > after, stale_condition(calendar))
                .order_by(COMPLAINTS.c.id)
                .limit(batch)
            ).all()
            if not rows:
                return judged_count
            ids = [row[0] for row in rows]
            trails = read_trails(connection, ids)
            promises = read_promises(connection, ids)
            if connection.dialect.name == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock_shared(LINK_LOCK)))  # as `record`
            links = read_links(connection, ids)
            connection.execute(delete(OUTCOMES).where(and_(OUTCOMES.c.complaint_id.in_(ids))))
            connection.execute(
                insert(OUTCOMES),
                [
                    fact_row(
                        calendar,
                        row[0],
                        row[1],
                        _judge_row(calendar, row, trails.get(row[0], NO_TRAIL)),
                        promises.get(row[0], NO_PROMISES),
                        links[row[0]],
                    )
                    for row in rows
                ],
            )
            judged_count += len(rows)
            after = rows[-1][0]
