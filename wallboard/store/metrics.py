"""The metrics engine: window reports and the live per-queue snapshot.

The definitions are those of wallboard/calls/counts.py (docs/ARCHITECTURE.md, Metrics); each queue may override the
thresholds; the total adds up each queue's counts under its own thresholds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Connection, Row, and_, bindparam, case, func, select

from db.engine import upsert
from db.models import Agent, AgentQueue, AgentStateChange, Call, Feed, QueueSnapshot, table_of
from wallboard.calls.counts import QueueCounts, QueueFigures, SnapshotRow, day_start, mean_of
from wallboard.calls.events import BLOCKED, EXIT_REASONS
from wallboard.config import Settings, qualified
from wallboard.store.changes import call_data_changed

CALLS = table_of(Call)
AGENTS = table_of(Agent)
AGENT_QUEUES = table_of(AgentQueue)
STATE_CHANGES = table_of(AgentStateChange)
SNAPSHOTS = table_of(QueueSnapshot)
FEEDS = table_of(Feed)

TOTAL = "*"
# A caller cannot really wait this long: older "waiting" rows are lines lost at a cut.
WAITING_HORIZON_SECONDS = 4 * 3600
AGENT_STATES = ("available", "ringing", "on_call", "wrap_up", "paused", "logged_out")


@dataclass
class QueueReport:
    service_level_seconds: int
    short_abandon_seconds: int
    queues: list[QueueFigures]
    total: QueueFigures
    # queue -> why the queue refused callers -> how many (full, joinempty, joinunavail, closed)
    blocked_by_reason: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class AgentFigures(TypedDict):
    """An agent's row of the agent report; states and pause reasons in seconds."""

    agent: str
    answered: int
    talk_seconds: float
    aht_seconds: float | None
    states: dict[str, float]
    pause_reasons: dict[str, float]


def _per_queue(settings: Settings, key: str) -> ColumnElement[int] | int:
    """A SQL expression giving each queue its own value of a [metrics] key."""
    default: int = getattr(settings.metrics, key)
    overrides = {
        name: getattr(override, key) for name, override in settings.queues.items() if getattr(override, key) is not None
    }
    # A site's "support@north" takes [queues.support] unless it has its own [queues."support@north"].
    sites = {spec.site for spec in settings.feed_specs() if spec.site}
    for name, value in list(overrides.items()):
        for site in sites:
            overrides.setdefault(qualified(name, site), value)
    return case(overrides, value=CALLS.c.queue, else_=default) if overrides else default


def queue_counts(
    connection: Connection, settings: Settings, start: float | None, end: float | None
) -> dict[str, QueueCounts]:
    """Per-queue sums over calls that entered the queue in [start, end) (None: unbounded)."""
    c = CALLS.c
    sl = _per_queue(settings, "service_level_seconds")
    short = _per_queue(settings, "short_abandon_seconds")
    answered = c.answer_at.is_not(None)
    abandoned = c.outcome == "abandoned"
    blocked = c.outcome == BLOCKED
    ended = and_(answered, c.talk_seconds.is_not(None))

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    query = select(
        c.queue,
        func.count() if settings.metrics.blocked_in_offered else count(~blocked),
        count(answered),
        count(abandoned),
        count(and_(abandoned, c.wait_seconds <= short)),
        count(c.outcome.in_(EXIT_REASONS)),
        count(and_(answered, c.wait_seconds <= sl)),
        count(and_(abandoned, c.wait_seconds <= sl)),
        func.sum(case((answered, c.wait_seconds), else_=0.0)),
        func.sum(case((ended, c.talk_seconds + func.coalesce(c.wrap_seconds, 0.0)), else_=0.0)),
        count(ended),
        func.max(c.wait_seconds),
        count(blocked),
    ).group_by(c.queue)
    if start is not None:
        query = query.where(c.enter_at >= start)
    if end is not None:
        query = query.where(c.enter_at < end)
    result: dict[str, QueueCounts] = {}
    for queue, *sums, max_wait, blocked_calls in connection.execute(query):
        counts = QueueCounts(queue, *(n or 0 for n in sums))
        counts.max_wait = max_wait
        counts.blocked = blocked_calls or 0
        result[queue] = counts
    return result


def queue_report(connection: Connection, settings: Settings, start: float | None, end: float | None) -> QueueReport:
    counts = queue_counts(connection, settings, start, end)
    total = QueueCounts(TOTAL)
    rows = []
    for name in sorted(counts):
        total.add(counts[name])
        rows.append(counts[name].figures(settings.metrics_for(name).service_level_formula))
    return QueueReport(
        service_level_seconds=settings.metrics.service_level_seconds,
        short_abandon_seconds=settings.metrics.short_abandon_seconds,
        queues=rows,
        total=total.figures(settings.metrics.service_level_formula),
        blocked_by_reason=_blocked_by_reason(connection, start, end),
    )


def _blocked_by_reason(connection: Connection, start: float | None, end: float | None) -> dict[str, dict[str, int]]:
    c = CALLS.c
    query = select(c.queue, c.end_reason, func.count()).where(c.outcome == BLOCKED).group_by(c.queue, c.end_reason)
    if start is not None:
        query = query.where(c.enter_at >= start)
    if end is not None:
        query = query.where(c.enter_at < end)
    found: dict[str, dict[str, int]] = {}
    for queue, reason, n in connection.execute(query):
        found.setdefault(queue, {})[reason or "unknown"] = n
    return found


def agent_report(connection: Connection, start: float | None, end: float | None, now: float) -> list[AgentFigures]:
    """Per agent: calls answered, talk time, AHT, and seconds in each state and pause reason."""
    c = CALLS.c
    query = select(
        c.agent,
        func.count(),
        func.sum(func.coalesce(c.talk_seconds, 0.0)),
        func.sum(case((c.talk_seconds.is_not(None), c.talk_seconds + func.coalesce(c.wrap_seconds, 0.0)), else_=0.0)),
        func.sum(case((c.talk_seconds.is_not(None), 1), else_=0)),
    ).where(c.agent.is_not(None), c.answer_at.is_not(None))
    if start is not None:
        query = query.where(c.enter_at >= start)
    if end is not None:
        query = query.where(c.enter_at < end)
    agents: dict[str, AgentFigures] = {}
    for name, answered, talk, handle, handled in connection.execute(query.group_by(c.agent)):
        agents[name] = {
            "agent": name,
            "answered": answered,
            "talk_seconds": round(talk or 0.0, 2),
            "aht_seconds": mean_of(handle or 0.0, handled),
            "states": {},
            "pause_reasons": {},
        }
    # An agent's last state runs until the newest event any feed has seen, not until the
    # wall clock: an old queue_log must not show agents "available" for years.
    newest = connection.execute(select(func.max(FEEDS.c.last_event_at))).scalar()
    window_end = min(now, end if end is not None else now, newest if newest is not None else now)
    for name, state, reason, began, ended in _state_spans(connection, start, window_end):
        seconds = min(ended if ended is not None else window_end, window_end) - max(began, start or began)
        if seconds <= 0:
            continue
        row = agents.setdefault(
            name,
            {"agent": name, "answered": 0, "talk_seconds": 0.0, "aht_seconds": None, "states": {}, "pause_reasons": {}},
        )
        row["states"][state] = round(row["states"].get(state, 0.0) + seconds, 2)
        if state == "paused":
            key = reason or "unspecified"
            row["pause_reasons"][key] = round(row["pause_reasons"].get(key, 0.0) + seconds, 2)
    return [agents[name] for name in sorted(agents)]


def _state_spans(
    connection: Connection, start: float | None, end: float
) -> Iterable[Row[str, str, str | None, float, float | None]]:
    """(agent, state, reason, began, ended) for state spans overlapping [start, end)."""
    s = STATE_CHANGES.c
    following = func.lead(s.at).over(partition_by=s.agent, order_by=(s.at, s.id))
    spans = select(s.agent, s.state, s.pause_reason, s.at, following.label("until")).where(s.at < end).subquery()
    query = select(spans)
    if start is not None:
        query = query.where((spans.c.until.is_(None)) | (spans.c.until > start))
    return connection.execute(query)


# -- the live snapshot -------------------------------------------------------------


def refresh_snapshots(connection: Connection, settings: Settings, now: float) -> None:
    """Rewrite the per-queue snapshot and agents' today figures; run by the feed process.

    Cost is one indexed pass over today's calls plus O(queues + agents): sessions then read
    the small snapshot tables instead of the call table.
    """
    today = day_start(settings, now)
    counts = queue_counts(connection, settings, today, None)
    c = CALLS.c
    waiting = {
        queue: (n, oldest)
        for queue, n, oldest in connection.execute(
            select(c.queue, func.count(), func.min(c.enter_at))
            .where(c.outcome == "waiting", c.enter_at > now - WAITING_HORIZON_SECONDS)
            .group_by(c.queue)
        )
    }
    staffing: dict[str, dict[str, int]] = {}
    for queue, state, n in connection.execute(
        select(AGENT_QUEUES.c.queue, AGENTS.c.state, func.count())
        .join(AGENTS, AGENTS.c.name == AGENT_QUEUES.c.agent)
        .group_by(AGENT_QUEUES.c.queue, AGENTS.c.state)
    ):
        staffing.setdefault(queue, {})[state] = n
    known = set(connection.execute(select(SNAPSHOTS.c.queue)).scalars())
    rows: list[SnapshotRow] = []
    for queue in sorted(known | counts.keys() | waiting.keys() | staffing.keys()):
        figures = counts.get(queue, QueueCounts(queue)).figures(settings.metrics_for(queue).service_level_formula)
        in_queue, oldest = waiting.get(queue, (0, None))
        states = staffing.get(queue, {})
        rows.append(
            {
                **figures,
                "waiting": in_queue,
                "oldest_waiting_since": oldest,
                "agents_logged_in": sum(n for state, n in states.items() if state != "logged_out"),
                "agents_available": states.get("available", 0),
                "agents_on_call": states.get("on_call", 0) + states.get("ringing", 0),
                "agents_wrap_up": states.get("wrap_up", 0),
                "agents_paused": states.get("paused", 0),
                "updated_at": now,
            }
        )
    if rows:
        upsert(connection, SNAPSHOTS, rows, key=("queue",))
    _refresh_agents_today(connection, today)
    call_data_changed(connection)  # the tiles' readers read as soon as this commits


def _refresh_agents_today(connection: Connection, today: float) -> None:
    c = CALLS.c
    answered_today = {
        agent: (n, talk or 0.0)
        for agent, n, talk in connection.execute(
            select(c.agent, func.count(), func.sum(c.talk_seconds))
            .where(c.enter_at >= today, c.answer_at.is_not(None), c.agent.is_not(None))
            .group_by(c.agent)
        )
    }
    changes = []
    for name, calls, talk in connection.execute(
        select(AGENTS.c.name, AGENTS.c.calls_today, AGENTS.c.talk_seconds_today)
    ):
        new_calls, new_talk = answered_today.get(name, (0, 0.0))
        if (calls, talk) != (new_calls, new_talk):
            changes.append({"_name": name, "calls_today": new_calls, "talk_seconds_today": new_talk})
    if changes:
        connection.execute(
            AGENTS.update()
            .where(AGENTS.c.name == bindparam("_name"))
            .values(calls_today=bindparam("calls_today"), talk_seconds_today=bindparam("talk_seconds_today")),
            changes,
        )
