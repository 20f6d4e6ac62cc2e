"""An agent's own view (`m`): their state, calls and AHT against the band from the board,
the promises they own from their desk; in the all-in-one process and over a session link
as an SSH session's process gets them."""

from __future__ import annotations

import pytest

from tests.support import run_async, screen_text, until
from tests.support.floor_seed import NOW, seed_floor, seed_promises
from tests.support.links import LinkServer
from tickets import users
from tickets.user_desk import UserDesk
from wallboard.server.runtime import local_app
from wallboard.ui.board_screen import BoardScreen
from wallboard.ui.own_view import OwnView


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def floor(engine, settings):
    seed_floor(engine, settings)
    seed_promises(engine, settings)  # ann owns them
    users.add_user(engine, "dee", "display", now=NOW - 86400)
    settings.complaints.agent_names = {"ann": "Maria Garcia"}
    return engine, settings


@pytest.fixture(params=["local", "link"])
def make_app(request, floor):
    links = []

    def make(user, clock):
        engine, settings = floor
        if request.param == "local":
            return local_app(engine, settings, clock=clock, user=user, poll_seconds=0.05)
        links.append(LinkServer(engine, settings, user, clock))
        return links[-1].app(poll_seconds=0.05)

    yield make
    for link in links:
        link.close()


def test_the_desk_knows_the_agent_and_their_promises_due_today(floor):
    engine, settings = floor
    own = UserDesk(engine, settings, "ann", Clock()).own_desk()
    assert own.agent == "Maria Garcia"
    # 12:00 and 13:50 overdue (13:30 is the resolved complaint's: still owed), 16:00 later
    # today; tomorrow's, the kept one and the coaching do not count.
    assert (own.overdue, own.due_today) == (3, 1)
    assert [p.due_at for p in own.soonest] == sorted(p.due_at for p in own.soonest)
    assert all(p.kind in ("callback", "action") for p in own.soonest)


@run_async
async def test_m_shows_my_figures_and_m_goes_back_to_the_floor(make_app):
    clock = Clock()
    app = make_app("ann", clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.view is not None, "the first board read")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, OwnView) and app.screen.reads >= 1, "my figures")
        text = screen_text(app)
        assert "My figures: ann" in text
        assert "on call" in text and "for 22:00" in text  # Maria's long call
        assert "Calls today" in text and "4" in text
        assert "3:20  (target 3:00 to 5:00)" in text
        assert "3 overdue · 1 due later today" in text
        clock.now += 5
        await until(pilot, lambda: "for 22:05" in screen_text(app), "the time in state to tick")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen), "the floor")


@run_async
async def test_my_figures_say_why_not_without_a_user_or_an_agent(floor):
    engine, settings = floor
    app = local_app(engine, settings, clock=Clock(), user=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.view is not None, "the first board read")
        await pilot.press("m")
        await until(pilot, lambda: app._notifications, "a notice")
        assert not isinstance(app.screen, OwnView)
        assert "signed-in agent" in next(iter(app._notifications)).message
    settings.complaints.agent_names = {}
    app = local_app(engine, settings, clock=Clock(), user="ann")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.view is not None, "the first board read")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, OwnView) and app.screen.reads >= 1, "my figures")
        assert "knows no agent 'ann'" in screen_text(app)
