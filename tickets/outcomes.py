"""Whether promises are kept: the complaint outcome report over a window of time.

`outcome_report` is the one computation behind `wallboard report complaints` (and, later,
the supervisors' outcomes screen): plain values out, no Textual, no writes. Every figure is
defined once, in docs/OUTCOMES.md; the names here follow it.

The cohort is the complaints received (created) in the window [start, end); each is judged
as it stands at `now` (a complaint received last month and resolved yesterday counts as
resolved). Follow-ups are counted by their due time in the window instead. Times in
business hours go through the SLA calendar (tickets/sla.py), with the time the SLA clock
stood still (waiting on the customer, resolved, closed) left out.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy import case as when
from sqlmodel import col

from db.callbacks import Callback
from db.complaints import AuditEvent, Complaint, FollowUp, User
from db.models import Call
from tickets.errors import InvalidInput
from tickets.outcome_records import (
    DRILLS,
    GROUPINGS,
    NONE_GROUP,
    PERIODS,
    REOPEN_DAYS,
    TOTAL,
    CategoryShare,
    OutcomeFigures,
    OutcomeReport,
    RootCauseShare,
    pct,
)
from tickets.records import LAPSED, PROMISE_KINDS
from tickets.sla import BusinessCalendar
from tickets.statuses import Status

# The values live in tickets/outcome_records.py (the screens hold them); named here too.
__all__ = [
    "DRILLS",
    "GROUPINGS",
    "NONE_GROUP",
    "PERIODS",
    "REOPEN_DAYS",
    "TOTAL",
    "CategoryShare",
    "OutcomeFigures",
    "OutcomeReport",
    "RootCauseShare",
    "outcome_complaint_ids",
    "outcome_report",
    "percentile",
    "period_window",
]
_BATCH = 5_000  # rows streamed per fetch; ids per IN list
# The status moves that decide whether a complaint was reopened (see _Report._reopening).
_REOPENING_MOVES = (Status.RESOLVED.value, Status.CLOSED.value, Status.REOPENED.value)

if TYPE_CHECKING:
    from wallboard.config import Settings


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest rank: the smallest value with at least `pct` % of the values at or below it
    (the median of 1, 2, 3, 4 is 2). None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


# -- judging one complaint (the report, the export) -----------------------------------------


def resolve_budget(settings: Settings, severity: str) -> float:
    """Business seconds to resolve a complaint of this severity ([complaints.sla])."""
    return float(getattr(settings.complaints.sla, severity).resolve_hours) * 3600


def acknowledged_on_time(acknowledged_at: float | None, ack_due_at: float, now: float) -> bool | None:
    """Acknowledged by its due time; False also when not acknowledged and past it; None
    while pending."""
    if acknowledged_at is not None:
        return acknowledged_at <= ack_due_at
    return False if now > ack_due_at else None


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


def resolved_on_time(
    calendar: BusinessCalendar,
    budget: float,
    created_at: float,
    resolved_at: float | None,
    paused_seconds: float,
    paused_since: float | None,
    now: float,
) -> bool | None:
    """Resolved within its SLA time; False also when not resolved with the time used up;
    None while pending."""
    used = sla_time_used(calendar, created_at, resolved_at, paused_seconds, paused_since, now)
    if resolved_at is not None:
        return used <= budget
    return False if used > budget else None


# -- what is read -------------------------------------------------------------------------


@dataclass
class _Case:
    """A complaint as the report needs it."""

    id: int
    created_at: float
    acknowledged_at: float | None
    ack_due_at: float
    resolved_at: float | None
    sla_paused_seconds: float
    sla_paused_since: float | None
    status: str
    severity: str
    owner_id: int | None
    category: str | None
    root_cause: str | None
    channel: str
    callid: str | None
    call_queue: str | None
    call_agent: str | None
    escalation_level: int
    # From the audit trail: status moves (time, new status) and escalation levels reached.
    moves: list[tuple[float, str]] = field(default_factory=list)
    highest_level: int = 0


@dataclass(frozen=True)
class _Owed:
    """A call-back as the report needs it."""

    queue: str
    owner_id: int | None
    due_at: float
    first_attempt_at: float | None
    ended_at: float | None


_CASE_COLUMNS = (
    col(Complaint.id),
    col(Complaint.created_at),
    col(Complaint.acknowledged_at),
    col(Complaint.ack_due_at),
    col(Complaint.resolved_at),
    col(Complaint.sla_paused_seconds),
    col(Complaint.sla_paused_since),
    col(Complaint.status),
    col(Complaint.severity),
    col(Complaint.owner_id),
    col(Complaint.category),
    col(Complaint.root_cause),
    col(Complaint.channel),
    col(Complaint.callid),
    col(Complaint.call_queue),
    col(Complaint.call_agent),
    col(Complaint.escalation_level),
)


def _case_of(row: tuple[Any, ...]) -> _Case:
    """A `_Case` from a row of `_CASE_COLUMNS`."""
    return _Case(*row)


@dataclass
class _Tally:
    """A group's counts while the report adds them up."""

    received: int = 0
    ack_judged: int = 0
    ack_on_time: int = 0
    ack_seconds: list[float] = field(default_factory=list)
    resolve_judged: int = 0
    resolved_on_time: int = 0
    resolve_seconds: list[float] = field(default_factory=list)
    follow_ups_due: int = 0
    follow_ups_on_time: int = 0
    follow_ups_late: int = 0
    follow_ups_missed: int = 0
    follow_ups_moved: int = 0
    callbacks_due: int = 0
    callbacks_on_time: int = 0
    callbacks_late: int = 0
    callbacks_missed: int = 0
    callbacks_settled: int = 0
    resolved_ever: int = 0
    reopened: int = 0
    escalated: dict[int, int] = field(default_factory=dict)
    linked: int = 0
    unlinked: int = 0

    def add(self, other: _Tally) -> None:
        """Add another tally's counts to this one (the total is the groups' sum)."""
        for name, value in vars(other).items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
        self.ack_seconds += other.ack_seconds
        self.resolve_seconds += other.resolve_seconds
        for level, count in other.escalated.items():
            self.escalated[level] = self.escalated.get(level, 0) + count

    def figures(self, group: str, answered_calls: int | None) -> OutcomeFigures:
        return OutcomeFigures(
            group=group,
            received=self.received,
            ack_judged=self.ack_judged,
            ack_on_time=self.ack_on_time,
            ack_on_time_pct=pct(self.ack_on_time, self.ack_judged),
            ack_median_seconds=percentile(self.ack_seconds, 50),
            ack_p90_seconds=percentile(self.ack_seconds, 90),
            resolve_judged=self.resolve_judged,
            resolved_on_time=self.resolved_on_time,
            resolved_on_time_pct=pct(self.resolved_on_time, self.resolve_judged),
            resolve_median_seconds=percentile(self.resolve_seconds, 50),
            resolve_p90_seconds=percentile(self.resolve_seconds, 90),
            follow_ups_due=self.follow_ups_due,
            follow_ups_kept_on_time=self.follow_ups_on_time,
            follow_ups_kept_on_time_pct=pct(self.follow_ups_on_time, self.follow_ups_due),
            follow_ups_kept_late=self.follow_ups_late,
            follow_ups_missed=self.follow_ups_missed,
            follow_ups_moved=self.follow_ups_moved,
            callbacks_due=self.callbacks_due,
            callbacks_kept_on_time=self.callbacks_on_time,
            callbacks_kept_on_time_pct=pct(self.callbacks_on_time, self.callbacks_due),
            callbacks_kept_late=self.callbacks_late,
            callbacks_missed=self.callbacks_missed,
            callbacks_settled=self.callbacks_settled,
            resolved_ever=self.resolved_ever,
            reopened=self.reopened,
            reopened_pct=pct(self.reopened, self.resolved_ever),
            escalated_supervisor=self.escalated.get(1, 0),
            escalated_manager=self.escalated.get(2, 0),
            linked_to_call=self.linked,
            unlinked=self.unlinked,
            answered_calls=answered_calls,
            per_1000_answered=round(1000.0 * self.linked / answered_calls, 2) if answered_calls else None,
        )


# -- the report ---------------------------------------------------------------------------


def outcome_report(
    engine: Engine, settings: Settings, start: float, end: float, now: float, by: str = "queue"
) -> OutcomeReport:
    """The outcome figures of the complaints received in [start, end), judged at `now`,
    per group of `by` (one of GROUPINGS) and in total."""
    by = by.replace("-", "_")
    if by not in GROUPINGS:
        raise InvalidInput(f"--by {by!r}: one of {', '.join(g.replace('_', '-') for g in GROUPINGS)}")
    if end <= start:
        raise InvalidInput("the window's end must be after its start")
    report = _Report(engine, settings, start, end, now, by)
    with _collector_paused():
        return report.run()


def period_window(calendar: BusinessCalendar, period: str, now: float) -> tuple[float, float]:
    """[start, end) of one of PERIODS in the calendar's time zone, ending now."""
    today = calendar.local_date(now)
    if period == "today":
        first = today
    elif period == "week":
        first = today - timedelta(days=today.weekday())
    elif period == "30days":
        first = today - timedelta(days=30)
    else:
        raise InvalidInput(f"no period {period!r}: one of {', '.join(PERIODS)}")
    start = calendar.day_bounds(first)[0]
    return start, max(now, start + 1.0)  # at midnight itself "today" is a moment, not nothing


def outcome_complaint_ids(
    engine: Engine,
    settings: Settings,
    start: float,
    end: float,
    now: float,
    by: str,
    group: str,
    drill: str = "received",
) -> list[int]:
    """The complaints behind one figure (one of DRILLS) of one group of the report with these
    arguments, by id (the oldest first)."""
    by = by.replace("-", "_")
    if by not in GROUPINGS:
        raise InvalidInput(f"no grouping {by!r}")
    if drill not in DRILLS:
        raise InvalidInput(f"no figure {drill!r} to open: one of {', '.join(DRILLS)}")
    if end <= start:
        raise InvalidInput("the window's end must be after its start")
    with _collector_paused():
        return _Report(engine, settings, start, end, now, by).complaint_ids(group, drill)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a report is built: it makes ~5 objects per
    complaint read (a month of a large floor: ~200,000), none of them garbage until the
    end, and the collector's full passes over them were a fifth of the report's CPU time.
    Left as found (a report running beside it may have paused it already)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Report:
    def __init__(self, engine: Engine, settings: Settings, start: float, end: float, now: float, by: str) -> None:
        self.engine, self.settings = engine, settings
        self.start, self.end, self.now, self.by = start, end, now, by
        self.calendar = BusinessCalendar.from_settings(settings)
        self.tallies: dict[str, _Tally] = {}
        self.total = _Tally()
        self.owners: dict[int, str] = {}
        # callid -> (queue, agent) of the call entry the complaint was logged from.
        self.calls: dict[str, tuple[str, str | None]] = {}
        self._budgets: dict[str, float] = {}

    def run(self) -> OutcomeReport:
        # Core rows, not the ORM's: a month of a large floor is tens of thousands of them.
        with self.engine.connect() as session:
            cases = self._read_cases(session)
            # By week each promise counts in the week it is due; else in its complaint's
            # group, so SQL adds them up per complaint (a fifth of the rows to read).
            follow_ups = self._read_follow_ups(session, cases) if self.by == "week" else []
            promises = self._read_promise_counts(session, cases) if self.by != "week" else []
            callbacks = self._read_callbacks(session)
            others = [c for c, *_ in follow_ups] + [c for c, *_ in promises]
            involved = cases + list({id(c): c for c in others}.values())
            owner_ids = {c.owner_id for c in involved if c.owner_id is not None}
            owner_ids |= {cb.owner_id for cb in callbacks if cb.owner_id is not None}
            self.owners = self._user_names(session, owner_ids)
            self.calls = self._read_calls(session, {c.callid for c in involved if c.callid})
            answered = self._answered_calls(session)
            # Every answered call has one queue, and one agent or none ("(none)"): the
            # groups add up to the total.
            total_answered = sum(answered.values()) if answered is not None else self._all_answered(session)
        for case in cases:
            self._count_case(case)
        for case, due_at, outcome, outcome_at in follow_ups:
            self._count_follow_up(case, due_at, outcome, outcome_at)
        for case, *counts in promises:
            self._count_promises(case, *counts)
        for callback in callbacks:
            self._count_callback(callback)
        # Each group counted alone (one tally a row, not two): the total is their sum.
        for tally in self.tallies.values():
            self.total.add(tally)
        groups = tuple(
            tally.figures(name, answered.get(name, 0) if answered is not None else None)
            for name, tally in sorted(self.tallies.items(), key=lambda item: (item[0] == NONE_GROUP, item[0]))
        )
        return OutcomeReport(
            start=self.start,
            end=self.end,
            now=self.now,
            by=self.by,
            groups=groups,
            total=self.total.figures(TOTAL, total_answered),
            pareto=pareto(cases),
        )

    def complaint_ids(self, group: str, drill: str) -> list[int]:
        """The ids of `group`'s complaints behind the figure `drill` (see DRILLS)."""
        with self.engine.connect() as session:
            cases = self._read_cases(session)
            follow_ups = self._read_follow_ups(session, cases) if drill == "promise_broken" else []
            involved = cases + [case for case, *_ in follow_ups]
            self.owners = self._user_names(session, {c.owner_id for c in involved if c.owner_id is not None})
            self.calls = self._read_calls(session, {c.callid for c in involved if c.callid})
        wanted = {TOTAL} if group == TOTAL else {group}
        found: set[int] = set()
        if drill == "promise_broken":
            for case, due_at, outcome, outcome_at in follow_ups:
                broken = outcome is None or outcome == LAPSED or outcome_at is None or outcome_at > due_at
                if broken and (group == TOTAL or self._group_of(case, due_at) in wanted):
                    found.add(case.id)
            return sorted(found)
        for case in cases:
            if group != TOTAL and self._group_of(case) not in wanted:
                continue
            if drill == "received":
                found.add(case.id)
            elif drill == "ack_late":
                ack = self._acknowledgement(case)
                if ack is not None and not ack[0]:
                    found.add(case.id)
            elif drill == "resolve_late":
                budget = self._resolve_budget(case.severity)
                resolution = self._resolution(case, budget)
                if resolution is not None and not (resolution[1] and resolution[0] <= budget):
                    found.add(case.id)
            elif drill == "reopened":
                if self._reopening(case)[1]:
                    found.add(case.id)
            elif case.highest_level > 0:
                found.add(case.id)
        return sorted(found)

    # -- reads --------------------------------------------------------------------------

    def _read_cases(self, session: Connection) -> list[_Case]:
        created = col(Complaint.created_at)
        # In the order of ix_complaints_created_at (no sort): no figure depends on the order.
        query = select(*_CASE_COLUMNS).where(created >= self.start, created < self.end).order_by(created)
        cases = {row[0]: _case_of(tuple(row)) for row in session.execute(query.execution_options(yield_per=_BATCH))}
        # By the audit trail's index (complaint, id), complaint by complaint of the cohort.
        cohort = select(col(Complaint.id)).where(created >= self.start, created < self.end)
        moves = (
            select(col(AuditEvent.complaint_id), col(AuditEvent.at), col(AuditEvent.field), col(AuditEvent.new))
            .where(
                col(AuditEvent.complaint_id).in_(cohort),
                # Only the moves `_reopening` looks at (the others were half the rows read).
                ((col(AuditEvent.field) == "status") & col(AuditEvent.new).in_(_REOPENING_MOVES))
                | (col(AuditEvent.field) == "escalation_level"),
            )
            .order_by(col(AuditEvent.complaint_id), col(AuditEvent.id))
        )
        for complaint_id, at, what, new in session.execute(moves.execution_options(yield_per=_BATCH)):
            case = cases[complaint_id]
            if what == "status":
                case.moves.append((at, new or ""))
            elif new is not None and new.isdigit():
                case.highest_level = max(case.highest_level, int(new))
        for case in cases.values():
            case.highest_level = max(case.highest_level, case.escalation_level)
        return list(cases.values())

    def _read_follow_ups(
        self, session: Connection, cohort: list[_Case]
    ) -> list[tuple[_Case, float, str | None, float | None]]:
        """Promises due in the window whose due time has come, with their complaint (the
        cohort's own, else read by id: a promise due now may be of an older complaint).

        A range of ix_follow_ups_due (migration 0019) that holds every column read, and only
        the follow-up's own: joining the complaint to each promise read its row again per
        promise (5 a complaint), and building it again in Python cost more than the SQL."""
        due = col(FollowUp.due_at)
        query = (
            select(col(FollowUp.complaint_id), due, col(FollowUp.outcome), col(FollowUp.outcome_at))
            .where(due >= self.start, due < min(self.end, self.now), col(FollowUp.kind).in_(PROMISE_KINDS))
            .order_by(due)
        )
        promises = list(session.execute(query.execution_options(yield_per=_BATCH)))
        cases = self._with_older(session, cohort, {complaint_id for complaint_id, *_ in promises})
        return [
            (cases[complaint_id], due_at, outcome, outcome_at) for complaint_id, due_at, outcome, outcome_at in promises
        ]

    def _read_promise_counts(self, session: Connection, cohort: list[_Case]) -> list[tuple[_Case, int, int, int, int]]:
        """Per complaint, its promises due in the window whose due time has come: (complaint,
        missed, kept late, moved, kept on time), judged as `_count_follow_up` judges one."""
        due, outcome, outcome_at = col(FollowUp.due_at), col(FollowUp.outcome), col(FollowUp.outcome_at)
        missed = (outcome.is_(None)) | (outcome == LAPSED) | (outcome_at.is_(None))
        late = outcome_at > due
        moved = outcome == "rescheduled"

        def count(condition: Any) -> Any:
            return func.sum(when((condition, 1), else_=0))

        query = (
            select(
                col(FollowUp.complaint_id),
                count(missed),
                count(~missed & late),
                count(~missed & ~late & moved),
                count(~missed & ~late & ~moved),
            )
            .where(due >= self.start, due < min(self.end, self.now), col(FollowUp.kind).in_(PROMISE_KINDS))
            .group_by(col(FollowUp.complaint_id))
        )
        counted = session.execute(query).all()  # one fetch: row by row cost more than the SQL
        cases = self._with_older(session, cohort, {row[0] for row in counted})
        return [(cases[cid], missed_, late_, moved_, kept) for cid, missed_, late_, moved_, kept in counted]

    def _with_older(self, session: Connection, cohort: list[_Case], ids: set[int]) -> dict[int, _Case]:
        """The cohort by id, and the complaints of `ids` received before it."""
        cases = {case.id: case for case in cohort}
        older = sorted(ids - cases.keys())
        for i in range(0, len(older), _BATCH):
            rows = session.execute(select(*_CASE_COLUMNS).where(col(Complaint.id).in_(older[i : i + _BATCH])))
            for row in rows:
                found = _case_of(tuple(row))
                cases[found.id] = found
        return cases

    def _read_callbacks(self, session: Connection) -> list[_Owed]:
        """Call-backs due in the window whose due time has come."""
        due = col(Callback.due_at)
        query = select(
            col(Callback.queue),
            col(Callback.owner_id),
            due,
            col(Callback.first_attempt_at),
            col(Callback.ended_at),
        ).where(due >= self.start, due < min(self.end, self.now))
        return [_Owed(*row) for row in session.execute(query.execution_options(yield_per=_BATCH))]

    @staticmethod
    def _read_calls(session: Connection, callids: set[str]) -> dict[str, tuple[str, str | None]]:
        """Each call's queue and agent: of its queue entries, the last one answered (else
        the last one)."""
        found: dict[str, tuple[bool, float, str, str | None]] = {}
        wanted = sorted(callids)
        for i in range(0, len(wanted), _BATCH):
            rows = session.execute(
                select(col(Call.callid), col(Call.queue), col(Call.agent), col(Call.enter_at), col(Call.answer_at))
                .where(col(Call.callid).in_(wanted[i : i + _BATCH]))
                .order_by(col(Call.id))
            )
            for callid, queue, agent, enter_at, answer_at in rows:
                rank = (answer_at is not None, enter_at, queue, agent)
                if callid not in found or rank[:2] >= found[callid][:2]:
                    found[callid] = rank
        return {callid: (queue, agent) for callid, (_, _, queue, agent) in found.items()}

    @staticmethod
    def _user_names(session: Connection, ids: set[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        wanted = sorted(ids)
        for i in range(0, len(wanted), _BATCH):
            rows = session.execute(select(col(User.id), col(User.name)).where(col(User.id).in_(wanted[i : i + _BATCH])))
            found.update((user_id, name) for user_id, name in rows if user_id is not None)
        return found

    def _answered_calls(self, session: Connection) -> dict[str, int] | None:
        """Calls answered in the window per queue or per agent (None for other groupings)."""
        if self.by not in ("queue", "agent"):
            return None
        key = col(Call.queue) if self.by == "queue" else col(Call.agent)
        rows = session.execute(
            select(key, func.count())
            .where(col(Call.enter_at) >= self.start, col(Call.enter_at) < self.end, col(Call.answer_at).is_not(None))
            .group_by(key)
        )
        return {name or NONE_GROUP: int(count) for name, count in rows}

    def _all_answered(self, session: Connection) -> int:
        count = session.scalar(
            select(func.count())
            .select_from(Call)
            .where(col(Call.enter_at) >= self.start, col(Call.enter_at) < self.end, col(Call.answer_at).is_not(None))
        )
        return int(count or 0)

    # -- counting -----------------------------------------------------------------------

    def _group_of(self, case: _Case, at: float | None = None) -> str:
        """The group a complaint falls in; `at`: the time that decides the week (the
        complaint's creation, or a follow-up's due time)."""
        by = self.by
        value: str | None
        if by in ("queue", "agent"):
            call = self.calls.get(case.callid or "")
            if call is not None:
                value = call[0] if by == "queue" else call[1]
            else:
                value = case.call_queue if by == "queue" else case.call_agent
        elif by == "owner":
            value = self.owners.get(case.owner_id) if case.owner_id is not None else None
        elif by == "week":
            year, week, _ = datetime.fromtimestamp(at or case.created_at, self.calendar.tz).isocalendar()
            value = f"{year}-W{week:02d}"
        else:
            value = getattr(case, by)
        return value or NONE_GROUP

    def _tally(self, group: str) -> _Tally:
        tally = self.tallies.get(group)
        if tally is None:
            tally = self.tallies[group] = _Tally()
        return tally

    def _count_case(self, case: _Case) -> None:
        resolve_budget = self._resolve_budget(case.severity)
        ack = self._acknowledgement(case)
        resolution = self._resolution(case, resolve_budget)
        tally = self._tally(self._group_of(case))
        tally.received += 1
        if ack is not None:
            on_time, seconds = ack
            tally.ack_judged += 1
            tally.ack_on_time += on_time
            if seconds is not None:
                tally.ack_seconds.append(seconds)
        if resolution is not None:
            elapsed, resolved = resolution
            tally.resolve_judged += 1
            tally.resolved_on_time += resolved and elapsed <= resolve_budget
            if resolved:
                tally.resolve_seconds.append(elapsed)
        if case.moves:
            resolved_ever, reopened = self._reopening(case)
            tally.resolved_ever += resolved_ever
            tally.reopened += reopened
        if case.highest_level > 0:
            tally.escalated[case.highest_level] = tally.escalated.get(case.highest_level, 0) + 1
        if case.callid is not None and case.callid in self.calls:
            tally.linked += 1
        else:
            tally.unlinked += 1

    def _resolve_budget(self, severity: str) -> float:
        budget = self._budgets.get(severity)
        if budget is None:
            budget = self._budgets[severity] = resolve_budget(self.settings, severity)
        return budget

    def _acknowledgement(self, case: _Case) -> tuple[bool, float | None] | None:
        """(on time, business seconds to acknowledge) once judged, else None (pending)."""
        on_time = acknowledged_on_time(case.acknowledged_at, case.ack_due_at, self.now)
        if on_time is None:
            return None
        if case.acknowledged_at is None:
            return False, None
        return on_time, self.calendar.seconds_between(case.created_at, case.acknowledged_at)

    def _resolution(self, case: _Case, budget: float) -> tuple[float, bool] | None:
        """(SLA time used, resolved) once judged, else None: resolved, or not resolved with
        more than the budget used by `now`."""
        used = sla_time_used(
            self.calendar, case.created_at, case.resolved_at, case.sla_paused_seconds, case.sla_paused_since, self.now
        )
        if case.resolved_at is not None:
            return used, True
        if used > budget:
            return used, False
        return None

    @staticmethod
    def _reopening(case: _Case) -> tuple[bool, bool]:
        """(resolved or closed at least once, reopened within REOPEN_DAYS of that)."""
        finished_at: float | None = None
        resolved_ever = reopened = False
        for at, status in case.moves:
            if status in (Status.RESOLVED, Status.CLOSED):
                finished_at, resolved_ever = at, True
            elif status == Status.REOPENED and finished_at is not None:
                reopened = reopened or at - finished_at <= REOPEN_DAYS * 86400
        return resolved_ever, reopened

    def _count_follow_up(self, case: _Case, due_at: float, outcome: str | None, outcome_at: float | None) -> None:
        tally = self._tally(self._group_of(case, due_at))
        if outcome is None or outcome == LAPSED or outcome_at is None:
            tally.follow_ups_due += 1
            tally.follow_ups_missed += 1
        elif outcome_at > due_at:
            tally.follow_ups_due += 1
            tally.follow_ups_late += 1
        elif outcome == "rescheduled":
            tally.follow_ups_moved += 1  # its successor is judged in its stead
        else:
            tally.follow_ups_due += 1
            tally.follow_ups_on_time += 1

    def _count_promises(self, case: _Case, missed: int, late: int, moved: int, on_time: int) -> None:
        """A complaint's promises, counted as `_count_follow_up` counts each."""
        tally = self._tally(self._group_of(case))
        tally.follow_ups_due += missed + late + on_time
        tally.follow_ups_missed += missed
        tally.follow_ups_late += late
        tally.follow_ups_moved += moved
        tally.follow_ups_on_time += on_time

    def _callback_group(self, callback: _Owed) -> str | None:
        """A call-back's group: its queue, its owner, the week it is due; None for the
        groupings a call-back has no value of (it counts in the total only)."""
        if self.by == "queue":
            return callback.queue or NONE_GROUP
        if self.by == "owner":
            return self.owners.get(callback.owner_id, NONE_GROUP) if callback.owner_id is not None else NONE_GROUP
        if self.by == "week":
            year, week, _ = datetime.fromtimestamp(callback.due_at, self.calendar.tz).isocalendar()
            return f"{year}-W{week:02d}"
        return None

    def _count_callback(self, callback: _Owed) -> None:
        group = self._callback_group(callback)
        # No group: the total's alone (added to the groups' sum in `run`).
        tally = self._tally(group) if group is not None else self.total
        attempted, due_at = callback.first_attempt_at, callback.due_at
        if attempted is None and callback.ended_at is not None and callback.ended_at <= due_at:
            tally.callbacks_settled += 1  # nothing left to keep
            return
        tally.callbacks_due += 1
        if attempted is None:
            tally.callbacks_missed += 1
        elif attempted <= due_at:
            tally.callbacks_on_time += 1
        else:
            tally.callbacks_late += 1


def pareto(cases: Iterable[_Case]) -> tuple[RootCauseShare, ...]:
    """Complaints per root cause, most first, with shares and categories."""
    causes: dict[str, dict[str, int]] = {}
    for case in cases:
        if case.root_cause:
            categories = causes.setdefault(case.root_cause, {})
            category = case.category or NONE_GROUP
            categories[category] = categories.get(category, 0) + 1
    total = sum(sum(c.values()) for c in causes.values())
    shares: list[RootCauseShare] = []
    running = 0
    ordered = sorted(causes.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    for cause, categories in ordered:
        count = sum(categories.values())
        running += count
        shares.append(
            RootCauseShare(
                root_cause=cause,
                count=count,
                share_pct=round(100.0 * count / total, 2),
                cumulative_pct=round(100.0 * running / total, 2),
                categories=tuple(
                    CategoryShare(name, n, round(100.0 * n / count, 2))
                    for name, n in sorted(categories.items(), key=lambda item: (-item[1], item[0]))
                ),
            )
        )
    return tuple(shares)
