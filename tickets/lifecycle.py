"""Complaint lifecycle: statuses, the transitions each intent makes, and why one is refused.

new -> acknowledged -> in_progress <-> waiting -> resolved -> closed
in_progress -> resolved;  resolved | closed -> reopened -> in_progress
"""

from __future__ import annotations

from enum import StrEnum

from tickets.errors import IllegalTransition


def ref_of(complaint_id: int) -> str:
    """A complaint's reference as people quote it: C-000123."""
    return f"C-{complaint_id:06d}"


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

# intent -> (statuses it starts from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "acknowledge": (frozenset({Status.NEW}), Status.ACKNOWLEDGED),
    "start": (frozenset({Status.ACKNOWLEDGED, Status.REOPENED}), Status.IN_PROGRESS),
    "wait": (frozenset({Status.IN_PROGRESS}), Status.WAITING),
    "resume": (frozenset({Status.WAITING}), Status.IN_PROGRESS),
    "resolve": (frozenset({Status.IN_PROGRESS, Status.WAITING}), Status.RESOLVED),
    "close": (frozenset({Status.RESOLVED}), Status.CLOSED),
    "reopen": (frozenset({Status.RESOLVED, Status.CLOSED}), Status.REOPENED),
}

_HINTS = {
    ("start", Status.NEW): "acknowledge it first",
    ("wait", Status.NEW): "acknowledge it and start work on it first",
    ("wait", Status.ACKNOWLEDGED): "start work on it first",
    ("wait", Status.REOPENED): "start work on it first",
    ("resolve", Status.NEW): "acknowledge it and start work on it first",
    ("resolve", Status.ACKNOWLEDGED): "start work on it first",
    ("resolve", Status.REOPENED): "start work on it first",
    ("close", Status.NEW): "resolve it first: closing needs a resolution and a root cause",
    ("close", Status.ACKNOWLEDGED): "resolve it first: closing needs a resolution and a root cause",
    ("close", Status.IN_PROGRESS): "resolve it first: closing needs a resolution and a root cause",
    ("close", Status.WAITING): "resolve it first: closing needs a resolution and a root cause",
    ("close", Status.REOPENED): "resolve it first: closing needs a resolution and a root cause",
    ("resume", Status.IN_PROGRESS): "it is not waiting on the customer",
}
_VERBS = {
    "acknowledge": "acknowledged",
    "start": "started",
    "wait": "put on waiting",
    "resume": "resumed",
    "resolve": "resolved",
    "close": "closed",
    "reopen": "reopened",
}


def label(status: str) -> str:
    return LABELS.get(Status(status), status)


def target(intent: str, status: str, ref: str) -> Status:
    """The status `intent` leads to from `status`, or IllegalTransition saying why not."""
    sources, to = TRANSITIONS[intent]
    current = Status(status)
    if current in sources:
        return to
    if current is to:
        raise IllegalTransition(f"cannot {intent} {ref}: it is already {label(current)}")
    allowed = " or ".join(label(s) for s in sorted(sources, key=list(Status).index))
    hint = _HINTS.get((intent, current))
    if hint is None:
        if current is Status.CLOSED:
            hint = "reopen it first"
        else:
            hint = f"only a complaint that is {allowed} can be {_VERBS[intent]}"
    raise IllegalTransition(f"cannot {intent} {ref}: it is {label(current)}; {hint}")


def allowed_intents(status: str) -> list[str]:
    return [intent for intent, (sources, _) in TRANSITIONS.items() if Status(status) in sources]
