"""What the complaint tracker hands out and takes in: plain values, no database.

The service, the queries and the CLI build these; the TUI (tickets/ui/) shows them, also in
an SSH session's process, which gets them over its session link and must not need the
database layer to read them.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from tickets import statuses
from tickets.errors import InvalidInput
from tickets.statuses import OPEN

SEVERITIES = ("low", "normal", "high", "critical")
ROOT_CAUSES = {
    "agent": "agent manner",
    "business": "business rule",
    "process": "process",
    "system": "system",
}
CHANNELS = ("phone", "email", "chat", "letter", "in_person", "social", "other")
PROMISE_KINDS = ("callback", "action")  # promises to the customer: they set the complaint's urgency
CORRECTIVE_KINDS = ("coaching", "training", "process_fix", "kb_update", "system_change")
FOLLOW_UP_KINDS = PROMISE_KINDS + CORRECTIVE_KINDS
OUTCOMES = ("done", "no_answer", "rescheduled")  # what a person records
# The outcome closing a complaint gives its promises still open (never recorded by hand):
# the promise was not kept, so every report counts it missed (docs/OUTCOMES.md).
LAPSED = "lapsed"
ESCALATION_LEVELS = {0: "owner", 1: "supervisor", 2: "manager"}
PAGE = 50
_REF = re.compile(r"(?:C-?)?0*(\d{1,12})", re.IGNORECASE)


class View(StrEnum):
    MINE = "mine"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    UNASSIGNED = "unassigned"
    WAITING = "waiting"
    ESCALATED = "escalated"
    ALL_OPEN = "all_open"


VIEW_LABELS = {
    View.MINE: "mine open",
    View.DUE_TODAY: "due today",
    View.OVERDUE: "overdue",
    View.UNASSIGNED: "unassigned",
    View.WAITING: "waiting on customer",
    View.ESCALATED: "escalated",
    View.ALL_OPEN: "all open",
}


# The largest row id either database stores (a 64-bit integer): a bigger one typed or sent
# over a link is no reference, not an overflow inside the driver.
MAX_ID = 2**63 - 1
# How far ahead a due time may be: a promise to call back in six years is a typo.
DUE_HORIZON_YEARS = 5
DUE_HORIZON_SECONDS = DUE_HORIZON_YEARS * 365.25 * 86400


def parse_ref(ref: str | int) -> int:
    if isinstance(ref, int) and not isinstance(ref, bool):
        if not 1 <= ref <= MAX_ID:
            raise InvalidInput(f"{ref} is not a complaint reference (like C-000123)")
        return ref
    if not isinstance(ref, str):
        raise InvalidInput("a complaint reference is text like C-000123")
    match = _REF.fullmatch(ref.strip()) if len(ref) <= 40 else None
    if not match or not 1 <= int(match.group(1)) <= MAX_ID:
        raise InvalidInput(f"{ref[:40]!r} is not a complaint reference (like C-000123)")
    return int(match.group(1))


def checked_id(value: object, what: str) -> int:
    """A row id given by a person or a session (a follow-up's number): a whole number a
    database can hold, else InvalidInput naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise InvalidInput(f"{what} must be a whole number from 1 to {MAX_ID}")
    return value


def checked_due(value: object, now: float, what: str = "due time") -> float:
    """A due time (epoch seconds) from a person or a session: a finite number at most
    DUE_HORIZON_YEARS ahead of `now`, else InvalidInput naming `what`. (Whether it is in the
    past is the intent's to say: it words it with the time.)"""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{what} must be a time (seconds since 1970)")
    try:
        due = float(value)
    except OverflowError:  # an int too big for a float
        due = math.inf
    if math.isnan(due):
        raise InvalidInput(f"{what} is not a time")
    if due > now + DUE_HORIZON_SECONDS:  # infinity too
        raise InvalidInput(f"{what} is more than {DUE_HORIZON_YEARS} years ahead: give a nearer one")
    if due < now - DUE_HORIZON_SECONDS:
        raise InvalidInput(f"{what} is more than {DUE_HORIZON_YEARS} years in the past")
    return due


def stored_id(row_id: int | None) -> int:
    """A stored row's id (None only before the row's first flush: a programming error)."""
    if row_id is None:
        raise ValueError("the row is not stored yet")
    return row_id


def choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    """`value` as one of `allowed` (case, "-" and spaces as "_" forgiven), or InvalidInput
    naming `what` and listing the choices as people type them."""
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{what}: one of {', '.join(a.replace('_', '-') for a in allowed)}")
    normal = (value or "").strip().lower().replace("-", "_").replace(" ", "_")
    if normal not in allowed:
        shown = value if len(value or "") <= 40 else value[:40] + "…"
        raise InvalidInput(f"{what} {shown!r}: one of {', '.join(a.replace('_', '-') for a in allowed)}")
    return normal


def typed(values: tuple[str, ...] | list[str]) -> list[str]:
    """Choices as people type them on the command line: in-person, no-answer, kb-update."""
    return [value.replace("_", "-") for value in values]


def iso(at: float | None) -> str | None:
    """Epoch seconds as ISO 8601 in UTC, to the second (JSON output)."""
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


# -- complaints -------------------------------------------------------------


@dataclass(frozen=True)
class EventInfo:
    id: int
    changeset: str
    at: float
    actor: str | None  # None: the system
    kind: str
    field: str | None
    old: str | None
    new: str | None
    note: str | None
    follow_up_id: int | None

    def as_dict(self) -> dict:
        return {**asdict(self), "at": iso(self.at)}


@dataclass(frozen=True)
class FollowUpInfo:
    id: int
    kind: str
    owner: str
    due_at: float
    note: str
    created_by: str
    created_at: float
    outcome: str | None
    outcome_note: str | None
    outcome_at: float | None
    outcome_by: str | None

    def as_dict(self) -> dict:
        data = asdict(self)
        for key in ("due_at", "created_at", "outcome_at"):
            data[key] = iso(data[key])
        return data


@dataclass(frozen=True)
class ComplaintInfo:
    id: int
    ref: str
    status: str
    owner: str | None
    version: int
    severity: str
    subject: str
    description: str
    customer: str
    contact: str
    channel: str
    category: str | None
    callid: str | None
    call_queue: str | None
    call_agent: str | None
    caller_number: str | None
    created_by: str
    created_at: float
    updated_by: str | None
    updated_at: float
    status_changed_at: float
    acknowledged_at: float | None
    resolved_at: float | None
    closed_at: float | None
    ack_due_at: float
    resolve_due_at: float
    sla_paused: bool
    sla_due_at: float | None
    next_follow_up_at: float | None
    due_at: float | None
    root_cause: str | None
    resolution: str | None
    customer_confirmed: bool | None
    malicious: bool
    malicious_reason: str | None
    escalation_level: int
    events: tuple[EventInfo, ...] = field(default=())
    follow_ups: tuple[FollowUpInfo, ...] = field(default=())

    @property
    def status_label(self) -> str:
        return statuses.label(self.status)

    def is_overdue(self, now: float) -> bool:
        return self.status in OPEN and self.due_at is not None and self.due_at < now

    def as_dict(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if k not in ("events", "follow_ups")}
        for key in (
            "created_at",
            "updated_at",
            "status_changed_at",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "ack_due_at",
            "resolve_due_at",
            "sla_due_at",
            "next_follow_up_at",
            "due_at",
        ):
            data[key] = iso(data[key])
        data["events"] = [e.as_dict() for e in self.events]
        data["follow_ups"] = [f.as_dict() for f in self.follow_ups]
        return data


# -- calls, owners, the inbox -----------------------------------------------------------


@dataclass(frozen=True)
class CallInfo:
    """The call a new complaint is most likely about."""

    callid: str
    queue: str
    caller: str | None
    agent: str  # the name in the call data
    current: bool  # the agent is on it now
    enter_at: float
    answer_at: float | None
    end_at: float | None


@dataclass(frozen=True)
class OwnerLoad:
    """One owner's open complaints (owner None: unassigned)."""

    owner: str | None
    open: int
    overdue: int
    due_today: int
    escalated: int
    waiting: int


@dataclass(frozen=True)
class InboxState:
    """What a session's inbox poll learns in one short read."""

    role: str
    active: bool
    unread: int
    newest_id: int  # the newest notification of the user (0: none yet)
    new: tuple[NotificationInfo, ...]  # NotificationInfo newer than `after_id`, newest first (empty on the first poll)


@dataclass(frozen=True)
class PromiseDue:
    """One open promise (a call-back or action promised to a customer) a user owns."""

    complaint_ref: str
    kind: str
    due_at: float


@dataclass(frozen=True)
class OwnDesk:
    """What an agent's own view shows beside their call figures: which agent of the call
    data they are, and the promises they own that fall due by the end of today."""

    agent: str | None  # their name in the call data (None: the call data knows no such agent)
    overdue: int
    due_today: int  # due from now to the end of today
    soonest: tuple[PromiseDue, ...]  # the overdue first, then the next due, a few


# -- notifications and users ------------------------------------------------------------

UPCOMING, DUE, OVERDUE = "follow_up_upcoming", "follow_up_due", "follow_up_overdue"
AT_RISK, BREACHED = "sla_at_risk", "sla_breached"
ASSIGNED = "assigned_to_you"
CALLBACK_DUE, CALLBACK_OVERDUE = "callback_due", "callback_overdue"
COACHING_DUE = "coaching_due"  # a quality coaching action (tickets/quality)
KINDS = (UPCOMING, DUE, OVERDUE, AT_RISK, BREACHED, ASSIGNED, CALLBACK_DUE, CALLBACK_OVERDUE, COACHING_DUE)


@dataclass
class NotificationInfo:
    id: int
    kind: str
    complaint_ref: str | None
    text: str
    created_at: float
    read: bool

    def as_dict(self, tz: tzinfo) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "complaint_ref": self.complaint_ref,
            "text": self.text,
            "created_at": datetime.fromtimestamp(self.created_at, tz).isoformat(timespec="seconds"),
            "read": self.read,
        }


@dataclass(frozen=True)
class KeyInfo:
    fingerprint: str
    key_type: str
    comment: str | None
    added_at: float


@dataclass(frozen=True)
class UserInfo:
    name: str
    role: str
    active: bool
    created_at: float
    keys: tuple[KeyInfo, ...]

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "role": self.role,
            "active": self.active,
            "created_at": datetime.fromtimestamp(self.created_at, UTC).isoformat(timespec="seconds"),
            "keys": [{"fingerprint": k.fingerprint, "type": k.key_type, "comment": k.comment} for k in self.keys],
        }


# -- call-backs -----------------------------------------------------------------------

# How a request stands: open until it ends one of the other ways.
CALLBACK_OPEN = "open"
CALLBACK_STATUSES = {
    "open": "open",
    "reached": "reached",
    "gave_up": "given up",
    "got_through": "got through",
    "closed": "closed",
    "complaint": "made a complaint",
}
ATTEMPT_OUTCOMES = ("reached", "no_answer", "voicemail", "wrong_number")
_CALLBACK_REF = re.compile(r"(?:CB-?)?0*(\d{1,12})", re.IGNORECASE)


def callback_ref_of(callback_id: int | None) -> str:
    """A call-back's reference as people quote it: CB-000042."""
    return f"CB-{callback_id or 0:06d}"


def parse_callback_ref(ref: str | int) -> int:
    if isinstance(ref, int):
        return ref
    match = _CALLBACK_REF.fullmatch(str(ref).strip())
    if not match:
        raise InvalidInput(f"{ref!r} is not a call-back reference (like CB-000042)")
    return int(match.group(1))


@dataclass(frozen=True)
class AttemptInfo:
    id: int
    at: float
    by: str
    outcome: str
    note: str | None

    def as_dict(self) -> dict:
        return {**asdict(self), "at": iso(self.at)}


@dataclass(frozen=True)
class RecentCall:
    """One of a caller's recent calls (the call-back screen shows them)."""

    queue: str
    enter_at: float
    outcome: str
    wait_seconds: float | None
    agent: str | None

    def as_dict(self) -> dict:
        return {**asdict(self), "enter_at": iso(self.enter_at)}


@dataclass(frozen=True)
class CallbackInfo:
    id: int
    ref: str
    caller_number: str  # a checked phone number: digits, an optional leading +
    queue: str
    callid: str | None
    first_hung_up_at: float
    hung_up_at: float
    wait_seconds: float | None
    abandons: int
    requested_at: float
    due_at: float
    status: str
    owner: str | None
    taken_at: float | None
    attempts: int
    max_attempts: int
    first_attempt_at: float | None
    last_attempt_at: float | None
    ended_at: float | None
    end_note: str | None
    complaint_ref: str | None
    escalation_level: int
    version: int
    attempt_list: tuple[AttemptInfo, ...] = field(default=())
    events: tuple[EventInfo, ...] = field(default=())
    recent_calls: tuple[RecentCall, ...] = field(default=())

    @property
    def is_open(self) -> bool:
        return self.status == CALLBACK_OPEN

    @property
    def status_label(self) -> str:
        return CALLBACK_STATUSES.get(self.status, self.status)

    def is_overdue(self, now: float) -> bool:
        return self.is_open and self.due_at < now

    def as_dict(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if k not in ("attempt_list", "events", "recent_calls")}
        for key in (
            "first_hung_up_at",
            "hung_up_at",
            "requested_at",
            "due_at",
            "taken_at",
            "first_attempt_at",
            "last_attempt_at",
            "ended_at",
        ):
            data[key] = iso(data[key])
        data["attempt_list"] = [a.as_dict() for a in self.attempt_list]
        data["events"] = [e.as_dict() for e in self.events]
        data["recent_calls"] = [c.as_dict() for c in self.recent_calls]
        return data
