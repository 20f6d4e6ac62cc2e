"""Complaint lifecycle: the transitions the intents make (tickets/intents.py), and why one
is refused in a complaint's status.

new -> acknowledged -> in_progress <-> waiting -> resolved -> closed
in_progress -> resolved;  resolved | closed -> reopened -> in_progress
"""

from __future__ import annotations

from tickets.errors import IllegalTransition
from tickets.intents import TABLE, intent
from tickets.statuses import LABELS, OPEN, PAUSED, Status, label, ref_of

__all__ = ["LABELS", "OPEN", "PAUSED", "TRANSITIONS", "Status", "check", "label", "ref_of", "target"]

# intent -> (statuses it starts from, status it leads to): the intents that move a complaint on.
TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    i.name: (i.statuses, i.leads_to) for i in TABLE if i.statuses and i.leads_to is not None
}


def check(name: str, status: str, ref: str) -> None:
    """Nothing when intent `name` may start from `status`; else IllegalTransition saying why."""
    it = intent(name)
    if it.may_start(status):
        return
    current = Status(status)
    if current is it.leads_to:
        raise IllegalTransition(f"cannot {it.words} {ref}: it is already {label(current)}")
    hint = it.hints.get(current)
    if hint is None:
        if current is Status.CLOSED:
            hint = "reopen it first"
        else:
            sources = sorted(it.statuses or (), key=list(Status).index)
            allowed = " or ".join(label(s) for s in sources)
            hint = f"only a complaint that is {allowed} can be {it.verb}"
    raise IllegalTransition(f"cannot {it.words} {ref}: it is {label(current)}; {hint}")


def target(name: str, status: str, ref: str) -> Status:
    """The status transition `name` leads to from `status`, or IllegalTransition saying why not."""
    check(name, status, ref)
    to = intent(name).leads_to
    if to is None:
        raise ValueError(f"{name} does not move a complaint's status")
    return to
