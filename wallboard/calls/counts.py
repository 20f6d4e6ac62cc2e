"""Counts over a window and the figures derived from them: the metric definitions of
docs/ARCHITECTURE.md (Metrics) in one place, shared by the reports and the board; no database here.

offered = entries into the queue (a caller entering twice is two); blocked = callers the queue
refused (full, join-empty, join-unavailable, closed), apart from offered unless
`[metrics] blocked_in_offered`; answered = connected to an agent; short abandon =
abandoned within short_abandon_seconds; service level by the configured formula; ASA = mean
wait of answered calls; AHT = mean talk (+ wrap-up where the feed reports it) of answered
calls that ended; abandon rate = (abandoned - short) / (offered - short).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from wallboard.config import Settings


class QueueFigures(TypedDict):
    """A queue's row of the report (and of the live snapshot): the report contract's keys."""

    queue: str
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    exited: int
    answered_within_sl: int
    service_level_pct: float | None
    abandon_rate_pct: float | None
    asa_seconds: float | None
    aht_seconds: float | None
    max_wait_seconds: float | None
    blocked: int  # refused by the queue (full, join-empty, ...): apart from offered


class SnapshotRow(QueueFigures):
    """A queue's row of the live snapshot table: today's figures, then the queue now."""

    waiting: int
    oldest_waiting_since: float | None
    agents_logged_in: int
    agents_available: int
    agents_on_call: int
    agents_wrap_up: int
    agents_paused: int
    updated_at: float


@dataclass
class QueueCounts:
    """Sums over a window for one queue (or the total); figures derive from these."""

    queue: str
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    exited: int = 0
    answered_within_sl: int = 0
    abandoned_within_sl: int = 0
    wait_sum: float = 0.0
    handle_sum: float = 0.0
    handled: int = 0
    max_wait: float | None = None
    blocked: int = 0  # refused by the queue (full, join-empty, ...): not offered, unless configured

    def add(self, other: QueueCounts) -> None:
        for name in (
            "offered answered abandoned short_abandoned exited answered_within_sl abandoned_within_sl "
            "wait_sum handle_sum handled blocked"
        ).split():
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.max_wait is not None:
            self.max_wait = other.max_wait if self.max_wait is None else max(self.max_wait, other.max_wait)

    def figures(self, formula: str) -> QueueFigures:
        """The report's row for this queue: exactly the keys of the report contract."""
        eligible = self.offered - self.short_abandoned
        if formula == "answered":
            met, base = self.answered_within_sl, self.answered
        elif formula == "abandons-met":
            met = self.answered_within_sl + max(0, self.abandoned_within_sl - self.short_abandoned)
            base = eligible
        else:
            met, base = self.answered_within_sl, eligible
        return {
            "queue": self.queue,
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "exited": self.exited,
            "answered_within_sl": self.answered_within_sl,
            "service_level_pct": pct_of(met, base),
            "abandon_rate_pct": pct_of(self.abandoned - self.short_abandoned, eligible),
            "asa_seconds": mean_of(self.wait_sum, self.answered),
            "aht_seconds": mean_of(self.handle_sum, self.handled),
            "max_wait_seconds": None if self.max_wait is None else round(self.max_wait, 2),
            "blocked": self.blocked,
        }


def pct_of(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole > 0 else None


def mean_of(total: float, count: int) -> float | None:
    return round(total / count, 2) if count else None


def day_start(settings: Settings, now: float) -> float:
    local = datetime.fromtimestamp(now, settings.site.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
