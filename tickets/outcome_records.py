"""The outcome report's values (tickets/outcomes.py computes them): plain data, no database,
so the outcomes screen (tickets/ui/outcomes_screen.py) can hold them. docs/OUTCOMES.md
defines every figure."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tickets.records import iso

GROUPINGS = ("queue", "agent", "owner", "category", "severity", "root_cause", "channel", "week")
# Reopened within this many days of the resolution (or closing) before it counts as reopened.
REOPEN_DAYS = 30
# A complaint without a value for the grouping (no queue, no owner, ...) goes in this group.
NONE_GROUP = "(none)"
TOTAL = "total"
# The windows of the outcomes screen: today, this (ISO) week, the 30 days before today, each
# up to now (the last is the report's default window).
PERIODS = {"today": "Today", "week": "This week", "30days": "Last 30 days"}
# The complaints behind a figure of a group (the outcomes screen's drill-down): every one
# received, those acknowledged late (or not by their due time), resolved late (or still
# open past their SLA time), reopened, escalated, or with a promise kept late or missed.
DRILLS = ("received", "ack_late", "resolve_late", "reopened", "escalated", "promise_broken")


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


@dataclass(frozen=True)
class OutcomeFigures:
    """One group's figures (or the total's); see docs/OUTCOMES.md for each definition."""

    group: str
    received: int
    # Acknowledgement: judged = acknowledged, or still not acknowledged past its due time.
    ack_judged: int
    ack_on_time: int
    ack_on_time_pct: float | None
    ack_median_seconds: float | None
    ack_p90_seconds: float | None
    # Resolution: judged = resolved, or still open with its SLA time used up.
    resolve_judged: int
    resolved_on_time: int
    resolved_on_time_pct: float | None
    resolve_median_seconds: float | None
    resolve_p90_seconds: float | None
    # Promises to the customer (follow-ups of kind callback or action) due in the window.
    follow_ups_due: int
    follow_ups_kept_on_time: int
    follow_ups_kept_on_time_pct: float | None
    follow_ups_kept_late: int
    follow_ups_missed: int
    follow_ups_moved: int
    # Call-backs owed to callers who hung up waiting (tickets/callbacks.py), due in the
    # window: kept by an attempt at calling, on time or late, or missed; `settled` ended
    # before their due time without a call (got through, closed, made a complaint).
    callbacks_due: int
    callbacks_kept_on_time: int
    callbacks_kept_on_time_pct: float | None
    callbacks_kept_late: int
    callbacks_missed: int
    callbacks_settled: int
    # Resolved or closed at least once; of those, reopened within REOPEN_DAYS.
    resolved_ever: int
    reopened: int
    reopened_pct: float | None
    # Complaints by the highest escalation level they reached.
    escalated_supervisor: int
    escalated_manager: int
    # Joined through the call each complaint was logged from; None where the grouping is
    # not by queue or agent (a category answers no calls).
    linked_to_call: int
    unlinked: int
    answered_calls: int | None
    per_1000_answered: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CategoryShare:
    category: str
    count: int
    share_pct: float


@dataclass(frozen=True)
class RootCauseShare:
    """One bar of the Pareto: a root cause's complaints, their share of all complaints with
    a root cause, the running share down to this one, and its categories."""

    root_cause: str
    count: int
    share_pct: float
    cumulative_pct: float
    categories: tuple[CategoryShare, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OutcomeReport:
    start: float
    end: float
    now: float
    by: str
    groups: tuple[OutcomeFigures, ...]
    total: OutcomeFigures
    pareto: tuple[RootCauseShare, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": iso(self.start),
            "to": iso(self.end),
            "as_of": iso(self.now),
            "by": self.by,
            "groups": [g.as_dict() for g in self.groups],
            "total": self.total.as_dict(),
            "root_cause_pareto": [p.as_dict() for p in self.pareto],
        }
