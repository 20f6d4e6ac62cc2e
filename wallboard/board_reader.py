"""Reading the board's rows from the database.

`read_rows` is the one read the board makes each second. It touches only the small live
tables (queue_snapshots, agents, agent_queues, feeds): O(queues + agents) rows, never the
call table. `read_trend` (service level and offered calls per interval through the day)
does read calls, by their enter_at index, and the board runs it at most once a minute.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, or_, select

from db.models import Agent, AgentQueue, Feed, QueueSnapshot
from wallboard.board import BoardRows, BoardState, Trend, evaluate
from wallboard.config import Settings
from wallboard.counts import QueueCounts, day_start
from wallboard.metrics import queue_counts

SNAPSHOTS = QueueSnapshot.__table__
AGENTS = Agent.__table__
AGENT_QUEUES = AgentQueue.__table__
FEEDS = Feed.__table__


def read_board(connection: Connection, settings: Settings, now: float) -> BoardState:
    """The board at `now`, from the live snapshot (O(queues + agents) rows, no calls)."""
    return evaluate(read_rows(connection, settings, now), settings, now)


def read_rows(connection: Connection, settings: Settings, now: float) -> BoardRows:
    """The live snapshot's rows, to be judged at any moment by `wallboard.board.evaluate`."""
    today = day_start(settings, now)
    snapshots = _dicts(connection.execute(select(SNAPSHOTS).order_by(SNAPSHOTS.c.queue)))
    a = AGENTS.c
    agents = _dicts(
        connection.execute(
            select(
                a.name,
                a.state,
                a.pause_reason,
                a.state_since,
                a.current_queue,
                a.current_callid,
                a.calls_today,
                a.talk_seconds_today,
            ).where(or_(a.state != "logged_out", a.state_since >= today, a.calls_today > 0))
        )
    )
    memberships: dict[str, list[str]] = {}
    for agent, queue in connection.execute(select(AGENT_QUEUES.c.agent, AGENT_QUEUES.c.queue)):
        memberships.setdefault(agent, []).append(queue)
    feeds = connection.execute(select(FEEDS.c.name, FEEDS.c.heartbeat_at)).all()
    return BoardRows(
        snapshots=snapshots,
        agents=agents,
        memberships={agent: tuple(sorted(qs)) for agent, qs in memberships.items()},
        heartbeat_at=max((hb for _, hb in feeds if hb), default=None),
        feeds=tuple(sorted(name for name, _ in feeds)),
    )


def _dicts(result) -> tuple[dict, ...]:
    """The rows of `result` as plain dicts (zipping the keys once: cheaper than RowMapping)."""
    keys = tuple(result.keys())
    return tuple(dict(zip(keys, row)) for row in result)



def read_trend(connection: Connection, settings: Settings, now: float, interval_minutes: int | None = None) -> Trend:
    """Service level and offered calls per interval from the start of today to `now`.

    One indexed range query (calls.enter_at) per interval, through the same counting as
    the reports, so the trend and `wallboard report queues` agree by construction.
    """
    minutes = interval_minutes or settings.board.trend_interval_minutes
    step = minutes * 60.0
    start = day_start(settings, now)
    count = max(1, math.ceil((now - start) / step))
    starts = tuple(start + i * step for i in range(count))
    per_queue: dict[str, list[QueueCounts]] = {}
    for i, begin in enumerate(starts):
        for queue, counts in queue_counts(connection, settings, begin, begin + step).items():
            series = per_queue.setdefault(queue, [QueueCounts(queue) for _ in starts])
            series[i] = counts
    return Trend(
        read_at=now,
        day_start=start,
        interval_seconds=step,
        starts=starts,
        counts={queue: tuple(series) for queue, series in per_queue.items()},
    )


class BoardReader:
    """The board's reads for a TUI: its rows each second, the trend when asked.

    share_for: seconds one read may serve the next callers too (the SSH server's sessions
    share one read a second instead of each reading). Thread-safe: the callers that
    arrive while a read is under way wait for it.
    """

    REMOTE = frozenset({"read"})  # what a session may call over its link

    def __init__(self, engine: Engine, settings: Settings, *, share_for: float = 0.0,
                 share_trend_for: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine, self.settings = engine, settings
        self.share_for, self.share_trend_for, self.clock = share_for, share_trend_for, clock
        self.reads = 0  # reads made of the database (not shared answers)
        self._lock = threading.Lock()
        self._rows: tuple[float, BoardRows] | None = None
        self._trend: tuple[float, Trend] | None = None

    def read(self, now: float, with_trend: bool = False) -> tuple[BoardRows, Trend | None]:
        with self._lock:
            at = self.clock()
            rows = self._rows[1] if self._rows and at - self._rows[0] < self.share_for else None
            trend = self._trend[1] if with_trend and self._trend and at - self._trend[0] < self.share_trend_for else None
            if rows is None or (with_trend and trend is None):
                with self.engine.connect() as connection:
                    if rows is None:
                        rows = read_rows(connection, self.settings, now)
                        self._rows = (at, rows)
                        self.reads += 1
                    if with_trend and trend is None:
                        trend = read_trend(connection, self.settings, now)
                        self._trend = (at, trend)
            return rows, trend
