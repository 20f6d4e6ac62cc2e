"""The outcome report's judged facts of each complaint (table complaint_outcomes, migration 0022).

What the report needs of a complaint's audit trail and of the SLA calendar, and that does not
move with the report's `now`, is judged here once, when the complaint changes (the service
calls `record` in the change's own transaction), instead of on every report:

- business seconds from receipt to acknowledgement, and SLA time used up to the resolution
  (both in business hours, less the time the SLA clock stood still);
- resolved or closed at least once, and reopened within REOPEN_DAYS of that;
- the highest escalation level reached.

A row holds for the complaint's `version` it was judged at and the business hours' fingerprint
(`BusinessCalendar.fingerprint`) it was judged under. The report judges a complaint whose row
is missing or stale itself, with the same `judge` (`judge_stale`), so a figure is never stale,
only slower; `refresh` judges every such complaint again in batches (`wallboard db upgrade`
runs it after migrating, the benchmark's bulk builder fills the table with `judge` too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, Engine, and_, delete, insert, or_, select

from db.tables import audit_events as AUDIT
from db.tables import complaint_outcomes as OUTCOMES
from db.tables import complaints as COMPLAINTS
from tickets.outcome_records import REOPEN_DAYS
from tickets.sla import BusinessCalendar
from tickets.statuses import Status

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_BATCH = 5_000  # complaints per IN list and per refresh transaction
_FINISHED = (Status.RESOLVED.value, Status.CLOSED.value)
# The status moves that decide whether a complaint was reopened (see `reopening`).
REOPENING_MOVES = (Status.RESOLVED.value, Status.CLOSED.value, Status.REOPENED.value)


class Judged(NamedTuple):
    """A complaint's facts (one row of complaint_outcomes less its key and validity)."""

    ack_seconds: float | None
    resolve_seconds: float | None
    resolved_ever: bool
    reopened: bool
    highest_level: int


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


def fact_row(calendar: BusinessCalendar, complaint_id: int, version: int, judged: Judged) -> dict[str, Any]:
    """A complaint_outcomes row."""
    return {
        "complaint_id": complaint_id,
        "version": version,
        "calendar": calendar.fingerprint,
        **judged._asdict(),
    }


def record(session: Session, calendar: BusinessCalendar, complaint_id: int) -> None:
    """Judge one complaint as it now stands in this (write) transaction and keep its facts:
    called by the service after its last change to the complaint (flushed), so the row
    carries the version the change left."""
    session.flush()
    row = session.execute(select(*_JUDGED_COLUMNS).where(COMPLAINTS.c.id == complaint_id)).one()
    trail = read_trails(session, [complaint_id]).get(complaint_id, NO_TRAIL)
    judged = _judge_row(calendar, row, trail)
    session.execute(delete(OUTCOMES).where(OUTCOMES.c.complaint_id == complaint_id))
    session.execute(insert(OUTCOMES).values(fact_row(calendar, complaint_id, row[1], judged)))


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
            trails = read_trails(connection, [row[0] for row in rows])
            ids = [row[0] for row in rows]
            connection.execute(delete(OUTCOMES).where(and_(OUTCOMES.c.complaint_id.in_(ids))))
            connection.execute(
                insert(OUTCOMES),
                [
                    fact_row(calendar, row[0], row[1], _judge_row(calendar, row, trails.get(row[0], NO_TRAIL)))
                    for row in rows
                ],
            )
            judged_count += len(rows)
            after = rows[-1][0]
