"""The waiting callers on the board (beside the agents from 160 columns, `l` at 80x24), and
the agent's panel of the caller on the line with the flagged caller's warning toast, through
Pilot on a floor read from queue_log lines."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from tests.support import run_async, screen_text
from tests.support.callers_seed import AGENT, COMPLAINER, FLAGGED, REPEAT, callers_events
from tests.support.floor_seed import NOW, seed_floor
from tickets import users
from tickets.callers import CallerService
from tickets.service import ComplaintService
from wallboard.calls.waiting import WaitingCaller
from wallboard.server.runtime import local_app
from wallboard.ui.board_screen import BoardScreen
from wallboard.ui.waiting import WaitingLines, WaitingPane, waiting_content


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


def waiting(count: int, flagged_at: int | None = None) -> list[WaitingCaller]:
    return [
        WaitingCaller(
            queue="support",
            position=i + 1,
            wait_seconds=600.0 - i,
            caller=f"+1555{i:07d}",
            callid=f"c{i}",
            calls_in_window=1,
            repeat=False,
            open_complaints=0,
            urgent_ref=None,
            urgent_state=None,
            open_callbacks=0,
            flag_status="flagged" if i == flagged_at else None,
            flag_reason=None,
        )
        for i in range(count)
    ]


def test_a_pane_of_two_lines_shows_the_longest_wait_and_counts_the_rest():
    lines = waiting_content(waiting(30, flagged_at=20), room=2).plain.splitlines()
    assert lines[0].split()[:3] == ["support", "1", "10:00"]
    assert lines[1] == "… 29 more waiting, 1 flagged"
    assert waiting_content(waiting(30), room=1).plain == "… 30 more waiting"
    assert waiting_content(waiting(2), room=3).plain.splitlines()[0].startswith("Queue")  # all fit


@given(count=st.integers(1, 40), room=st.integers(1, 45))
def test_the_list_never_outgrows_its_room_and_accounts_for_every_caller(count, room):
    lines = waiting_content(waiting(count), room=room).plain.splitlines()
    shown = sum(1 for line in lines if line.startswith("support"))
    counted = int(lines[-1].split()[1]) if lines[-1].startswith("…") else 0
    assert len(lines) <= room and shown + counted == count


class OnePane(App[None]):
    CSS = ".waiting-pane { display: block; height: 1fr; }"  # the board shows one of its two

    def compose(self) -> ComposeResult:
        yield WaitingPane(id="waiting")


@run_async
async def test_the_list_keeps_its_panes_size_and_counts_the_callers_that_do_not_fit():
    app = OnePane()
    async with app.run_test(size=(80, 11)) as pilot:
        pane = app.query_one(WaitingPane)
        lines = pane.query_one(WaitingLines)
        layouts: list[bool] = []
        refresh = lines.refresh

        def spied(*regions, layout=False, **kwargs):
            layouts.append(layout)
            return refresh(*regions, layout=layout, **kwargs)

        lines.refresh = spied  # type: ignore[method-assign]
        pane.show(waiting(30, flagged_at=20))
        await pilot.pause()
        text = [line.strip() for line in screen_text(app).splitlines()]
        assert text[0].startswith("Waiting 30: 1 flagged") and text[1].startswith("Queue")
        assert [line.split()[2] for line in text[2:10]] == [
            "10:00",
            "9:59",
            "9:58",
            "9:57",
            "9:56",
            "9:55",
            "9:54",
            "9:53",
        ]
        assert text[10] == "… 22 more waiting, 1 flagged"
        size = lines.size
        for count in (31, 4, 30):  # callers come and go: the list's height never follows them
            pane.show(waiting(count))
            await pilot.pause()
        assert lines.size == size and layouts and not any(layouts)
        assert screen_text(app).splitlines()[10].strip() == "… 22 more waiting"

        await pilot.resize_terminal(80, 14)  # a taller pane shows more of them
        deadline = time.monotonic() + 10
        while "… 19 more waiting" not in screen_text(app) and time.monotonic() < deadline:
            await pilot.pause(0.02)
        assert screen_text(app).splitlines()[13].strip() == "… 19 more waiting"
