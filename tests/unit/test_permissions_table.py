"""Who may do what, option by option: every intent of tickets/intents.py, and each option
that changes who may use it, tried by each kind of user against the service (the CLI and
the session link both call it), with what docs/ARCHITECTURE.md (Access) documents:

- an agent acts on the complaints they own; takes an unassigned one by acknowledging it;
  records the outcome of a follow-up they own on anyone's complaint (and of any follow-up
  on a complaint they own); may hand a follow-up of theirs to someone else; creates complaints
  for themselves only (`owner` someone else or `unassigned`: supervisors);
- a supervisor does everything, including the malicious flag and escalation;
- a display user does nothing with complaints.

Roles: `owner` (ann, the agent owning the complaint), `other` (bob, another agent),
`fu_owner` (carl, an agent owning the follow-up of an `outcome` row but not the
complaint), `supervisor` (sue), `display` (dee).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support import Clock
from tickets import users
from tickets.errors import PermissionDenied
from tickets.intents import INTENTS
from tickets.service import ComplaintService
from tickets.statuses import Status

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
    assert {case.intent for case in CASES} | {"create_for_other"} == set(INTENTS)


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
