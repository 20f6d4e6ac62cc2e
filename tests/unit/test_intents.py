"""The intents' table (tickets/intents.py) keeps its promise: every intent is carried out by
its service method, has its `wallboard ticket` command, may be called over a session link,
and is offered on the detail screen exactly where the table says (its statuses, a user who
may), and refused otherwise in the table's words. On a real SQLite file, through a real
UserDesk, and the detail screen itself in a real Textual app."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest
from click.testing import CliRunner
from textual.widgets import OptionList

from tests.support import Clock, until
from tests.support.floor_seed import NOW
from tickets import users
from tickets.callbacks import CallbackService
from tickets.errors import IllegalTransition, PermissionDenied
from tickets.intents import TABLE, Intent, Needs, Note, Subject, Who
from tickets.records import ComplaintInfo
from tickets.service import ComplaintService
from tickets.statuses import Status, label
from tickets.ui.detail_screen import ComplaintDetailScreen
from tickets.user_desk import UserDesk
from wallboard.cli.callbacks import callback
from wallboard.cli.tickets import ticket
from wallboard.server.runtime import local_app

HOUR = 3600.0
ON_COMPLAINT = [it for it in TABLE if it.on_complaint]
# How to reach each status from new, by intents of the table.
PATHS = {
    Status.NEW: [],
    Status.ACKNOWLEDGED: ["acknowledge"],
    Status.IN_PROGRESS: ["acknowledge", "start"],
    Status.WAITING: ["acknowledge", "start", "wait"],
    Status.RESOLVED: ["acknowledge", "start", "resolve"],
    Status.CLOSED: ["acknowledge", "start", "resolve", "close"],
    Status.REOPENED: ["acknowledge", "start", "resolve", "close", "reopen"],
}


@pytest.fixture
def people(engine, settings):
    for name, role in (("ann", "agent"), ("carl", "agent"), ("sue", "supervisor")):
        users.add_user(engine, name, role, now=NOW - 86400)
    return engine, settings


@pytest.fixture
def svc(people) -> ComplaintService:
    engine, settings = people
    return ComplaintService(engine, settings, Clock(NOW))


def desk(people, user: str) -> UserDesk:
    engine, settings = people
    return UserDesk(engine, settings, user, Clock(NOW))


def arguments(it: Intent, info: ComplaintInfo) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Positional and keyword arguments (besides the complaint and the actor) that carry
    the intent out on `info`: what a form or a command would send."""
    if it.note is not Note.NONE:
        return (), {"note": "as promised"}
    open_follow_ups = [f.id for f in info.follow_ups if f.outcome is None]
    return {
        "resolve": ((), {"resolution": "Refunded", "root_cause": "process"}),
        "close": ((), {"confirmed": True}),
        "assign": ((), {"to": "carl" if info.owner != "carl" else "ann", "note": "cover"}),
        "follow_up": ((), {"due_at": NOW + HOUR, "note": "check the refund", "kind": "coaching"}),
        "outcome": ((open_follow_ups[0] if open_follow_ups else 0,), {"outcome": "done", "note": "called"}),
        "update": ((), {"subject": "Refund short"}),
        "flag_malicious": ((), {"reason": "threats"}),
        "escalate": ((2,), {"note": "VIP"}),
    }[it.name]


def carry_out(user_desk: UserDesk, it: Intent, info: ComplaintInfo) -> ComplaintInfo:
    args, fields = arguments(it, info)
    result: ComplaintInfo = getattr(user_desk, it.method)(info.ref, *args, **fields)
    return result


def in_status(svc: ComplaintService, status: Status, *, flagged: bool = False) -> ComplaintInfo:
    """A complaint of ann's in `status`, with an open follow-up of hers (and flagged): a
    corrective action, which stays open through a close (a promise would lapse)."""
    info = svc.create("ann", customer="Mrs Jones", contact="+44 20 7946 0000", subject="Refund", description="Late.")
    info = svc.add_follow_up(info.ref, "ann", due_at=NOW + HOUR, note="fix the refund rule", kind="process_fix")
    if flagged:
        info = svc.flag_malicious(info.ref, "sue", reason="threats")
    for name in PATHS[status]:
        it = next(i for i in TABLE if i.name == name)
        info = getattr(svc, it.method)(info.ref, "ann", *arguments(it, info)[0], **arguments(it, info)[1])
    assert info.status == status
    return info


def offered_by_the_table(status: Status, *, flagged: bool) -> list[str]:
    """What the table promises a supervisor (who may do everything) in `status`, on a
    complaint with an open follow-up: in the table's order."""
    needs = {Needs.NOTHING: True, Needs.OPEN_FOLLOW_UP: True, Needs.FLAGGED: flagged, Needs.NOT_FLAGGED: not flagged}
    return [it.name for it in ON_COMPLAINT if (it.statuses is None or status in it.statuses) and needs[it.needs]]


# -- each intent has its method, its command, its remote call ----------------------------------


@pytest.mark.parametrize("it", TABLE, ids=lambda it: it.name)
def test_every_intent_has_its_service_method_taking_the_actor(it: Intent):
    service = ComplaintService if it.subject is Subject.COMPLAINT else CallbackService
    method = getattr(service, it.method, None)
    assert callable(method), f"{it.name}: no {service.__name__}.{it.method}"
    # UserDesk binds the session's user in as `actor=`: the method must take it so.
    assert "actor" in inspect.signature(method).parameters


@pytest.mark.parametrize("subject", list(Subject), ids=str)
def test_every_intent_has_its_command(subject: Subject):
    group = ticket if subject is Subject.COMPLAINT else callback
    result = CliRunner().invoke(group, ["--help"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:", 1)[1]
    commands = {line.split()[0] for line in listed.splitlines() if line.strip()}
    for it in TABLE:
        if it.subject is not subject:
            continue
        assert it.command in commands, (it.name, it.command)
        usage = CliRunner().invoke(group, [it.command, "--help"])
        assert usage.exit_code == 0 and "--as" in usage.output, (it.command, usage.output)


@pytest.mark.parametrize("it", TABLE, ids=lambda it: it.name)
def test_every_intent_may_be_called_over_a_session_link(it: Intent):
    assert it.method in UserDesk.REMOTE


def test_the_desk_answers_nothing_else_remotely():
    assert "service" not in UserDesk.REMOTE and "_reader" not in UserDesk.REMOTE
    with pytest.raises(AttributeError):
        UserDesk.__getattr__(object.__new__(UserDesk), "engine_url")


# -- offered exactly where the table says; refused in its words otherwise -------------------


@pytest.mark.parametrize("flagged", [False, True], ids=["unflagged", "flagged"])
@pytest.mark.parametrize("status", list(Status), ids=str)
def test_offered_in_its_statuses_and_carried_out_there(people, svc, status, flagged):
    sue = desk(people, "sue")
    info = in_status(svc, status, flagged=flagged)
    _info, offered, _users = sue.complaint(info.ref)
    assert offered == offered_by_the_table(status, flagged=flagged)
    for it in ON_COMPLAINT:
        if it.name not in offered:
            continue
        fresh = in_status(svc, status, flagged=flagged)
        after = carry_out(sue, it, fresh)
        assert after.status == (it.leads_to or status), it.name
        new_events = after.events[len(fresh.events) :]
        assert it.name in {e.kind for e in new_events}, (it.name, new_events)


@pytest.mark.parametrize("status", list(Status), ids=str)
def test_refused_outside_its_statuses_in_the_tables_words(people, svc, status):
    sue = desk(people, "sue")
    info = in_status(svc, status)
    for it in ON_COMPLAINT:
        if it.statuses is None or status in it.statuses:
            continue
        with pytest.raises(IllegalTransition) as refused:
            carry_out(sue, it, info)
        message = str(refused.value)
        head = f"cannot {it.words} {info.ref}: it is "
        assert message.startswith(head), message
        if status is it.leads_to:
            assert message == f"{head}already {label(status)}"
        elif status in it.hints:
            assert message == f"{head}{label(status)}; {it.hints[status]}"
        elif status is Status.CLOSED:
            assert message == f"{head}closed; reopen it first"
        else:
            assert message.endswith(f"can be {it.verb}"), message
    assert svc.get(info.ref).version == info.version  # nothing was written


def test_an_agent_is_offered_only_what_they_may_and_refused_the_rest(people, svc):
    info = in_status(svc, Status.IN_PROGRESS)
    owner, other = desk(people, "ann"), desk(people, "carl")
    everything = offered_by_the_table(Status.IN_PROGRESS, flagged=False)
    assert owner.complaint(info.ref)[1] == [
        name for name in everything if next(i for i in TABLE if i.name == name).who is not Who.SUPERVISOR
    ]
    assert other.complaint(info.ref)[1] == []
    for it in ON_COMPLAINT:
        if it.name not in everything:
            continue
        refused_to = [other] + ([owner] if it.who is Who.SUPERVISOR else [])
        for user_desk in refused_to:
            with pytest.raises(PermissionDenied) as refused:
                carry_out(user_desk, it, info)
            if it.who is Who.SUPERVISOR:
                assert str(refused.value) == f"{user_desk.user} (agent) may not {it.words}: supervisors only"
            else:
                assert str(refused.value) == f"carl (agent) may not {it.words} {info.ref}: it is owned by ann"
    assert svc.get(info.ref).version == info.version


def test_the_owner_of_a_follow_up_is_offered_its_outcome(people, svc):
    info = in_status(svc, Status.IN_PROGRESS)
    svc.add_follow_up(info.ref, "sue", due_at=NOW + HOUR, note="carl calls", owner="carl")
    assert desk(people, "carl").complaint(info.ref)[1] == ["outcome"]


# -- the detail screen shows the same list --------------------------------------------------


def test_the_detail_screen_lists_the_tables_actions(people, svc):
    """New, waiting and closed, each on its own complaint, opened one after another in one app."""
    statuses = (Status.NEW, Status.WAITING, Status.CLOSED)
    refs = {status: in_status(svc, status).ref for status in statuses}
    engine, settings = people

    async def run() -> dict[Status, list[str]]:
        shown: dict[Status, list[str]] = {}
        app = local_app(engine, settings, clock=Clock(NOW), user="sue")
        async with app.run_test(size=(120, 40)) as pilot:
            for status, ref in refs.items():
                app.desk.open_detail(ref)
                await until(
                    pilot,
                    lambda ref=ref: (
                        isinstance(app.screen, ComplaintDetailScreen)
                        and app.screen.ref == ref
                        and app.screen.loaded
                        and app.desk.pending == 0
                    ),
                    f"the detail screen of the {status} complaint",
                )
                actions = app.screen.query_one("#actions", OptionList)
                shown[status] = [str(actions.get_option_at_index(i).id) for i in range(actions.option_count)]
        return shown

    shown = asyncio.run(run())
    assert shown == {status: offered_by_the_table(status, flagged=False) for status in statuses}
