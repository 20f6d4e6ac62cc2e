"""Supervisors' actions on agents: the service against the loopback manager, as Asterisk answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine, select

from db.complaints import AuditEvent
from db.models import Agent, table_of
from tests.support import wait_for
from tests.support.fake_asterisk import (
    ASTERISK_13,
    ASTERISK_22,
    SHAPES,
    FakeAsterisk,
    Member,
    Script,
    running,
    status_member_fields,
)
from tickets.errors import InvalidInput, PermissionDenied
from tickets.users import add_user, remove_user
from wallboard.config import AmiActionSettings, Settings
from wallboard.feeds.agent_actions import AgentActions, ami_message
from wallboard.feeds.ami import AmiConnection
from wallboard.feeds.live import AmiFeed

AUDIT = table_of(AuditEvent)


def floor(shape=ASTERISK_22) -> Script:
    """Ann in sales and support, Bob (paused at lunch) in sales; vip exists, empty."""
    ann, bob = Member("ann"), Member("bob", paused=True, reason="lunch")
    return Script(shape, roster={"sales": [ann, bob], "support": [ann], "vip": []})


@pytest.fixture
def manager() -> Iterator[FakeAsterisk]:
    with running(floor()) as server:
        yield server


def actions_of(engine: Engine, settings: Settings, user: str, port: int, tech: str = "PJSIP") -> AgentActions:
    settings.ami_actions = replace(
        settings.ami_actions, host="127.0.0.1", port=port, secret="s3cret", interface=tech + "/{agent}"
    )
    return AgentActions(engine, settings, user)


def audit_rows(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(select(AUDIT).where(AUDIT.c.kind.like("agent_%")).order_by(AUDIT.c.id))
        return [dict(row._mapping) for row in rows]


def test_a_supervisor_pauses_with_a_reason_and_it_is_audited(engine, settings, manager):
    add_user(engine, "sue", "supervisor")
    result = actions_of(engine, settings, "sue", manager.port).act("pause", "ann", "sales", "coaching")
    assert (result.ok, result.message) == (True, "Interface paused successfully")
    assert manager.queues["sales"]["PJSIP/ann"].paused and manager.queues["sales"]["PJSIP/ann"].reason == "coaching"
    assert not manager.queues["support"]["PJSIP/ann"].paused  # only the queue asked for
    sent = manager.actions[-1]
    assert {k: sent[k] for k in ("Action", "Interface", "Paused", "Queue", "Reason")} == {
        "Action": "QueuePause",
        "Interface": "PJSIP/ann",
        "Paused": "true",
        "Queue": "sales",
        "Reason": "coaching",
    }
    rows = audit_rows(engine)
    assert {r["field"]: r["new"] for r in rows} == {
        "agent": "ann",
        "queue": "sales",
        "reason": "coaching",
        "result": "Success: Interface paused successfully",
    }
    assert {r["kind"] for r in rows} == {"agent_pause"} and len({r["changeset"] for r in rows}) == 1
    assert all(r["actor_id"] is not None for r in rows)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_unpause_in_every_queue_remove_and_add(engine, settings, shape):
    add_user(engine, "sue", "supervisor")
    with running(floor(shape)) as manager:
        actions = actions_of(engine, settings, "sue", manager.port, shape.tech)
        interface = f"{shape.tech}/bob"
        assert actions.act("unpause", "bob").message == "Interface unpaused successfully"
        assert not manager.queues["sales"][interface].paused
        assert "Queue" not in manager.actions[-1]  # no queue: every queue the member is in
        assert actions.act("remove", "bob", "sales").message == "Removed interface from queue"
        assert interface not in manager.queues["sales"]
        added = actions.act("add", "bob", "vip")
        assert (added.ok, added.message) == (True, "Added interface to queue")
        assert manager.queues["vip"][interface].name == "bob"
        sent = manager.actions[-1]
        assert {k: sent[k] for k in ("Queue", "Interface", "Penalty", "Paused", "MemberName", "StateInterface")} == {
            "Queue": "vip",
            "Interface": interface,
            "Penalty": "0",
            "Paused": "false",
            "MemberName": "bob",
            "StateInterface": interface,
        }


@pytest.mark.parametrize(
    ("action", "agent", "queue", "message"),
    [
        ("pause", "zoe", "sales", "Interface not found"),
        ("remove", "bob", "support", "Unable to remove interface: Not there"),
        ("remove", "bob", "nowhere", "Unable to remove interface from queue: No such queue"),
        ("add", "ann", "sales", "Unable to add interface: Already there"),
        ("add", "ann", "nowhere", "Unable to add interface to queue: No such queue"),
    ],
)
def test_asterisk_errors_come_back_as_asterisk_wrote_them_and_are_audited(
    engine, settings, manager, action, agent, queue, message
):
    add_user(engine, "sue", "supervisor")
    result = actions_of(engine, settings, "sue", manager.port).act(action, agent, queue, "coaching")
    assert (result.ok, result.message) == (False, message)
    assert {r["field"]: r["new"] for r in audit_rows(engine)}["result"] == f"Error: {message}"


def test_events_that_follow_a_success_do_not_become_the_reply(manager):
    """The reply is the Response echoing the ActionID, whatever events come around it."""
    connection = AmiConnection("127.0.0.1", manager.port, timeout=2)
    try:
        connection.login("wallboard", "s3cret")
        name, fields = ami_message("pause", "PJSIP/ann", "ann", None, "training")
        reply = connection.action(name, fields, "act-1")
        assert (reply["Response"], reply["ActionID"], reply["Message"]) == (
            "Success",
            "act-1",
            "Interface paused successfully",
        )
        # Ann is in two queues: a QueueMemberPause for each follows the reply.
        following = [connection.read_message() for _ in range(2)]
        assert [(m or {}).get("Event") for m in following] == ["QueueMemberPause", "QueueMemberPause"]
        assert {(m or {}).get("Queue") for m in following} == {"sales", "support"}
    finally:
        connection.close()


@pytest.mark.parametrize("role", ["agent", "display"])
def test_only_supervisors_may_act(engine, settings, manager, role):
    add_user(engine, "pat", role)
    actions = actions_of(engine, settings, "pat", manager.port)
    with pytest.raises(PermissionDenied, match="supervisors only" if role == "agent" else "display user"):
        actions.act("pause", "ann", "sales", "coaching")
    assert manager.actions == [] and audit_rows(engine) == []


def test_a_removed_supervisor_may_not_act(engine, settings, manager):
    add_user(engine, "sue", "supervisor")
    remove_user(engine, "sue")
    with pytest.raises(PermissionDenied, match="removed"):
        actions_of(engine, settings, "sue", manager.port).act("unpause", "ann")


@pytest.mark.parametrize(
    ("action", "agent", "queue", "reason", "problem"),
    [
        ("pause", "ann", "sales", "", "the reason is required"),
        ("remove", "ann", None, None, "the queue is required"),
        ("add", "ann", "", None, "the queue is required"),
        ("pause", "ann\r\nAction: Logoff", None, "x", "control characters"),
        ("pause", "ann", "sales", "lunch\nQueue: vip", "control characters"),
        ("hangup", "ann", None, None, "no action 'hangup'"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(engine, settings, manager, action, agent, queue, reason, problem):
    add_user(engine, "sue", "supervisor")
    with pytest.raises(InvalidInput, match=problem):
        actions_of(engine, settings, "sue", manager.port).act(action, agent, queue, reason)
    assert manager.actions == []


def test_an_unreachable_manager_is_a_result_not_a_crash(engine, settings):
    add_user(engine, "sue", "supervisor")
    with running(floor()) as server:
        port = server.port
    result = actions_of(engine, settings, "sue", port).act("unpause", "ann")
    assert not result.ok and result.message.startswith("could not reach Asterisk")
    assert {r["field"]: r["new"] for r in audit_rows(engine)}["result"].startswith("Error: could not reach Asterisk")


def test_a_refused_login_is_the_result(engine, settings, manager):
    add_user(engine, "sue", "supervisor")
    actions = actions_of(engine, settings, "sue", manager.port)
    settings.ami_actions = replace(settings.ami_actions, secret="wrong")
    result = actions.act("unpause", "ann")
    assert (result.ok, result.message) == (False, "could not reach Asterisk: AMI login refused: Authentication failed")


def test_without_a_manager_for_actions_the_refusal_says_what_to_set(engine, settings):
    add_user(engine, "sue", "supervisor")
    settings.feed = replace(settings.feed, kind="queue-log")
    assert "set [ami_actions] host" in (AgentActions(engine, settings, "sue").refusal() or "")


def test_the_feeds_manager_serves_when_the_feed_is_ami(settings):
    settings.feed = replace(settings.feed, kind="ami", ami_host="10.0.0.5", ami_port=5039, ami_secret="x")
    target = settings.ami_action_target()
    assert target is not None and (target.host, target.port, target.secret) == ("10.0.0.5", 5039, "x")
    settings.ami_actions = AmiActionSettings(host="10.0.0.9")
    assert settings.ami_action_target() == settings.ami_actions
    assert settings.without_secrets().ami_actions.secret == ""


def test_asterisk_13_shapes_the_pause_event_with_its_reason(engine, settings):
    add_user(engine, "sue", "supervisor")
    with running(floor(ASTERISK_13)) as manager:
        assert actions_of(engine, settings, "sue", manager.port).act("pause", "ann", "support", "training").ok
        assert manager.queues["support"]["PJSIP/ann"].reason == "training"


def test_an_action_reaches_the_board_through_the_ami_feed(engine, settings):
    """The whole loop: the feed reads the manager the supervisor acts on (no [ami_actions]
    host: the feed's own AMI); the QueueMemberPause that follows the action pauses the agent
    on the board with the reason given."""
    add_user(engine, "sue", "supervisor")
    ann = Member("ann")
    script = Script(ASTERISK_22, members=[status_member_fields(ASTERISK_22, "sales", ann)], roster={"sales": [ann]})
    agents = table_of(Agent)

    def state_of_ann() -> tuple[str, str | None] | None:
        with engine.connect() as connection:
            row = connection.execute(
                select(agents.c.state, agents.c.pause_reason).where(agents.c.name == "ann")
            ).one_or_none()
        return None if row is None else (row.state, row.pause_reason)

    with running(script) as manager:
        settings.feed = replace(
            settings.feed, kind="ami", ami_host="127.0.0.1", ami_port=manager.port, ami_secret="s3cret"
        )
        settings.ami_actions = replace(settings.ami_actions, interface="PJSIP/{agent}")
        feed, stop = AmiFeed(engine, settings), threading.Event()
        thread = threading.Thread(target=feed.run, args=(stop,), kwargs={"max_backoff": 0.2}, daemon=True)
        thread.start()
        try:
            wait_for(lambda: state_of_ann() == ("available", None), what="ann available on the board")
            result = AgentActions(engine, settings, "sue").act("pause", "ann", "sales", "coaching")
            assert result.ok, result.message
            wait_for(lambda: state_of_ann() == ("paused", "coaching"), what="ann paused for coaching on the board")
        finally:
            stop.set()
            thread.join(5)
