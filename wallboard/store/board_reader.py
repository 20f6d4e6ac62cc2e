"""Reading the board's rows from the database.

`read_rows` is the one read the board makes each second. It touches the small live tables
(queue_snapshots, agents, agent_queues, feeds, and the open call-back requests by their
partial index): O(queues + agents + open call-backs) rows; of the call table only the open
calls (a partial index) and their callers' markers (wallboard/store/waiting.py); and the
open promises to customers due by tonight, through their partial index (`read_promises`);
and the alert log's open rows and those cleared lately (wallboard/store/alert_log.py).
`read_trend` (service level and offered calls per interval through the day, and
through the same weekday last week) does read calls, by their enter_at index, and the board runs it at most once a minute.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Result, bindparam, case, func, or_, select, text

from db.callbacks import OPEN_SQL, Callback
from db.complaints import OPEN_PROMISE_SQL, FollowUp
from db.engine import driver_rows
from db.models import Agent, AgentQueue, Feed, QueueSnapshot, table_of
from wallboard.calls.alerts import AlertRecord
from wallboard.calls.board import AgentSnapshot, BoardRows, BoardState, CallbackRow, PromiseCounts, evaluate
from wallboard.calls.counts import QueueCounts, SnapshotRow, day_start
from wallboard.calls.trend import WEEK_SECONDS, Trend
from wallboard.config import Settings
from wallboard.store.alert_log import alerts_of_day, read_alert_log
from wallboard.store.metrics import queue_counts
from wallboard.store.waiting import MarksCache, read_waiting

SNAPSHOTS = table_of(QueueSnapshot)
AGENTS = table_of(Agent)
AGENT_QUEUES = table_of(AgentQueue)
FEEDS = table_of(Feed)
CALLBACKS = table_of(Callback)
CALLBACKS_OPEN = f"callbacks.{OPEN_SQL}"
FOLLOW_UPS = table_of(FollowUp)

T = TypeVar("T")


def read_board(connection: Connection, settings: Settings, now: float) -> BoardState:
    """The board at `now`, from the live snapshot (O(queues + agents) rows; of the calls, the open ones)."""
    return evaluate(read_rows(connection, settings, now), settings, now)


# A loss a feed reported (a rotated file gone before it was read) stays on the board this long.
PROBLEM_SHOWN_SECONDS = 24 * 3600.0


def read_rows(
    connection: Connection,
    settings: Settings,
    now: float,
    marks: MarksCache | None = None,
    kept: KeptRows | None = None,
) -> BoardRows:
    """The live snapshot's rows, to be judged at any moment by `wallboard.calls.board.evaluate`
    (`marks`: the waiting callers' markers kept between reads; `kept`: the last read's rows,
    whose unchanged ones are reused rather than built again: the answer is the same)."""
    today = day_start(settings, now)
    # The snapshot table's columns are SnapshotRow's keys; the agents' select names AgentSnapshot's.
    snapshots = cast(tuple[SnapshotRow, ...], _dicts(connection.execute(SNAPSHOTS_READ)))
    if kept is None:
        agents = cast(
            tuple[AgentSnapshot, ...],
            tuple(sorted(_dicts(connection.execute(AGENTS_READ, {"today": today})), key=_by_name)),
        )
        memberships = _memberships(connection.execute(MEMBERSHIPS_READ).all())
    else:
        agents = kept.agents(connection, today)
        memberships = kept.memberships(driver_rows(connection, MEMBERSHIPS_SQL))
    feed_rows = connection.execute(FEEDS_READ).all()
    feeds = [(name, heartbeat) for name, heartbeat, _, _ in feed_rows]
    problems = [
        (name, problem)
        for name, _, problem, problem_at in feed_rows
        if problem is not None and problem_at is not None and problem_at >= now - PROBLEM_SHOWN_SECONDS
    ]
    callbacks: dict[str, tuple[list[float], list[float]]] = {}
    for queue, hung_up_at, due_at in connection.execute(CALLBACKS_READ).all():
        hung, due = callbacks.setdefault(queue, ([], []))
        hung.append(hung_up_at)
        due.append(due_at)
    return BoardRows(
        callbacks=tuple(
            CallbackRow(queue, tuple(hung), tuple(due)) for queue, (hung, due) in sorted(callbacks.items())
        ),
        snapshots=snapshots,
        agents=agents,
        memberships=memberships,
        heartbeat_at=max((hb for _, hb in feeds if hb), default=None),
        feeds=tuple(sorted(name for name, _ in feeds)),
        feed_heartbeats={name: heartbeat for name, heartbeat in feeds},
        feed_problems={name: problem for name, problem in problems},
        waiting=read_waiting(connection, settings, now, marks),
        promises=read_promises(connection, settings, now),
        alert_log=read_alert_log(connection, settings, now),
    )


# The board's reads each second, built once (a select built and hashed anew each second
# costs more than some of the reads themselves).
SNAPSHOTS_READ = select(SNAPSHOTS).order_by(SNAPSHOTS.c.queue)
_a = AGENTS.c
_AGENT_FIELDS = (
    _a.name,
    _a.state,
    _a.pause_reason,
    _a.state_since,
    _a.current_queue,
    _a.current_callid,
    _a.calls_today,
    _a.talk_seconds_today,
)
AGENT_KEYS = tuple(column.name for column in _AGENT_FIELDS)
# Where KeptRows finds, in a row of those fields, what AGENTS_READ's condition reads.
_STATE, _STATE_SINCE, _CALLS_TODAY = (AGENT_KEYS.index(key) for key in ("state", "state_since", "calls_today"))
# The agents on the board: logged in, or seen today.
AGENTS_READ = select(*_AGENT_FIELDS).where(
    or_(_a.state != "logged_out", _a.state_since >= bindparam("today"), _a.calls_today > 0)
)
# KeptRows: every agent with its version (migration 0024), or those written after a version.
ALL_AGENTS_READ = select(*_AGENT_FIELDS, _a.version)
CHANGED_AGENTS_READ = select(*_AGENT_FIELDS, _a.version).where(_a.version > bindparam("after"))
HIGHEST_VERSION = select(func.coalesce(func.max(_a.version), 0))
MEMBERSHIPS_READ = select(AGENT_QUEUES.c.agent, AGENT_QUEUES.c.queue)
MEMBERSHIPS_SQL = "SELECT agent, queue FROM agent_queues"  # KeptRows: the driver's tuples
FEEDS_READ = select(FEEDS.c.name, FEEDS.c.heartbeat_at, FEEDS.c.problem, FEEDS.c.problem_at)
# A literal, so SQLite uses the partial index of open requests (db.callbacks).
CALLBACKS_READ = (
    select(CALLBACKS.c.queue, CALLBACKS.c.first_hung_up_at, CALLBACKS.c.due_at)
    .where(text(CALLBACKS_OPEN))
    .order_by(CALLBACKS.c.due_at)
)


def _memberships(rows: Sequence[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    memberships: dict[str, list[str]] = {}
    for agent, queue in rows:
        memberships.setdefault(agent, []).append(queue)
    return {agent: tuple(sorted(qs)) for agent, qs in memberships.items()}


class KeptRows:
    """The last read's agents and memberships, for the next read to reuse what did not change.

    Agents: every insert or update of an agent row gives it a higher `version` (database
    triggers, migration 0024), so after a first read of every agent a read asks only for the
    rows written since (`version` above what it has seen: ix_agents_version), a handful a
    second on a busy floor, not all 500. An agent whose row reads the same gets the same dict
    (built once, and judged by `evaluate` from the same object). Which agents are on the board
    (logged in, or seen today) is decided here, as AGENTS_READ decides it, in the order of a
    read without it (by name).
    It converges whatever it missed: each read asks again from the version seen one read
    before (on PostgreSQL versions are taken before commit, so two writers' commits may land
    out of order), and every FULL_READ_SECONDS, or when the versions went back (a database
    restored), it reads every agent again.
    Memberships are worked out again only when a row of them changed.
    Not thread-safe: one read at a time (the BoardReader's lock)."""

    FULL_READ_SECONDS = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.full_reads = 0
        self.rows_read = 0  # agent rows read so far (tests look)
        self._rows: dict[str, tuple[Any, ...]] = {}  # every agent, as read (without its version)
        self._snapshots: dict[str, AgentSnapshot] = {}
        self._seen: int | None = None  # the highest version read
        self._seen_before: int | None = None  # ... as of the read before
        self._full_at = -math.inf
        self._names: list[str] | None = None  # the agents' names in order (as sorted by name)
        self._membership_rows: list[tuple[str, str]] | None = None
        self._memberships: dict[str, tuple[str, ...]] = {}

    def agents(self, connection: Connection, today: float) -> tuple[AgentSnapshot, ...]:
        """The agents on the board (AGENTS_READ's rows, as dicts)."""
        now = self.clock()
        full = self._seen is None or now - self._full_at >= self.FULL_READ_SECONDS
        if not full:
            after = self._seen_before if self._seen_before is not None else self._seen
            changed = connection.execute(CHANGED_AGENTS_READ, {"after": after}).all()
            highest = max((row[-1] for row in changed), default=None)
            if highest is None and connection.execute(HIGHEST_VERSION).scalar_one() < cast(int, self._seen):
                full = True  # the versions went back: not the database read before
        previous = self._rows
        if full:
            changed = connection.execute(ALL_AGENTS_READ).all()
            self._rows, self._full_at, self._names = {}, now, None
            self.full_reads += 1
            highest = max((row[-1] for row in changed), default=0)
        self.rows_read += len(changed)
        rows, snapshots = self._rows, self._snapshots
        for row in map(tuple, changed):
            name, values = row[0], row[:-1]
            if previous.get(name) != values:
                snapshots.pop(name, None)
                if name not in rows:
                    self._names = None
            rows[name] = values
        if self._names is None:
            self._names = sorted(rows)
        # The next read asks again from here: what commits late with a lower version is read.
        self._seen_before = self._seen if not full else highest
        if highest is not None and (full or highest > cast(int, self._seen)):
            self._seen = highest
        shown: list[AgentSnapshot] = []
        kept: dict[str, AgentSnapshot] = {}
        for name in self._names:
            values = rows[name]
            # AGENTS_READ's condition: logged in, or seen today.
            if values[_STATE] != "logged_out" or values[_STATE_SINCE] >= today or values[_CALLS_TODAY] > 0:
                snapshot = snapshots.get(name)
                if snapshot is None:
                    snapshot = cast(AgentSnapshot, dict(zip(AGENT_KEYS, values)))
                kept[name] = snapshot
                shown.append(snapshot)
        self._snapshots = kept
        return tuple(shown)

    def memberships(self, result: Sequence[tuple[Any, ...]]) -> dict[str, tuple[str, ...]]:
        rows = cast(list[tuple[str, str]], result if isinstance(result, list) else list(result))
        if rows != self._membership_rows:
            self._membership_rows, self._memberships = rows, _memberships(rows)
        return self._memberships


def read_promises(connection: Connection, settings: Settings, now: float) -> PromiseCounts:
    """Open promises due by the end of today (the complaints' time zone, as their "due
    today" view): one range over the partial index of open promises by due time, so the
    cost is the overdue and today's promises, never the history of kept ones."""
    tz = ZoneInfo(settings.business_hours.timezone or settings.site.timezone)
    today = datetime.fromtimestamp(now, tz).date()
    day_end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=tz).timestamp()
    overdue, due_today, earliest = connection.execute(PROMISES_READ, {"now": now, "day_end": day_end}).one()
    return PromiseCounts(
        read_at=now,
        due_today=int(due_today),
        overdue=int(overdue),
        oldest_overdue_due_at=earliest if earliest is not None and earliest < now else None,
    )


def _by_name(agent: dict[str, Any]) -> str:
    return cast(str, agent["name"])


_due = FOLLOW_UPS.c.due_at
# Built once (a select built each second costs more than the read: its cache key alone).
PROMISES_READ = select(
    func.coalesce(func.sum(case((_due < bindparam("now"), 1), else_=0)), 0),
    func.coalesce(func.sum(case((_due >= bindparam("now"), 1), else_=0)), 0),
    func.min(_due),
).where(text(OPEN_PROMISE_SQL), _due < bindparam("day_end"))


def _dicts(result: Result[Any]) -> tuple[dict[str, Any], ...]:
    """The rows of `result` as plain dicts (zipping the keys once: cheaper than RowMapping)."""
    keys = tuple(result.keys())
    return tuple(dict(zip(keys, row)) for row in result.all())


# Last week's day is read again at most this often (it changes only when old calls are
# ingested late), not with every trend read.
LAST_WEEK_MAX_AGE_SECONDS = 3600.0


class LastWeekCache:
    """Last week's counts per interval, as last read: (day start, interval, read at, counts)."""

    def __init__(self) -> None:
        self.entry: tuple[float, float, float, dict[str, tuple[QueueCounts, ...]]] | None = None


def read_trend(
    connection: Connection,
    settings: Settings,
    now: float,
    interval_minutes: int | None = None,
    cache: LastWeekCache | None = None,
) -> Trend:
    """Service level and offered calls per interval from the start of today to `now`, and
    over the whole of the same weekday last week (what today is measured against; kept in
    `cache` for up to an hour when given).

    One indexed range query (calls.enter_at) per interval, through the same counting as
    the reports, so the trend and `wallboard report queues` agree by construction.
    """
    minutes = interval_minutes or settings.board.trend_interval_minutes
    step = minutes * 60.0
    start = day_start(settings, now)
    count = max(1, math.ceil((now - start) / step))
    starts = tuple(start + i * step for i in range(count))
    day_slots = math.ceil(86400.0 / step)
    week_start = day_start(settings, now - WEEK_SECONDS)
    entry = cache.entry if cache is not None else None
    if entry is not None and entry[:2] == (week_start, step) and now - entry[2] < LAST_WEEK_MAX_AGE_SECONDS:
        last_week = entry[3]
    else:
        last_week = _interval_counts(connection, settings, [week_start + i * step for i in range(day_slots)], step)
        if cache is not None:
            cache.entry = (week_start, step, now, last_week)
    return Trend(
        read_at=now,
        day_start=start,
        interval_seconds=step,
        starts=starts,
        counts=_interval_counts(connection, settings, starts, step),
        last_week=last_week,
        day_slots=day_slots,
    )


def _interval_counts(
    connection: Connection, settings: Settings, starts: Sequence[float], step: float
) -> dict[str, tuple[QueueCounts, ...]]:
    per_queue: dict[str, list[QueueCounts]] = {}
    for i, begin in enumerate(starts):
        for queue, counts in queue_counts(connection, settings, begin, begin + step).items():
            series = per_queue.setdefault(queue, [QueueCounts(queue) for _ in starts])
            series[i] = counts
    return {queue: tuple(series) for queue, series in per_queue.items()}


class _Shared(Generic[T]):
    """A value read at most once per `max_age` seconds whoever asks (0: every time); the
    callers that arrive while it is being read wait for that read."""

    def __init__(self, max_age: float, clock: Callable[[], float]) -> None:
        self.max_age, self.clock = max_age, clock
        self.reads = 0
        self._lock = threading.Lock()
        self._value: T | None = None
        self._at = 0.0
        self._generation = 0

    def get(self, fetch: Callable[[], T], generation: int = 0) -> T:
        """The shared value, read again if it is older than `max_age` or than `generation`
        (the data changed since it was read)."""
        with self._lock:
            at = self.clock()
            if self._value is None or at - self._at >= self.max_age or generation != self._generation:
                self._value, self._at, self._generation = fetch(), at, generation
                self.reads += 1
            return self._value


class BoardReader:
    """The board's reads for a TUI: its rows each second, the trend when asked.

    share_for, share_trend_for: seconds one read may serve the next callers too (the SSH
    server's sessions share one read a second instead of each reading). Thread-safe; the
    rows and the trend are read apart, so a slow trend never holds up the rows.
    """

    REMOTE = frozenset({"read", "alerts_today"})  # what a session may call over its link

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        share_for: float = 0.0,
        share_trend_for: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine, self.settings = engine, settings
        self._rows: _Shared[BoardRows] = _Shared(share_for, clock)
        self._trend: _Shared[Trend] = _Shared(share_trend_for, clock)
        self._generation = 0
        self._marks = MarksCache()
        self._kept = KeptRows()
        self._last_week = LastWeekCache()

    @property
    def reads(self) -> int:
        """Rows read from the database (not shared answers)."""
        return self._rows.reads

    def changed(self) -> None:
        """The data changed (wallboard.store.changes): the next read reads, shared or not."""
        self._generation += 1

    def read(self, now: float, with_trend: bool = False) -> tuple[BoardRows, Trend | None]:
        rows = self._rows.get(lambda: self._fetch(self._read_rows, now), self._generation)
        return rows, self._trend.get(lambda: self._fetch(self._read_trend, now)) if with_trend else None

    def alerts_today(self, now: float) -> list[AlertRecord]:
        """Today's alerts from the alert log, the latest first (the alert history screen)."""
        return self._fetch(alerts_of_day, now)

    def _read_trend(self, connection: Connection, settings: Settings, now: float) -> Trend:
        return read_trend(connection, settings, now, None, self._last_week)

    def _read_rows(self, connection: Connection, settings: Settings, now: float) -> BoardRows:
        return read_rows(connection, settings, now, self._marks, self._kept)

    def _fetch(self, reader: Callable[[Connection, Settings, float], T], now: float) -> T:
        with self.engine.connect() as connection:
            return reader(connection, self.settings, now)
