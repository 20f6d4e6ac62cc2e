"""Alerts with a life on the board (Pilot, a real SQLite file): the strip's "since"/"for",
the acknowledge key (a supervisor's; an agent and nobody are told why not), a cleared alert
that leaves the strip after a while, and the alert history screen."""

from __future__ import annotations

import copy

from textual.widgets import Static

from tests.support import screen_text, until
from tests.support.floor_seed import NOW, seed_floor
from tests.tui.test_wallboard_app import Clock, board, run_async, settle
from tickets import users
from wallboard.server.runtime import local_app
from wallboard.store.alert_log import AlertKeeper
from wallboard.ui.alert_history import AlertHistoryScreen


def strip(app) -> str:
    """The alert strip's whole text (scrolled out of sight or not)."""
    return str(board(app).query_one("#alerts", Static).content)


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


def floor_with_people(engine, settings):
    seed_floor(engine, settings)
    users.add_user(engine, "maria", "supervisor", now=NOW - 86400)
    users.add_user(engine, "ann", "agent", now=NOW - 86400)
    AlertKeeper(engine, settings).keep(NOW)  # the active server's writer, once


@run_async
async def test_supervisor_acknowledges_a_cleared_alert_leaves_and_the_history_keeps_it(engine, settings):
    floor_with_people(engine, settings)
    clock = Clock(NOW + 12 * 60)
    app = local_app(engine, settings.signed_in("maria", "supervisor"), user="maria", clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        text = strip(app)
        assert "since 13:59" in text and "a caller has waited" in text and "for 12 min" in text
        assert "<=" not in text
        await pilot.press("a")
        await until(pilot, lambda: "ack maria" in strip(app), "the acknowledgement on the strip")
        assert any("Acknowledged 5 alerts as maria" in m for m in messages(app))

        # The condition goes (the writer clears it): greyed "cleared" for a while, then gone.
        patient = copy.deepcopy(settings)
        patient.thresholds.long_call_minutes = 600
        AlertKeeper(engine, patient).keep(NOW + 13 * 60)
        app.settings = patient
        clock.now = NOW + 13 * 60 + 5
        app.redraw()
        app._start_read()
        await until(pilot, lambda: "cleared 14:13" in strip(app), "the cleared alert")
        assert "lasted" in strip(app)
        # Raised at 13:53, when the call passed 15 min; cleared at 14:13.
        assert app.view is not None and app.view.cleared_alerts[0].duration_label(clock.now) == "lasted 20 min"
        clock.now += settings.board.cleared_alert_seconds + 1
        app._start_read()
        await until(pilot, lambda: "cleared 14:13" not in strip(app), "the cleared alert to leave")

        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, AlertHistoryScreen) and app.screen.loads, "the alert history")
        history = screen_text(app)
        assert "Alerts today: 6, 5 on now" in history  # support's caller has waited too long since 14:01
        assert "Maria Garcia: on one call" in history and "maria at 14:12" in history
        await pilot.press("escape")
        assert not isinstance(app.screen, AlertHistoryScreen)


@run_async
async def test_an_agent_and_nobody_are_told_why_they_cannot_acknowledge(engine, settings):
    floor_with_people(engine, settings)
    agent = local_app(engine, settings.signed_in("ann", "agent"), user="ann", clock=Clock(NOW + 60))
    async with agent.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await until(pilot, lambda: any("supervisors only" in m for m in messages(agent)), "the refusal")
        assert "ack " not in screen_text(agent)
    nobody = local_app(engine, settings, clock=Clock(NOW + 60))
    async with nobody.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        assert any("No user signed in" in m for m in messages(nobody))
