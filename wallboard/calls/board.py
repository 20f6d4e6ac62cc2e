"""What the wallboard shows: the live snapshot's rows judged at a moment, as view models.

No Textual here: the TUI (wallboard/ui/) only draws what this module computes, so every
figure, colour and alert is testable without a terminal.

No database either (wallboard/store/board_reader.py reads the rows): a session's TUI process
gets `BoardRows` over its session link and judges them here, each second.
"""

from __future__ import annotations

import copy
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypedDict

from wallboard.calls.alerts import Alert, AlertRecord, find_alerts, with_life
from wallboard.calls.counts import SnapshotRow
from wallboard.calls.levels import (
    ALERT,
    NONE,
    WARN,
    level_band,
    promise_levels,
    queue_levels,
    thresholds_memo,
    worst,
)
from wallboard.calls.waiting import WaitingCaller, WaitingRow, in_queues, waiting_callers
from wallboard.config import QueueThresholdValues, Settings
from wallboard.text import format_age, format_duration

TOTAL_QUEUE = "All queues"

# Agent states in the order the table groups them: people talking first, the idle last.
STATE_ORDER = ("on_call", "ringing", "wrap_up", "available", "paused", "logged_out")
STATE_LABELS = {
    "on_call": "on call",
    "ringing": "ringing",
    "wrap_up": "wrap-up",
    "available": "available",
    "paused": "paused",
    "logged_out": "logged out",
}
SORT_MODES = ("state", "name", "time", "calls", "queue")
SORT_LABELS = {
    "state": "state",
    "name": "name",
    "time": "time in state",
    "calls": "calls today",
    "queue": "queue",
}

# Metrics of a queue tile that carry a level.
TILE_METRICS = ("waiting", "longest_wait", "service_level", "abandon_rate", "asa", "aht", "available")


# -- what the board shows ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueTile:
    queue: str  # as stored; draw it through `printable`
    waiting: int
    oldest_waiting_since: float | None
    longest_wait: float | None  # at the board's `now`; None: nobody waiting
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    answered_within_sl: int
    service_level_pct: float | None
    abandon_rate_pct: float | None
    asa_seconds: float | None
    aht_seconds: float | None
    agents_logged_in: int
    agents_available: int
    agents_on_call: int
    agents_wrap_up: int
    agents_paused: int
    levels: Mapping[str, str]
    level: str
    is_total: bool = False
    blocked: int = 0  # callers the queue refused today (full, join-empty, ...): not in offered


# Not frozen: the board makes one per agent per second (500 on a busy floor), and a frozen
# dataclass's __init__ costs four times a plain one's. Nothing changes one after it is made.
@dataclass(slots=True)
class AgentRow:
    name: str
    state: str
    pause_reason: str | None
    state_since: float
    seconds_in_state: float
    current_queue: str | None
    queues: tuple[str, ...]
    calls_today: int
    aht_today: float | None
    flag: str | None  # "long_call" | "long_pause" | None
    # The agent's AHT today against the floor's band ([thresholds] aht_*): ok, warn, alert, none.
    aht_level: str = NONE

    @property
    def state_label(self) -> str:
        label = STATE_LABELS.get(self.state, self.state)
        if self.state == "paused" and self.pause_reason:
            return f"{label}: {self.pause_reason}"
        return label

    @property
    def level(self) -> str:
        return {"long_call": ALERT, "long_pause": WARN}.get(self.flag or "", NONE)


@dataclass(frozen=True, slots=True)
class Freshness:
    """How current the data is: the newest heartbeat of any feed writing this database.

    stale_feeds: with several feeds configured ([[feeds]]), those whose own heartbeat is
    old or missing while others are live (their site's figures are as of then).
    """

    heartbeat_at: float | None
    age_seconds: float | None
    stale: bool
    feeds: tuple[str, ...]
    stale_feeds: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # losses feeds reported (a rotated file gone before it was read)

    @property
    def label(self) -> str:
        if self.heartbeat_at is None:
            return "no feed"
        if not self.stale and self.stale_feeds:
            return f"live · stale: {', '.join(self.stale_feeds)}"
        if not self.stale:
            return "live"
        return f"stale {format_age(self.age_seconds or 0.0)}"


class AgentSnapshot(TypedDict):
    """An agent's row of the live tables, as the board reads it."""

    name: str
    state: str
    pause_reason: str | None
    state_since: float
    current_queue: str | None
    current_callid: str | None
    calls_today: int
    talk_seconds_today: float


class _TotalFigures(TypedDict):
    """The total tile's figures that are also judged against the thresholds."""

    waiting: int
    longest_wait: float | None
    service_level_pct: float | None
    abandon_rate_pct: float | None
    asa_seconds: float | None
    aht_seconds: float | None
    agents_available: int
    agents_logged_in: int


@dataclass(frozen=True, slots=True)
class CallbackRow:
    """One queue's open call-back requests as read: when their callers first hung up and
    when each is due (sorted), so the board can count the overdue ones at any moment."""

    queue: str
    hung_up_at: tuple[float, ...]
    due_at: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class CallbackTile:
    """A queue's call-backs on the board: open, the oldest's age, how many are overdue."""

    queue: str  # as stored; draw it through `printable`
    open: int
    oldest_age: float  # seconds since the earliest hang-up among the open ones
    overdue: int
    level: str  # alert: some are overdue; warn: some are open

    @property
    def text(self) -> str:
        overdue = f" · {self.overdue} overdue" if self.overdue else ""
        return f"{self.queue} {self.open} open · oldest {format_age(self.oldest_age)}{overdue}"


def callback_tiles(rows: Sequence[CallbackRow], now: float) -> tuple[CallbackTile, ...]:
    tiles = []
    for row in rows:
        if not row.due_at:
            continue
        overdue = bisect_left(row.due_at, now)
        tiles.append(
            CallbackTile(
                queue=row.queue,
                open=len(row.due_at),
                oldest_age=max(0.0, now - min(row.hung_up_at)),
                overdue=overdue,
                level=ALERT if overdue else WARN,
            )
        )
    return tuple(tiles)


@dataclass(frozen=True, slots=True)
class PromiseCounts:
    """Open promises to customers (follow-ups of the promise kinds without an outcome),
    floor-wide, as read at `read_at`: due from then to the end of that day, overdue then,
    and when the oldest overdue one fell due. Read by wallboard/store/board_reader.py from
    the complaint tables; the call domain only judges them."""

    read_at: float
    due_today: int
    overdue: int
    oldest_overdue_due_at: float | None


@dataclass(frozen=True, slots=True)
class PromiseTile:
    """The promises tile as shown at the board's `now`."""

    due_today: int
    overdue: int
    oldest_overdue: float | None  # seconds since the oldest overdue promise fell due
    levels: Mapping[str, str]
    level: str


@dataclass(frozen=True)
class BoardRows:
    """The rows read from the database, kept so the board can be re-evaluated each second."""

    snapshots: tuple[SnapshotRow, ...]
    agents: tuple[AgentSnapshot, ...]
    memberships: Mapping[str, tuple[str, ...]]
    heartbeat_at: float | None
    feeds: tuple[str, ...]
    # Each feed's own heartbeat, by checkpoint name: which of several feeds is stale.
    feed_heartbeats: Mapping[str, float | None] = field(default_factory=dict)
    feed_problems: Mapping[str, str] = field(default_factory=dict)  # a loss a feed reported today
    callbacks: tuple[CallbackRow, ...] = ()  # open call-back requests per queue
    waiting: tuple[WaitingRow, ...] = ()  # the callers waiting now, with their markers
    promises: PromiseCounts | None = None  # None: not read (no complaint tables to read)
    # The alert log's open alerts and those cleared lately (wallboard/calls/alerts.py).
    alert_log: tuple[AlertRecord, ...] = ()


@dataclass(frozen=True)
class BoardState:
    now: float
    site: str
    tiles: tuple[QueueTile, ...]
    total: QueueTile
    agents: tuple[AgentRow, ...]
    freshness: Freshness
    alerts: tuple[Alert, ...]
    # What it was judged from, to judge it again at another moment (`at`).
    source: BoardRows = field(repr=False, compare=False)
    settings: Settings = field(repr=False, compare=False)
    filter: str = ""
    callbacks: tuple[CallbackTile, ...] = ()
    waiting: tuple[WaitingCaller, ...] = ()  # longest wait first
    promises: PromiseTile | None = None  # floor-wide: a filter of queues and agents leaves it
    cleared_alerts: tuple[Alert, ...] = ()  # cleared lately ([board] cleared_alert_seconds), newest first

    def at(self, now: float) -> BoardState:
        """The same data judged at another moment: waits and times in state tick on."""
        state = evaluate(self.source, self.settings, now)
        return state.filtered(self.filter) if self.filter else state

    def filtered(self, query: str) -> BoardState:
        """Only the queues, agents and alerts `query` is about (see `match_filter`)."""
        query = query.strip()
        if not query:
            return replace(self, filter="") if self.filter else self
        queues, agents = match_filter(self, query)
        tiles = tuple(t for t in self.tiles if t.queue in queues)
        return replace(
            self,
            tiles=tiles,
            agents=tuple(a for a in self.agents if a.name in agents),
            alerts=tuple(a for a in self.alerts if _alert_selected(a, queues, agents)),
            cleared_alerts=tuple(a for a in self.cleared_alerts if _alert_selected(a, queues, agents)),
            total=_total(tiles, [a for a in self.agents if a.name in agents], self.settings, self.now),
            filter=query,
            callbacks=tuple(c for c in self.callbacks if c.queue in queues),
            waiting=in_queues(self.waiting, queues),
        )


def _alert_selected(alert: Alert, queues: set[str], agents: set[str]) -> bool:
    return (alert.queue is not None and alert.queue in queues) or (alert.agent in agents)


def match_filter(state: BoardState, query: str) -> tuple[set[str], set[str]]:
    """Queues and agents a filter selects; `query` is one or more comma-separated words.

    A word selects the queues whose name contains it, the agents whose name contains it,
    and the team of a selected queue (the agents who take its calls, or are on one of its
    calls now). Selecting only agents also shows their queues. Case is ignored.
    """
    words = [w.strip().casefold() for w in query.split(",") if w.strip()]
    queues = {t.queue for t in state.tiles if any(w in t.queue.casefold() for w in words)}
    named = {a.name for a in state.agents if any(w in a.name.casefold() for w in words)}
    team = {a.name for a in state.agents if queues & set(a.queues) or (a.current_queue in queues)}
    agents = named | team
    if not queues:
        for row in state.agents:
            if row.name in named:
                queues.update(row.queues)
                if row.current_queue:
                    queues.add(row.current_queue)
        queues &= {t.queue for t in state.tiles}
    return queues, agents


def agent_aht_level(band: QueueThresholdValues, aht: float | None) -> str:
    """An agent's AHT today against the floor's band ([thresholds] aht_*: an agent takes
    calls from several queues, so the floor's band, not one queue's override)."""
    return level_band(
        aht, band.aht_low_seconds, band.aht_high_seconds, band.aht_red_low_seconds, band.aht_red_high_seconds
    )


def shown_agents(rows: Sequence[AgentRow], *, logged_out: bool) -> list[AgentRow]:
    """The agent table's rows: the logged-out agents only when asked for (they would
    fill the table, with hours since they left)."""
    return list(rows) if logged_out else [row for row in rows if row.state != "logged_out"]


def agents_heading(rows: Sequence[AgentRow], sort_mode: str, *, logged_out_shown: bool) -> str:
    """The agent table's title: "Agents 8 logged in of 24: 3 on call, 2 free ...  ·  by state"."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    logged_in = len(rows) - counts.get("logged_out", 0)
    parts = [
        f"{counts[state]} {word}"
        for state, word in (("on_call", "on call"), ("available", "free"), ("paused", "paused"), ("wrap_up", "wrap-up"))
        if counts.get(state)
    ]
    title = f"Agents {logged_in} logged in of {len(rows)}"
    if parts:
        title += ": " + ", ".join(parts)
    if logged_out_shown and counts.get("logged_out"):
        title += f", {counts['logged_out']} logged out"
    return f"{title}  ·  by {SORT_LABELS[sort_mode]}"


@dataclass(frozen=True, slots=True)
class OwnFigures:
    """An agent's own view: their row of the board and the band their AHT is judged by."""

    agent: AgentRow
    aht_low: float
    aht_high: float

    @property
    def aht_text(self) -> str:
        aht = "-" if self.agent.aht_today is None else format_duration(self.agent.aht_today)
        return f"{aht}  (target {format_duration(self.aht_low)} to {format_duration(self.aht_high)})"


def own_figures(state: BoardState, agent: str | None) -> OwnFigures | None:
    """`agent`'s own figures on the board judged at `state.now` (None: not on the board)."""
    row = next((row for row in state.agents if row.name == agent), None) if agent is not None else None
    if row is None:
        return None
    band = state.settings.thresholds.for_queue(None)
    return OwnFigures(row, band.aht_low_seconds, band.aht_high_seconds)


def sort_agents(rows: Sequence[AgentRow], mode: str) -> list[AgentRow]:
    """The agent table's order. Keys use when a state began, not its running time, so the
    order stays put while times tick."""
    state_rank = {state: rank for rank, state in enumerate(STATE_ORDER)}

    def by_state(row: AgentRow) -> tuple[int, float, str]:
        return (state_rank.get(row.state, len(STATE_ORDER)), row.state_since, row.name.casefold())

    if mode == "name":
        return sorted(rows, key=lambda r: (r.name.casefold(), r.name))
    if mode == "time":
        return sorted(rows, key=lambda r: (r.state == "logged_out", r.state_since, r.name.casefold()))
    if mode == "calls":
        return sorted(rows, key=lambda r: (-r.calls_today, r.name.casefold()))
    if mode == "queue":
        return sorted(rows, key=lambda r: ((r.current_queue or "\uffff").casefold(), *by_state(r)))
    return sorted(rows, key=by_state)


def evaluate(source: BoardRows, settings: Settings, now: float) -> BoardState:
    """Judge the rows read at any moment `now`: O(queues + agents), no database."""
    # Each queue's thresholds worked out once (tiles, agents and alerts all ask), and kept
    # for the next judgings while the thresholds stay the same.
    thresholds = _JUDGINGS.memo(settings)
    tiles = tuple(_tile(row, settings, now, thresholds) for row in source.snapshots)
    agents = _agent_rows(source, settings, now, thresholds)
    age = None if source.heartbeat_at is None else max(0.0, now - source.heartbeat_at)
    freshness = Freshness(
        heartbeat_at=source.heartbeat_at,
        age_seconds=age,
        stale=age is None or age > settings.board.stale_after_seconds,
        feeds=source.feeds,
        stale_feeds=_stale_feeds(source, settings, now),
        problems=tuple(source.feed_problems[name] for name in sorted(source.feed_problems)),
    )
    alerts, cleared = with_life(
        find_alerts(tiles, agents, settings, thresholds), source.alert_log, now, settings.board.cleared_alert_seconds
    )
    return BoardState(
        now=now,
        site=settings.site.name,
        tiles=tiles,
        total=_total(tiles, agents, settings, now),
        agents=agents,
        freshness=freshness,
        alerts=alerts,
        cleared_alerts=cleared,
        source=source,
        settings=settings,
        callbacks=callback_tiles(source.callbacks, now),
        waiting=waiting_callers(source.waiting, settings, now),
        promises=None if source.promises is None else _promise_tile(source.promises, settings, now),
    )


def _promise_tile(counts: PromiseCounts, settings: Settings, now: float) -> PromiseTile:
    oldest = counts.oldest_overdue_due_at
    age = None if oldest is None else max(0.0, now - oldest)
    levels = promise_levels(settings.thresholds, overdue=counts.overdue, oldest_overdue=age)
    return PromiseTile(
        due_today=counts.due_today,
        overdue=counts.overdue,
        oldest_overdue=age,
        levels=levels,
        level=worst(levels.values()),
    )


def _stale_feeds(source: BoardRows, settings: Settings, now: float) -> tuple[str, ...]:
    """Of several configured feeds, those not heard from within [board] stale_after_seconds."""
    if len(settings.feeds) < 2:
        return ()
    stale = []
    for spec in settings.feed_specs():
        heartbeat = source.feed_heartbeats.get(spec.name)
        if heartbeat is None or now - heartbeat > settings.board.stale_after_seconds:
            stale.append(spec.label)
    return tuple(stale)


def _tile(
    row: SnapshotRow,
    settings: Settings,
    now: float,
    thresholds: Callable[[str | None], QueueThresholdValues] | None = None,
) -> QueueTile:
    oldest = row["oldest_waiting_since"] if row["waiting"] else None
    longest = None if oldest is None else max(0.0, now - oldest)
    levels = queue_levels(
        (thresholds or settings.thresholds.for_queue)(row["queue"]),
        waiting=row["waiting"],
        longest_wait=longest,
        service_level_pct=row["service_level_pct"],
        abandon_rate_pct=row["abandon_rate_pct"],
        asa_seconds=row["asa_seconds"],
        aht_seconds=row["aht_seconds"],
        agents_available=row["agents_available"],
        agents_logged_in=row["agents_logged_in"],
    )
    return QueueTile(
        queue=row["queue"],
        waiting=row["waiting"],
        oldest_waiting_since=oldest,
        longest_wait=longest,
        offered=row["offered"],
        answered=row["answered"],
        abandoned=row["abandoned"],
        short_abandoned=row["short_abandoned"],
        answered_within_sl=row["answered_within_sl"],
        service_level_pct=row["service_level_pct"],
        abandon_rate_pct=row["abandon_rate_pct"],
        asa_seconds=row["asa_seconds"],
        aht_seconds=row["aht_seconds"],
        agents_logged_in=row["agents_logged_in"],
        agents_available=row["agents_available"],
        agents_on_call=row["agents_on_call"],
        agents_wrap_up=row["agents_wrap_up"],
        agents_paused=row["agents_paused"],
        levels=levels,
        level=worst(levels.values()),
        blocked=row["blocked"],
    )


def _weighted(tiles: Sequence[QueueTile], value: str, weight: str) -> float | None:
    pairs = [(getattr(t, value), getattr(t, weight)) for t in tiles if getattr(t, value) is not None]
    total = sum(w for _, w in pairs)
    return round(sum(v * w for v, w in pairs) / total, 2) if total else None


def _total(tiles: Sequence[QueueTile], agents: Sequence[AgentRow], settings: Settings, now: float) -> QueueTile:
    """The floor (or the filtered queues) as one tile.

    Service level and abandon rate are recomputed from the queues' counts; ASA is exact (weighted by answered calls); AHT is weighted by
    answered calls too, which counts calls still in progress: close, not exact.
    Staffing counts each agent once, however many queues they serve.
    """
    offered = sum(t.offered for t in tiles)
    answered = sum(t.answered for t in tiles)
    abandoned = sum(t.abandoned for t in tiles)
    short = sum(t.short_abandoned for t in tiles)
    waiting = sum(t.waiting for t in tiles)
    eligible = offered - short
    within = sum(t.answered_within_sl for t in tiles)
    formulas = {settings.metrics_for(t.queue).service_level_formula for t in tiles}
    if formulas <= {"offered"}:
        service_level = round(100.0 * within / eligible, 2) if eligible > 0 else None
    elif formulas == {"answered"}:
        service_level = round(100.0 * within / answered, 2) if answered > 0 else None
    else:
        # Queues count service level differently: weight each queue's figure by its calls.
        service_level = _weighted(tiles, "service_level_pct", "offered")
    oldest = min((t.oldest_waiting_since for t in tiles if t.oldest_waiting_since is not None), default=None)
    longest = None if oldest is None else max(0.0, now - oldest)
    states = [a.state for a in agents]
    counts = {state: states.count(state) for state in STATE_ORDER}
    logged_in = len(states) - counts["logged_out"]
    figures = _TotalFigures(
        waiting=waiting,
        longest_wait=longest,
        service_level_pct=service_level,
        abandon_rate_pct=round(100.0 * (abandoned - short) / eligible, 2) if eligible > 0 else None,
        asa_seconds=_weighted(tiles, "asa_seconds", "answered"),
        aht_seconds=_weighted(tiles, "aht_seconds", "answered"),
        agents_available=counts["available"],
        agents_logged_in=logged_in,
    )
    levels = queue_levels(settings.thresholds.for_queue(None), **figures)
    return QueueTile(
        queue=TOTAL_QUEUE,
        oldest_waiting_since=oldest,
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        short_abandoned=short,
        answered_within_sl=within,
        agents_on_call=counts["on_call"] + counts["ringing"],
        agents_wrap_up=counts["wrap_up"],
        agents_paused=counts["paused"],
        levels=levels,
        level=worst(levels.values()),
        blocked=sum(t.blocked for t in tiles),
        is_total=True,
        **figures,
    )


class _AgentJudgings:
    """What judging an agent's row found that does not tick with the clock (its queues, AHT
    and AHT level, the limit past which its call or pause stands out), kept from the last
    judging for the rows read the same (the same dict: wallboard/store/board_reader.py
    KeptRows), the same memberships and the same thresholds: a busy board judges its 500
    agents each second and only a few of them changed. Each value is swapped whole, so the
    read thread and the event loop (`BoardState.at`) may both judge."""

    def __init__(self) -> None:
        # (the thresholds, a copy of them as they were, their memo: `memo`)
        self.thresholds: tuple[object, object, Callable[[str | None], QueueThresholdValues] | None] = (None, None, None)
        # (the thresholds' memo judged with, the memberships, by id(row))
        self.kept: tuple[object, object, dict[int, tuple[AgentSnapshot, _Judged]]] = (None, None, {})

    def memo(self, settings: Settings) -> Callable[[str | None], QueueThresholdValues]:
        """`thresholds_memo(settings)`, the same one while the thresholds stay the same: the
        same object, not changed in place since (a dataclass: they compare by value). Each
        queue's values are a model built per lookup, some 30 a second otherwise."""
        kept, as_they_were, memo = self.thresholds
        if memo is None or kept is not settings.thresholds or as_they_were != settings.thresholds:
            memo = thresholds_memo(settings)
            self.thresholds = (settings.thresholds, copy.deepcopy(settings.thresholds), memo)
        return memo


# (queues, AHT today, AHT level, seconds in state past which the agent is flagged, the flag)
_Judged = tuple[tuple[str, ...], float | None, str, float | None, str | None]
_JUDGINGS = _AgentJudgings()


def _agent_rows(
    source: BoardRows,
    settings: Settings,
    now: float,
    thresholds: Callable[[str | None], QueueThresholdValues],
) -> tuple[AgentRow, ...]:
    """The agents judged at `now`: each second for hundreds of agents, so what they share
    (the floor's AHT band, a queue's long-call limit, a pause reason's limit) is looked up
    once per judging, as `agent_flag` and `agent_aht_level` would find it, and what an agent's
    unchanged row gave last time is taken again (_AgentJudgings)."""
    memberships = source.memberships
    kept_thresholds, kept_memberships, kept = _JUDGINGS.kept
    if kept_thresholds is not thresholds or kept_memberships is not memberships:
        kept = {}
    judged: dict[int, tuple[AgentSnapshot, _Judged]] = {}
    band: tuple[float, float, float, float] | None = None
    long_call: dict[str | None, float] = {}  # queue -> seconds on a call that stand out
    long_pause: dict[str | None, float] = {}  # pause reason -> seconds
    rows = []
    for row in source.agents:
        entry = kept.get(id(row))
        if entry is not None and entry[0] is row:
            judging = entry[1]
        else:
            if band is None:
                floor = thresholds(None)
                band = (
                    floor.aht_low_seconds,
                    floor.aht_high_seconds,
                    floor.aht_red_low_seconds,
                    floor.aht_red_high_seconds,
                )
            state = row["state"]
            handled = row["calls_today"]
            if state == "on_call" and row["current_callid"] and handled:
                handled -= 1  # the call in progress is answered (counted) but has no talk time yet
            aht = row["talk_seconds_today"] / handled if handled > 0 else None
            limit: float | None = None
            flag = None
            if state == "on_call":
                queue = row["current_queue"]
                limit = long_call.get(queue)
                if limit is None:
                    limit = long_call[queue] = thresholds(queue).long_call_minutes * 60
                flag = "long_call"
            elif state == "paused":
                reason = row["pause_reason"]
                limit = long_pause.get(reason)
                if limit is None:
                    limit = long_pause[reason] = settings.thresholds.pause_limit_minutes(reason) * 60
                flag = "long_pause"
            judging = (memberships.get(row["name"], ()), aht, level_band(aht, *band), limit, flag)
        judged[id(row)] = (row, judging)
        queues, aht, aht_level, limit, flag = judging
        seconds = max(0.0, now - row["state_since"])
        rows.append(
            AgentRow(
                name=row["name"],
                state=row["state"],
                pause_reason=row["pause_reason"],
                state_since=row["state_since"],
                seconds_in_state=seconds,
                current_queue=row["current_queue"],
                queues=queues,
                calls_today=row["calls_today"],
                aht_today=aht,
                flag=flag if limit is not None and seconds >= limit else None,
                aht_level=aht_level,
            )
        )
    _JUDGINGS.kept = (thresholds, memberships, judged)
    return tuple(rows)


def format_clock(ts: float, settings: Settings, *, seconds: bool = True) -> str:
    moment = datetime.fromtimestamp(ts, settings.site.tz)
    return moment.strftime("%H:%M:%S" if seconds else "%H:%M")
