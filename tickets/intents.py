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

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from tickets.statuses import Status


class Who(StrEnum):
    """Who may carry out an intent. A supervisor may do everything; a display user and a
    removed user nothing (tickets/permissions.py)."""

    ANYONE = "anyone"  # any agent (creating a complaint)
    OWNER = "owner"  # an agent on a complaint they own
    OWNER_OR_TAKER = "owner_or_taker"  # ... or taking an unassigned one
    FOLLOW_UP_OWNER = "follow_up_owner"  # ... or owning the follow-up in question
    SUPERVISOR = "supervisor"  # supervisors only


class Subject(StrEnum):
    """What an intent acts on: a complaint, or a call-back request (tickets/callbacks.py)."""

    COMPLAINT = "complaint"
    CALLBACK = "callback"


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
    hints: Mapping[Status, str] = field(default_factory=dict)  # why not, from these statuses
    needs: Needs = Needs.NOTHING
    note: Note = Note.NONE
    subject: Subject = Subject.COMPLAINT  # a call-back's intents are carried out by CallbackService

    def __post_init__(self) -> None:
        # Immutable all through: the hints too (a read-only view of a private copy).
        object.__setattr__(self, "hints", MappingProxyType(dict(self.hints)))

    @property
    def words(self) -> str:
        return self.doing or self.name

    @property
    def on_complaint(self) -> bool:
        """Acts on an existing complaint (a detail screen action), rather than making one."""
        return self.subject is Subject.COMPLAINT and self.statuses != NO_COMPLAINT

    def may_start(self, status: str) -> bool:
        return self.statuses is None or Status(status) in self.statuses


def _statuses(*statuses: Status) -> frozenset[Status]:
    return frozenset(statuses)


# In the order the detail screen lists them.
TABLE: tuple[Intent, ...] = (
    Intent(
        name="acknowledge",
        statuses=_statuses(Status.NEW),
        leads_to=Status.ACKNOWLEDGED,
        who=Who.OWNER_OR_TAKER,
        method="acknowledge",
        command="ack",
        label="Acknowledge",
        verb="acknowledged",
        summary="Acknowledge: you own it and the customer was told.",
        help="You own it and the customer has been told.",
        note=Note.OPTIONAL,
    ),
    Intent(
        name="start",
        statuses=_statuses(Status.ACKNOWLEDGED, Status.REOPENED),
        leads_to=Status.IN_PROGRESS,
        who=Who.OWNER,
        method="start",
        command="start",
        label="Start work",
        verb="started",
        summary="Start work on it (from acknowledged or reopened).",
        hints={
            Status.NEW: "acknowledge it first",
        },
        note=Note.OPTIONAL,
    ),
    Intent(
        name="wait",
        statuses=_statuses(Status.IN_PROGRESS),
        leads_to=Status.WAITING,
        who=Who.OWNER,
        method="wait",
        command="wait",
        label="Wait on customer",
        verb="put on waiting",
        summary="Wait on the customer (the SLA clock stops).",
        help="The SLA clock stops until you resume.",
        hints={
            Status.NEW: "acknowledge it and start work on it first",
            Status.ACKNOWLEDGED: "start work on it first",
            Status.REOPENED: "start work on it first",
        },
        note=Note.OPTIONAL,
    ),
    Intent(
        name="resume",
        statuses=_statuses(Status.WAITING),
        leads_to=Status.IN_PROGRESS,
        who=Who.OWNER,
        method="resume",
        command="resume",
        label="Resume",
        verb="resumed",
        summary="The customer answered: back in progress (the SLA clock runs).",
        help="The customer answered: the SLA clock runs again.",
        hints={
            Status.IN_PROGRESS: "it is not waiting on the customer",
        },
        note=Note.OPTIONAL,
    ),
    Intent(
        name="resolve",
        statuses=_statuses(Status.IN_PROGRESS, Status.WAITING),
        leads_to=Status.RESOLVED,
        who=Who.OWNER,
        method="resolve",
        command="resolve",
        label="Resolve",
        verb="resolved",
        summary="Resolve: the answer was given to the customer.",
        help="The answer given to the customer, and the root cause.",
        hints={
            Status.NEW: "acknowledge it and start work on it first",
            Status.ACKNOWLEDGED: "start work on it first",
            Status.REOPENED: "start work on it first",
        },
    ),
    Intent(
        name="close",
        statuses=_statuses(Status.RESOLVED),
        leads_to=Status.CLOSED,
        who=Who.OWNER,
        method="close",
        command="close",
        label="Close",
        verb="closed",
        summary="Close a resolved complaint.",
        help="Did the customer confirm the answer?",
        hints={s: _CLOSE_HINT for s in _NOT_CLOSED - {Status.RESOLVED}},
    ),
    Intent(
        name="reopen",
        statuses=_statuses(Status.RESOLVED, Status.CLOSED),
        leads_to=Status.REOPENED,
        who=Who.OWNER,
        method="reopen",
        command="reopen",
        label="Reopen",
        verb="reopened",
        summary="Reopen a resolved or closed complaint (its owner stays).",
        help="Back to its owner, the SLA clock runs again.",
        note=Note.REQUIRED,
    ),
    Intent(
        name="assign",
        statuses=_NOT_CLOSED,
        leads_to=None,
        who=Who.OWNER,
        method="assign",
        command="assign",
        label="Hand over",
        verb="assigned",
        summary="Hand a complaint over to another user.",
        help="To whom, and why.",
    ),
    Intent(
        # Any status: a corrective action may follow a closed complaint; a promise to the
        # customer may not (the service says so, and the form offers only corrective kinds).
        name="follow_up",
        statuses=ANY,
        leads_to=None,
        who=Who.OWNER,
        method="add_follow_up",
        command="follow-up",
        label="Add follow-up",
        verb="followed up",
        doing="add follow-ups to",
        summary="Promise a call-back or action, or set a corrective action, with a due time.",
        help="A promised call-back or action, or a corrective action.",
    ),
    Intent(
        name="outcome",
        statuses=ANY,
        leads_to=None,
        who=Who.FOLLOW_UP_OWNER,
        method="record_outcome",
        command="outcome",
        label="Record outcome",
        verb="recorded",
        doing="record outcomes on",
        summary="Record how a follow-up went.",
        help="How a follow-up went.",
        needs=Needs.OPEN_FOLLOW_UP,
    ),
    Intent(
        name="update",
        statuses=_NOT_CLOSED,
        leads_to=None,
        who=Who.OWNER,
        method="update_details",
        command="edit",
        label="Edit details",
        verb="updated",
        doing="edit",
        summary="Change a complaint's details (a new severity moves its SLA due times).",
    ),
    Intent(
        name="flag_malicious",
        statuses=ANY,
        leads_to=None,
        who=Who.SUPERVISOR,
        method="flag_malicious",
        command="flag",
        label="Flag malicious",
        verb="flagged malicious",
        doing="flag a complaint as malicious",
        summary="Flag the contact as malicious or abusive (supervisors).",
        help="Shown when this caller calls again.",
        needs=Needs.NOT_FLAGGED,
    ),
    Intent(
        name="clear_malicious",
        statuses=ANY,
        leads_to=None,
        who=Who.SUPERVISOR,
        method="clear_malicious",
        command="unflag",
        label="Clear malicious flag",
        verb="flag cleared",
        doing="clear a malicious flag",
        summary="Clear a malicious flag, saying why (supervisors).",
        needs=Needs.FLAGGED,
        note=Note.REQUIRED,
    ),
    Intent(
        name="escalate",
        statuses=ANY,
        leads_to=None,
        who=Who.SUPERVISOR,
        method="escalate",
        command="escalate",
        label="Escalate",
        verb="escalated",
        doing="escalate a complaint",
        summary="Set the escalation level: 0 owner, 1 supervisor, 2 manager (supervisors).",
        help="0 owner, 1 supervisor, 2 manager.",
    ),
    Intent(
        name="create",
        statuses=NO_COMPLAINT,
        leads_to=Status.NEW,
        who=Who.ANYONE,
        method="create",
        command="new",
        label="New complaint",
        verb="created",
        doing="create complaints",
        summary="Log a new complaint (owned by you unless --owner/--unassigned).",
    ),
    Intent(
        name="create_for_other",
        statuses=NO_COMPLAINT,
        leads_to=Status.NEW,
        who=Who.SUPERVISOR,
        method="create",
        command="new",
        label="New complaint for someone else",
        verb="created",
        doing="create a complaint owned by someone else or by nobody",
        summary="Log a new complaint owned by someone else, or by nobody yet (supervisors).",
    ),
    # -- call-back requests (tickets/callbacks.py): their state is the request's own (open,
    # then reached, given up, got through, closed or made a complaint), checked by the service.
    Intent(
        name="callback_request",
        statuses=NO_COMPLAINT,
        leads_to=None,
        who=Who.ANYONE,
        method="request_callback",
        command="request",
        label="Request a call-back",
        verb="requested",
        doing="request call-backs",
        summary="Make a call-back request from an abandoned call (when [callbacks] auto = false).",
        subject=Subject.CALLBACK,
    ),
    Intent(
        name="callback_take",
        statuses=ANY,
        leads_to=None,
        who=Who.OWNER_OR_TAKER,
        method="take_callback",
        command="take",
        label="Take",
        verb="taken",
        doing="take",
        summary="Take a call-back from the shared list (the next one due without REF).",
        subject=Subject.CALLBACK,
    ),
    Intent(
        name="callback_attempt",
        statuses=ANY,
        leads_to=None,
        who=Who.OWNER,
        method="record_attempt",
        command="attempt",
        label="Record attempt",
        verb="attempted",
        doing="record attempts on",
        summary="Record a call-back attempt: reached, no answer, voicemail or wrong number.",
        help="How the call went.",
        subject=Subject.CALLBACK,
    ),
    Intent(
        name="callback_assign",
        statuses=ANY,
        leads_to=None,
        who=Who.SUPERVISOR,
        method="assign_callback",
        command="assign",
        label="Assign",
        verb="assigned",
        doing="assign call-backs",
        summary="Give a call-back to an agent (supervisors).",
        subject=Subject.CALLBACK,
    ),
    Intent(
        name="callback_close",
        statuses=ANY,
        leads_to=None,
        who=Who.OWNER,
        method="close_callback",
        command="close",
        label="Close",
        verb="closed",
        doing="close",
        summary="Close a call-back without calling (say why: a duplicate, the customer wrote in).",
        note=Note.REQUIRED,
        subject=Subject.CALLBACK,
    ),
    Intent(
        name="callback_complaint",
        statuses=ANY,
        leads_to=None,
        who=Who.OWNER,
        method="callback_to_complaint",
        command="complaint",
        label="Make a complaint",
        verb="made a complaint",
        doing="make a complaint of",
        summary="Turn a call-back into a complaint in one step; the complaint shows its history.",
        subject=Subject.CALLBACK,
    ),
)

INTENTS: dict[str, Intent] = {intent.name: intent for intent in TABLE}
# The service methods carrying the intents out (several intents may share one): the
# ComplaintService's and the CallbackService's (their names do not overlap).
METHODS: frozenset[str] = frozenset(i.method for i in TABLE if i.subject is Subject.COMPLAINT)
CALLBACK_METHODS: frozenset[str] = frozenset(i.method for i in TABLE if i.subject is Subject.CALLBACK)
CALLBACK_INTENTS: tuple[Intent, ...] = tuple(i for i in TABLE if i.subject is Subject.CALLBACK)


def intent(name: str) -> Intent:
    """The intent called `name` (KeyError for an unknown one: a programming error)."""
    return INTENTS[name]
