"""The alert history (`h`): today's alerts with when each was raised and cleared, how long
it lasted and who acknowledged it, the latest first.

It reads through the board's source (`alerts_today`: the database here, the server over an
SSH session's link), off the event loop, once when opened and again on `r`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tickets.ui.footer import KeyFooter
from wallboard.calls.alerts import AlertRecord, format_minutes
from wallboard.calls.board import format_clock
from wallboard.calls.levels import ALERT
from wallboard.config import Settings
from wallboard.text import one_line, printable
from wallboard.ui.colours import ALERT_BLOCK, WARN_BLOCK


class AlertHistorySource(Protocol):
    def alerts_today(self, now: float) -> Sequence[AlertRecord]: ...


COLUMNS = ("Raised", "Cleared", "Lasted", "Alert", "Acknowledged")


def history_row(record: AlertRecord, settings: Settings, now: float) -> tuple[Content | str, ...]:
    """One alert as a row of the table (times as HH:MM; "on" while it is not cleared)."""

    def clock(ts: float) -> str:
        return format_clock(ts, settings, seconds=False)

    end = record.cleared_at if record.cleared_at is not None else now
    style = f"bold white on {ALERT_BLOCK}" if record.level == ALERT else f"black on {WARN_BLOCK}"
    acknowledged = (
        f"{printable(record.acknowledged_by)} at {clock(record.acknowledged_at)}"
        if record.acknowledged_by and record.acknowledged_at is not None
        else ""
    )
    return (
        clock(record.raised_at),
        clock(record.cleared_at) if record.cleared_at is not None else Content.styled(" on ", style),
        format_minutes(max(0.0, end - record.raised_at)),
        printable(record.text),
        acknowledged,
    )


class AlertHistoryScreen(Screen[None]):
    """Today's alerts. Esc (or h) goes back to the board; r reads them again."""

    BINDINGS = [
        Binding("escape,h", "app.pop_screen", "Board"),
        Binding("r", "reload", "Reload"),
    ]
    DEFAULT_CSS = """
    AlertHistoryScreen #history-title {
        height: 1;
        text-style: bold;
        padding: 0 1;
    }
    AlertHistoryScreen DataTable {
        height: 1fr;
    }
    """

    def __init__(self, source: AlertHistorySource, settings: Settings, clock: Callable[[], float]) -> None:
        super().__init__()
        self.source, self.settings, self.clock = source, settings, clock
        self.loads = 0  # reads shown so far (tests wait on it)

    def compose(self) -> ComposeResult:
        yield Static("Alerts today", id="history-title", markup=False)
        yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.action_reload()

    def action_reload(self) -> None:
        now = self.clock()
        read = asyncio.get_running_loop().run_in_executor(None, self._read, now)
        read.add_done_callback(lambda done: self._show(now, *done.result()) if not done.cancelled() else None)

    def _read(self, now: float) -> tuple[Sequence[AlertRecord], str | None]:
        try:
            return self.source.alerts_today(now), None
        except Exception as exc:
            return (), one_line(exc)

    def _show(self, now: float, records: Sequence[AlertRecord], error: str | None) -> None:
        if not self.is_attached:
            return
        table = self.query_one(DataTable)
        table.clear()
        for record in records:
            table.add_row(*history_row(record, self.settings, now), key=str(record.id))
        title = self.query_one("#history-title", Static)
        if error is not None:
            title.update(f"Alerts today: cannot read them: {error}")
        else:
            on = sum(1 for r in records if r.cleared_at is None)
            title.update(f"Alerts today: {len(records)}, {on} on now  ·  r reloads, Esc back to the board")
        self.loads += 1
