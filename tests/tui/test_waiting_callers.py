"""The waiting callers on the board (beside the agents from 160 columns, `l` at 80x24), and
the agent's panel of the caller on the line with the flagged caller's warning toast, through
Pilot on a floor read from queue_log lines."""

from __future__ import annotations

import time

import pytest

from tests.support import run_async, screen_text
from tests.support.callers_seed import AGENT, COMPLAINER, FLAGGED, REPEAT, callers_events
from tests.support.floor_seed import NOW, seed_floor
from tickets import users
from tickets.callers import CallerService
from tickets.service import ComplaintService
from wallboard.server.runtime import local_app
from wallboard.ui.board_screen import BoardScreen


@pytest.fixture
def floor(engine, settings):
    """The callers' floor at NOW: REPEAT flagged by an agent (awaiting confirmation), an open
    complaint from COMPLAINER, ann on a call with FLAGGED (flagged and confirmed)."""
    seed_floor(engine, settings, events=callers_events(NOW))
    users.add_user(engine, AGENT, "agent")
    users.add_user(engine, "sue", "supervisor")
    callers = CallerService(engine, settings, clock=lambda: NOW - 600)
    callers.flag(REPEAT, AGENT, reason="Swore at ann this morning")
    callers.flag(FLAGGED, "sue", reason="Threatened bob \x1b[31mlast week")
    ComplaintService(engine, settings, clock=lambda: NOW - 3 * 3600).create(
        AGENT,
        customer="Li Na",
        contact=COMPLAINER,
        subject="Charged twice",
        description="d",
        severity="critical",
        caller_number=COMPLAINER,
    )
    return engine, settings


def make_app(floor, **kwargs):
    engine, settings = floor
    return local_app(engine, settings, clock=lambda: NOW, **kwargs)


async def settle(pilot, timeout: float = 30.0) -> None:
    app = pilot.app
    deadline = time.monotonic() + timeout
    while not (app.view is not None and app.trend is not None and "support" in screen_text(app)):
        if time.monotonic() > deadline:
            raise AssertionError("the board was not drawn")
        await pilot.pause(0.01)
    await pilot.pause()


def board(app) -> BoardScreen:
    return next(s for s in app.screen_stack if isinstance(s, BoardScreen))


@run_async
async def test_waiting_callers_beside_the_agents_at_160_columns(floor):
    app = make_app(floor)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert board(app).waiting_shown
        assert "Waiting 5: 1 flagged, 2 repeat" in text
        line = next(line for line in text.splitlines() if "138****5678" in line)
        assert "ann" in line  # the agents' table on the same line, to its left
        assert line.split("▏", 1)[1].split() == ["support", "1", "1:15", "138****5678", "flagged?", "2nd", "call"]
        complainer = next(line for line in text.splitlines() if "+15*****2222" in line)
        assert "C-000001 overdue" in complainer
        assert "999********9999" in text and "withheld" in text
        assert "\x1b" not in text


@run_async
async def test_l_swaps_the_waiting_callers_in_at_80x24(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not board(app).waiting_shown and "138****5678" not in screen_text(app)
        await pilot.press("l")
        await pilot.pause()
        text = screen_text(app)
        assert "Waiting 5" in text and "138****5678" in text
        assert "Agents 2" not in text, "the agent table makes room"
        await pilot.press("l")
        await pilot.pause()
        text = screen_text(app)
        assert "Agents 2" in text and "138****5678" not in text


@run_async
async def test_the_agent_on_a_flagged_callers_call_is_warned_and_sees_the_caller(floor):
    app = make_app(floor, user=AGENT)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)

        def flagged_toasts() -> list:
            return [n for n in app._notifications if "Flagged caller" in (n.title or "")]

        # The toast is posted after the poll that finds the call: wait for it, not the poll.
        deadline = time.monotonic() + 30
        while not flagged_toasts() and time.monotonic() < deadline:
            await pilot.pause(0.02)
        (toast,) = flagged_toasts()
        assert toast.title == f"Flagged caller {FLAGGED} (confirmed)" and toast.severity == "error"
        assert toast.message == "Threatened bob last week"
        # The panel is drawn after the toast: wait for it (a loaded machine takes a while).
        while f"On the line: {FLAGGED}" not in (text := screen_text(app)) and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert f"On the line: {FLAGGED}" in text and "call 2 in 24 h" in text
        assert "FLAGGED  confirmed by sue: Threatened bob last week" in text
        assert "No open complaints" in text and "Recent calls:" in text
        # The next poll of the same call warns no more.
        polls = app.desk.caller_polls
        app.desk.poll()
        while app.desk.caller_polls == polls and time.monotonic() < deadline:
            await pilot.pause(0.02)
        await pilot.pause()  # a second warning would be posted by now
        assert len(flagged_toasts()) == 1


def _settled():
    async def run_before(pilot):
        await settle(pilot)

    return run_before


def test_snapshot_waiting_callers_at_160_columns(floor, snap_compare):
    assert snap_compare(make_app(floor), terminal_size=(160, 40), run_before=_settled())


def test_snapshot_waiting_callers_toggled_at_80x24(floor, snap_compare):
    assert snap_compare(make_app(floor), terminal_size=(80, 24), press=["l"], run_before=_settled())


@run_async
async def test_f_flags_the_caller_on_the_line(floor):
    engine, settings = floor
    CallerService(engine, settings).clear(FLAGGED, "sue", note="a misunderstanding")
    app = make_app(floor, user=AGENT)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        deadline = time.monotonic() + 30
        while app.desk.caller_polls < 1 and time.monotonic() < deadline:
            await pilot.pause(0.02)
        assert not app.desk.caller_view.flagged
        assert not [n for n in app._notifications if "Flagged caller" in (n.title or "")]
        await pilot.press("f")
        await pilot.pause()
        await pilot.press(*"Shouted at ann", "enter")
        while not any(n.title == "Caller flagged" for n in app._notifications) and time.monotonic() < deadline:
            await pilot.pause(0.02)
    (flag,) = CallerService(engine, settings).flags(caller=FLAGGED)
    assert (flag.caller, flag.status, flag.flagged_by, flag.reason) == (FLAGGED, "flagged", AGENT, "Shouted at ann")
