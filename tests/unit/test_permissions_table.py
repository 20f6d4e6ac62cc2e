"""Who may do what, option by option: every intent of tickets/intents.py, and each option
that changes who may use it, tried by each kind of user against the service (the CLI and
the session link both call it), with what docs/ARCHITECTURE.md (Access) documents:

- an agent acts on the complaints they own; takes an unassigned one by acknowledging it;
  records the outcome of a follow-up they own on anyone's complaint (and of any follow-up
  on a complaint they own); may hand a follow-up of theirs to someone else; creates complaints
  for themselves only (`owner` someone else or `unassigned`: supervisors);
- a supervisor does everything, including the malicious flag and escalation;
- a display user does nothing with complaints;
- call-backs (tickets/callbacks.py): any agent requests one by hand and takes one nobody
  has; its owner records attempts, closes it or makes it a complaint; a supervisor does all
  that to anyone's and assigns them. A request someone has is not taken from them: the
  taker is told who has it (`Taken`, the same words as for a lost race), a supervisor too
  (who hands it over with `callback_assign` instead).

Roles: `owner` (ann, the agent owning the complaint or call-back), `other` (bob, another
agent), `fu_owner` (carl, an agent owning the follow-up of an `outcome` row but not the
complaint; one more agent for call-backs), `supervisor` (sue), `display` (dee).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import Clock
from tickets import users
from tickets.callbacks import CallbackIntake, CallbackService, Taken
from tickets.errors import InvalidInput, PermissionDenied, TicketError
from tickets.intents import INTENTS
from tickets.records import CallbackInfo
from tickets.service import ComplaintService
from tickets.statuses import Status
from wallboard.config import Settings
from wallboard.feeds.files import QueueLogIngest

NOW = 1_790_000_000.0
ROLES = ("owner", "other", "fu_owner", "supervisor", "display")
ACTOR = {"owner": "ann", "other": "bob", "fu_owner": "carl", "supervisor": "sue", "display": "dee"}
OWNER_ONLY = frozenset({"owner", "supervisor"})
AGENTS = frozenset({"owner", "other", "fu_owner", "supervisor"})
SUPERVISORS = frozenset({"supervisor"})


@dataclass(frozen=True)
class Case:
    intent: str
    option: str  # what the row tries, for the test's id
    start: Status | None  # the complaint's status before (None: no complaint: create)
    kwargs: dict[str, Any] = field(default_factory=dict)
    allowed: frozenset[str] = OWNER_ONLY
    unassigned: bool = False  # the complaint has no owner
    flagged: bool = False
    follow_up_by: str | None = None  # an open follow-up owned by this user (outcome)


CASES = [
    Case("create", "own", None, {}, AGENTS),
    Case("create", "owner=someone else", None, {"owner": "sue"}, SUPERVISORS),
    Case("create", "unassigned", None, {"unassigned": True}, SUPERVISORS),
    Case("acknowledge", "owned", Status.NEW, {"note": "told them"}),
    Case("acknowledge", "unassigned (take it)", Status.NEW, {}, AGENTS, unassigned=True),
    Case("start", "", Status.ACKNOWLEDGED, {"note": "n"}),
    Case("wait", "", Status.IN_PROGRESS, {}),
    Case("resume", "", Status.WAITING, {}),
    Case("resolve", "", Status.IN_PROGRESS, {"resolution": "refunded", "root_cause": "process"}),
    Case("close", "", Status.RESOLVED, {}),
    Case("close", "confirmed", Status.RESOLVED, {"confirmed": True, "note": "happy"}),
    Case("reopen", "", Status.CLOSED, {"note": "not fixed"}),
    Case("assign", "", Status.ACKNOWLEDGED, {"to": "carl", "note": "holiday"}),
    Case("assign", "unassigned", Status.NEW, {"to": "carl", "note": "yours"}, SUPERVISORS, unassigned=True),
    Case("follow_up", "callback", Status.ACKNOWLEDGED, {"due_at": NOW + 3600, "note": "call"}),
    Case("follow_up", "owner=someone else", Status.ACKNOWLEDGED, {"due_at": NOW + 3600, "note": "c", "owner": "carl"}),
    Case("follow_up", "corrective", Status.CLOSED, {"due_at": NOW + 3600, "note": "coach", "kind": "coaching"}),
    Case("outcome", "done", Status.ACKNOWLEDGED, {"outcome": "done", "note": "n"}, OWNER_ONLY, follow_up_by="ann"),
    Case(
        "outcome",
        "by the follow-up's owner",
        Status.ACKNOWLEDGED,
        {"outcome": "no_answer", "note": "n"},
        frozenset({"owner", "fu_owner", "supervisor"}),
        follow_up_by="carl",
    ),
    Case(
        "outcome",
        "rescheduled",
        Status.ACKNOWLEDGED,
        {"outcome": "rescheduled", "note": "n", "new_due_at": NOW + 7200},
        OWNER_ONLY,
        follow_up_by="ann",
    ),
    Case("update", "subject", Status.ACKNOWLEDGED, {"subject": "new subject"}),
    Case("update", "severity", Status.ACKNOWLEDGED, {"severity": "critical"}),
    Case("update", "channel and category", Status.ACKNOWLEDGED, {"channel": "email", "category": "billing"}),
    Case("flag_malicious", "", Status.ACKNOWLEDGED, {"reason": "abusive"}, SUPERVISORS),
    Case("clear_malicious", "", Status.ACKNOWLEDGED, {"note": "sorry"}, SUPERVISORS, flagged=True),
    Case("escalate", "to supervisor", Status.ACKNOWLEDGED, {"level": 1, "note": "slow"}, SUPERVISORS),
    Case("escalate", "to manager", Status.ACKNOWLEDGED, {"level": 2, "note": "slow"}, SUPERVISORS),
]

# From NEW to each status, as its owner (ann) would go (None: stay).
PATH = {
    Status.NEW: [],
    Status.ACKNOWLEDGED: ["acknowledge"],
    Status.IN_PROGRESS: ["acknowledge", "start"],
    Status.WAITING: ["acknowledge", "start", "wait"],
    Status.RESOLVED: ["acknowledge", "start", "resolve"],
    Status.CLOSED: ["acknowledge", "start", "resolve", "close"],
}


def test_the_table_tries_every_intent():
    tried = {case.intent for case in CASES} | {case.intent for case in CALLBACK_CASES}
    assert tried | {"create_for_other"} == set(INTENTS)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from db import open_database
    from wallboard.config import Settings

    settings = Settings()
    settings.database.url = f"sqlite:///{tmp_path_factory.mktemp('permissions') / 'p.db'}"
    engine = open_database(settings.database_url(), migrate=True)
    for name, role in (
        ("ann", "agent"),
        ("bob", "agent"),
        ("carl", "agent"),
        ("sue", "supervisor"),
        ("dee", "display"),
    ):
        users.add_user(engine, name, role, now=NOW - 86400)
    yield ComplaintService(engine, settings, Clock(NOW))
    engine.dispose()


def _prepared(svc: ComplaintService, case: Case) -> str:
    """A complaint in the case's starting state, owned by ann (or nobody)."""
    info = svc.create(
        "sue",
        customer="c",
        contact="x",
        subject="s",
        description="d",
        owner=None if case.unassigned else "ann",
        unassigned=case.unassigned,
    )
    ref = info.ref
    for step in PATH[case.start] if not case.unassigned else []:
        kwargs: dict[str, Any] = {"resolution": "r", "root_cause": "process"} if step == "resolve" else {}
        getattr(svc, INTENTS[step].method)(ref, "ann", **kwargs)
    if case.flagged:
        svc.flag_malicious(ref, "sue", reason="abusive")
    if case.follow_up_by:
        svc.add_follow_up(ref, "sue", due_at=NOW + 1800, note="promised", owner=case.follow_up_by)
    return ref


def _attempt(svc: ComplaintService, case: Case, actor: str) -> None:
    method = getattr(svc, INTENTS[case.intent].method)
    if case.start is None:
        method(actor, customer="c", contact="x", subject="s", description="d", **case.kwargs)
        return
    ref = _prepared(svc, case)
    if case.intent == "outcome":
        follow_up = max(f.id for f in svc.get(ref).follow_ups)
        method(ref, follow_up, actor, **case.kwargs)
    elif case.intent == "escalate":
        method(ref, case.kwargs["level"], actor=actor, note=case.kwargs["note"])
    else:
        method(ref, actor, **case.kwargs)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.intent}[{c.option}]" if c.option else c.intent)
def test_each_intent_and_option_as_each_role(service, case, role):
    if role in case.allowed:
        _attempt(service, case, ACTOR[role])  # no PermissionDenied (nor any other refusal)
    else:
        with pytest.raises(PermissionDenied):
            _attempt(service, case, ACTOR[role])


# -- call-backs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackCase:
    intent: str
    option: str  # what the row tries, for the test's id
    kwargs: dict[str, Any] = field(default_factory=dict)
    allowed: frozenset[str] = OWNER_ONLY
    owner: str | None = "ann"  # who has the request before (None: nobody has taken it)
    # Roles refused by the request's state before any permission question, and how.
    refused: Mapping[str, type[TicketError]] = field(default_factory=dict)
    # callback_request (always from an abandon offered by [callbacks] auto = false): its
    # caller has an open request already, taken by ann, which the new request joins.
    joins: bool = False
    next_due: bool = False  # callback_take without a ref: the next one due that nobody has


CALLBACK_CASES = [
    CallbackCase("callback_request", "auto=false", {}, AGENTS, owner=None),
    CallbackCase("callback_request", "auto=false, joins ann's open request", {}, AGENTS, joins=True),
    CallbackCase("callback_take", "nobody's", {}, AGENTS, owner=None),
    CallbackCase("callback_take", "next due (no ref)", {}, AGENTS, owner=None, next_due=True),
    CallbackCase(
        "callback_take",
        "ann's",
        {},
        frozenset(),
        refused={"owner": InvalidInput, "other": Taken, "fu_owner": Taken, "supervisor": Taken},
    ),
    CallbackCase("callback_attempt", "no answer", {"outcome": "no_answer", "note": "rang out"}),
    CallbackCase("callback_attempt", "reached", {"outcome": "reached"}),
    CallbackCase("callback_attempt", "wrong number", {"outcome": "wrong_number"}),
    CallbackCase("callback_attempt", "nobody's", {"outcome": "voicemail"}, SUPERVISORS, owner=None),
    CallbackCase("callback_assign", "nobody's, to bob", {"to": "bob", "note": "Welsh"}, SUPERVISORS, owner=None),
    CallbackCase("callback_assign", "ann's, to carl", {"to": "carl"}, SUPERVISORS),
    CallbackCase("callback_close", "", {"note": "wrote in instead"}),
    CallbackCase("callback_close", "nobody's", {"note": "duplicate"}, SUPERVISORS, owner=None),
    CallbackCase("callback_complaint", "", {"subject": "Billed twice"}),
    CallbackCase("callback_complaint", "nobody's", {"severity": "high"}, SUPERVISORS, owner=None),
]


class CallFloor:
    """Abandoned calls written the way a feed writes them (queue_log lines ingested), judged
    by the intake with [callbacks] auto on (a request) or off (an abandon offered)."""

    def __init__(self, service: ComplaintService, log: Path) -> None:
        self.engine, self.log = service.engine, log
        self.auto = service.settings
        self.manual: Settings = copy.deepcopy(service.settings)
        self.manual.callbacks.auto = False
        self.callbacks = CallbackService(self.engine, self.auto, Clock(NOW), complaints=service)
        self.serial = itertools.count(1)

    def abandon(self, caller: str, queue: str, *, auto: bool) -> None:
        """`caller` hanging up after 40 s in `queue`, each a second after the one before."""
        at = NOW - 3000 + next(self.serial)
        with self.log.open("a") as fh:
            fh.write(f"{at - 40:.0f}|c{at:.0f}|{queue}|NONE|ENTERQUEUE||{caller}|1\n")
            fh.write(f"{at:.0f}|c{at:.0f}|{queue}|NONE|ABANDON|1|1|40\n")
        QueueLogIngest(self.engine, self.auto, self.log).run()
        CallbackIntake(self.engine, self.auto if auto else self.manual, Clock(NOW)).run()

    def request(self, caller: str, queue: str, owner: str | None) -> CallbackInfo:
        """An open request for `caller`, taken by `owner` (None: by nobody)."""
        self.abandon(caller, queue, auto=True)
        (cb,) = self.callbacks.list_callbacks(queue=queue)
        return self.callbacks.take_callback(cb.ref, owner) if owner else cb

    def offered(self, caller: str, queue: str) -> int:
        """The call id of `caller`'s abandon, offered for a request by hand."""
        self.abandon(caller, queue, auto=False)
        return next(a.call_id for a in self.callbacks.abandons_to_request() if a.caller_number == caller)


@pytest.fixture(scope="module")
def call_floor(service: ComplaintService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallFloor]:
    yield CallFloor(service, tmp_path_factory.mktemp("queue_log") / "queue_log")


def _callback_try(floor: CallFloor, case: CallbackCase) -> tuple[str | None, Callable[[str], CallbackInfo]]:
    """The case's request (or offered abandon) made ready: the request's ref (None: no
    request yet, or take-next, which names none) and the intent to try on it as a user."""
    # Each try its own caller (abandons of one caller join one request) and its own queue.
    n = next(floor.serial)
    caller, queue = f"07700{n:06d}", f"q{n}"
    svc = floor.callbacks
    if case.intent == "callback_request":
        ann_has = floor.request(caller, queue, "ann") if case.joins else None
        call_id = floor.offered(caller, queue)

        def request(actor: str) -> CallbackInfo:
            cb = svc.request_callback(call_id, actor)
            assert cb.caller_number == caller
            if ann_has is not None:
                assert (cb.ref, cb.owner, cb.abandons) == (ann_has.ref, "ann", 2)
            return cb

        return None, request
    prepared = floor.request(caller, queue, case.owner)
    if case.next_due:

        def take_next(actor: str) -> CallbackInfo:
            taken = svc.take_callback(None, actor, queue=queue)
            assert (taken.ref, taken.owner) == (prepared.ref, actor)
            return taken

        return None, take_next
    method = getattr(svc, INTENTS[case.intent].method)
    return prepared.ref, lambda actor: method(prepared.ref, actor, **case.kwargs)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CALLBACK_CASES, ids=lambda c: f"{c.intent}[{c.option}]" if c.option else c.intent)
def test_each_callback_intent_and_option_as_each_role(call_floor: CallFloor, case: CallbackCase, role: str) -> None:
    ref, attempt = _callback_try(call_floor, case)
    if ref is not None:  # the call-backs screen offers its key exactly when the service allows it
        offered = call_floor.callbacks.allowed_intents(ref, ACTOR[role])
        assert (case.intent in offered) == (role in case.allowed)
    if role in case.allowed:
        attempt(ACTOR[role])  # no PermissionDenied (nor any other refusal)
    elif role in case.refused:
        with pytest.raises(case.refused[role]):
            attempt(ACTOR[role])
    else:
        with pytest.raises(PermissionDenied):
            attempt(ACTOR[role])
