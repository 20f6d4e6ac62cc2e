"""Supervisors act on agents from the board (p), end to end: the Pilot presses keys, the app
sends through the service (in the process, or over a real session link as in an SSH session)
to the loopback manager on TCP, which answers as Asterisk does; and keys that cannot act
say why. The seeded floor (tests/support/floor_seed.py) at 14:00 on 2026-11-23 UTC."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from textual.widgets import Input, Select

from db.complaints import AuditEvent
from db.models import table_of
from tests.support import Clock, run_async, until
from tests.support.fake_asterisk import ASTERISK_22, Member, Script, running
from tests.support.floor_seed import NOW, seed_floor
from tests.support.links import LinkServer
from tickets import users
from wallboard.server.runtime import local_app
from wallboard.ui import WallboardApp
from wallboard.ui.agent_actions import AgentActionScreen
from wallboard.ui.agents import AgentTable

AUDIT = table_of(AuditEvent)


def roster() -> Script:
    """The manager's members: James in sales, Liam (paused at lunch) in support."""
    james = Member("James Smith", interface_name="PJSIP/James Smith")
    liam = Member("Liam Murphy", paused=True, reason="lunch", interface_name="PJSIP/Liam Murphy")
    return Script(ASTERISK_22, roster={"sales": [james], "support": [liam], "billing": []})


@pytest.fixture
def floor(engine, settings):
    for name, role in (("sue", "supervisor"), ("maria", "agent"), ("dee", "display")):
        users.add_user(engine, name, role, now=NOW - 86400)
    seed_floor(engine, settings)
    with running(roster()) as manager:
        settings.ami_actions = replace(
            settings.ami_actions, host="127.0.0.1", port=manager.port, secret="s3cret", interface="PJSIP/{agent}"
        )
        yield engine, settings, manager


@pytest.fixture
def make_app(floor):
    """The app as the all-in-one process makes it, or (link) as an SSH session's process does."""
    links = []

    def make(user: str | None, over_link: bool = False) -> WallboardApp:
        engine, settings, _manager = floor
        if not over_link:
            return local_app(engine, settings, clock=Clock(NOW), user=user)
        links.append(LinkServer(engine, settings, user, Clock(NOW)))
        return links[-1].app()

    yield make
    for link in links:
        link.close()


async def started(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.reads >= 1, "the first board read")
    await until(pilot, lambda: app.desk.user is None or app.desk.role is not None, "the user's role")


def record_toasts(app) -> list[str]:
    """Every toast the app posts from now on (a short one can be gone before we look)."""
    posted: list[str] = []
    notify = app.notify

    def recording(message, *args, **kwargs):
        posted.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = recording
    return posted


async def select_agent(pilot, name: str) -> None:
    table = pilot.app.screen.query_one(AgentTable)
    # The app's first read can land before the table has drawn its rows.
    await until(pilot, lambda: name in table.order, f"{name} on the agent table")
    table.move_cursor(row=table.order.index(name))
    await pilot.pause()


async def dialog(pilot) -> AgentActionScreen:
    await pilot.press("p")
    await until(pilot, lambda: isinstance(pilot.app.screen, AgentActionScreen), "the agent action dialog")
    screen = pilot.app.screen
    assert isinstance(screen, AgentActionScreen)
    return screen


def audited(engine) -> dict[str, str]:
    """The audit's agent-action rows as field -> value, the newest action's last (winning)."""
    with engine.connect() as connection:
        query = select(AUDIT.c.field, AUDIT.c.new).where(AUDIT.c.kind.like("agent_%")).order_by(AUDIT.c.id)
        rows = connection.execute(query)
        return {field: new for field, new in rows}


@pytest.mark.parametrize("over_link", [False, True], ids=["local", "link"])
@run_async
async def test_a_supervisor_pauses_the_selected_agent_with_a_reason(floor, make_app, over_link):
    engine, _settings, manager = floor
    app = make_app("sue", over_link)
    posted = record_toasts(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await select_agent(pilot, "James Smith")
        screen = await dialog(pilot)
        assert screen.query_one("#agent-action", Select).value == "pause"  # James is available
        await pilot.click("#agent-action-send")
        assert "A pause needs a reason." in str(screen.query_one("#agent-action-problem").render())
        assert manager.actions == []
        screen.query_one("#agent-action-reason", Input).focus()
        await pilot.press(*"coaching", "enter")
        await until(pilot, lambda: not isinstance(app.screen, AgentActionScreen), "the dialog to close")
        await until(pilot, lambda: app.desk.pending == 0 and posted, "Asterisk's answer")
        assert posted[-1] == "Pause James Smith: done: Interface paused successfully"
    member = manager.queues["sales"]["PJSIP/James Smith"]
    assert (member.paused, member.reason) == (True, "coaching")
    assert audited(engine) == {
        "agent": "James Smith",
        "reason": "coaching",
        "result": "Success: Interface paused successfully",
    }


@run_async
async def test_asterisks_error_is_shown_as_it_wrote_it(floor, make_app):
    engine, _settings, manager = floor
    app = make_app("sue")
    posted = record_toasts(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await select_agent(pilot, "Liam Murphy")
        screen = await dialog(pilot)
        assert screen.query_one("#agent-action", Select).value == "unpause"  # Liam is paused
        screen.query_one("#agent-action", Select).value = "add"
        await pilot.pause()
        queues = screen.query_one("#agent-action-queue", Select)
        queues.value = "billing"
        await pilot.click("#agent-action-send")
        await until(pilot, lambda: app.desk.pending == 0 and posted, "Asterisk's answer")
        assert posted[-1] == "Add Liam Murphy to billing: done: Added interface to queue"
        # The board still has him out of billing (the feed is not this manager): add again.
        screen = await dialog(pilot)
        screen.query_one("#agent-action", Select).value = "add"
        await pilot.pause()
        screen.query_one("#agent-action-queue", Select).value = "billing"
        await pilot.click("#agent-action-send")
        await until(pilot, lambda: app.desk.pending == 0 and len(posted) == 2, "Asterisk's answer")
        assert posted[-1] == "Add Liam Murphy to billing: refused: Unable to add interface: Already there"
    assert [a["Action"] for a in manager.actions] == ["QueueAdd", "QueueAdd"]
    assert audited(engine) == {
        "agent": "Liam Murphy",
        "queue": "billing",
        "result": "Error: Unable to add interface: Already there",
    }


async def told_supervisors_only(pilot, posted: list[str], why: str) -> None:
    """p on a selected agent, by someone who is not a supervisor: one notice, no dialog."""
    app = pilot.app
    assert "p" not in {key for key, b in app.screen.active_bindings.items() if b.binding.show}
    await select_agent(pilot, "James Smith")
    await pilot.press("p")
    await until(pilot, lambda: posted, "the notice")
    assert posted == [f"{why} may not act on agents: supervisors only"]
    assert not isinstance(app.screen, AgentActionScreen)


@run_async
async def test_an_agent_is_told_supervisors_only(floor, make_app):
    _engine, _settings, manager = floor
    app = make_app("maria")
    posted = record_toasts(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await told_supervisors_only(pilot, posted, "maria (agent)")
    assert manager.actions == []


@run_async
async def test_with_nobody_signed_in_every_key_that_cannot_act_says_why(floor, make_app):
    app = make_app(None)
    posted = record_toasts(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        shown = {key for key, b in app.screen.active_bindings.items() if b.binding.show}
        assert not shown & {"n", "i", "o", "p", "f"}  # no room in the footer for keys that do nothing
        for key in ("n", "i", "o", "b", "f", "p"):
            await pilot.press(key)
            await until(pilot, lambda key=key: len(posted) == "niobfp".index(key) + 1, f"the notice for {key}")
    how = ": start with `wallboard --as NAME`, or connect over SSH"
    assert posted == [
        "Sign in to log a complaint" + how,
        "Sign in to see your inbox" + how,
        "Sign in to see the complaints overview" + how,
        "Sign in to work the call-backs" + how,
        "Sign in to flag a caller" + how,
        "Sign in as a supervisor to act on agents" + how,
    ]


@run_async
async def test_a_display_user_is_told_supervisors_only_and_why_complaint_keys_do_nothing(floor, make_app):
    """One app for the display user's two refusals: acting on an agent, then a complaint key."""
    _engine, _settings, manager = floor
    app = make_app("dee")
    posted = record_toasts(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await told_supervisors_only(pilot, posted, "dee (display)")
        await pilot.press("n")
        await until(pilot, lambda: len(posted) == 2, "the second notice")
    assert posted[1:] == ["dee is a display user: the wallboard only, no complaints"]
    assert manager.actions == []
