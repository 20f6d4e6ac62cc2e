"""An agent's own view: their state and time in it, calls today, AHT against the band, and
the promises to customers they own that fall due today. `m` opens it from the board and
takes them back to the floor.

The call figures come from the board the app reads each second (`show`); the promises from
the user's desk (`own_desk`, a tickets.user_desk.UserDesk or, in an SSH session, the
server's over the session link), read every few seconds off the event loop, as the inbox.
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Label, Static

from tickets.records import OwnDesk
from tickets.ui.footer import KeyFooter
from wallboard.calls.board import BoardState, format_clock, own_figures
from wallboard.calls.levels import ALERT, NONE, OK, WARN
from wallboard.text import format_duration, printable
from wallboard.ui.colours import ALERT_BLOCK, OK_TEXT, WARN_BLOCK
from wallboard.ui.widgets import set_level_class

LEVEL_STYLES = {OK: OK_TEXT, WARN: f"black on {WARN_BLOCK}", ALERT: f"bold white on {ALERT_BLOCK}", NONE: ""}
SOONEST_SHOWN = 5


class OwnView(Screen[None]):
    """The signed-in agent's own figures; the floor is one key (`m` or Esc) away."""

    DEFAULT_CSS = """
    OwnView {
        align: center top;
    }
    OwnView #own-title {
        width: 1fr;
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    OwnView #own-body {
        width: 72;
        max-width: 100%;
        height: auto;
        padding: 1 2;
    }
    OwnView .own-line {
        width: 1fr;
        height: auto;
        margin-bottom: 1;
    }
    OwnView #own-promises.-alert {
        color: $text-error;
    }
    """

    BINDINGS = [
        Binding("m", "floor", "Floor"),
        Binding("escape", "floor", "Floor", show=False),
    ]

    def __init__(self, user: str, poll_seconds: float = 2.0) -> None:
        super().__init__()
        self.user = user
        self.poll_seconds = poll_seconds
        self.desk_figures: OwnDesk | None = None
        self.desk_problem: str | None = None
        self.reads = 0  # desk reads answered (tests wait on it)
        self._board: BoardState | None = None
        self._reading = False

    def compose(self) -> ComposeResult:
        yield Label(id="own-title", markup=False)
        with Vertical(id="own-body"):
            yield Static(id="own-state", classes="own-line", markup=False)
            yield Static(id="own-calls", classes="own-line", markup=False)
            yield Static(id="own-aht", classes="own-line", markup=False)
            yield Static(id="own-promises", classes="own-line", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_interval(self.poll_seconds, self._read_desk)
        self._read_desk()
        self._draw()

    def action_floor(self) -> None:
        self.dismiss()

    # -- data --------------------------------------------------------------------------

    def show(self, board: BoardState) -> None:
        """The board as read (or re-judged) this second: the agent's figures tick on."""
        self._board = board
        if self.is_mounted:
            self._draw()

    def _read_desk(self) -> None:
        desk = getattr(self.app, "desk", None)
        if desk is None or desk.calls is None or self._reading:
            return
        self._reading = True
        desk.run(desk.calls.own_desk, self._desk_read, self._desk_failed, owner=self)

    def _desk_read(self, figures: OwnDesk) -> None:
        self._reading = False
        self.desk_figures, self.desk_problem = figures, None
        self.reads += 1
        self._draw()

    def _desk_failed(self, message: str, _error: BaseException) -> None:
        self._reading = False
        self.desk_problem = message
        self.reads += 1
        self._draw()

    # -- drawing -----------------------------------------------------------------------

    def _draw(self) -> None:
        try:
            self._draw_figures()
        except NoMatches:
            return  # a read that finished while the app closed: nothing left to draw on

    def _draw_figures(self) -> None:
        board, desk = self._board, self.desk_figures
        agent = desk.agent if desk is not None else None
        title = f"My figures: {printable(self.user)}"
        if board is not None:
            title += f"  ·  {format_clock(board.now, board.settings)}"
        self.query_one("#own-title", Label).update(Content(title + "  ·  m: the floor"))
        state = self.query_one("#own-state", Static)
        calls = self.query_one("#own-calls", Static)
        aht = self.query_one("#own-aht", Static)
        figures = None if board is None else own_figures(board, agent)
        if figures is None:
            if desk is None:
                why = self.desk_problem or "Reading your figures..."
            elif agent is None:
                why = (
                    f"The call data knows no agent {printable(self.user)!r}: your agent name can be set in "
                    "config.toml [complaints.agent_names]."
                )
            else:
                why = f"Agent {printable(agent)} is not on the board today."
            state.update(Content(why))
            calls.update("")
            aht.update("")
        else:
            row = figures.agent
            level = row.level
            state.update(
                Content.assemble(
                    ("State          ", "$text-muted"),
                    (f" {printable(row.state_label)} ", LEVEL_STYLES[level] if level != NONE else "bold"),
                    f"  for {format_duration(row.seconds_in_state)}",
                )
            )
            calls.update(Content.assemble(("Calls today    ", "$text-muted"), (f" {row.calls_today} ", "bold")))
            aht.update(
                Content.assemble(
                    ("AHT today      ", "$text-muted"),
                    (f" {figures.aht_text} ", LEVEL_STYLES[row.aht_level]),
                )
            )
        self._draw_promises(board, desk)

    def _draw_promises(self, board: BoardState | None, desk: OwnDesk | None) -> None:
        widget = self.query_one("#own-promises", Static)
        if desk is None:
            widget.update(Content(self.desk_problem or ""))
            return
        lines = [
            Content.assemble(
                ("Promises due   ", "$text-muted"),
                (f"{desk.overdue} overdue", LEVEL_STYLES[ALERT] if desk.overdue else ""),
                f" · {desk.due_today} due later today",
            )
        ]
        tz = board.settings.site.tz if board is not None else None
        now = board.now if board is not None else None
        for promise in desk.soonest[:SOONEST_SHOWN]:
            when = datetime.fromtimestamp(promise.due_at, tz).strftime("%H:%M")
            late = now is not None and promise.due_at < now
            lines.append(
                Content.assemble(
                    "               ",
                    (f"{promise.complaint_ref} {printable(promise.kind)} due {when}", "bold" if late else ""),
                    (" overdue", "$text-error") if late else "",
                )
            )
        widget.update(Content("\n").join(lines))
        set_level_class(widget, ALERT if desk.overdue else OK)
