"""Alerts: what needs a supervisor now (a caller waiting too long, callers and nobody free,
an agent on one call too long, service level below target), and their life.

`find_alerts` judges the board at a moment. One process (the one holding the site lease)
keeps each alert's life in the database (wallboard/store/alert_log.py, through `reconcile`
here): raised at, cleared at, acknowledged by whom. Every board reads those records with
its rows and gives each alert it judges the life recorded for it (`with_life`), so every
session shows the same "since 19:41" and the same acknowledgement; a cleared alert stays
on the strip for `[board] cleared_alert_seconds`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from wallboard.calls.levels import ALERT, WARN
from wallboard.config import QueueThresholdValues, Settings
from wallboard.text import format_duration, format_pct

if TYPE_CHECKING:
    from wallboard.calls.board import AgentRow, BoardState, QueueTile


@dataclass(frozen=True, slots=True)
class Alert:
    key: tuple[object, ...]
    kind: str  # sl_below | long_wait | no_agent | long_call
    level: str
    queue: str | None
    agent: str | None
    text: str  # plain text; names inside are raw, draw through `printable`
    began: float | None  # when the condition began (raised); None: not known from the data
    began_before: bool = False  # True: it began at or before `began` (seen when the board opened)
    record_id: int | None = None  # its row in the alert log (None: not recorded yet)
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None
    cleared_at: float | None = None  # set on the cleared alerts a board still shows

    @property
    def key_text(self) -> str:
        return key_text(self.key)

    def since_label(self, clock: Callable[[float], str]) -> str:
        """ "since 19:41" while on; "cleared 19:53" once cleared (`clock`: a time as HH:MM)."""
        if self.cleared_at is not None:
            return f"cleared {clock(self.cleared_at)}"
        if self.began is None:
            return "since ?"
        return f"since {'before ' if self.began_before else ''}{clock(self.began)}"

    def duration_label(self, now: float) -> str:
        """ "for 12 min" (on for so long now), or "lasted 12 min" once cleared; "" when unknown."""
        if self.began is None or (self.began_before and self.cleared_at is None):
            return ""  # on since before the board opened: for how long is not known
        end = self.cleared_at if self.cleared_at is not None else now
        words = format_minutes(max(0.0, end - self.began))
        return f"lasted {words}" if self.cleared_at is not None else f"for {words}"


def key_text(key: tuple[object, ...]) -> str:
    """An alert's key as stored: "sl_below|billing", "long_call|Ann Lee"."""
    return "|".join("" if part is None else str(part) for part in key)


def format_minutes(seconds: float) -> str:
    """A span in words a reader takes in at a glance: "<1 min", "12 min", "1 h 05 min".

    Whole minutes only: an alert's age on the strip then changes once a minute, not each
    second (a busy floor's alerts come and go; redrawing the strip each second costs the
    board a frame's worth of drawing)."""
    if seconds < 60:
        return "<1 min"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


ALERT_ORDER = {"long_wait": 0, "no_agent": 1, "long_call": 2, "sl_below": 3}


def find_alerts(
    tiles: Sequence[QueueTile],
    agents: Sequence[AgentRow],
    settings: Settings,
    thresholds: Callable[[str | None], QueueThresholdValues] | None = None,
) -> list[Alert]:
    """`thresholds`: a queue's thresholds (default: `settings.thresholds.for_queue`; the board
    passes a memo of it: each lookup builds a model, and a busy floor has dozens of alerts).
    Ages in the texts are in whole minutes (`format_minutes`): the tile and the agent table
    show the ticking seconds; the strip changes once a minute."""
    for_queue = thresholds or settings.thresholds.for_queue
    found: list[Alert] = []
    for tile in tiles:
        limits = for_queue(tile.queue)
        waited = tile.longest_wait
        if waited is not None and tile.oldest_waiting_since is not None and waited >= limits.longest_wait_red_seconds:
            found.append(
                Alert(
                    key=("long_wait", tile.queue),
                    kind="long_wait",
                    level=ALERT,
                    queue=tile.queue,
                    agent=None,
                    text=f"{tile.queue}: a caller has waited {format_minutes(waited)} "
                    f"(limit {format_duration(limits.longest_wait_red_seconds)})",
                    began=tile.oldest_waiting_since + limits.longest_wait_red_seconds,
                )
            )
        if tile.waiting and not tile.agents_available:
            found.append(
                Alert(
                    key=("no_agent", tile.queue),
                    kind="no_agent",
                    level=ALERT,
                    queue=tile.queue,
                    agent=None,
                    text=f"{tile.queue}: {tile.waiting} waiting and no agent free",
                    began=None,
                )
            )
        level = tile.levels["service_level"]
        if level in (WARN, ALERT):
            found.append(
                Alert(
                    key=("sl_below", tile.queue),
                    kind="sl_below",
                    level=level,
                    queue=tile.queue,
                    agent=None,
                    text=f"{tile.queue}: service level {format_pct(tile.service_level_pct)} "
                    f"below target {format_pct(limits.service_level_target_pct)}",
                    began=None,
                )
            )
    for agent in agents:
        if agent.flag == "long_call":
            limit = for_queue(agent.current_queue).long_call_minutes * 60
            where = f" ({agent.current_queue})" if agent.current_queue else ""
            found.append(
                Alert(
                    key=("long_call", agent.name),
                    kind="long_call",
                    level=ALERT,
                    queue=agent.current_queue,
                    agent=agent.name,
                    text=f"{agent.name}: on one call for {format_minutes(agent.seconds_in_state)}{where}",
                    began=agent.state_since + limit,
                )
            )
    found.sort(key=lambda a: (ALERT_ORDER[a.kind], a.began if a.began is not None else math.inf, a.key))
    return found


class AlertBook:
    """When alerts the data cannot date began: the first time this board saw them.

    An alert seen on the board's first look was already on when the board opened: it
    is marked `began_before` (shown as "<= 10:02"). An alert that clears and comes back
    starts again.
    """

    def __init__(self) -> None:
        self.first_seen: dict[tuple, float] = {}
        self.opened_at: float | None = None

    def stamp(self, state: BoardState) -> BoardState:
        now = state.now
        if self.opened_at is None:
            self.opened_at = now
        seen = {}
        alerts = []
        for alert in state.alerts:
            if alert.began is None:
                began = self.first_seen.get(alert.key, now)
                seen[alert.key] = began
                alert = replace(alert, began=began, began_before=began <= self.opened_at)
            alerts.append(alert)
        self.first_seen = seen
        return replace(state, alerts=tuple(alerts))


# -- the alerts' life ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert's life as the alert log keeps it (wallboard/store/alert_log.py)."""

    id: int
    key: str  # `key_text` of the alert's key
    kind: str
    level: str
    queue: str | None
    agent: str | None
    text: str  # as judged when raised (or when its level last changed)
    raised_at: float
    cleared_at: float | None = None
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


@dataclass(frozen=True, slots=True)
class AlertChanges:
    """What the alert log's writer does to bring the log in line with the alerts judged now."""

    raised: tuple[Alert, ...] = ()  # new conditions: a row each, raised at `raised_at(alert, now)`
    cleared: tuple[int, ...] = ()  # ids of open rows whose condition is gone
    relevelled: tuple[tuple[int, str, str], ...] = ()  # (id, level, text) of open rows whose level changed

    def __bool__(self) -> bool:
        return bool(self.raised or self.cleared or self.relevelled)


def raised_at(alert: Alert, now: float) -> float:
    """When a newly seen alert was raised: when its condition began, where the data says
    (a caller's wait crossed the limit), else now."""
    return alert.began if alert.began is not None and alert.began <= now else now


def reconcile(open_records: Sequence[AlertRecord], alerts: Sequence[Alert]) -> AlertChanges:
    """The changes that make the open records match the alerts judged now: a record for each
    new condition, the records of conditions gone cleared, a level that changed updated."""
    by_key = {record.key: record for record in open_records}
    current = {alert.key_text: alert for alert in alerts}
    raised = tuple(alert for key, alert in current.items() if key not in by_key)
    cleared = tuple(sorted(record.id for key, record in by_key.items() if key not in current))
    relevelled = tuple(
        (record.id, alert.level, alert.text)
        for key, alert in current.items()
        if (record := by_key.get(key)) is not None and record.level != alert.level
    )
    return AlertChanges(raised, cleared, relevelled)


def with_life(
    alerts: Sequence[Alert], records: Sequence[AlertRecord], now: float, linger_seconds: float
) -> tuple[tuple[Alert, ...], tuple[Alert, ...]]:
    """The alerts judged now with the life the log records for them, and the alerts the log
    says cleared in the last `linger_seconds` that are not on again (newest first).

    An alert not in the log yet (its writer has not seen it, or no process writes the log)
    keeps what the data says of when it began (`AlertBook` dates the others).
    """
    open_by_key = {r.key: r for r in records if r.is_open}
    live = []
    for alert in alerts:
        record = open_by_key.get(alert.key_text)
        if record is not None:
            alert = replace(
                alert,
                began=record.raised_at,
                began_before=False,
                record_id=record.id,
                acknowledged_by=record.acknowledged_by,
                acknowledged_at=record.acknowledged_at,
            )
        live.append(alert)
    on = {alert.key_text for alert in live}
    latest: dict[str, AlertRecord] = {}
    for record in records:
        if record.cleared_at is None or record.key in on or record.cleared_at < now - linger_seconds:
            continue
        if record.key not in latest or record.cleared_at > (latest[record.key].cleared_at or 0.0):
            latest[record.key] = record
    cleared = sorted(latest.values(), key=lambda r: (-(r.cleared_at or 0.0), r.key))
    return tuple(live), tuple(_cleared_alert(record) for record in cleared)


def _cleared_alert(record: AlertRecord) -> Alert:
    parts = record.key.split("|")
    return Alert(
        key=(parts[0], *parts[1:]),
        kind=record.kind,
        level=record.level,
        queue=record.queue,
        agent=record.agent,
        text=record.text,
        began=record.raised_at,
        record_id=record.id,
        acknowledged_by=record.acknowledged_by,
        acknowledged_at=record.acknowledged_at,
        cleared_at=record.cleared_at,
    )
