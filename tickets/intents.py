"""The complaint intents: one table saying, for each thing a person may do to complaints,
where it may start, where it leads, who may do it, how people and scripts name it, and
which `ComplaintService` method carries it out.

Everything else is derived from this table: the lifecycle's transitions and refusals
(tickets/lifecycle.py), the permission checks (tickets/permissions.py), the calls a session
may make (tickets/user_desk.py), the `wallboard ticket` commands (wallboard/cli/tickets.py)
and the detail screen's actions (tickets/ui). Adding an intent is one row here and its
service method; one that takes only a note needs nothing else.

Pure Python (no database, no Textual): an SSH session's screens import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tickets.statuses import Status


class Who(StrEnum):
    """Who may carry out an intent. A supervisor may do everything; a display user and a
    removed user nothing (tickets/permissions.py)."""

    ANYONE = "anyone"  # any agent (creating a complaint)
    OWNER = "owner"  # an agent on a complaint they own
    OWNER_OR_TAKER = "owner_or_taker"  # ... or taking an unassigned one
    FOLLOW_UP_OWNER = "follow_up_owner"  # ... or owning the follow-up in question
    SUPERVISOR = "supervisor"  # supervisors only


class Needs(StrEnum):
    """What else the complaint must be for an intent to be offered (besides its status)."""

    NOTHING = "nothing"
    FLAGGED = "flagged"  # flagged malicious
    NOT_FLAGGED = "not_flagged"
    OPEN_FOLLOW_UP = "open_follow_up"  # a follow-up without an outcome


class Note(StrEnum):
    """How an intent takes a note. Intents with their own fields say NONE and have their
    own form (tickets/ui/forms.py) and command options (wallboard/cli/tickets.py)."""

    OPTIONAL = "optional"
    REQUIRED = "required"
    NONE = "none"


# `statuses`: None means any status; an empty set means the intent makes a new complaint.
ANY = None
NO_COMPLAINT: frozenset[Status] = frozenset()
_NOT_CLOSED = frozenset(Status) - {Status.CLOSED}
_CLOSE_HINT = "resolve it first: closing needs a resolution and a root cause"


@dataclass(frozen=True)
class Intent:
    """One thing a person may do to complaints."""

    name: str  # the audit trail's kind and the permission's key
    statuses: frozenset[Status] | None  # where it may start (ANY, or NO_COMPLAINT)
    leads_to: Status | None  # the status it leads to (None: the status stays)
    label: str  # the screen's action list
    verb: str  # past tense: "only a complaint that is new can be acknowledged"
    who: Who
    command: str  # `wallboard ticket COMMAND`
    method: str  # the ComplaintService method (and the UserDesk call) carrying it out
    summary: str  # the command's help: one line
    doing: str = ""  # "may not {doing}", "cannot {doing} C-000001" (default: the name)
    help: str = ""  # the screen form's line under its title
    hints: dict[Status, str] = field(default_factory=dict)  # why not, from these statuses
    needs: Needs = Needs.NOTHING
    note: Note = Note.NONE

    @property
    def words(self) -> str:
        return self.doing or self.name

    @property
    def on_complaint(self) -> bool:
        """Acts on an existing complaint (a detail screen action), rather than making one."""
        return self.statuses != NO_COMPLAINT

    def may_start(self, status: str) -> bool:
        return self.statuses is None or Status(status) in self.statuses


def _statuses(*statuses: Status) -> frozenset[Status]:
    return frozenset(statuses)


# In the order the detail screen lists them.
TABLE: tuple[Intent, ...] = (
    Intent(
        "acknowledge",
        _statuses(Status.NEW),
        Status.ACKNOWLEDGED,
        "Acknowledge",
        "acknowledged",
        Who.OWNER_OR_TAKER,
        "ack",
        "acknowledge",
        "Acknowledge: you own it and the customer was told.",
        help="You own it and the customer has been told.",
        note=Note.OPTIONAL,
    ),
    Intent(
        "start",
        _statuses(Status.ACKNOWLEDGED, Status.REOPENED),
        Status.IN_PROGRESS,
        "Start work",
        "started",
        Who.OWNER,
        "start",
        "start",
        "Start work on it (from acknowledged or reopened).",
        hints={Status.NEW: "acknowledge it first"},
        note=Note.OPTIONAL,
    ),
    Intent(
        "wait",
        _statuses(Status.IN_PROGRESS),
        Status.WAITING,
        "Wait on customer",
        "put on waiting",
        Who.OWNER,
        "wait",
        "wait",
        "Wait on the customer (the SLA clock stops).",
        help="The SLA clock stops until you resume.",
        hints={
            Status.NEW: "acknowledge it and start work on it first",
            Status.ACKNOWLEDGED: "start work on it first",
            Status.REOPENED: "start work on it first",
        },
        note=Note.OPTIONAL,
    ),
    Intent(
        "resume",
        _statuses(Status.WAITING),
        Status.IN_PROGRESS,
        "Resume",
        "resumed",
        Who.OWNER,
        "resume",
        "resume",
        "The customer answered: back in progress (the SLA clock runs).",
        help="The customer answered: the SLA clock runs again.",
        hints={Status.IN_PROGRESS: "it is not waiting on the customer"},
        note=Note.OPTIONAL,
    ),
    Intent(
        "resolve",
        _statuses(Status.IN_PROGRESS, Status.WAITING),
        Status.RESOLVED,
        "Resolve",
        "resolved",
        Who.OWNER,
        "resolve",
        "resolve",
        "Resolve: the answer was given to the customer.",
        help="The answer given to the customer, and the root cause.",
        hints={
            Status.NEW: "acknowledge it and start work on it first",
            Status.ACKNOWLEDGED: "start work on it first",
            Status.REOPENED: "start work on it first",
        },
    ),
    Intent(
        "close",
        _statuses(Status.RESOLVED),
        Status.CLOSED,
        "Close",
        "closed",
        Who.OWNER,
        "close",
        "close",
        "Close a resolved complaint.",
        help="Did the customer confirm the answer?",
        hints={s: _CLOSE_HINT for s in _NOT_CLOSED - {Status.RESOLVED}},
    ),
    Intent(
        "reopen",
        _statuses(Status.RESOLVED, Status.CLOSED),
        Status.REOPENED,
        "Reopen",
        "reopened",
        Who.OWNER,
        "reopen",
        "reopen",
        "Reopen a resolved or closed complaint (its owner stays).",
        help="Back to its owner, the SLA clock runs again.",
        note=Note.REQUIRED,
    ),
    Intent(
        "assign",
        _NOT_CLOSED,
        None,
        "Hand over",
        "assigned",
        Who.OWNER,
        "assign",
        "assign",
        "Hand a complaint over to another user.",
        help="To whom, and why.",
    ),
    Intent(
        # Any status: a corrective action may follow a closed complaint; a promise to the
        # customer may not (the service says so, and the form offers only corrective kinds).
        "follow_up",
        ANY,
        None,
        "Add follow-up",
        "followed up",
        Who.OWNER,
        "follow-up",
        "add_follow_up",
        "Promise a call-back or action, or set a corrective action, with a due time.",
        doing="add follow-ups to",
        help="A promised call-back or action, or a corrective action.",
    ),
    Intent(
        "outcome",
        ANY,
        None,
        "Record outcome",
        "recorded",
        Who.FOLLOW_UP_OWNER,
        "outcome",
        "record_outcome",
        "Record how a follow-up went.",
        doing="record outcomes on",
        help="How a follow-up went.",
        needs=Needs.OPEN_FOLLOW_UP,
    ),
    Intent(
        "update",
        _NOT_CLOSED,
        None,
        "Edit details",
        "updated",
        Who.OWNER,
        "edit",
        "update_details",
        "Change a complaint's details (a new severity moves its SLA due times).",
        doing="edit",
    ),
    Intent(
        "flag_malicious",
        ANY,
        None,
        "Flag malicious",
        "flagged malicious",
        Who.SUPERVISOR,
        "flag",
        "flag_malicious",
        "Flag the contact as malicious or abusive (supervisors).",
        doing="flag a complaint as malicious",
        help="Shown when this caller calls again.",
        needs=Needs.NOT_FLAGGED,
    ),
    Intent(
        "clear_malicious",
        ANY,
        None,
        "Clear malicious flag",
        "flag cleared",
        Who.SUPERVISOR,
        "unflag",
        "clear_malicious",
        "Clear a malicious flag, saying why (supervisors).",
        doing="clear a malicious flag",
        needs=Needs.FLAGGED,
        note=Note.REQUIRED,
    ),
    Intent(
        "escalate",
        ANY,
        None,
        "Escalate",
        "escalated",
        Who.SUPERVISOR,
        "escalate",
        "escalate",
        "Set the escalation level: 0 owner, 1 supervisor, 2 manager (supervisors).",
        doing="escalate a complaint",
        help="0 owner, 1 supervisor, 2 manager.",
    ),
    Intent(
        "create",
        NO_COMPLAINT,
        Status.NEW,
        "New complaint",
        "created",
        Who.ANYONE,
        "new",
        "create",
        "Log a new complaint (owned by you unless --owner/--unassigned).",
        doing="create complaints",
    ),
    Intent(
        "create_for_other",
        NO_COMPLAINT,
        Status.NEW,
        "New complaint for someone else",
        "created",
        Who.SUPERVISOR,
        "new",
        "create",
        "Log a new complaint owned by someone else, or by nobody yet (supervisors).",
        doing="create a complaint owned by someone else",
    ),
)

INTENTS: dict[str, Intent] = {intent.name: intent for intent in TABLE}
# The service methods carrying the intents out (several intents may share one).
METHODS: frozenset[str] = frozenset(intent.method for intent in TABLE)


def intent(name: str) -> Intent:
    """The intent called `name` (KeyError for an unknown one: a programming error)."""
    return INTENTS[name]


def by_method(method: str) -> Intent | None:
    """The first intent carried out by this service method, if any."""
    return next((i for i in TABLE if i.method == method), None)
