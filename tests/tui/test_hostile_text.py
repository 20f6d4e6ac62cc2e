"""Text from outside never reaches the terminal as anything but text: the hostile corpus
(tests/support/hostile.py) put into every field the screens draw (queue, agent and caller
names, pause reasons, the site's name, complaint subject, customer, contact, description,
notes, notifications), then every screen opened with Pilot, with a driver that records
exactly what Textual writes to the terminal, checked for any escape sequence the app did
not write itself.

The names and texts are written to the database directly, past the checks at the edge
(the feeds' cleaning, the complaint service's): the screens must hold on their own.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from textual import events
from textual.drivers.headless_driver import HeadlessDriver

from db.engine import write_transaction
from db.reminders import Notification
from tests.support import Clock, screen_text
from tests.support.floor_seed import NOW
from tests.support.hostile import APP_TUI, CORPUS, MARIA_CALLER, foreign, mix, seed_hostile
from tests.tui.test_complaints_ui import on_screen, started, toasts, until
from tickets.ui.detail_screen import ComplaintDetailScreen
from tickets.ui.forms import FormView
from tickets.ui.list_screen import ComplaintListScreen
from tickets.ui.new_screen import NewComplaintScreen
from tickets.ui.notifications_screen import NotificationsScreen
from wallboard.server.runtime import local_app
from wallboard.ui.board_screen import BoardScreen, FilterBar


class RecordingDriver(HeadlessDriver):
    """Textual's test driver, but the app draws through it as on a terminal (a headless
    driver is skipped) and every write is kept: the exact terminal stream."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.writes: list[str] = []

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        self.writes.append(data)


def stream_of(app) -> str:
    """What the app wrote to the terminal, but its bells (a write of "\\a" alone: `App.bell`)."""
    return "".join(w for w in app._driver.writes if w != "\x07")


@pytest.fixture
def hostile(engine, settings):
    return engine, settings, seed_hostile(engine, settings)


async def paste(pilot, widget, value: str) -> None:
    """A bracketed paste into `widget`, as the terminal delivers one (to the app, which
    hands it to the focused widget)."""
    widget.focus()
    await pilot.pause()
    pilot.app.post_message(events.Paste(value))
    await pilot.pause()


def drawn(app, *pieces: str) -> bool:
    shown = screen_text(app)
    return all(piece in shown for piece in pieces)


def test_hostile_text_reaches_the_terminal_only_as_text_on_every_screen(hostile):
    engine, settings, svc = hostile
    asyncio.run(_every_screen(engine, settings, svc))


async def _every_screen(engine, settings, svc) -> None:
    app = local_app(engine, settings, clock=Clock(NOW), user="maria", inbox_poll_seconds=0.2)
    app.driver_class = RecordingDriver
    async with app.run_test(headless=False, size=(160, 50), notifications=True) as pilot:
        await started(pilot)
        # The board: tiles, agents (names, pause reasons), alerts, the site's name.
        assert isinstance(app.screen, BoardScreen)
        await until(pilot, lambda: drawn(app, "␛]52;c;cHduZWQ=␇Ann", "␛]0;PWNED-TITLE␇Site"), "the hostile board")
        await pilot.press("w")
        await until(pilot, lambda: drawn(app, "PWNED-TITLE␇sales2"), "the wall")
        await pilot.press("w")
        # The filter: a pasted escape sequence is drawn as symbols.
        await pilot.press("slash")
        bar = app.screen.query_one(FilterBar)
        await paste(pilot, bar, CORPUS["osc_title"])
        assert "\x1b" not in bar.value and "\x07" not in bar.value
        await pilot.press("escape")

        # New complaint: the hostile caller in the contact field, a paste into another field.
        await pilot.press("n")
        screen = await on_screen(pilot, NewComplaintScreen)
        form = screen.query_one(FormView)
        assert form.value("contact") == MARIA_CALLER  # data as stored: the service cleans it on saving
        await paste(pilot, form.widget("customer"), CORPUS["csi_clear"] + "Smith")
        await until(pilot, lambda: drawn(app, "␛[2J␛[3JSmith"), "the pasted customer drawn")
        await paste(pilot, form.widget("description"), CORPUS["osc52_clipboard"] + "\nline two")
        assert form.value("description") == "␛]52;c;cHduZWQ=␇\nline two"
        await until(pilot, lambda: drawn(app, "caller ␛]52;c;cHduZWQ=␇", "␛]52;c;cHduZWQ=␇␛[6n"), "the caller drawn")
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen), "the form closed")

        # The complaint list and a complaint's detail (subject, customer, description, notes).
        await pilot.press("c")
        await on_screen(pilot, ComplaintListScreen)
        await until(pilot, lambda: drawn(app, "␛]0;PWNED-TITLE␇[b]bold[/b]"), "the hostile subject listed")
        app.desk.open_detail("C-000001")
        await on_screen(pilot, ComplaintDetailScreen)
        await until(pilot, lambda: drawn(app, "␛[5;7;31mBLINK", "[link=http://evil.example]x[/link]"), "the detail")

        # A toast of a notification arriving now, then the inbox.
        with write_transaction(engine) as connection:  # in one write: the poll sees it whole
            maria = connection.scalar(text("SELECT id FROM users WHERE name = 'maria'"))
            connection.execute(
                Notification.__table__.insert().values(
                    user_id=maria,
                    kind="assigned_to_you",
                    complaint_id=1,
                    text=mix("osc52_clipboard", "c0"),
                    created_at=NOW,
                )
            )
        await until(pilot, lambda: any("␛]52;c;cHduZWQ=␇" in t for t in toasts(app)), "the hostile toast")
        await until(pilot, lambda: drawn(app, "<osc52_clipboard>␛]52"), "the toast drawn")
        await pilot.press("escape", "escape")
        await pilot.press("i")
        await on_screen(pilot, NotificationsScreen)
        await until(pilot, lambda: drawn(app, "␛]0;PWNED-TITLE␇<c1_csi>"), "the inbox")

        stream = stream_of(app)
    assert "PWNED-TITLE" in stream and "cHduZWQ=" in stream  # the hostile text was drawn, as text
    assert foreign(stream, APP_TUI) == []
