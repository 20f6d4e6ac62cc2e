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
import json
import math
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Engine,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    true,
)
from sqlalchemy import case as when
from sqlalchemy.types import NullType

from db.engine import driver_rows
from db.tables import callbacks as CALLBACKS
from db.tables import calls as CALLS
from db.tables import complaint_outcomes as OUTCOMES
from db.tables import complaints as COMPLAINTS
from db.tables import follow_ups as FOLLOW_UPS
from db.tables import users as USERS
from tickets.errors import InvalidInput
from tickets.outcome_facts import Judged, Link, judge_stale, promise_verdict, read_links, sla_time_used
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
from tickets.records import LAPSED, PROMISE_KINDS, SEVERITIES
from tickets.sla import BusinessCalendar

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
    "sla_time_used",
]
# Taken while a report on PostgreSQL takes its two connections (`_Report.run`).
_CONNECTION_PAIRS = threading.Lock()
_FIELD = 21  # bits per count packed in one sum (see _Report._read_promise_counts)

if TYPE_CHECKING:
    from wallboard.config import Settings


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest rank: the smallest value with at least `pct` % of the values at or below it
    (the median of 1, 2, 3, 4 is 2). None for no values."""
    return _nearest_rank(sorted(values), pct)


def _nearest_rank(ordered: list[float], pct: float) -> float | None:
    """`percentile` of values already in order."""
    if not ordered:
        return None
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


def _may_be_late(created_at: float, now: float, budget: float) -> bool:
    """Whether a complaint still open may have used up its SLA time by `now`: not while its
    age (wall time) is under the budget, as SLA time (business time less pauses) never runs
    faster than the wall clock. The second of margin outweighs any rounding of the business
    seconds' sums, so the answer is exact; it spares the calendar's arithmetic for the young
    complaints of a window."""
    return now - created_at > budget - 1.0


# -- what is read -------------------------------------------------------------------------

# A complaint as the report reads it: a row of `_Report._case_query`. Its first seven columns
# are those `outcome_facts.judge_stale` reads; the last five the kept facts (see
# tickets/outcome_facts.py), valid where FRESH is true, else judged again (`_Report._stale`).
(
    _ID,
    _CREATED,
    _ACKED,
    _RESOLVED,
    _PAUSED_SECONDS,
    _PAUSED_SINCE,
    _LEVEL,
    _ACK_DUE,
    _SEVERITY,
    _DIMENSION,
    _ROOT_CAUSE,
    _CATEGORY,
    _LINKED,
    _FRESH,
) = range(14)
_FACTS = slice(14, 19)

# A complaint as the report counts it: a row of `_Report._count_query`. Its first three columns
# are those `_Report._groups` reads; FLAGS packs what is counted of it (below), NULL where its
# kept facts are missing or stale (it is then read as a case, above, and judged again); the
# durations are those that count (acknowledged, resolved); the severity is there only for a
# complaint still open that may be late by now, with its pauses.
(
    _C_ID,
    _C_CREATED,
    _C_DIMENSION,
    _FLAGS,
    _C_ACK_SECONDS,
    _C_RESOLVE_SECONDS,
    _C_OPEN_SEVERITY,
    _C_PAUSED_SECONDS,
    _C_PAUSED_SINCE,
    _C_ROOT_CAUSE,
    _C_CATEGORY,
) = range(11)
# FLAGS' bits, judged in SQL as `_Report._count_cases` judges them in Python; the highest
# escalation level reached is FLAGS >> _LEVEL_SHIFT.
_F_ACK_JUDGED, _F_ACK_ON_TIME, _F_RESOLVE_JUDGED, _F_RESOLVED_ON_TIME = 1, 2, 4, 8
_F_RESOLVED_EVER, _F_REOPENED, _F_LINKED = 16, 32, 64
_LEVEL_SHIFT = 7


@dataclass(frozen=True)
class _Owed:
    """A call-back as the report needs it."""

    queue: str
    owner_id: int | None
    due_at: float
    first_attempt_at: float | None
    ended_at: float | None


class _Verdict(NamedTuple):
    """A complaint judged at the report's `now`."""

    group: str
    # (on time, business seconds to acknowledge or None) once judged, else None (pending).
    ack: tuple[bool, float | None] | None
    # (SLA time used, resolved) once judged, else None: resolved, or not resolved with more
    # than the budget used by `now`.
    resolution: tuple[float, bool] | None
    on_time: bool
    resolved_ever: bool
    reopened: bool
    highest_level: int
    linked: bool


class _Others(NamedTuple):
    """The report's reads besides the cohort (`_Report._read_others`)."""

    follow_ups: Sequence[Any]
    promises: list[Any]
    # By queue or agent: (the group's value, missed, late, moved, kept) of the complaints whose
    # kept facts hold all their promises due in the window, added up by the database.
    grouped_promises: list[Any]
    callbacks: list[_Owed]
    answered: dict[str, int] | None
    total_answered: int


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
        # Sorted in place once for both percentiles (a group's lists are sorted before the
        # total's, which holds them end to end: sorting those runs is a merge).
        self.ack_seconds.sort()
        self.resolve_seconds.sort()
        return OutcomeFigures(
            group=group,
            received=self.received,
            ack_judged=self.ack_judged,
            ack_on_time=self.ack_on_time,
            ack_on_time_pct=pct(self.ack_on_time, self.ack_judged),
            ack_median_seconds=_nearest_rank(self.ack_seconds, 50),
            ack_p90_seconds=_nearest_rank(self.ack_seconds, 90),
            resolve_judged=self.resolve_judged,
            resolved_on_time=self.resolved_on_time,
            resolved_on_time_pct=pct(self.resolved_on_time, self.resolve_judged),
            resolve_median_seconds=_nearest_rank(self.resolve_seconds, 50),
            resolve_p90_seconds=_nearest_rank(self.resolve_seconds, 90),
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
        self._budgets: dict[str, float] = {}
        # Facts judged now for the complaints whose kept ones are missing or stale.
        self._stale: dict[int, Judged] = {}

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        """A connection for the report's reads (one transaction, rolled back at the end).

        On PostgreSQL without JIT compilation and without parallel workers, for this
        transaction alone: each statement reads tens of thousands of rows at most, where
        compiling it cost ~50 ms of the server's CPU a statement, and two workers scanning a
        month of calls between them cost more CPU than one process alone (measured at 1M
        complaints, 10M calls: tests/benchmarks/complaints_report.py)."""
        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL jit = off")
                connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
            yield connection

    def run(self) -> OutcomeReport:
        # Core rows as tuples, not the ORM's: a month of a large floor is tens of thousands.
        with ExitStack() as connections:
            if self.engine.dialect.name == "postgresql":
                # The other reads on a connection of their own meanwhile: the server works on
                # them while this process reads and judges the cohort. Each statement sees
                # the database as of its own start either way (read committed). Both
                # connections are taken under one lock, so reports side by side never each
                # hold one and wait for a second from an exhausted pool.
                with _CONNECTION_PAIRS:
                    session = connections.enter_context(self._connect())
                    apart = connections.enter_context(self._connect())
                with ThreadPoolExecutor(1) as pool:
                    others = pool.submit(self._read_others, apart)
                    counted, cases = self._read_cohort(session)
                    follow_ups, promises, grouped_promises, callbacks, answered, total_answered = others.result()
            else:  # one transaction: SQLite reads it all as of one moment
                session = connections.enter_context(self._connect())
                counted, cases = self._read_cohort(session)
                follow_ups, promises, grouped_promises, callbacks, answered, total_answered = self._read_others(session)
            cohort = [row for row in counted if row[_FLAGS] is not None]
            cohort += [(case[_ID], case[_CREATED], case[_DIMENSION]) for case in cases]
            groups_of = self._groups(session, cohort, {row[0] for row in promises}, callbacks)
        self._count_flags(counted, groups_of)
        self._count_cases(cases, groups_of)
        for due_at, outcome, outcome_at in follow_ups:
            self._count_follow_up(self._week(due_at), due_at, outcome, outcome_at)
        self._add_promise_counts(promises, groups_of)
        for value, missed, late, moved, on_time in grouped_promises:
            self._add_promises(value or NONE_GROUP, missed, late, moved, on_time)
        for callback in callbacks:
            self._count_callback(callback)
        groups = tuple(
            tally.figures(name, answered.get(name, 0) if answered is not None else None)
            for name, tally in sorted(self.tallies.items(), key=lambda item: (item[0] == NONE_GROUP, item[0]))
        )
        # Each group counted alone (one tally a row, not two): the total is their sum.
        for tally in self.tallies.values():
            self.total.add(tally)
        return OutcomeReport(
            start=self.start,
            end=self.end,
            now=self.now,
            by=self.by,
            groups=groups,
            total=self.total.figures(TOTAL, total_answered),
            pareto=pareto(Counter(zip(map(itemgetter(_C_ROOT_CAUSE), counted), map(itemgetter(_C_CATEGORY), counted)))),
        )

    def _read_others(self, session: Connection) -> _Others:
        """What the report reads besides the cohort: promises due (by week one row each, else
        counted per complaint), call-backs due, calls answered per group and in all."""
        # By week each promise counts in the week it is due; else in its complaint's group,
        # so SQL adds them up per complaint (a fifth of the rows to read).
        follow_ups = self._read_follow_ups(session) if self.by == "week" else []
        promises, grouped_promises = self._read_promise_counts(session) if self.by != "week" else ([], [])
        callbacks = self._read_callbacks(session)
        answered = self._answered_calls(session)
        # Every answered call has one queue, and one agent or none ("(none)"): the groups add
        # up to the total.
        total_answered = sum(answered.values()) if answered is not None else self._all_answered(session)
        return _Others(follow_ups, promises, grouped_promises, callbacks, answered, total_answered)

    def complaint_ids(self, group: str, drill: str) -> list[int]:
        """The ids of `group`'s complaints behind the figure `drill` (see DRILLS)."""
        with self._connect() as session:
            cases = self._read_cases(session)
            follow_ups = self._read_broken_promises(session) if drill == "promise_broken" else []
            cohort = [(case[_ID], case[_CREATED], case[_DIMENSION]) for case in cases]
            groups_of = self._groups(session, cohort, {complaint_id for complaint_id, _ in follow_ups}, [])
        found: set[int] = set()
        if drill == "promise_broken":
            for complaint_id, due_at in follow_ups:
                if group == TOTAL or (self._week(due_at) if self.by == "week" else groups_of[complaint_id]) == group:
                    found.add(complaint_id)
            return sorted(found)
        for case in cases:
            if group != TOTAL and groups_of[case[_ID]] != group:
                continue
            verdict = self._verdict(case, groups_of[case[_ID]])
            if drill == "received":
                found.add(case[_ID])
            elif drill == "ack_late":
                if verdict.ack is not None and not verdict.ack[0]:
                    found.add(case[_ID])
            elif drill == "resolve_late":
                if verdict.resolution is not None and not verdict.on_time:
                    found.add(case[_ID])
            elif drill == "reopened":
                if verdict.reopened:
                    found.add(case[_ID])
            elif verdict.highest_level > 0:
                found.add(case[_ID])
        return sorted(found)

    # -- reads --------------------------------------------------------------------------

    def _case_query(self, ids: tuple[int, int] | None = None) -> Select[Any]:
        """Complaints with what the report needs of each (see _ID and the others): the
        grouping's value, whether the call it was logged from is on record, and its kept facts
        with whether they hold (its version, these business hours). `ids`: the lowest and
        highest id of the complaints to be read (PostgreSQL), else None."""
        c = COMPLAINTS.c
        facts, with_facts, fresh = self._with_facts(ids)
        return select(
            c.id,
            c.created_at,
            c.acknowledged_at,
            c.resolved_at,
            c.sla_paused_seconds,
            c.sla_paused_since,
            c.escalation_level,
            c.ack_due_at,
            c.severity,
            self._dimension(facts),
            c.root_cause,
            c.category,
            facts.linked,
            when((fresh, 1), else_=0),
            facts.ack_seconds,
            facts.resolve_seconds,
            facts.resolved_ever,
            facts.reopened,
            facts.highest_level,
        ).select_from(with_facts)

    def _with_facts(self, ids: tuple[int, int] | None) -> tuple[Any, Any, ColumnElement[bool]]:
        """(the kept facts' columns, complaints joined to them, whether they hold: of its
        version and these business hours) for `_case_query` and `_count_query`."""
        facts = OUTCOMES.c
        joined = facts.complaint_id == COMPLAINTS.c.id
        if ids is not None:
            # The facts of that id range hashed (ids grow with the time received: a month's
            # complaints are one range), where a primary-key probe a complaint cost the server
            # twice the CPU. Joined on the id alone, PostgreSQL hashed all the kept facts.
            joined = and_(joined, facts.complaint_id.between(*ids))
        fresh = and_(facts.version == COMPLAINTS.c.version, facts.calendar == self.calendar.fingerprint)
        return facts, COMPLAINTS.outerjoin(OUTCOMES, joined), fresh

    def _count_query(self, ids: tuple[int, int] | None) -> Select[Any]:
        """Complaints as the report counts them (see _FLAGS and the others): what the report
        counts of each judged by the database from its kept facts, as `_count_cases` judges
        it, so that a month's complaints come back as a few numbers each, not as nineteen
        columns (the values' conversion was most of reading them)."""
        c = COMPLAINTS.c
        facts, with_facts, fresh = self._with_facts(ids)
        now = literal(self.now)
        budget = when(*((c.severity == s, literal(self._resolve_budget(s))) for s in SEVERITIES))
        # `_may_be_late` per severity (the budget less the second of margin, as there).
        limit = when(*((c.severity == s, literal(self._resolve_budget(s) - 1.0)) for s in SEVERITIES))
        acknowledged, resolved = c.acknowledged_at.is_not(None), c.resolved_at.is_not(None)
        flags = (
            when((acknowledged | (now > c.ack_due_at), _F_ACK_JUDGED), else_=0)
            + when((c.acknowledged_at <= c.ack_due_at, _F_ACK_ON_TIME), else_=0)
            + when((resolved, _F_RESOLVE_JUDGED), else_=0)
            + when((resolved & (facts.resolve_seconds <= budget), _F_RESOLVED_ON_TIME), else_=0)
            + when((facts.resolved_ever, _F_RESOLVED_EVER), else_=0)
            + when((facts.reopened, _F_REOPENED), else_=0)
            + when((facts.linked, _F_LINKED), else_=0)
            + facts.highest_level * (1 << _LEVEL_SHIFT)
        )
        return select(
            c.id,
            c.created_at,
            self._dimension(facts),
            when((fresh, flags), else_=null()),
            when((acknowledged, facts.ack_seconds), else_=null()),
            when((resolved, facts.resolve_seconds), else_=null()),
            when((c.resolved_at.is_(None) & (now - c.created_at > limit), c.severity), else_=null()),
            c.sla_paused_seconds,
            c.sla_paused_since,
            c.root_cause,
            c.category,
        ).select_from(with_facts)

    def _dimension(self, facts: Any) -> Any:
        """The grouping's value of a complaint as SQL, its kept facts `facts` joined: by queue
        or agent those of the call it was logged from (`outcome_facts.Link`, NULL where it
        has no facts: `_read_cases` reads those links apart)."""
        if self.by in ("queue", "agent"):
            return facts.queue if self.by == "queue" else facts.agent
        if self.by == "week":
            return null()
        return COMPLAINTS.c.owner_id if self.by == "owner" else COMPLAINTS.c[self.by]

    def _cohort_query(self, session: Connection, read: Any) -> Select[Any]:
        """`read` (`_case_query` or `_count_query`) of the complaints received in the window."""
        created = COMPLAINTS.c.created_at
        window = (created >= self.start, created < self.end)
        if self.engine.dialect.name == "postgresql":
            # No order (no figure depends on it): PostgreSQL would sort a month's rows. The
            # ids' range from the cohort's index alone: of `min(id)` itself PostgreSQL walked
            # the primary key from the first complaint (a million rows), hence `id + 0`.
            ids = COMPLAINTS.c.id + 0
            lowest, highest = session.execute(select(func.min(ids), func.max(ids)).where(*window)).one()
            query: Select[Any] = read((lowest or 0, highest or 0)).where(*window)
            return query
        query = read(None).where(*window).order_by(created)  # in the order of ix_complaints_created_at (no sort)
        return query

    def _read_cohort(self, session: Connection) -> tuple[list[Any], Sequence[Any]]:
        """The cohort as the report counts it (`_count_query`), and as cases (`_read_cases`)
        those of its complaints whose kept facts are missing or stale."""
        counted = driver_rows(session, self._cohort_query(session, self._count_query))
        stale = [row[_C_ID] for row in counted if row[_FLAGS] is None]
        return counted, self._read_cases(session, stale) if stale else []

    def _read_cases(self, session: Connection, among: Sequence[int] | None = None) -> Sequence[Any]:
        """The cohort (or the complaints `among` it), its facts judged again where the kept
        ones are missing or stale."""
        query = self._cohort_query(session, self._case_query)
        if among is not None:
            query = query.where(self._among(COMPLAINTS.c.id, among))
        cases = driver_rows(session, query)
        self._stale = judge_stale(session, self.calendar, (case for case in cases if not case[_FRESH]))
        # A kept link holds while its row is there, of whatever version or business hours: the
        # triggers delete the row as the complaint changes (0022) and set the link as an entry
        # of its call is written (0025). Complaints without a row have their links read here.
        missing = [n for n, case in enumerate(cases) if case[_LINKED] is None]
        links = read_links(session, [cases[n][_ID] for n in missing])
        for n in missing:
            case = cases[n]
            link = links[case[_ID]]
            value = self._link_value(link, case[_DIMENSION])
            cases[n] = (*case[:_DIMENSION], value, *case[_DIMENSION + 1 : _LINKED], link.linked, *case[_LINKED + 1 :])
        return cases

    def _link_value(self, link: Link, value: Any) -> Any:
        """A complaint's value of the grouping, by queue or agent its call's (`value`, else)."""
        if self.by in ("queue", "agent"):
            return link.queue if self.by == "queue" else link.agent
        return value

    def _read_follow_ups(self, session: Connection) -> Sequence[Any]:
        """(due time, outcome, outcome time) of the promises due in the window whose due time
        has come: a range of ix_follow_ups_due (migration 0019) that holds every column read."""
        due = FOLLOW_UPS.c.due_at
        query = (
            select(due, FOLLOW_UPS.c.outcome, FOLLOW_UPS.c.outcome_at)
            .where(due >= self.start, due < min(self.end, self.now), FOLLOW_UPS.c.kind.in_(PROMISE_KINDS))
            .order_by(due)
        )
        return session.execute(query).all()

    def _read_broken_promises(self, session: Connection) -> Sequence[Any]:
        """(complaint, due time) of the promises due in the window whose due time has come,
        kept late or missed."""
        due, outcome, outcome_at = FOLLOW_UPS.c.due_at, FOLLOW_UPS.c.outcome, FOLLOW_UPS.c.outcome_at
        query = select(FOLLOW_UPS.c.complaint_id, due).where(
            due >= self.start,
            due < min(self.end, self.now),
            FOLLOW_UPS.c.kind.in_(PROMISE_KINDS),
            outcome.is_(None) | (outcome == LAPSED) | outcome_at.is_(None) | (outcome_at > due),
        )
        return session.execute(query).all()

    def _read_promise_counts(self, session: Connection) -> tuple[list[Any], list[Any]]:
        """Per complaint, its promises due in the window whose due time has come: (complaint,
        missed, kept late, moved, kept on time), judged as `promise_verdict` judges one; by
        queue or agent, those of the complaints whose kept facts hold them all are added up
        per group instead (`_Others.grouped_promises`, the second list).

        A complaint whose promises all fall due inside the window has them counted in its kept
        facts already; only those whose promises straddle an end of the window are counted
        here from the follow-ups. Unless some complaint with a promise due in the window has no
        facts (or facts of other business hours): its promises would be left out, so the
        promises counted must add up to those due in the window (`_promises_due`), else every
        complaint's are counted from the follow-ups."""
        until = min(self.end, self.now)
        facts = OUTCOMES.c
        reaching = and_(
            facts.calendar == self.calendar.fingerprint,
            facts.promise_last_due >= self.start,
            facts.promise_first_due < until,
        )
        inside = and_(facts.promise_first_due >= self.start, facts.promise_last_due < until)
        counts = (facts.promises_missed, facts.promises_late, facts.promises_moved, facts.promises_kept)
        # One range of ix_complaint_outcomes_promises, which holds every column read (migrations
        # 0023, 0025): the counts of the complaints inside, the ids of those straddling. Their
        # ids go to the follow-ups' read as one list, not as a subquery reading the range again
        # (on PostgreSQL a hash join of a month's promises, ~50 ms of server CPU more).
        counted: list[Any] = []
        grouped: list[Any] = []
        if self.by in ("queue", "agent"):
            # The group is the kept link's, in the index too: the database adds up the counts
            # of the ~50k complaints of a month by group, and names only the straddling ones.
            value = facts.queue if self.by == "queue" else facts.agent
            grouped = driver_rows(
                session, select(value, *map(func.sum, counts)).where(reaching, inside).group_by(value)
            )
            straddling = [row[0] for row in driver_rows(session, select(facts.complaint_id).where(reaching, ~inside))]
        else:
            straddling = []
            kept = select(facts.complaint_id, *counts, when((inside, 1), else_=0)).where(reaching)
            for row in driver_rows(session, kept):
                if row[5]:
                    counted.append(row[:5])
                else:
                    straddling.append(row[0])
        if straddling:
            counted += self._count_promises(session, straddling)
        found = sum(sum(row[1:]) for row in grouped) + sum(map(sum, list(zip(*counted))[1:]))
        if found != self._promises_due(session):
            return self._count_promises(session, None), []
        return counted, grouped

    def _promises_due(self, session: Connection) -> int:
        """How many promises fall due in the window up to now: a range of ix_follow_ups_due,
        which holds every column read. Kept facts count only promises of their own complaint
        and only while they hold (the triggers of migration 0022 delete a complaint's facts as
        it or a follow-up changes), so counting as many as there are means none is left out:
        a check bounded by the window, where counting both whole tables grew with history."""
        due = FOLLOW_UPS.c.due_at
        query = (
            select(func.count())
            .select_from(FOLLOW_UPS)
            .where(due >= self.start, due < min(self.end, self.now), FOLLOW_UPS.c.kind.in_(PROMISE_KINDS))
        )
        return int(session.scalar(query) or 0)

    def _count_promises(self, session: Connection, among: Sequence[int] | None) -> list[tuple[int, int, int, int, int]]:
        """`_read_promise_counts` from the follow-ups, of the complaints `among` (None: all). The first three counts are added up in one sum, each in its own 21 bits (two
        million promises of one complaint due in one window), the last is the rest of the
        count: SQL's CASE per promise and per sum cost more than its GROUP BY's sort."""
        due, outcome, outcome_at = FOLLOW_UPS.c.due_at, FOLLOW_UPS.c.outcome, FOLLOW_UPS.c.outcome_at
        judged = when(
            (outcome.is_(None) | (outcome == LAPSED) | outcome_at.is_(None), 1),
            (outcome_at > due, 1 << _FIELD),
            (outcome == "rescheduled", 1 << 2 * _FIELD),
            else_=0,
        )
        query = (
            select(FOLLOW_UPS.c.complaint_id, func.sum(judged), func.count())
            .where(due >= self.start, due < min(self.end, self.now), FOLLOW_UPS.c.kind.in_(PROMISE_KINDS))
            .group_by(FOLLOW_UPS.c.complaint_id)
        )
        if among is not None:
            query = query.where(self._among(FOLLOW_UPS.c.complaint_id, among))
        counted = []
        mask = (1 << _FIELD) - 1
        for complaint_id, packed, count in session.execute(query).all():  # one fetch: row by row cost more
            packed = int(packed)
            missed, late, moved = packed & mask, packed >> _FIELD & mask, packed >> 2 * _FIELD
            counted.append((complaint_id, missed, late, moved, count - missed - late - moved))
        return counted

    def _groups(
        self, session: Connection, cases: Sequence[Any], others: set[int], callbacks: list[_Owed]
    ) -> dict[int, str]:
        """The group of each complaint of the cohort, `cases` (its id, time received and value
        of the grouping first, in that order), and of `others` (complaints of promises due in
        the window, some received before it), with the owners' names read first."""
        older: list[Any] = []
        wanted = sorted(others - {case[0] for case in cases}) if self.by != "week" else []
        if wanted and self.by in ("queue", "agent"):
            # The kept links (see `_read_cases`), those of complaints without facts read apart.
            facts = OUTCOMES.c
            kept = select(facts.complaint_id, facts.queue if self.by == "queue" else facts.agent)
            older.extend(driver_rows(session, kept.where(self._among(facts.complaint_id, wanted))))
            links = read_links(session, sorted(set(wanted) - {complaint_id for complaint_id, _ in older}))
            older.extend((complaint_id, self._link_value(link, None)) for complaint_id, link in links.items())
        elif wanted:
            query = select(COMPLAINTS.c.id, self._dimension(OUTCOMES.c))
            older.extend(driver_rows(session, query.where(self._among(COMPLAINTS.c.id, wanted))))
        if self.by == "owner":
            owner_ids = {case[2] for case in cases if case[2] is not None}
            owner_ids |= {owner_id for _, owner_id in older if owner_id is not None}
            owner_ids |= {cb.owner_id for cb in callbacks if cb.owner_id is not None}
            self.owners = self._user_names(session, owner_ids)
        if self.by in ("week", "owner"):
            groups = {case[0]: self._group_of(case[1], case[2]) for case in cases}
        else:  # the value itself (`_group_of` written out: a month is ~40k complaints)
            groups = {case[0]: case[2] or NONE_GROUP for case in cases}
        groups.update((complaint_id, self._group_name(value)) for complaint_id, value in older)
        return groups

    def _read_callbacks(self, session: Connection) -> list[_Owed]:
        """Call-backs due in the window whose due time has come."""
        due = CALLBACKS.c.due_at
        query = select(
            CALLBACKS.c.queue,
            CALLBACKS.c.owner_id,
            due,
            CALLBACKS.c.first_attempt_at,
            CALLBACKS.c.ended_at,
        ).where(due >= self.start, due < min(self.end, self.now))
        return [_Owed(*row) for row in session.execute(query)]

    def _user_names(self, session: Connection, ids: set[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        if ids:
            query = select(USERS.c.id, USERS.c.name).where(self._among(USERS.c.id, sorted(ids)))
            found.update((user_id, name) for user_id, name in session.execute(query))
        return found

    def _among(self, column: ColumnElement[Any], ids: Sequence[int]) -> ColumnElement[bool]:
        """That `column` is one of `ids`, all of them in one bound parameter: an array on
        PostgreSQL (sent as its text, which the server parses: the driver dumped a list of
        15k ids one by one in ~25 ms), a JSON list on SQLite. As IN lists of bound values
        (5,000 a statement) the 15k ids of a month's older complaints cost ~0.1 s of this
        process's CPU to render and to parse, more than the lookups themselves.
        The text goes untyped (no `::VARCHAR`), so the server reads the parameter as the array
        once: cast from a VARCHAR it parsed the text again for every row the filter saw (15k
        ids, 2,300 of a day's follow-ups: 2.6 s instead of 14 ms)."""
        if self.engine.dialect.name == "postgresql":
            text_array = "{" + ",".join(map(str, ids)) + "}"
            return column == any_(cast(bindparam(None, text_array, type_=NullType()), ARRAY(Integer)))
        listed = func.json_each(literal(json.dumps(list(ids)))).table_valued("value")
        return column.in_(select(listed.c.value))

    def _answered_calls(self, session: Connection) -> dict[str, int] | None:
        """Calls answered in the window per queue or per agent (None for other groupings)."""
        if self.by not in ("queue", "agent"):
            return None
        key = CALLS.c.queue if self.by == "queue" else CALLS.c.agent
        counted: dict[str, int] = {}
        for name, count in session.execute(self._answered_query(key)):
            counted[name or NONE_GROUP] = counted.get(name or NONE_GROUP, 0) + int(count)
        return counted

    def _all_answered(self, session: Connection) -> int:
        return sum(int(count) for _, count in session.execute(self._answered_query(CALLS.c.queue)))

    def _answered_query(self, key: Any) -> Select[Any]:
        """(value of `key`, calls answered in the window), of ix_calls_queue_enter_at (queue,
        enter_at, agent, answer_at) alone: a range of it per queue. SQLite skips from queue to
        queue by itself; PostgreSQL is led through the queues one by one (a recursive query,
        one probe a queue), else it read a month of call rows (~400k) for the answer time.
        A value may come more than once (an agent of several queues): add them up."""
        answered = (CALLS.c.enter_at >= self.start, CALLS.c.enter_at < self.end, CALLS.c.answer_at.is_not(None))
        if self.engine.dialect.name != "postgresql":
            return select(key, func.count()).where(*answered).group_by(key)
        first = select(func.min(CALLS.c.queue).label("queue")).cte("queues", recursive=True)
        after = select(func.min(CALLS.c.queue)).where(CALLS.c.queue > first.c.queue).scalar_subquery()
        queues = first.union_all(select(after).where(first.c.queue.is_not(None)))
        per_queue = (
            select(key.label("value"), func.count().label("answered"))
            .where(CALLS.c.queue == queues.c.queue, *answered)
            .group_by(key)
            .lateral("per_queue")
        )
        return select(per_queue.c.value, per_queue.c.answered).select_from(queues.join(per_queue, true()))

    # -- judging and counting ---------------------------------------------------------------

    def _week(self, at: float) -> str:
        year, week, _ = datetime.fromtimestamp(at, self.calendar.tz).isocalendar()
        return f"{year}-W{week:02d}"

    def _group_of(self, received_at: float, value: Any) -> str:
        """The group a complaint of the cohort falls in, of its time received and value of the
        grouping (by week: the week it was received)."""
        if self.by == "week":
            return self._week(received_at)
        if self.by == "owner":
            return self._group_name(value)
        return value or NONE_GROUP

    def _group_name(self, value: Any) -> str:
        """The group of a complaint's value of the grouping (not by week)."""
        if self.by == "owner":
            value = self.owners.get(value) if value is not None else None
        return value or NONE_GROUP

    def _verdict(self, case: Any, group: str) -> _Verdict:
        """The complaint (of `group`) judged at `now`, from its kept facts (or those judged
        again)."""
        facts: Sequence[Any] = case[_FACTS] if case[_FRESH] else self._stale[case[_ID]]
        ack_seconds, resolved_used, resolved_ever, reopened, highest_level = facts
        acknowledged_at = case[_ACKED]
        ack: tuple[bool, float | None] | None = None
        if acknowledged_at is not None:
            ack = (acknowledged_at <= case[_ACK_DUE], ack_seconds)
        elif self.now > case[_ACK_DUE]:
            ack = (False, None)
        budget = self._resolve_budget(case[_SEVERITY])
        resolution: tuple[float, bool] | None = None
        if case[_RESOLVED] is not None:
            resolution = (resolved_used, True)
        elif _may_be_late(case[_CREATED], self.now, budget):
            # Still open: the time used moves with `now` (judged here, not kept).
            used = sla_time_used(
                self.calendar, case[_CREATED], None, case[_PAUSED_SECONDS], case[_PAUSED_SINCE], self.now
            )
            if used > budget:
                resolution = (used, False)
        return _Verdict(
            group,
            ack,
            resolution,
            resolution is not None and resolution[1] and resolution[0] <= budget,
            bool(resolved_ever),
            bool(reopened),
            highest_level,
            bool(case[_LINKED]),
        )

    def _count_cases(self, cases: Sequence[Any], groups_of: dict[int, str]) -> None:
        """Count each case of the cohort in its group's tally, judged as `_verdict` judges it
        for the drill-downs, in one loop: no verdict object nor method call per complaint (a
        month of a large floor is ~40k of them). A test holds the two to the same figures
        (tests/unit/test_outcome_facts.py: the drill-downs against the report's)."""
        now, stale, tallies = self.now, self._stale, self.tallies
        seconds_to = self.calendar.seconds_to
        now_total = seconds_to(now)
        budgets = {severity: self._resolve_budget(severity) for severity in {case[_SEVERITY] for case in cases}}
        for case in cases:
            group = groups_of[case[_ID]]
            tally = tallies.get(group)
            if tally is None:
                tally = tallies[group] = _Tally()
            facts: Sequence[Any] = case[_FACTS] if case[_FRESH] else stale[case[_ID]]
            ack_seconds, resolved_used, resolved_ever, reopened, highest_level = facts
            tally.received += 1
            acknowledged_at = case[_ACKED]
            if acknowledged_at is not None:
                tally.ack_judged += 1
                if acknowledged_at <= case[_ACK_DUE]:
                    tally.ack_on_time += 1
                if ack_seconds is not None:
                    tally.ack_seconds.append(ack_seconds)
            elif now > case[_ACK_DUE]:
                tally.ack_judged += 1
            budget = budgets[case[_SEVERITY]]
            if case[_RESOLVED] is not None:
                tally.resolve_judged += 1
                if resolved_used <= budget:
                    tally.resolved_on_time += 1
                tally.resolve_seconds.append(resolved_used)
            elif _may_be_late(created_at := case[_CREATED], now, budget):
                # `sla_time_used` of a complaint still open, written out with `now` looked up
                # on the calendar once (the same sums, to the bit): ~18k open a month.
                used = 0.0
                if created_at < now:
                    used = now_total - seconds_to(created_at)
                paused = case[_PAUSED_SECONDS]
                paused_since = case[_PAUSED_SINCE]
                if paused_since is not None and paused_since < now:
                    paused += now_total - seconds_to(paused_since)
                if max(0.0, used - paused) > budget:
                    tally.resolve_judged += 1  # still open, its time used up: late
            if resolved_ever:
                tally.resolved_ever += 1
            if reopened:
                tally.reopened += 1
            if highest_level > 0:
                tally.escalated[highest_level] = tally.escalated.get(highest_level, 0) + 1
            if case[_LINKED]:
                tally.linked += 1
            else:
                tally.unlinked += 1

    def _count_flags(self, counted: Sequence[Any], groups_of: dict[int, str]) -> None:
        """Count each complaint of the cohort whose kept facts hold (`_count_query`'s rows, the
        others are cases for `_count_cases`) in its group's tally: the complaints of each
        combination of flags at once, the durations and the open complaints one by one."""
        now, tallies = self.now, self.tallies
        seconds_to = self.calendar.seconds_to
        now_total = seconds_to(now)
        budgets = {severity: self._resolve_budget(severity) for severity in SEVERITIES}
        combinations: Counter[tuple[str, int]] = Counter()
        for row in counted:
            flags = row[_FLAGS]
            if flags is None:
                continue
            group = groups_of[row[_C_ID]]
            combinations[group, flags] += 1
            tally = tallies.get(group)
            if tally is None:
                tally = tallies[group] = _Tally()
            if (ack_seconds := row[_C_ACK_SECONDS]) is not None:
                tally.ack_seconds.append(ack_seconds)
            if (resolve_seconds := row[_C_RESOLVE_SECONDS]) is not None:
                tally.resolve_seconds.append(resolve_seconds)
            if (severity := row[_C_OPEN_SEVERITY]) is not None:
                # Still open and maybe late: as `_count_cases` times it.
                created_at = row[_C_CREATED]
                used = now_total - seconds_to(created_at) if created_at < now else 0.0
                paused = row[_C_PAUSED_SECONDS]
                paused_since = row[_C_PAUSED_SINCE]
                if paused_since is not None and paused_since < now:
                    paused += now_total - seconds_to(paused_since)
                if max(0.0, used - paused) > budgets[severity]:
                    tally.resolve_judged += 1  # still open, its time used up: late
        for (group, flags), n in combinations.items():
            tally = tallies[group]
            tally.received += n
            tally.ack_judged += n if flags & _F_ACK_JUDGED else 0
            tally.ack_on_time += n if flags & _F_ACK_ON_TIME else 0
            tally.resolve_judged += n if flags & _F_RESOLVE_JUDGED else 0
            tally.resolved_on_time += n if flags & _F_RESOLVED_ON_TIME else 0
            tally.resolved_ever += n if flags & _F_RESOLVED_EVER else 0
            tally.reopened += n if flags & _F_REOPENED else 0
            if flags & _F_LINKED:
                tally.linked += n
            else:
                tally.unlinked += n
            if level := flags >> _LEVEL_SHIFT:
                tally.escalated[level] = tally.escalated.get(level, 0) + n

    def _tally(self, group: str) -> _Tally:
        tally = self.tallies.get(group)
        if tally is None:
            tally = self.tallies[group] = _Tally()
        return tally

    def _resolve_budget(self, severity: str) -> float:
        budget = self._budgets.get(severity)
        if budget is None:
            budget = self._budgets[severity] = resolve_budget(self.settings, severity)
        return budget

    def _count_follow_up(self, group: str, due_at: float, outcome: str | None, outcome_at: float | None) -> None:
        counts = [0, 0, 0, 0]
        counts[promise_verdict(due_at, outcome, outcome_at)] = 1
        self._add_promises(group, *counts)

    def _add_promises(self, group: str, missed: int, late: int, moved: int, on_time: int) -> None:
        """A complaint's promises (a moved one is not due: its successor is judged in its stead)."""
        tally = self._tally(group)
        tally.follow_ups_due += missed + late + on_time
        tally.follow_ups_missed += missed
        tally.follow_ups_late += late
        tally.follow_ups_moved += moved
        tally.follow_ups_on_time += on_time

    def _add_promise_counts(self, promises: Sequence[Any], groups_of: dict[int, str]) -> None:
        """`_add_promises` of each complaint's counts (complaint, missed, late, moved, kept), in
        one loop: ~50k complaints have promises due in a month of a large floor."""
        tallies = self.tallies
        for complaint_id, missed, late, moved, on_time in promises:
            group = groups_of[complaint_id]
            tally = tallies.get(group)
            if tally is None:
                tally = tallies[group] = _Tally()
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
            return self._week(callback.due_at)
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


def pareto(
    cases: Iterable[tuple[str | None, str | None]] | Counter[tuple[str | None, str | None]],
) -> tuple[RootCauseShare, ...]:
    """Complaints per root cause, most first, with shares and categories; `cases`: (root
    cause, category) of each complaint, or how many complaints have each pair."""
    counted = cases if isinstance(cases, Counter) else Counter(cases)
    causes: dict[str, dict[str, int]] = {}
    for (root_cause, category), n in counted.items():
        if root_cause:
            categories = causes.setdefault(root_cause, {})
            name = category or NONE_GROUP
            categories[name] = categories.get(name, 0) + n
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
