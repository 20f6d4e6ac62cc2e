"""The supervisor's overview: open complaints by owner (with how many are overdue, due
today, escalated, waiting), then the overdue, escalated and due-today lists.

Tab moves between the tables; Enter on a complaint opens it, on an owner that owner's open
complaints; ctrl+r reloads; r opens the outcomes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label

from tickets.records import PAGE, ComplaintInfo, OwnerLoad
from tickets.ui.base import DeskHeader, DeskScreen
from tickets.ui.footer import KeyFooter
from tickets.ui.list_screen import ComplaintTable
from tickets.ui.text import OVERDUE_STYLE, plain

if TYPE_CHECKING:
    from tickets.ui.desk import ComplaintDesk

LIST_LIMIT = 20
UNASSIGNED = "\x00unassigned"  # the owners table's row key for complaints nobody owns
LISTS = (("overdue", "Overdue"), ("escalated", "Escalated"), ("due_today", "Due today"))


def _count(value: int, style: str = "") -> Text:
    return Text(str(value), style=style if value else "dim", justify="right")


class OverviewScreen(DeskScreen):
    TITLE_TEXT = "Complaints overview"
    OPENS = frozenset({"complaints", "new", "notifications", "outcomes"})
    BINDINGS = [Binding("ctrl+r", "reload", "Reload")]

    def __init__(self, desk: ComplaintDesk) -> None:
        super().__init__(desk)
        self.loaded = 0

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with VerticalScroll(id="overview"):
            yield Label("Open by owner", classes="pane-title")
            yield DataTable(id="owners", cursor_type="row", zebra_stripes=True, classes="overview-table")
            for key, title in LISTS:
                yield Label(title, classes="pane-title", id=f"title-{key}")
                yield ComplaintTable(id=f"list-{key}", classes="overview-table")
        yield KeyFooter()

    def on_mount(self) -> None:
        owners = self.query_one("#owners", DataTable)
        for key, label in (
            ("owner", "Owner"),
            ("open", "Open"),
            ("overdue", "Overdue"),
            ("due_today", "Due today"),
            ("escalated", "Escalated"),
            ("waiting", "Waiting"),
        ):
            owners.add_column(label, key=key)
        owners.focus()
        self.load()

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.load()

    def load(self) -> None:
        desk = self.desk
        now = desk.clock()

        def done(result: tuple[list[OwnerLoad], dict[str, list[ComplaintInfo]]]) -> None:
            loads, lists = result
            owners = self.query_one("#owners", DataTable)
            owners.clear()
            for load in loads:
                owners.add_row(
                    plain(load.owner or "unassigned", "" if load.owner else "italic"),
                    _count(load.open),
                    _count(load.overdue, OVERDUE_STYLE),
                    _count(load.due_today, "bold"),
                    _count(load.escalated, OVERDUE_STYLE),
                    _count(load.waiting),
                    key=load.owner or UNASSIGNED,
                )
            for key, title in LISTS:
                rows = lists[key]
                self.query_one(f"#list-{key}", ComplaintTable).fill(rows, now, desk.tz)
                shown = f"{len(rows)}+" if len(rows) == LIST_LIMIT else str(len(rows))
                self.query_one(f"#title-{key}", Label).update(f"{title}: {shown}")
            total = sum(load.open for load in loads)
            overdue = sum(load.overdue for load in loads)
            self.say(f"{total} open, {overdue} overdue", "info")
            self.loaded += 1

        self.run_db(lambda: desk.calls.overview([key for key, _ in LISTS], LIST_LIMIT), done)

    def action_reload(self) -> None:
        self.load()

    @on(DataTable.RowSelected, ".overview-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is None:
            return
        if isinstance(event.data_table, ComplaintTable):
            self.desk.open_detail(key)
        else:
            owner = key
            self.app.push_screen(OwnerScreen(self.desk, None if owner == UNASSIGNED else owner))


class OwnerScreen(DeskScreen):
    """One owner's open complaints, most urgent first, from a row of the overview."""

    OPENS = frozenset({"complaints", "new", "notifications", "overview"})
    BINDINGS = [Binding("r", "reload", "Reload")]

    def __init__(self, desk: ComplaintDesk, owner: str | None) -> None:
        super().__init__(desk)
        self.owner = owner
        self.loaded = 0

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield ComplaintTable(id="complaints")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(DeskHeader).set_title(f"Open: {self.owner}" if self.owner else "Open: unassigned")
        self.query_one(ComplaintTable).focus()
        self.load()

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.load()

    def load(self) -> None:
        desk, owner, now = self.desk, self.owner, self.desk.clock()

        def done(rows: list[ComplaintInfo]) -> None:
            self.query_one(ComplaintTable).fill(rows, now, desk.tz)
            shown = f"{len(rows)}+" if len(rows) == PAGE else str(len(rows))
            self.say(f"{shown} open complaint{'s' if len(rows) != 1 else ''}" if rows else "No open complaints")
            self.loaded += 1

        self.run_db(lambda: desk.calls.owned_by(owner), done)

    def action_reload(self) -> None:
        self.load()

    @on(DataTable.RowSelected, "#complaints")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.desk.open_detail(event.row_key.value)
