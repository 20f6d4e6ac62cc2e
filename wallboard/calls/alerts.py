"""Alerts: what needs a supervisor now (a caller waiting too long, callers and nobody free,
an agent on one call too long, service level below target), and when each began."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from wallboard.calls.levels import ALERT, WARN
from wallboard.config import Settings
from wallboard.text import format_duration, format_pct

if TYPE_CHECKING:
    from wallboard.calls.board import AgentRow, BoardState, QueueTile


@dataclass(frozen=True, slots=True)
class Alert:
    key: tuple
    kind: str  # sl_below | long_wait | no_agent | long_call
    level: str
    queue: str | None
    agent: str | None
    text: str  # plain text; names inside are raw, draw through `printable`
    began: float | None  # when the condition began; None: not known from the data
    began_before: bool = False  # True: it began at or before `began` (seen when the board opened)


ALERT_ORDER = {"long_wait": 0, "no_agent": 1, "long_call": 2, "sl_below": 3}


def find_alerts(tiles: Sequence[QueueTile], agents: Sequence[AgentRow], settings: Settings) -> list[Alert]:
    th = settings.thresholds
    found: list[Alert] = []
    for tile in tiles:
        limits = th.for_queue(tile.queue)
        waited = tile.longest_wait
        if waited is not None and tile.oldest_waiting_since is not None and waited >= limits.longest_wait_red_seconds:
            found.append(
                Alert(
                    key=("long_wait", tile.queue),
                    kind="long_wait",
                    level=ALERT,
                    queue=tile.queue,
                    agent=None,
                    text=f"{tile.queue}: a caller has waited {format_duration(tile.longest_wait)} "
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
            limit = th.for_queue(agent.current_queue).long_call_minutes * 60
            where = f" ({agent.current_queue})" if agent.current_queue else ""
            found.append(
                Alert(
                    key=("long_call", agent.name),
                    kind="long_call",
                    level=ALERT,
                    queue=agent.current_queue,
                    agent=agent.name,
                    text=f"{agent.name}: on one call for {format_duration(agent.seconds_in_state)}{where}",
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
