"""The agent table: one keyed row per agent, updated by difference, never rebuilt.

Each refresh compares the rows with what is on screen and touches only the cells that
changed; rows out of sight skip their ticking time until they scroll into view. Rows are
added and removed by agent name; the order is changed only when it really changed.

Drawing cost follows what is on screen, not the size of the floor (500 agents measured in
tests/benchmarks/wallboard.py): only cells and rows that changed on screen are repainted
and sent to the terminal, and a cell is rendered again only when its own value changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.color import Color
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from wallboard.calls.board import AgentRow
from wallboard.text import format_duration, printable
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
TIME_INDEX = [key for key, _ in COLUMNS].index("time")


# What a row shows but its time: state, pause reason, queue, calls, AHT, flag, queues.
Signature = tuple[str, str | None, str | None, int, float | None, str | None, tuple[str, ...]]
ShownCell = tuple[str, str | Style]  # a cell's text and style as drawn


def _signature(row: AgentRow) -> Signature:
    """Everything a row shows except its ticking time in state."""
    return (row.state, row.pause_reason, row.current_queue, row.calls_today, row.aht_today, row.flag, row.queues)


class AgentTable(DataTable):
    """Agents by state; long calls (white on red) and long pauses (black on amber) stand out.

    State colours follow the theme; the two warnings use the fixed level colours.
    """

    _whole_refresh_muted = False  # see `refresh` (a class default: DataTable refreshes in __init__)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id, classes=classes)
        self._cells: dict[str, tuple[ShownCell, ...]] = {}  # agent -> the (text, style) of each cell shown
        self._signatures: dict[str, Signature] = {}  # agent -> what the row showed, but its time
        self._rows: dict[str, AgentRow] = {}  # the last rows given, by agent
        self._repaint_rows: set[int] = set()  # what a narrowed sync repaints (see `sync`)
        self._repaint_all = False
        # Rendered body cells, kept across updates of other cells (see `_render_cell`).
        self._cell_renders: LRUCache[tuple[object, ...], tuple[object, list[list[Segment]]]] = LRUCache(4000)
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
            except Exception:
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
        self._cell_renders.clear()

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
        self._cell_renders.clear()

    def sync(self, rows: Sequence[AgentRow]) -> None:
        """Make the table show `rows`, in their order, touching only what changed.

        Rows on screen get every change, their ticking time included. Rows scrolled out
        of sight get only real changes (state, queue, calls ...): their time in state is
        brought up to date when they scroll (or the table grows) into view. So a floor of
        500 agents costs about what the ~40 rows on screen cost, not 500 cell updates a
        second.

        What is repainted is narrowed the same way: `update_cell` and `sort` repaint the
        whole table, which sends every visible row to the terminal again each second.
        Unless rows come or go, those repaints are held back and only the cells and rows
        that changed on screen (a ticking time, a new state, a row that moved) repaint.
        """
        if not self._styles:
            self.restyle()
        wanted = {row.name: row for row in rows}
        self._rows = wanted
        keys = self._keys()
        order = [row.name for row in rows]
        span = self._visible_span()
        structural = any(name not in wanted for name in self._cells) or any(row.name not in self._cells for row in rows)
        narrow = span is not None and not structural
        self._repaint_rows = set()
        self._repaint_all = False
        self._whole_refresh_muted = narrow
        try:
            if structural:
                self._add_and_remove(rows, wanted, keys)
            if order != self._order:
                before = self._order
                self._reorder(order)
                if narrow and span is not None:
                    # Positions on screen that now hold another agent repaint.
                    first, last = span
                    self._repaint_rows.update(
                        index
                        for index in range(first, min(last, len(order)))
                        if index >= len(before) or before[index] != order[index]
                    )
            visible = None if span is None else set(order[span[0] : span[1]])
            for row in rows:
                if visible is None or row.name in visible or self._signatures.get(row.name) != _signature(row):
                    self._update_row(row, keys)
        finally:
            self._whole_refresh_muted = False
        if narrow:
            if self._repaint_all:
                self.refresh()
            else:
                for index in sorted(self._repaint_rows):
                    self._refresh_line(index)

    def _add_and_remove(self, rows: Sequence[AgentRow], wanted: dict[str, AgentRow], keys: list[str]) -> None:
        for name in [n for n in self._cells if n not in wanted]:
            self.remove_row(name)
            del self._cells[name]
            self._signatures.pop(name, None)
        for row in rows:
            if row.name not in self._cells:
                cells = self._row_cells(row)
                self.add_row(*(cells[k] for k in keys), key=row.name)
                self._cells[row.name] = tuple((cells[k].plain, cells[k].style) for k in keys)
                self._signatures[row.name] = _signature(row)

    def _keys(self) -> list[str]:
        return [key for key, _ in COLUMNS] + ([WIDE_COLUMN[0]] if self.wide else [])

    def _update_row(self, row: AgentRow, keys: list[str]) -> None:
        """Bring one row's cells up to date with `row`, touching only the cells that differ."""
        name = row.name
        old = self._cells[name]
        signature = _signature(row)
        if old and self._signatures.get(name) == signature:
            # Nothing but the time in state can differ: leave the other cells alone.
            if old[TIME_INDEX][0] != format_duration(row.seconds_in_state):
                cell = self._time_cell(row)
                self.update_cell(name, "time", cell)
                self._refresh_time_cell(self.get_row_index(name))
                self._cells[name] = (*old[:TIME_INDEX], (cell.plain, cell.style), *old[TIME_INDEX + 1 :])
            return
        cells = self._row_cells(row)
        changed = False
        for index, key in enumerate(keys):
            new = cells[key]
            if not old or old[index] != (new.plain, new.style):
                widens = self._widens(key, new)
                self.update_cell(name, key, new, update_width=widens)
                changed = True
                self._repaint_all = self._repaint_all or widens  # the columns right of it move
        if changed:
            self._repaint_rows.add(self.get_row_index(name))
        self._cells[name] = tuple((cells[k].plain, cells[k].style) for k in keys)
        self._signatures[name] = signature

    def _refresh_time_cell(self, row_index: int) -> None:
        columns = self.ordered_columns
        x = sum(column.get_render_width(self) for column in columns[:TIME_INDEX])
        self._refresh_line(row_index, x, columns[TIME_INDEX].get_render_width(self))

    def _refresh_line(self, row_index: int, x: int = 0, width: int | None = None) -> None:
        """Repaint a row, or `width` cells of it from `x`.

        (DataTable's `refresh_row` and `refresh_coordinate` add up the heights of every
        row above, from a list of all rows that each update rebuilds: slow with hundreds
        of agents. Here every row is one line high.)
        """
        y = row_index + (self.header_height if self.show_header else 0)
        if width is None:
            width = max(self.size.width, self.virtual_size.width)
        self.refresh(Region(x, y, width, 1).translate(-self.scroll_offset))

    def _visible_span(self) -> tuple[int, int] | None:
        """The indexes of the rows on screen, a row of margin each side; None: not known yet."""
        height = self.size.height
        if not self.is_mounted or height <= 0:
            return None
        top = int(self.scroll_offset.y)
        body = height - (self.header_height if self.show_header else 0)
        return max(0, top - 1), top + body + 1

    def _visible_names(self) -> set[str] | None:
        span = self._visible_span()
        return None if span is None else set(self._order[span[0] : span[1]])

    def _catch_up(self) -> None:
        """Rows that came into view: draw what changed while they were out of sight."""
        if not self._rows:
            return
        visible = self._visible_names()
        keys = self._keys()
        for name in self._order if visible is None else visible:
            row = self._rows.get(name)
            if row is not None and name in self._cells:
                self._update_row(row, keys)

    # -- rendering ----------------------------------------------------------------------

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """A body cell, rendered again only when its own value (or look) changed.

        DataTable keys its render caches on a counter that every `update_cell` bumps, so
        one ticking time cell made it re-render every cell on screen each second (Rich
        padding and cropping: most of the board's drawing cost). Here a body cell's render
        is kept while the cell holds the same value object (`update_cell` stores a new
        one) at the same place, width and style.
        """
        if row_index < 0 or column_index < 0:  # the header and row labels: as DataTable does
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:  # not a cell of this table's data
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        value = self._data[row_key][column_key]
        key = (
            row_key,
            column_key,
            row_index,
            column_index,
            base_style,
            width,
            cursor,
            hover,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
            self.rows[row_key].height,
        )
        cached = self._cell_renders.get(key)
        if cached is not None and cached[0] is value:
            return cached[1]
        lines = self._plain_cell(
            value, row_index, column_index, base_style, width, cursor, hover
        ) or super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._cell_renders.set(key, (value, lines))
        return lines

    def _plain_cell(
        self, value: object, row_index: int, column_index: int, base_style: Style, width: int, cursor: bool, hover: bool
    ) -> list[list[Segment]] | None:
        """The segments DataTable's own rendering makes of a one-style ASCII `Text` that fits
        its one-line cell, made directly (None for anything else). Every time cell changes every
        second: through Rich's padding and cropping it was a third of a session's CPU.
        tests/tui/test_wallboard_app.py checks it against DataTable's rendering."""
        pad = self.cell_padding
        inner = width - 2 * pad
        row_key = self._row_locations.get_key(row_index)
        if (
            row_key is None
            or not isinstance(value, Text)
            or not value.plain
            or value.spans
            or not isinstance(value.style, Style)
            or len(value.plain) > inner
            or value.justify not in (None, "default", "left", "right")
            or not value.plain.isascii()
            or not value.plain.isprintable()
            or self.rows[row_key].height != 1
            or self.fixed_rows
            or self.fixed_columns
        ):
            return None
        component, post = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component
        edge = Segment(" " * pad, pre + post)
        if value.justify == "right":  # Rich pads the text itself: the spaces take its style
            return [[edge, Segment(value.plain.rjust(inner), pre + value.style + post), edge]]
        fill = Segment(" " * (inner - len(value.plain)), pre + post)
        return [[edge, Segment(value.plain, pre + value.style + post), fill, edge]]

    # Styles DataTable works out again for every line it draws (walking the ancestors'
    # styles: a quarter of an SSH session's CPU), kept for one `render_lines` pass, in
    # which they cannot change.
    _pass_style: Style | None = None
    _pass_row_styles: dict[tuple[int, Style], Style] | None = None

    @property
    def rich_style(self) -> Style:
        return self._pass_style if self._pass_style is not None else super().rich_style

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        memo = self._pass_row_styles
        if memo is None:
            return super()._get_row_style(row_index, base_style)
        kind = row_index if row_index < max(self.fixed_rows, 0) else row_index % 2
        key = (kind, base_style)
        style = memo.get(key)
        if style is None:
            style = memo[key] = super()._get_row_style(row_index, base_style)
        return style

    def render_lines(self, crop: Region) -> list[Strip]:
        self._pass_style, self._pass_row_styles = super().rich_style, {}
        try:
            return super().render_lines(crop)
        finally:
            self._pass_style = self._pass_row_styles = None

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if self._whole_refresh_muted and not regions and not layout and not recompose:
            return self  # inside `sync`: it repaints what changed on screen itself
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cell_renders.clear()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if int(old_value) != int(new_value):
            self._catch_up()

    def on_resize(self) -> None:
        self._catch_up()

    def _widens(self, key: str, cell: Text) -> bool:
        """Whether `cell` is wider than its column: columns grow, never shrink.

        DataTable's own width update measures every cell of the column whenever a cell gets
        narrower (500 agents: 500 measurements per changed state), and a column that
        shrinks and grows again moves the columns right of it. Fixed columns never change.
        """
        if key in FIXED:
            return False
        column = self.columns.get(ColumnKey(key))
        return column is not None and cell.cell_len > column.content_width

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
            "time": self._time_cell(row),
            "queue": Text(printable(row.current_queue) or "", style=s["muted"] if not row.current_queue else Style()),
            "calls": Text(str(row.calls_today), justify="right"),
            "aht": Text(aht, justify="right"),
        }
        if self.wide:
            cells[WIDE_COLUMN[0]] = Text(", ".join(printable(q) for q in row.queues), style=s["muted"])
        return cells

    def _time_cell(self, row: AgentRow) -> Text:
        s = self._styles
        style = s["alert"] if row.flag == "long_call" else s["warn"] if row.flag == "long_pause" else Style()
        return Text(format_duration(row.seconds_in_state), style=style, justify="right")

    @property
    def order(self) -> list[str]:
        return list(self._order)
