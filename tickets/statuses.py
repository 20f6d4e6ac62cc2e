"""A complaint's statuses and how people read them (the lifecycle's vocabulary).

new -> acknowledged -> in_progress <-> waiting -> resolved -> closed
in_progress -> resolved;  resolved | closed -> reopened -> in_progress
"""

from __future__ import annotations

from enum import StrEnum


def ref_of(complaint_id: int | None) -> str:
    """A complaint's reference as people quote it: C-000123."""
    return f"C-{complaint_id or 0:06d}"


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


LABELS = {
    Status.NEW: "new",
    Status.ACKNOWLEDGED: "acknowledged",
    Status.IN_PROGRESS: "in progress",
    Status.WAITING: "waiting on customer",
    Status.RESOLVED: "resolved",
    Status.CLOSED: "closed",
    Status.REOPENED: "reopened",
}

# Resolved and closed complaints leave the work views (db.complaints.OPEN_SQL says the same).
OPEN = frozenset(Status) - {Status.RESOLVED, Status.CLOSED}
# The SLA clock stands still in these.
PAUSED = frozenset({Status.WAITING, Status.RESOLVED, Status.CLOSED})


def label(status: str) -> str:
    return LABELS.get(Status(status), status)
