"""Call-backs on the board: the strip of open/oldest/overdue per queue, and the `b` screen
(take, attempt, assign, the loser of a race told who has it), locally and over a real
session link, on the seeded floor (2026-11-23 14:00 UTC) plus three callers who hung up.
Snapshot: `pytest --snapshot-update` after looking."""

from __future__ import annotations

import pytest
from textual.widgets import OptionList, Static

from tests.support import Clock, run_async, screen_text, until
from tests.support.floor_seed import NOW, floor_events, seed_floor
from tests.support.links import LinkServer
from tickets import users
from tickets.callbacks import CallbackIntake, CallbackService
from tickets.ui.callbacks_screen import CallbackScreen, CallbackTable
from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K
from wallboard.server.runtime import local_app
from wallboard.ui import WallboardApp


def hung_up(ts: float, callid: str, queue: str, caller: str, wait: float) -> list[Event]:
    return [
        Event(ts - wait, K.CALL_ENTERED, callid=callid, queue=queue, caller=caller, position=1),
        Event(ts, K.CALL_ABANDONED, callid=callid, queue=queue, wait_seconds=wait, position=1),
    ]


@pytest.fixture
def floor(engine, settings):
    """The seeded floor plus: +441234567890 hung up in sales at 13:00 (due 13:30: overdue at
    14:00), 07700900123 in sales at 13:50, 0123456789 in support at 13:55; and an
    escape-laden "number" that never becomes a call-back."""
    extra = (
        hung_up(NOW - 3600, "cb-1", "sales", "+441234567890", 60)
        + hung_up(NOW - 600, "cb-2", "sales", "07700900123", 45)
        + hung_up(NOW - 300, "cb-3", "support", "0123456789", 90)
        + hung_up(NOW - 200, "cb-4", "support", "\x1b[31m0123", 90)
    )
    seed_floor(engine, settings, events=floor_events() + extra)
    for name, role in (("maria", "agent"), ("carl", "agent"), ("sue", "supervisor")):
        users.add_user(engine, name, role, now=NOW - 86400)
    CallbackIntake(engine, settings, Clock(NOW)).run()
    return engine, settings


@pytest.fixture(params=["local", "link"])
def make_app(request, floor):
    links = []

    def make(user: str) -> WallboardApp:
        engine, settings = floor
        if request.param == "local":
            return local_app(engine, settings, clock=Clock(NOW), user=user)
        links.append(LinkServer(engine, settings, user, Clock(NOW)))
        return links[-1].app()

    yield make
    for link in links:
        link.close()


async def on_callbacks(pilot) -> CallbackScreen:
    app = pilot.app
    await until(pilot, lambda: app.reads >= 1 and (app.desk.polls >= 1), "the board and the inbox")
    await pilot.press("b")
    await until(
        pilot,
        lambda: (
            isinstance(app.screen, CallbackScreen)
            and app.screen.loaded >= 1
            and app.screen.detail is not None
            and app.desk.pending == 0
        ),
        "the call-back screen",
    )
    return app.screen


@run_async
async def test_the_board_shows_each_queues_call_backs_then_an_agent_takes_the_next_one_and_records_an_attempt(
    make_app, floor
):
    engine, settings = floor
    app = make_app("maria")
    async with app.run_test(size=(160, 50)) as pilot:
        # On the board first: each queue's call-backs in one strip.
        await until(pilot, lambda: app.reads >= 1, "the first read")
        strip = app.screen.query_one("#callbacks", Static)
        assert strip.display
        text = " ".join(str(strip.render()).split())
        assert "Call-backs (b)" in text
        assert "sales 2 open · oldest 60 min · 1 overdue" in text
        assert "support 1 open · oldest 5 min" in text
        assert "\x1b" not in text
        # Then b: the call-back screen, where she takes the next one and records an attempt.
        screen = await on_callbacks(pilot)
        table = screen.query_one(CallbackTable)
        assert table.row_count == 3
        first = table.current_ref()
        assert first == "CB-000001"  # the most urgent (overdue) first
        assert "Recent calls of this caller" in screen_text(app) and "+441234567890" in screen_text(app)
        await pilot.press("n")  # take the next one nobody has
        await until(pilot, lambda: screen.detail is not None and screen.detail.owner == "maria", "the take")
        await until(pilot, lambda: "callback_attempt" in screen.allowed, "the attempt offered")
        await pilot.press("a")
        choices = screen.query_one("#callback-choices", OptionList)
        await until(pilot, lambda: choices.has_focus, "the outcomes")
        await pilot.press("down", "enter")  # no answer
        await until(pilot, lambda: screen.detail is not None and screen.detail.attempts == 1, "the attempt")
        assert "no answer" in screen_text(app)
    stored = CallbackService(engine, settings, Clock(NOW)).get("CB-000001")
    assert (stored.owner, stored.attempts, stored.attempt_list[0].outcome) == ("maria", 1, "no_answer")


@run_async
async def test_the_loser_of_a_take_is_told_who_has_it(make_app, floor):
    engine, settings = floor
    app = make_app("maria")
    async with app.run_test(size=(160, 50)) as pilot:
        await on_callbacks(pilot)
        # carl takes the highlighted one (from the command line, say) while maria looks at it.
        CallbackService(engine, settings, Clock(NOW)).take_callback("CB-000001", "carl")
        await pilot.press("t")
        await until(pilot, lambda: "was taken by carl" in screen_text(app), "the refusal")
        assert "CB-000001 was taken by carl at 14:00" in screen_text(app)


@run_async
async def test_a_supervisor_assigns(make_app, floor):
    engine, settings = floor
    app = make_app("sue")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await on_callbacks(pilot)
        await until(pilot, lambda: "callback_assign" in screen.allowed, "assign offered")
        await pilot.press("g")
        await pilot.press(*"carl", "enter")
        await until(pilot, lambda: screen.detail is not None and screen.detail.owner == "carl", "the assignment")
    assert CallbackService(engine, settings, Clock(NOW)).get("CB-000001").owner == "carl"


def test_snapshot_callbacks(floor, snap_compare):
    engine, settings = floor
    app = local_app(engine, settings, clock=Clock(NOW), user="maria")

    async def run_before(pilot):
        await on_callbacks(pilot)

    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)
