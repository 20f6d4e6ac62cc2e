"""The metrics engine: window reports and the live per-queue snapshot.

The definitions are those of wallboard/calls/counts.py (docs/ARCHITECTURE.md, Metrics); each queue may override the
thresholds; the total adds up each queue's counts under its own thresholds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Connection, Select, and_, bindparam, case, func, select

from db import tables
from db.engine import upsert
from wallboard.calls.counts import QueueCounts, QueueFigures, SnapshotRow, day_start, mean_of
from wallboard.calls.events import BLOCKED, EXIT_REASONS
from wallboard.config import Settings, qualified
from wallboard.store.changes import call_data_changed

# Core tables without the SQLModel classes (db/tables.py): `wallboard report` starts without
# SQLModel, pydantic and the ORM.
CALLS = tables.calls
AGENTS = tables.agents
AGENT_QUEUES = tables.agent_queues
STATE_CHANGES = tables.agent_state_changes
SNAPSHOTS = tables.queue_snapshots
FEEDS = tables.feeds
QUEUE_ROLLUPS = tables.queue_day_rollups
AGENT_ROLLUPS = tables.agent_day_rollups
MARKS = tables.history_marks
DETAIL_FROM = "detail_from"
# The QueueCounts sums a queue's roll-up row keeps.
ROLLED_COUNTS = (
    "offered answered abandoned short_abandoned exited answered_within_sl abandoned_within_sl "
    "wait_sum handle_sum handled max_wait blocked"
).split()

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


def detail_from(connection: Connection) -> float | None:
    """Where the kept detail begins (None: nothing pruned); the days before it are roll-ups."""
    return connection.execute(select(MARKS.c.at).where(MARKS.c.name == DETAIL_FROM)).scalar()


def entered_until(connection: Connection) -> float | None:
    """Just past the newest call's entry (None: no calls): the end of an open window.

    A range bounded on both sides is what lets SQLite choose the enter_at index without
    statistics; the newest entry is one index probe, and nothing entered after it.
    """
    newest = connection.execute(select(func.max(CALLS.c.enter_at))).scalar()
    return None if newest is None else math.nextafter(newest, math.inf)


def _detail_window(
    connection: Connection, start: float | None, end: float | None
) -> tuple[float | None, float | None, float | None]:
    """(detail start, detail end, detail_from): the part of [start, end) read from the calls.

    The detail starts no earlier than where retention kept it; an open end (None) becomes
    just past the newest call so that both sides are bounded.
    """
    kept_from = detail_from(connection)
    if kept_from is not None and (start is None or start < kept_from):
        start = kept_from
    if end is None and start is not None:
        end = entered_until(connection)
        if end is None:
            end = start  # no calls at all: an empty window
    return start, end, kept_from


def _rolled_days(
    day: ColumnElement[float], start: float | None, end: float | None, kept_from: float | None
) -> ColumnElement[bool] | None:
    """The roll-up days (`day`: a roll-up table's column) a window [start, end) takes: those
    that begin in it, before the kept detail."""
    if kept_from is None or (start is not None and start >= kept_from):
        return None
    condition = day < kept_from if end is None else and_(day < kept_from, day < end)
    return condition if start is None else and_(condition, day >= start)


def queue_counts(
    connection: Connection, settings: Settings, start: float | None, end: float | None
) -> dict[str, QueueCounts]:
    """Per-queue sums over calls that entered the queue in [start, end) (None: unbounded).

    Days retention pruned come from their roll-ups, whole: a day counts when it begins in
    the window.
    """
    detail_start, detail_end, kept_from = _detail_window(connection, start, end)
    result = _detail_queue_counts(connection, settings, detail_start, detail_end)
    rolled = _rolled_days(QUEUE_ROLLUPS.c.day, start, end, kept_from)
    if rolled is not None:
        for row in connection.execute(select(QUEUE_ROLLUPS).where(rolled)).mappings():
            counts = QueueCounts(row["queue"], **{name: row[name] for name in ROLLED_COUNTS})
            result.setdefault(row["queue"], QueueCounts(row["queue"])).add(counts)
    return result


def _detail_queue_counts(
    connection: Connection, settings: Settings, start: float | None, end: float | None
) -> dict[str, QueueCounts]:
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
    detail_start, detail_end, kept_from = _detail_window(connection, start, end)
    found = _detail_blocked_by_reason(connection, detail_start, detail_end)
    rolled = _rolled_days(QUEUE_ROLLUPS.c.day, start, end, kept_from)
    if rolled is not None:
        for queue, reasons in connection.execute(
            select(QUEUE_ROLLUPS.c.queue, QUEUE_ROLLUPS.c.blocked_reasons).where(rolled)
        ):
            into = found.setdefault(queue, {})
            for reason, n in json.loads(reasons).items():
                into[reason] = into.get(reason, 0) + n
    return {queue: reasons for queue, reasons in found.items() if reasons}


def _detail_blocked_by_reason(
    connection: Connection, start: float | None, end: float | None
) -> dict[str, dict[str, int]]:
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
    """Per agent: calls answered, talk time, AHT, and seconds in each state and pause reason.

    Days retention pruned come from their roll-ups, whole: a day counts when it begins in
    the window.
    """
    detail_start, detail_end, kept_from = _detail_window(connection, start, end)
    calls = _agent_calls(connection, detail_start, detail_end)
    # An agent's last state runs until the newest event any feed has seen, not until the
    # wall clock: an old queue_log must not show agents "available" for years.
    newest = connection.execute(select(func.max(FEEDS.c.last_event_at))).scalar()
    window_end = min(now, end if end is not None else now, newest if newest is not None else now)
    states = agent_states(connection, detail_start, window_end)
    rolled = _rolled_days(AGENT_ROLLUPS.c.day, start, end, kept_from)
    if rolled is not None:
        for row in connection.execute(select(AGENT_ROLLUPS).where(rolled).order_by(AGENT_ROLLUPS.c.day)).mappings():
            sums = calls.setdefault(row["agent"], AgentCalls())
            sums.answered += row["answered"]
            sums.talk_seconds += row["talk_seconds"]
            sums.handle_seconds += row["handle_seconds"]
            sums.handled += row["handled"]
            add_to = states.setdefault(row["agent"], ({}, {}))
            for into, seconds in zip(add_to, (json.loads(row["states"]), json.loads(row["pause_reasons"]))):
                for key, value in seconds.items():
                    into[key] = into.get(key, 0.0) + value
    agents: dict[str, AgentFigures] = {}
    for name in sorted(calls.keys() | states.keys()):
        sums = calls.get(name, AgentCalls())
        in_states, pause_reasons = states.get(name, ({}, {}))
        agents[name] = {
            "agent": name,
            "answered": sums.answered,
            "talk_seconds": round(sums.talk_seconds, 2),
            "aht_seconds": mean_of(sums.handle_seconds, sums.handled),
            # Rounded once, at the end: a window's figures do not depend on how it was summed.
            "states": {state: round(seconds, 2) for state, seconds in in_states.items()},
            "pause_reasons": {reason: round(seconds, 2) for reason, seconds in pause_reasons.items()},
        }
    return list(agents.values())


@dataclass
class AgentCalls:
    """An agent's answered calls over a window: the sums behind its report row."""

    answered: int = 0
    talk_seconds: float = 0.0
    handle_seconds: float = 0.0  # talk + wrap-up of the answered calls that ended
    handled: int = 0


def _agent_calls(connection: Connection, start: float | None, end: float | None) -> dict[str, AgentCalls]:
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
    return {
        name: AgentCalls(answered, talk or 0.0, handle or 0.0, handled or 0)
        for name, answered, talk, handle, handled in connection.execute(query.group_by(c.agent))
    }


def agent_states(
    connection: Connection, start: float | None, end: float
) -> dict[str, tuple[dict[str, float], dict[str, float]]]:
    """Per agent, seconds in each state and in each pause reason over [start, end) (detail
    only; not rounded)."""
    found: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
    for name, state, reason, began, ended in _state_spans(connection, start, end):
        seconds = min(ended if ended is not None else end, end) - max(began, start or began)
        if seconds <= 0:
            continue
        in_states, pause_reasons = found.setdefault(name, ({}, {}))
        in_states[state] = in_states.get(state, 0.0) + seconds
        if state == "paused":
            key = reason or "unspecified"
            pause_reasons[key] = pause_reasons.get(key, 0.0) + seconds
    return found


def _state_spans(
    connection: Connection, start: float | None, end: float
) -> Iterator[tuple[str, str, str | None, float, float | None]]:
    """(agent, state, reason, began, ended) for state spans overlapping [start, end); ended
    None: the state still held at `end`.

    Reads each agent's last change before `start` (its state at the window's start: one
    index probe per agent) and the changes inside the window (a range of the `at` index),
    never the history before: the cost follows the window, not the history kept.
    """
    s = STATE_CHANGES.c
    inside = select(s.agent, s.state, s.pause_reason, s.at, s.id).where(s.at < end)
    if start is not None:
        inside = inside.where(s.at >= start)
    changes = [tuple(row) for row in connection.execute(inside)]
    if start is not None:
        changes.extend(tuple(row) for row in connection.execute(_last_changes_before(start)))
    changes.sort(key=lambda change: (change[0], change[3], change[4]))
    for i, (agent, state, reason, began, _id) in enumerate(changes):
        following = changes[i + 1] if i + 1 < len(changes) else None
        ended = following[3] if following is not None and following[0] == agent else None
        yield agent, state, reason, began, ended


def last_change_ids_before(at: float) -> Select[tuple[int]]:
    """The id of each agent's last state change before `at` (ties: the later row); one
    probe of the (agent, at) index per agent."""
    before = STATE_CHANGES.alias("before")
    last_id = (
        select(before.c.id)
        .where(before.c.agent == AGENTS.c.name, before.c.at < at)
        .order_by(before.c.at.desc(), before.c.id.desc())
        .limit(1)
        .correlate(AGENTS)
        .scalar_subquery()
    )
    per_agent = select(last_id.label("id")).select_from(AGENTS).subquery()
    return select(per_agent.c.id).where(per_agent.c.id.is_not(None))


def _last_changes_before(at: float) -> Select[tuple[str, str, str | None, float, int]]:
    s = STATE_CHANGES.c
    return select(s.agent, s.state, s.pause_reason, s.at, s.id).where(s.id.in_(last_change_ids_before(at)))


def day_rollups(
    connection: Connection, settings: Settings, day: float, next_day: float, now: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The roll-up rows (queue_day_rollups, agent_day_rollups) of one day [day, next_day),
    from its detail, by the same counting as the reports: a report over the day gives the
    same figures once the detail is pruned."""
    queues = []
    blocked = _detail_blocked_by_reason(connection, day, next_day)
    for name, counts in sorted(_detail_queue_counts(connection, settings, day, next_day).items()):
        row: dict[str, Any] = {"day": day, "queue": name, **{key: getattr(counts, key) for key in ROLLED_COUNTS}}
        row["blocked_reasons"] = json.dumps(blocked.get(name, {}), sort_keys=True)
        queues.append(row)
    calls = _agent_calls(connection, day, next_day)
    newest = connection.execute(select(func.max(FEEDS.c.last_event_at))).scalar()
    window_end = min(now, next_day, newest if newest is not None else now)
    states = agent_states(connection, day, window_end)
    agents = []
    for name in sorted(calls.keys() | states.keys()):
        sums = calls.get(name, AgentCalls())
        in_states, pause_reasons = states.get(name, ({}, {}))
        agents.append(
            {
                "day": day,
                "agent": name,
                **asdict(sums),
                "states": json.dumps(in_states, sort_keys=True),
                "pause_reasons": json.dumps(pause_reasons, sort_keys=True),
            }
        )
    return queues, agents


# -- the live snapshot -------------------------------------------------------------


def refresh_snapshots(connection: Connection, settings: Settings, now: float) -> bool:
    """Rewrite the per-queue snapshot and agents' today figures when they changed; run by the
    feed process. Whether anything changed (the board's readers are told only then).

    Cost is one indexed pass over today's calls plus O(queues + agents): sessions then read
    the small snapshot tables instead of the call table. A refresh whose figures equal the
    stored ones writes nothing and wakes no reader: what grows by itself (a caller's wait,
    an agent's time in state) the board works out from the stored times, and the feed's
    heartbeat, written beside it, is read by the board's slow fallback read (and before it
    shows the data stale), not pushed.
    """
    today = day_start(settings, now)
    until = entered_until(connection)
    counts = queue_counts(connection, settings, today, until if until is not None else today)
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
    stored = {row["queue"]: row for row in connection.execute(select(SNAPSHOTS)).mappings()}
    rows: list[SnapshotRow] = []
    changed = False
    for queue in sorted(stored.keys() | counts.keys() | waiting.keys() | staffing.keys()):
        figures = counts.get(queue, QueueCounts(queue)).figures(settings.metrics_for(queue).service_level_formula)
        in_queue, oldest = waiting.get(queue, (0, None))
        states = staffing.get(queue, {})
        row: SnapshotRow = {
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
        rows.append(row)
        changed = changed or not _same_snapshot(stored.get(queue), row)
    if changed:
        # Every row, so that all carry the time of the refresh that last changed the board.
        upsert(connection, SNAPSHOTS, rows, key=("queue",))
    if _refresh_agents_today(connection, today, until if until is not None else today):
        changed = True
    if changed:
        call_data_changed(connection)  # the tiles' readers read as soon as this commits
    return changed


def _same_snapshot(stored: Any, row: SnapshotRow) -> bool:
    """Whether a stored snapshot row (a mapping, or None) already holds `row`'s figures."""
    if stored is None:
        return False
    return all(stored[key] == value for key, value in row.items() if key != "updated_at")


def _refresh_agents_today(connection: Connection, today: float, until: float) -> bool:
    """Set the agents' calls and talk time today where they changed; whether any did."""
    c = CALLS.c
    answered_today = {
        agent: (n, talk or 0.0)
        for agent, n, talk in connection.execute(
            select(c.agent, func.count(), func.sum(c.talk_seconds))
            .where(c.enter_at >= today, c.enter_at < until, c.answer_at.is_not(None), c.agent.is_not(None))
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
    return bool(changes)
