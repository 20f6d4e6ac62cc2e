"""What the tracker hands out about callers: their flag (abusive or malicious) with its
history, the markers a waiting caller carries on the board, and the agent's view of the
caller they are on.

Pure data (no database, no Textual): an SSH session's process unpickles these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from tickets.records import CallbackInfo, CallInfo, ComplaintInfo

# A caller flag's status: raised by an agent and awaiting a supervisor, confirmed by one,
# or cleared by one. A flag set on a complaint (its malicious flag) counts as confirmed.
FLAGGED, CONFIRMED, CLEARED = "flagged", "confirmed", "cleared"
ACTIVE = (FLAGGED, CONFIRMED)
STATUS_WORDS = {FLAGGED: "flagged, not confirmed yet", CONFIRMED: "confirmed", CLEARED: "cleared"}

# Where a flag comes from: the caller's own flag, or a complaint's malicious flag (its ref).
CALLER_FLAG = "caller"


# Caller IDs that name nobody: never flagged, never marked.
ANONYMOUS = frozenset({"", "anonymous", "unknown", "withheld", "private", "restricted", "unavailable"})
MAX_CALLER_CHARS = 80  # the column's width


def usable_caller(caller: str | None) -> bool:
    """Whether `caller` can name a caller (not missing, withheld or too long to be stored)."""
    return (
        bool(caller)
        and caller is not None
        and caller.strip().casefold() not in ANONYMOUS
        and len(caller) <= MAX_CALLER_CHARS
    )


def _iso(at: float | None, tz: tzinfo) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, tz).isoformat(timespec="seconds")


@dataclass(frozen=True)
class FlagEventInfo:
    """One step of a flag's history."""

    at: float
    actor: str | None
    action: str  # flag | confirm | clear (a complaint's: flag_malicious | clear_malicious)
    status: str  # the flag's status after it
    note: str | None

    def as_dict(self, tz: tzinfo) -> dict[str, object]:
        return {
            "at": _iso(self.at, tz),
            "actor": self.actor,
            "action": self.action,
            "status": self.status,
            "note": self.note,
        }


@dataclass(frozen=True)
class CallerFlagInfo:
    """A caller's flag as it stands; `source` is CALLER_FLAG or the flagged complaint's ref."""

    caller: str
    status: str
    reason: str | None
    flagged_by: str | None
    flagged_at: float
    decided_by: str | None = None
    decided_at: float | None = None
    decision_note: str | None = None
    source: str = CALLER_FLAG
    history: tuple[FlagEventInfo, ...] = ()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)

    def as_dict(self, tz: tzinfo) -> dict[str, object]:
        return {
            "caller": self.caller,
            "status": self.status,
            "reason": self.reason,
            "flagged_by": self.flagged_by,
            "flagged_at": _iso(self.flagged_at, tz),
            "decided_by": self.decided_by,
            "decided_at": _iso(self.decided_at, tz),
            "decision_note": self.decision_note,
            "source": self.source,
            "history": [e.as_dict(tz) for e in self.history],
        }


@dataclass(frozen=True)
class UrgentComplaint:
    """A caller's most urgent open complaint, as a waiting-list marker names it."""

    ref: str
    severity: str
    status: str
    due_at: float | None  # None: its clock stands still (waiting on the customer)

    def due_state(self, now: float) -> str:
        """ "overdue", "due" (within the hour), "open" (later, or no due time)."""
        if self.due_at is None:
            return "open"
        if self.due_at < now:
            return "overdue"
        return "due" if self.due_at - now <= 3600 else "open"


@dataclass(frozen=True)
class CallerMarks:
    """What the floor should know about a caller at a glance."""

    caller: str
    calls_in_window: int = 0  # their calls within the repeat window, this one included
    open_complaints: int = 0
    most_urgent: UrgentComplaint | None = None
    open_callbacks: int = 0  # call-back requests still open (see tickets.callers.open_callbacks_of)
    flag: CallerFlagInfo | None = None  # the active flag, if any (without its history)

    def repeat(self, threshold: int) -> bool:
        return self.calls_in_window >= threshold


@dataclass(frozen=True)
class RecentCall:
    """One of a caller's recent calls (an entry into a queue)."""

    callid: str
    queue: str
    enter_at: float
    outcome: str
    agent: str | None
    wait_seconds: float | None
    talk_seconds: float | None


@dataclass(frozen=True)
class CallerView:
    """The caller an agent is connected to: their recent calls, open complaints, open
    call-backs and flags, most important first."""

    call: CallInfo
    recent_calls: tuple[RecentCall, ...]
    open_complaints: tuple[ComplaintInfo, ...]
    callbacks: tuple[CallbackInfo, ...]
    flags: tuple[CallerFlagInfo, ...]
    calls_in_window: int

    @property
    def flagged(self) -> bool:
        return any(f.active for f in self.flags)
