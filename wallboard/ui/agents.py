"""The agent table: one keyed row per agent, updated by difference, never rebuilt.

Each refresh compares every cell with what is on screen and touches only the cells that
changed (inside the app's `batch_update`, so the table repaints once). Rows are added and
removed by agent name; the order is changed only when it really changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.widgets import DataTable

from wallboard.board import AgentRow, format_duration, printable
from wallboard.ui.colours import ALERT_BLOCK, OK_TEXT, WARN_BLOCK

COLUMNS = (
    ("name", "Agent"),
    ("state", "State"),
    ("time", "Time"),
    ("queue", "Queue"),
    ("calls", "Calls"),
    ("aht", "AHT"),
)
WIDE_COLUMN = ("queues", "Takes calls from")
RIGHT = {"time", "calls", "aht"}
# Ticking and numeric columns keep one width (h:mm:ss, 5 digits): they never jump or cut.
FIXED = {"time": 7, "calls": 5, "aht": 5}


class AgentTable(DataTable):
    """Agents by state; long calls (white on red) and long pauses (black on amber) stand out.

    State colours follow the theme; the two warnings use the fixed level colours.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._cells: dict[str, tuple] = {}  # agent -> the (text, style) of each cell shown
        self._order: list[str] = []
        self._styles: dict[str, Style] = {}
        self.wide = False
        for key, label in COLUMNS:
            self.add_column(Text(label, justify="right" if key in RIGHT else "left"), key=key, width=FIXED.get(key))

    # -- styles from the theme -------------------------------------------------------

    def restyle(self) -> None:
        """Cell styles from the current theme; every cell is redrawn on the next sync."""
        variables = self.app.theme_variables

        def colour(name: str) -> Style:
            try:
                return Style(color=Color.parse(variables[name]).rich_color)
            except Exception:  # noqa: BLE001 - a theme without that colour: plain text
                return Style()

        self._styles = {
            "available": Style(color=OK_TEXT),
            "on_call": colour("text-primary"),
            "ringing": colour("text-accent") + Style(bold=True),
            "wrap_up": Style(italic=True),
            "paused": colour("text-secondary"),
            "logged_out": Style(dim=True),
            "alert": Style(color="white", bgcolor=ALERT_BLOCK, bold=True),
            "warn": Style(color="black", bgcolor=WARN_BLOCK),
            "muted": Style(dim=True),
        }
        self._cells = {name: () for name in self._cells}

    # -- the diff ---------------------------------------------------------------------

    def set_wide(self, wide: bool) -> None:
        """On large terminals, a column with the queues each agent takes calls from."""
        if wide == self.wide:
            return
        self.wide = wide
        key = WIDE_COLUMN[0]
        if wide:
            self.add_column(WIDE_COLUMN[1], key=key, default=Text(""))
        else:
            self.remove_column(key)
        self._cells = {name: () for name in self._cells}

    def sync(self, rows: Sequence[AgentRow]) -> None:
        """Make the table show `rows`, in their order, touching only what changed."""
        if not self._styles:
            self.restyle()
        wanted = {row.name: row for row in rows}
        for name in [n for n in self._cells if n not in wanted]:
            self.remove_row(name)
            del self._cells[name]
        keys = [key for key, _ in COLUMNS] + ([WIDE_COLUMN[0]] if self.wide else [])
        for row in rows:
            cells = self._row_cells(row)
            old = self._cells.get(row.name)
            if old is None:
                self.add_row(*(cells[k] for k in keys), key=row.name)
            else:
                for index, key in enumerate(keys):
                    new = cells[key]
                    if not old or old[index] != (new.plain, new.style):
                        grow = key in ("name", "state", "queue", WIDE_COLUMN[0])
                        self.update_cell(row.name, key, new, update_width=grow)
            self._cells[row.name] = tuple((cells[k].plain, cells[k].style) for k in keys)
        order = [row.name for row in rows]
        if order != self._order:
            self._reorder(order)

    def _reorder(self, order: list[str]) -> None:
        current = None
        if self.row_count and self.cursor_row < self.row_count:
            current = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        # The sort key sees cells, not row keys: rank by the name as drawn. (Two names
        # differing only in control characters draw alike and keep their relative order.)
        rank: dict[str, int] = {}
        for index, name in enumerate(order):
            rank.setdefault(printable(name), index)
        self.sort("name", key=lambda cell: rank.get(cell.plain, len(rank)))
        self._order = order
        if current is not None:
            self.move_cursor(row=self.get_row_index(current), animate=False, scroll=False)

    def _row_cells(self, row: AgentRow) -> dict[str, Text]:
        s = self._styles
        flag_style = s["alert"] if row.flag == "long_call" else s["warn"] if row.flag == "long_pause" else None
        state_style = flag_style or s.get(row.state, Style())
        aht = format_duration(row.aht_today) if row.aht_today is not None else "-"
        cells = {
            "name": Text(printable(row.name), style=Style(bold=True) if row.flag else Style()),
            "state": Text(printable(row.state_label), style=state_style),
            "time": Text(format_duration(row.seconds_in_state), style=flag_style or Style(), justify="right"),
            "queue": Text(printable(row.current_queue) or "", style=s["muted"] if not row.current_queue else Style()),
            "calls": Text(str(row.calls_today), justify="right"),
            "aht": Text(aht, justify="right"),
        }
        if self.wide:
            cells[WIDE_COLUMN[0]] = Text(", ".join(printable(q) for q in row.queues), style=s["muted"])
        return cells

    @property
    def order(self) -> list[str]:
        return list(self._order)

