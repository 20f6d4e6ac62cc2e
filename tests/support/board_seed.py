"""A board of any number of queues, in memory: the rows a database read would give, made up
deterministically, and a `WallboardApp` drawing them with a frozen clock (no database).

For the layout tests: the same board at every terminal size, with 4, 12 or 30 queues. The
figures vary from queue to queue so every level (ok, amber, red) shows somewhere.
"""

from __future__ import annotations

from typing import Any

from wallboard.calls.board import AgentSnapshot, BoardRows, PromiseCounts
from wallboard.calls.counts import QueueCounts, SnapshotRow, day_start
from wallboard.calls.trend import Trend
from wallboard.config import Settings
from wallboard.ui import WallboardApp

from .floor_seed import NOW

QUEUE_NAMES = (
    "billing",
    "sales",
    "support",
    "vip-priority",
    "retention",
    "renewals",
    "technical-l2",
    "claims",
    "onboarding",
    "collections",
    "fraud",
    "complaints",
    "roaming",
    "broadband",
    "mobile-upgrades",
    "business",
    "porting",
    "repairs",
    "installations",
    "accounts",
    "moves",
    "cancellations",
    "priority-care",
    "spanish",
    "french",
    "outbound-cb",
    "escalations",
    "device-care",
    "loyalty",
    "after-hours",
)
TREND_INTERVALS = 12  # 08:00 to 14:00 in half hours


def queue_names(count: int) -> tuple[str, ...]:
    if not 1 <= count <= len(QUEUE_NAMES):
        raise ValueError(f"between 1 and {len(QUEUE_NAMES)} queues")
    return QUEUE_NAMES[:count]


def _snapshot(index: int, queue: str, now: float) -> SnapshotRow:
    waiting = (index * 3) % 5
    offered = 20 + (index * 7) % 40
    abandoned = index % 4
    answered = offered - abandoned
    # Service level from 55 % to 100 %: some queues green, some amber, some red.
    within = round(answered * (0.55 + ((index * 13) % 10) / 20))
    within = min(within, answered)
    return SnapshotRow(
        queue=queue,
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        short_abandoned=0,
        exited=0,
        answered_within_sl=within,
        service_level_pct=round(100.0 * within / offered, 2),
        abandon_rate_pct=round(100.0 * abandoned / offered, 2),
        asa_seconds=float(5 + (index * 11) % 50),
        aht_seconds=float(180 + (index * 37) % 400),
        max_wait_seconds=float(60 + index * 5),
        blocked=index % 2,
        waiting=waiting,
        oldest_waiting_since=now - (20 + (index * 29) % 160) if waiting else None,
        agents_logged_in=2 + index % 3,
        agents_available=(index + 1) % 3,
        agents_on_call=1 + index % 2,
        agents_wrap_up=index % 2,
        agents_paused=int(index % 3 == 0),
        updated_at=now,
    )


def _agents(queues: tuple[str, ...], now: float) -> tuple[tuple[AgentSnapshot, ...], dict[str, tuple[str, ...]]]:
    names = ("Maria Garcia", "James Smith", "Aisha Khan", "Liam Murphy", "Chen Nguyen", "Noah Rossi", "Sofia Rossi")
    states = ("on_call", "available", "paused", "paused", "wrap_up", "logged_out", "on_call")
    agents = []
    memberships = {}
    for index, (name, state) in enumerate(zip(names, states)):
        queue = queues[index % len(queues)]
        agents.append(
            AgentSnapshot(
                name=name,
                state=state,
                pause_reason={2: "break", 3: "lunch"}.get(index),
                state_since=now - 60 * (5 + index * 7),
                current_queue=queue if state == "on_call" else None,
                current_callid=f"call-{index}" if state == "on_call" else None,
                calls_today=3 + index,
                talk_seconds_today=200.0 * (3 + index),
            )
        )
        memberships[name] = (queue,)
    return tuple(agents), memberships


def board_rows(queues: int, now: float = NOW) -> BoardRows:
    """The rows of a floor of `queues` queues as read at `now`."""
    names = queue_names(queues)
    agents, memberships = _agents(names, now)
    return BoardRows(
        snapshots=tuple(_snapshot(index, name, now) for index, name in enumerate(names)),
        agents=agents,
        memberships=memberships,
        heartbeat_at=now,
        feeds=("queue_log",),
        promises=PromiseCounts(read_at=now, due_today=2, overdue=1, oldest_overdue_due_at=now - 1800),
    )


def board_trend(settings: Settings, queues: int, now: float = NOW) -> Trend:
    names = queue_names(queues)
    start = day_start(settings, now) + 8 * 3600
    interval = 1800.0
    counts = {}
    for index, name in enumerate(names):
        series = []
        for slot in range(TREND_INTERVALS):
            offered = 2 + (index + slot * 3) % 7
            within = max(0, offered - (slot + index) % 4)
            series.append(QueueCounts(name, offered=offered, answered=offered, answered_within_sl=within))
        counts[name] = tuple(series)
    starts = tuple(start + slot * interval for slot in range(TREND_INTERVALS))
    return Trend(read_at=now, day_start=start, interval_seconds=interval, starts=starts, counts=counts)


class SeededSource:
    """A `BoardSource` that always reads the same rows (and trend)."""

    def __init__(self, rows: BoardRows, trend: Trend) -> None:
        self.rows = rows
        self.trend = trend

    def read(self, now: float, with_trend: bool = False) -> tuple[BoardRows, Trend | None]:
        return self.rows, self.trend if with_trend else None


class FrozenClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def seeded_app(settings: Settings, queues: int, **options: Any) -> WallboardApp:
    """A board of `queues` queues at the seeded floor's 14:00:00, read from memory."""
    source = SeededSource(board_rows(queues), board_trend(settings, queues))
    return WallboardApp(source, settings, FrozenClock(), **options)
