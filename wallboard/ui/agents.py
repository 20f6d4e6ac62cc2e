"""The agent table: one line per agent, drawn on Textual's Line API (`render_line`).

A widget of its own rather than a DataTable: it knows every row is one line of fixed
columns, so it draws a line straight from the agent's figures and keeps what it drew in a
line cache (as Textual's own `Log` does), on public Textual and Rich API only.

Drawing cost follows what is on screen, not the size of the floor (500 agents measured in
tests/benchmarks/wallboard.py): each `sync` compares the lines on screen with what was
last drawn there and repaints only those that differ (a ticking time: only its cell). Rows
out of sight cost a comparison of their figures, nothing more; they are drawn from their
current figures when they scroll into view.

It looks as the DataTable it replaced did (same component styles, zebra stripes, a row
cursor), so the board's snapshots did not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.color import Color
from textual.geometry import Offset, Region, Size, Spacing
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wallboard.calls.board import AgentRow
from wallboard.calls.levels import ALERT, WARN
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
PADDING = 1  # blank cells each side of a cell's text

# What a row shows but its time: state, pause reason, queue, calls, AHT and its level, flag, queues.
Signature = tuple[str, str | None, str | None, int, float | None, str, str | None, tuple[str, ...]]
# What a line on screen shows: the agent, what its row shows, its time, cursor, stripe.
LineKey = tuple[str, Signature, str, bool, bool]


def _signature(row: AgentRow) -> Signature:
    """Everything a row shows except its ticking time in state."""
    return (
        row.state,
        row.pause_reason,
        row.current_queue,
        row.calls_today,
        row.aht_today,
        row.aht_level,
        row.flag,
        row.queues,
    )


@dataclass(slots=True)
class _Column:
    key: str
    label: str
    width: int  # of the content, without padding: grows to the widest cell, never shrinks
    right: bool
    fixed: bool


@dataclass(slots=True, frozen=True)
class _AroundTime:
    """A row's line but its time cell: the segments before and after it (simplified), their
    width, and the styles of the time cell's padding and of its text."""

    before: list[Segment]
    after: list[Segment]
    cell_length: int
    edge_style: Style
    time_style: Style


def _joined(left: list[Segment], right: list[Segment]) -> list[Segment]:
    """Two simplified runs of segments as one, as `Segment.simplify` makes it of both."""
    if left and right and left[-1].style == right[0].style:
        return [*left[:-1], Segment(left[-1].text + right[0].text, left[-1].style), *right[1:]]
    return [*left, *right]


class AgentTable(ScrollView, can_focus=True):
    """Agents by state; long calls (white on red) and long pauses (black on amber) stand out.

    State colours follow the theme; the two warnings and the AHT levels use the fixed level
    colours. `selected_agent` is the row under the cursor; `SelectionChanged` says when it
    changes (another agent, or new figures of the same one), `Chosen` when Enter is pressed.
    """

    COMPONENT_CLASSES = {
        "agent-table--header",
        "agent-table--cursor",
        "agent-table--even-row",
        "agent-table--odd-row",
    }

    # The look of Textual's DataTable (the board's snapshots were made with it).
    DEFAULT_CSS = """
    AgentTable {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .agent-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .agent-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark {
            & > .agent-table--even-row {
                background: $surface-darken-1 40%;
            }
        }
        & > .agent-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .agent-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .agent-table--odd-row {
        }
        & > .agent-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .agent-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    BINDINGS = [
        Binding("enter", "choose", "Choose", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home", "first_row", "Top", show=False),
        Binding("ctrl+end", "last_row", "Bottom", show=False),
        Binding("home", "scroll_home", "Home", show=False),
        Binding("end", "scroll_end", "End", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
    ]

    class SelectionChanged(Message):
        """The agent under the cursor is another one (or none), or has new figures."""

        def __init__(self, table: AgentTable, agent: AgentRow | None) -> None:
            super().__init__()
            self.table = table
            self.agent = agent

        @property
        def control(self) -> AgentTable:
            return self.table

    class Chosen(SelectionChanged):
        """Enter on an agent's row."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._columns = [
            _Column(key, label, FIXED.get(key, len(label)), key in RIGHT, key in FIXED) for key, label in COLUMNS
        ]
        self._rows: list[AgentRow] = []  # in the order shown
        self._index: dict[str, int] = {}  # agent -> its row's index
        self._signatures: dict[str, Signature] = {}  # what each agent's row was measured for
        self._styles: dict[str, Style] = {}
        self._cursor = 0
        self._cursor_name: str | None = None
        self._announced: tuple[str, Signature] | None = None  # the selection last told (SelectionChanged)
        self._painted: dict[int, LineKey] = {}  # row index -> what was last drawn there
        self._lines: LRUCache[tuple[LineKey, int, int], Strip] = LRUCache(1024)
        # A row's segments around its time cell: (agent, what it shows, cursor, stripe, width).
        # Not keyed by the row's index: on a busy floor rows move up and down the sorted table
        # every second, and a row that moved two lines is drawn as it was.
        self._around_time: LRUCache[tuple[str, Signature, bool, bool, int], _AroundTime] = LRUCache(1024)
        self._header: Strip | None = None
        # (odd, column, cursor) -> _cell_styles; column -1: _row_styles. Until the styles change.
        self._cell_style_cache: dict[tuple[bool, int, bool], tuple[Style, Style]] = {}
        self._metas: dict[tuple[int, bool], Style] = {}
        self.wide = False
        self._frame: tuple[int, Offset] | None = None  # width and scroll while a frame draws

    # -- what it shows -------------------------------------------------------------------

    @property
    def order(self) -> list[str]:
        """The agents, in the order shown."""
        return [row.name for row in self._rows]

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def selected_agent(self) -> AgentRow | None:
        """The agent under the cursor (None: no rows)."""
        return self._rows[self._cursor] if self._rows else None

    @property
    def column_keys(self) -> list[str]:
        return [column.key for column in self._columns]

    def get_cell(self, name: str, key: str) -> Text:
        """The cell of `name`'s row in column `key`, as drawn."""
        row = self._rows[self._index[name]]
        return self._cells(row)[self.column_keys.index(key)]

    # -- styles from the theme -------------------------------------------------------

    def restyle(self) -> None:
        """Cell styles from the current theme; every line is drawn again."""
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
        self._redraw_all()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._redraw_all(refresh=False)

    def _redraw_all(self, refresh: bool = True) -> None:
        self._lines.clear()
        self._cell_style_cache.clear()
        self._around_time.clear()
        self._header = None
        self._painted.clear()
        if refresh:
            self.refresh()

    # -- the diff ---------------------------------------------------------------------

    def set_wide(self, wide: bool) -> None:
        """On large terminals, a column with the queues each agent takes calls from."""
        if wide == self.wide:
            return
        self.wide = wide
        if wide:
            key, label = WIDE_COLUMN
            column = _Column(key, label, len(label), right=False, fixed=False)
            for row in self._rows:
                column.width = max(column.width, self._cells(row)[-1].cell_len)
            self._columns.append(column)
        else:
            self._columns.pop()
        self._resized()

    def sync(self, rows: Sequence[AgentRow]) -> None:
        """Make the table show `rows`, in their order, repainting only what changed on screen."""
        if not self._styles:
            self.restyle()
        selected = self.selected_agent
        old_count = len(self._rows)
        self._rows = list(rows)
        self._index = {row.name: index for index, row in enumerate(self._rows)}
        grown = self._measure()
        if len(self._rows) != old_count or grown:
            self._resized()
        self._place_cursor(selected)
        if not grown:
            self._repaint_changed()
        self._announce()

    def _measure(self) -> bool:
        """Widen the columns for rows with new figures; whether any column grew."""
        grown = False
        signatures = self._signatures
        kept: dict[str, Signature] = {}
        for row in self._rows:
            signature = _signature(row)
            kept[row.name] = signature
            if signatures.get(row.name) == signature:
                continue
            for column, cell in zip(self._columns, self._cells(row)):
                if not column.fixed and cell.cell_len > column.width:
                    column.width = cell.cell_len
                    grown = True
        self._signatures = kept
        return grown

    def _resized(self) -> None:
        """The table's size changed (rows, column widths): everything is drawn again."""
        width = sum(column.width + 2 * PADDING for column in self._columns)
        self.virtual_size = Size(width, len(self._rows) + 1)
        self._redraw_all()

    def _place_cursor(self, selected: AgentRow | None) -> None:
        """Keep the cursor on the agent it was on, wherever their row went."""
        if not self._rows:
            self._cursor = 0
            return
        index = self._index.get(selected.name) if selected is not None else None
        if index is None:
            index = min(self._cursor, len(self._rows) - 1)
        self._cursor = index

    def _repaint_changed(self) -> None:
        """Repaint the lines on screen whose figures differ from what was drawn there."""
        top = self.scroll_offset.y
        height = self.size.height - 1
        if height <= 0:
            return
        time_x = sum(column.width + 2 * PADDING for column in self._columns[:TIME_INDEX]) - self.scroll_offset.x
        time_width = self._columns[TIME_INDEX].width + 2 * PADDING
        line_width = max(self.virtual_size.width, self.size.width)  # as refresh_line
        # One refresh for them all: each call costs as much as the regions it is given.
        regions: list[Region] = []
        for index in range(top, min(top + height, len(self._rows))):
            painted = self._painted.get(index)
            key = self._line_key(index)
            if painted == key:
                continue
            y = index + 1 - top  # on screen: the header is the first line
            if painted is not None and painted[:2] == key[:2] and painted[3:] == key[3:]:
                # Only the time ticked: repaint its cell, not the line.
                regions.append(Region(time_x, y, time_width, 1))
            else:
                regions.append(Region(0, y, line_width, 1))
            self._painted[index] = key
        if regions:
            self.refresh(*regions)

    # -- the cursor --------------------------------------------------------------------

    def move_cursor(self, row: int, *, scroll: bool = True) -> None:
        """Put the cursor on row `row` (clamped to the rows)."""
        row = max(0, min(row, len(self._rows) - 1)) if self._rows else 0
        if row != self._cursor:
            old = self._cursor
            self._cursor = row
            self.refresh_line(old + 1)
            self.refresh_line(row + 1)
        if scroll and self._rows:
            region = Region(self.scroll_offset.x, row + 1, self.size.width, 1)
            self.scroll_to_region(region, animate=False, spacing=Spacing(1, 0, 0, 0), force=True, immediate=True)
        self._announce()

    def _announce(self) -> None:
        """Tell of another agent under the cursor, or new figures of theirs (not their
        ticking time: that would be a message a second)."""
        agent = self.selected_agent
        told = None if agent is None else (agent.name, _signature(agent))
        if told != self._announced:
            self._announced = told
            self.post_message(self.SelectionChanged(self, agent))

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        page = max(1, self.size.height - 1)
        self.scroll_relative(y=-page, animate=False, immediate=True)
        self.move_cursor(self._cursor - page, scroll=False)

    def action_page_down(self) -> None:
        page = max(1, self.size.height - 1)
        self.scroll_relative(y=page, animate=False, force=True, immediate=True)
        self.move_cursor(self._cursor + page, scroll=False)

    def action_first_row(self) -> None:
        self.move_cursor(0)

    def action_last_row(self) -> None:
        self.move_cursor(len(self._rows) - 1)

    def action_choose(self) -> None:
        agent = self.selected_agent
        if agent is not None:
            self.post_message(self.Chosen(self, agent))

    def on_click(self, event: events.Click) -> None:
        # The row from where the click landed (the header is the first line): a drawn line
        # carries no row number, so it can be kept while its row moves.
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = offset.y - 1 + self.scroll_offset.y
        if 0 <= index < len(self._rows):
            self.move_cursor(index, scroll=False)

    # -- drawing -----------------------------------------------------------------------

    def on_resize(self) -> None:
        self._redraw_all()

    def watch_scroll_x(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_x(old_value, new_value)
        self._redraw_all(refresh=False)

    def _line_key(self, index: int) -> LineKey:
        row = self._rows[index]
        return (row.name, _signature(row), format_duration(row.seconds_in_state), index == self._cursor, index % 2 == 1)

    def render_lines(self, crop: Region) -> list[Strip]:
        # The size and the scroll stay put while Textual draws the lines: looked up once a
        # frame, not once a line (each lookup finds the widget in the screen's map).
        self._frame = (self.size.width, self.scroll_offset)
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        width, (scroll_x, scroll_y) = self._frame or (self.size.width, self.scroll_offset)
        if y == 0:
            if self._header is None:
                self._header = self._crop(self._header_strip(), scroll_x, width)
            return self._header
        index = y - 1 + scroll_y
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        key = self._line_key(index)
        self._painted[index] = key
        cache_key = (key, scroll_x, width)
        line = self._lines.get(cache_key)
        if line is None:
            line = self._ticked_line(index, key, scroll_x, width) or self._crop(
                self._row_strip(index, key[3], width), scroll_x, width
            )
            self._lines.set(cache_key, line)
        return line

    def _ticked_line(self, index: int, key: LineKey, scroll_x: int, width: int) -> Strip | None:
        """Row `index`'s line when it fits the widget as it is (None: any other case, drawn
        by `_row_strip` and `_crop`). Each second every row on screen has a new time: its
        line is the row's kept segments around a new time cell, joined as `Strip.simplify`
        would join them, with no cropping or measuring."""
        if scroll_x:
            return None
        around = self._around(index, key[3], width, key[1])
        text = key[2]  # the time, as _line_key formatted it
        column_width = self._columns[TIME_INDEX].width
        if len(text) > column_width or around.cell_length + column_width + 2 * PADDING != width:
            return None
        edge = Segment(" " * PADDING, around.edge_style)
        time_cell = list(Segment.simplify([edge, Segment(text.rjust(column_width), around.time_style), edge]))
        return Strip(_joined(_joined(around.before, time_cell), around.after), width)

    def _crop(self, strip: Strip, scroll_x: int, width: int) -> Strip:
        if scroll_x == 0 and strip.cell_length == width:  # the usual case: nothing to cut
            return strip.simplify()
        return strip.crop(scroll_x, scroll_x + width).adjust_cell_length(width, self.rich_style).simplify()

    def _header_strip(self) -> Strip:
        style = self.get_component_rich_style("agent-table--header")
        segments: list[Segment] = []
        for index, column in enumerate(self._columns):
            label = Text(column.label, justify="right" if column.right else "left")
            segments.extend(self._cell(label, column.width, style + self._meta(index), Style()))
        segments.append(Segment(" " * self._spare_width(), style + self._meta(0, spare=True)))
        return Strip(segments)

    def _row_strip(self, index: int, cursor: bool, width: int) -> Strip:
        """Row `index`'s line. Its time ticks each second while the rest of the row stays:
        the cells around the time are kept (`_around`), the time cell alone is made."""
        row = self._rows[index]
        around = self._around(index, cursor, width)
        column = self._columns[TIME_INDEX]
        pre, post = self._cell_styles(index % 2 == 1, TIME_INDEX, cursor)
        time_cell = self._cell(self._cells(row, only=TIME_INDEX)[0], column.width, pre, post)
        return Strip([*around.before, *time_cell, *around.after])

    def _around(self, index: int, cursor: bool, width: int, signature: Signature | None = None) -> _AroundTime:
        """Row `index`'s segments around its time cell (simplified), kept while the row's
        figures but its time stay the same (`signature`: the row's, when known)."""
        row = self._rows[index]
        odd = index % 2 == 1
        key = (row.name, signature or _signature(row), cursor, odd, width)
        around = self._around_time.get(key)
        if around is None:
            before, _, after = self._row_segments(odd, cursor, row)
            pre, post = self._cell_styles(odd, TIME_INDEX, cursor)
            own = self._cells(row, only=TIME_INDEX)[0].style
            simple_before, simple_after = list(Segment.simplify(before)), list(Segment.simplify(after))
            around = _AroundTime(
                before=simple_before,
                after=simple_after,
                cell_length=Strip(simple_before).cell_length + Strip(simple_after).cell_length,
                edge_style=pre + post,
                time_style=pre + (own if isinstance(own, Style) else Style()) + post,
            )
            self._around_time.set(key, around)
        return around

    def _cell_styles(self, odd: bool, column_index: int, cursor: bool) -> tuple[Style, Style]:
        """The styles under (`pre`) and over (`post`) a cell's own, on an odd or even row
        (kept until the styles change: a row that moves a line down changes its stripe, and
        its cells are made again with these)."""
        key = (odd, column_index, cursor)
        styles = self._cell_style_cache.get(key)
        if styles is None:
            row_style, cursor_style = self._row_styles(odd, cursor)
            # As DataTable: the cursor's colour wins over a cell's own, its background does not.
            post = Style.from_color(color=cursor_style.color) if cursor else Style()
            styles = self._cell_style_cache[key] = (row_style + self._meta(column_index) + cursor_style, post)
        return styles

    def _row_styles(self, odd: bool, cursor: bool) -> tuple[Style, Style]:
        """The row's stripe style and the cursor's (none when not on the cursor's row), kept
        as `_cell_styles` keeps its own: a component style is looked up through the CSS."""
        key = (odd, -1, cursor)
        styles = self._cell_style_cache.get(key)
        if styles is None:
            row_style = self.get_component_rich_style("agent-table--odd-row" if odd else "agent-table--even-row")
            cursor_style = self.get_component_rich_style("agent-table--cursor") if cursor else Style()
            styles = self._cell_style_cache[key] = (row_style, cursor_style)
        return styles

    def _row_segments(
        self, odd: bool, cursor: bool, row: AgentRow
    ) -> tuple[list[Segment], list[Segment], list[Segment]]:
        """A row's segments: those before its time cell, the time cell's, those after."""
        row_style, cursor_style = self._row_styles(odd, cursor)
        parts: tuple[list[Segment], list[Segment], list[Segment]] = ([], [], [])
        for column_index, (column, cell) in enumerate(zip(self._columns, self._cells(row))):
            pre, post = self._cell_styles(odd, column_index, cursor)
            part = 0 if column_index < TIME_INDEX else 1 if column_index == TIME_INDEX else 2
            parts[part].extend(self._cell(cell, column.width, pre, post))
        spare = row_style + cursor_style + self._meta(0, spare=True)
        parts[2].append(Segment(" " * self._spare_width(), spare))
        return parts

    def _meta(self, column: int, spare: bool = False) -> Style:
        """Which column a cell is in, carried by its style (each cell keeps segments of its
        own, as Textual's DataTable drew them)."""
        key = (column, spare)
        style = self._metas.get(key)
        if style is None:
            meta: dict[str, object] = {"column": column}
            if spare:
                meta["out_of_bounds"] = True
            style = self._metas[key] = Style.from_meta(meta)
        return style

    def _spare_width(self) -> int:
        """The blank that carries the row's look to the widget's right edge."""
        table = sum(column.width + 2 * PADDING for column in self._columns)
        return max(0, self.size.width - table)

    def _cell(self, text: Text, width: int, pre: Style, post: Style) -> list[Segment]:
        """One cell's segments: its text padded to `width`, one blank each side."""
        return self._quick_cell(text, width, pre, post) or self._rich_cell(text, width, pre, post)

    def _quick_cell(self, text: Text, width: int, pre: Style, post: Style) -> list[Segment] | None:
        """The segments Rich makes of a one-style printable ASCII text that fits, made
        directly (None for anything else). Every time cell changes every second: through
        Rich's padding and cropping it was a third of a session's CPU.
        tests/tui/test_wallboard_app.py checks it against `_rich_cell`."""
        plain = text.plain
        style = text.style
        if isinstance(style, str):  # a label's "": no style of its own
            if style:
                return None
            style = Style()
        if not plain and not text.spans and text.justify in (None, "default"):
            return [Segment(" " * (width + 2 * PADDING), pre + post)]  # an empty cell: its padding
        if (
            not plain
            or text.spans
            or len(plain) > width
            or text.justify not in (None, "default", "left", "right")
            or not plain.isascii()
            or not plain.isprintable()
        ):
            return None
        edge = Segment(" " * PADDING, pre + post)
        if text.justify == "right":  # Rich pads the text itself: the spaces take its style
            return [edge, Segment(plain.rjust(width), pre + style + post), edge]
        if len(plain) == width:
            return [edge, Segment(plain, pre + style + post), edge]
        return [edge, Segment(plain, pre + style + post), Segment(" " * (width - len(plain)), pre + post), edge]

    def _rich_cell(self, text: Text, width: int, pre: Style, post: Style) -> list[Segment]:
        """A cell as Rich lays it out: padded, cropped to one line."""
        console = self.app.console
        options = console.options.update_dimensions(width + 2 * PADDING, 1).update(no_wrap=True)
        lines = console.render_lines(Padding(text, (0, PADDING)), options)
        return list(Segment.apply_style(lines[0], pre, post))

    def _cells(self, row: AgentRow, only: int | None = None) -> list[Text]:
        """The row's cells; `only`: just that column's (the time's)."""
        s = self._styles
        flag_style = s["alert"] if row.flag == "long_call" else s["warn"] if row.flag == "long_pause" else None
        if only == TIME_INDEX:
            return [Text(format_duration(row.seconds_in_state), style=flag_style or Style(), justify="right")]
        state_style = flag_style or s.get(row.state, Style())
        aht = format_duration(row.aht_today) if row.aht_today is not None else "-"
        aht_style = s["alert"] if row.aht_level == ALERT else s["warn"] if row.aht_level == WARN else Style()
        cells = [
            Text(printable(row.name), style=Style(bold=True) if row.flag else Style()),
            Text(printable(row.state_label), style=state_style),
            Text(format_duration(row.seconds_in_state), style=flag_style or Style(), justify="right"),
            Text(printable(row.current_queue) or "", style=s["muted"] if not row.current_queue else Style()),
            Text(str(row.calls_today), justify="right"),
            Text(aht, style=aht_style, justify="right"),
        ]
        if self.wide:
            cells.append(Text(", ".join(printable(q) for q in row.queues), style=s["muted"]))
        return cells
