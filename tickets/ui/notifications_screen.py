"""The inbox: the user's notifications, newest first, unread in bold.

Enter opens the complaint (and marks the notification read); m marks the highlighted
one read, a marks all read; the list follows new arrivals.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from tickets import records
from tickets.ui.base import DeskScreen
from tickets.ui.desk import KIND_TITLES, ComplaintDesk
from tickets.ui.footer import KeyFooter
from tickets.ui.text import one_line, when

LIMIT = 200


class NotificationsScreen(DeskScreen):
    TITLE_TEXT = "Inbox"
    OPENS = frozenset({"complaints", "new", "overview"})
    BINDINGS = [
        Binding("m", "mark_read", "Mark read"),
        Binding("a", "mark_all_read", "All read"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, desk: ComplaintDesk) -> None:
        super().__init__(desk)
        self.notes: dict[str, records.NotificationInfo] = {}
        self.loaded = 0

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield DataTable(id="notes", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#notes", DataTable)
        for key, label in (("when", "When"), ("kind", "What"), ("ref", "Complaint"), ("text", "Message")):
            table.add_column(label, key=key)
        table.focus()
        self.desk.inbox_changed.subscribe(self, lambda _count: self.load())
        self.load()

    def on_unmount(self) -> None:
        self.desk.inbox_changed.unsubscribe(self)

    def load(self) -> None:
        calls, now = self.desk.calls, self.desk.clock()

        def done(notes: list[records.NotificationInfo]) -> None:
            table = self.query_one("#notes", DataTable)
            keep = self._current()
            table.clear()
            self.notes = {}
            for note in notes:
                key = str(note.id)
                self.notes[key] = note
                self._add(table, note, now)
            if keep is not None and keep in table.rows:
                table.move_cursor(row=table.get_row_index(keep))
            unread = sum(not n.read for n in notes)
            self.say(
                f"{len(notes)} notification{'s' if len(notes) != 1 else ''}, {unread} unread"
                if notes
                else "No notifications",
                "info",
            )
            self.loaded += 1

        self.run_db(lambda: calls.notifications(LIMIT), done)

    def _add(self, table: DataTable[Text], note: records.NotificationInfo, now: float) -> None:
        style = "" if note.read else "bold"
        table.add_row(
            Text(("  " if note.read else "● ") + when(note.created_at, now, self.desk.tz), style=style),
            Text(KIND_TITLES.get(note.kind, note.kind), style=style),
            Text(note.complaint_ref or "-", style=style),
            Text(one_line(note.text, 120), style=style),
            key=str(note.id),
        )

    def _current(self) -> str | None:
        table = self.query_one("#notes", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _mark(self, ids: list[int] | None, then: Callable[[], None] | None = None) -> None:
        calls = self.desk.calls

        def done(_count: int) -> None:
            self.desk.poll()  # the badge follows at once
            if then is not None:
                then()
            self.load()

        self.run_db(lambda: calls.mark_read(ids), done)

    def action_mark_read(self) -> None:
        key = self._current()
        if key is not None and not self.notes[key].read:
            self._mark([int(key)])

    def action_mark_all_read(self) -> None:
        if any(not n.read for n in self.notes.values()):
            self._mark(None)

    def action_reload(self) -> None:
        self.load()

    @on(DataTable.RowSelected, "#notes")
    def _open(self, event: DataTable.RowSelected) -> None:
        note = self.notes.get(event.row_key.value or "")
        if note is None:
            return
        if not note.read:
            self._mark([note.id])
        if note.complaint_ref:
            self.desk.open_detail(note.complaint_ref)
