"""Outcomes, for supervisors: whether promises are kept (tickets/outcomes.py, defined in
docs/OUTCOMES.md) today, this week or over the last 30 days, per queue or per owner, each
share a coloured bar read at a glance.

Keys: 1-3 (or the tabs) choose the period; g switches between per queue and per owner;
Enter on a cell opens the complaints behind it (received, acknowledged late, resolved
late, promises broken, reopened, escalated); ctrl+r reloads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.renderables.bar import Bar
from textual.widgets import DataTable, Tab, Tabs

from tickets.outcome_records import PERIODS, TOTAL, OutcomeFigures, OutcomeReport
from tickets.records import PAGE, ComplaintInfo
from tickets.ui.base import DeskHeader, DeskScreen
from tickets.ui.footer import KeyFooter
from tickets.ui.list_screen import ComplaintTable
from tickets.ui.text import plain

if TYPE_CHECKING:
    from tickets.ui.desk import ComplaintDesk

GROUPINGS = {"queue": "per queue", "owner": "per owner"}
BAR_WIDTH = 10
# A share at or above GOOD is green, at or above FAIR amber, below it red: promises are
# kept or they are not; these are the colours of the board's levels.
GOOD, FAIR = 90.0, 75.0
GREEN, AMBER, RED = "#2da44e", "#ffb000", "#d32f2f"

# The table's columns: key, heading, the drill-down behind a cell of it (None: none).
COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("group", "Group", "received"),
    ("received", "Received", "received"),
    ("ack", "Ack on time", "ack_late"),
    ("resolve", "Resolved on time", "resolve_late"),
    ("promises", "Promises kept", "promise_broken"),
    ("callbacks", "Call-backs kept", None),
    ("reopened", "Reopened", "reopened"),
    ("escalated", "Escalated", "escalated"),
)
DRILL_TITLES = {
    "received": "received",
    "ack_late": "acknowledged late",
    "resolve_late": "resolved late",
    "promise_broken": "promises kept late or missed",
    "reopened": "reopened",
    "escalated": "escalated",
}


def share_bar(pct: float | None, *, higher_is_better: bool = True) -> RenderableType:
    """A share as its percentage and a bar of BAR_WIDTH cells coloured by how good it is;
    a dash when nothing was judged."""
    if pct is None:
        return Text("-", style="dim")
    goodness = pct if higher_is_better else 100.0 - pct
    colour = GREEN if goodness >= GOOD else AMBER if goodness >= FAIR else RED
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=4, justify="right")
    grid.add_column(width=BAR_WIDTH)
    grid.add_row(
        Text(f"{pct:.0f}%", style=colour),
        Bar((0, BAR_WIDTH * pct / 100), highlight_style=colour, width=BAR_WIDTH),
    )
    return grid


def _count(value: int) -> Text:
    return Text(str(value), justify="right", style="" if value else "dim")


def figure_cells(figures: OutcomeFigures) -> dict[str, RenderableType]:
    """One row of the table: a group's figures as cells."""
    escalated = figures.escalated_supervisor + figures.escalated_manager
    return {
        "group": plain(figures.group, "bold" if figures.group == TOTAL else ""),
        "received": _count(figures.received),
        "ack": share_bar(figures.ack_on_time_pct),
        "resolve": share_bar(figures.resolved_on_time_pct),
        "promises": share_bar(figures.follow_ups_kept_on_time_pct),
        "callbacks": share_bar(figures.callbacks_kept_on_time_pct),
        "reopened": share_bar(figures.reopened_pct, higher_is_better=False),
        "escalated": _count(escalated),
    }


class OutcomesScreen(DeskScreen):
    TITLE_TEXT = "Outcomes"
    OPENS = frozenset({"complaints", "new", "notifications", "overview"})
    BINDINGS = [
        Binding("g", "switch_grouping", "Queue/owner"),
        Binding("ctrl+r", "reload", "Reload"),
        *(Binding(str(i), f"show_period({i - 1})", label, show=False) for i, label in enumerate(PERIODS.values(), 1)),
    ]

    def __init__(self, desk: ComplaintDesk) -> None:
        super().__init__(desk)
        self.period = next(iter(PERIODS))
        self.by = "queue"
        self.report: OutcomeReport | None = None
        self.loaded = 0  # loads finished (tests wait on it)

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Tabs(*(Tab(f"{i} {label}", id=f"period-{key}") for i, (key, label) in enumerate(PERIODS.items(), 1)))
        yield DataTable(id="outcomes", cursor_type="cell", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#outcomes", DataTable)
        for key, label, _ in COLUMNS:
            table.add_column(label, key=key)
        table.focus()
        self.say("reading…")
        self.load()

    def load(self) -> None:
        period, by = self.period, self.by

        def done(report: OutcomeReport) -> None:
            if (self.period, self.by) != (period, by):
                return  # another period or grouping was chosen meanwhile: its load follows
            self.report = report
            table = self.query_one("#outcomes", DataTable)
            keep = table.cursor_coordinate
            rows = [(figures.group, figure_cells(figures)) for figures in (*report.groups, report.total)]
            # Columns as wide as this report's cells from the start: a column left to
            # widen itself on the next idle could draw its header at the old width.
            console = self.app.console
            table.clear(columns=True)
            for key, label, _ in COLUMNS:
                widths = [Measurement.get(console, console.options, cells[key]).maximum for _, cells in rows]
                table.add_column(label, key=key, width=max(len(label), *widths))
            for group, cells in rows:
                table.add_row(*(cells[key] for key, _, _ in COLUMNS), key=group)
            if keep.row < table.row_count:
                table.cursor_coordinate = keep
            total = report.total
            self.query_one(DeskHeader).set_title(f"Outcomes: {PERIODS[period]}, {GROUPINGS[by]}")
            self.say(
                f"{total.received} received, {total.ack_judged} acknowledgements and "
                f"{total.follow_ups_due} promises due judged; Enter on a cell opens its complaints"
            )
            self.loaded += 1

        self.run_db(lambda: self.desk.calls.outcomes(period, by), done)

    def action_show_period(self, index: int) -> None:
        self.query_one(Tabs).active = f"period-{list(PERIODS)[index]}"

    @on(Tabs.TabActivated)
    def _period_chosen(self, event: Tabs.TabActivated) -> None:
        period = (event.tab.id or "").removeprefix("period-")
        if period != self.period:
            self.period = period
            self.load()

    def action_switch_grouping(self) -> None:
        self.by = "owner" if self.by == "queue" else "queue"
        self.load()

    def action_reload(self) -> None:
        self.load()

    @on(DataTable.CellSelected, "#outcomes")
    def _drill(self, event: DataTable.CellSelected) -> None:
        group = event.cell_key.row_key.value
        column = event.cell_key.column_key.value
        drill = next((d for key, _, d in COLUMNS if key == column), None)
        if group is None:
            return
        if drill is None:
            self.say("call-backs are not complaints: b opens the call-backs", "info")
            return
        self.app.push_screen(OutcomeComplaintsScreen(self.desk, self.period, self.by, group, drill))


class OutcomeComplaintsScreen(DeskScreen):
    """The complaints behind one cell of the outcomes table (a page of them, oldest first)."""

    OPENS = frozenset({"complaints", "new", "notifications", "overview"})
    BINDINGS = [Binding("ctrl+r", "reload", "Reload")]

    def __init__(self, desk: ComplaintDesk, period: str, by: str, group: str, drill: str) -> None:
        super().__init__(desk)
        self.period, self.by, self.group, self.drill = period, by, group, drill
        self.loaded = 0

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield ComplaintTable(id="complaints")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(DeskHeader).set_title(
            f"{self.group}: {DRILL_TITLES[self.drill]} ({PERIODS[self.period].lower()})"
        )
        self.query_one(ComplaintTable).focus()
        self.load()

    def load(self) -> None:
        desk, now = self.desk, self.desk.clock()

        def done(rows: list[ComplaintInfo]) -> None:
            self.query_one(ComplaintTable).fill(rows, now, desk.tz)
            shown = f"the first {len(rows)}" if len(rows) == PAGE else str(len(rows))
            self.say(f"{shown} complaint{'s' if len(rows) != 1 else ''}" if rows else "No complaints")
            self.loaded += 1

        self.run_db(lambda: desk.calls.outcome_complaints(self.period, self.by, self.group, self.drill), done)

    def action_reload(self) -> None:
        self.load()

    @on(DataTable.RowSelected, "#complaints")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.desk.open_detail(event.row_key.value)
