"""Small reusable widgets of the wallboard: a labelled figure and interval bars.

Their look travels with them (DEFAULT_CSS); the screens' layout lives in .tcss files.
Level colours (fixed, not the theme's: see colours.py): ok in green, warn as black on
amber, alert as bold white on red. Blocks of background stay readable with 16 colours (PuTTY's "xterm"),
256 colours and truecolor alike, and do not depend on the colour alone: they are shapes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Self

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.containers import Horizontal, ItemGrid, Vertical, VerticalScroll
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Label, Static

LEVEL_CLASSES = ("-none", "-ok", "-warn", "-alert")

# Without colour the levels need shapes: a marker beside each amber or red value, a word on
# the wall. Nothing beside an ok value, so the eye goes to the marked ones.
LEVEL_MARKERS = {"warn": "!", "alert": "✖"}
LEVEL_WORDS = {"warn": "WARN", "alert": "ALERT"}
# Themes that show the markers too: the high-contrast one for wall screens
# (wallboard/ui/themes.py) and those drawn in the terminal's own 16 colours.
MARKED_THEMES = frozenset({"wallboard-high-contrast", "ansi-dark", "ansi-light"})


def markers_wanted(app: App[object]) -> bool:
    """Whether levels are drawn with markers: without colour (NO_COLOR), with 16 colours
    (TEXTUAL_COLOR_SYSTEM=standard, or a theme of the terminal's palette), or in the
    high-contrast theme, where amber and red may not read apart by colour alone.

    The variable, not the console's guess: Rich guesses 16 colours for any TERM=xterm
    (and for a headless test), which would mark every board."""
    forced = os.environ.get("TEXTUAL_COLOR_SYSTEM", "") in ("standard", "windows")
    return bool(app.no_color) or forced or app.theme in MARKED_THEMES


def level_marker(level: str) -> str:
    """The marker of a level ("" for ok and none)."""
    return LEVEL_MARKERS.get(level, "")


class KeptLines(Widget):
    """A widget that gives the compositor back the lines it drew last while nothing about
    it changed.

    Each frame, Textual asks every widget that overlaps the frame's rectangle for its lines.
    The board's ticking times make that rectangle the whole screen each second, so every
    queue tile is asked each second, and most have nothing new: Textual's own answer from
    its line cache still costs some 0.1 ms a widget (the background colours of all its
    ancestors, the line filters), 31 tiles a frame at 30 queues
    (tests/benchmarks/wallboard.py). Kept here until anything could change them: a
    `refresh` (every repaint Textual asks for goes through it: content, a style set on it
    or an ancestor, text selection), a style update (classes, theme), another size, crop
    or set of line filters.
    """

    # What was drawn last: (what it was drawn for, the lines).
    _kept_lines: tuple[tuple[object, ...], list[Strip]] | None = None

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if repaint or layout or recompose:
            self._kept_lines = None
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def notify_style_update(self) -> None:
        self._kept_lines = None
        super().notify_style_update()

    def render_lines(self, crop: Region) -> list[Strip]:
        # The outer size (kept by Textual as the layout sets it), not `size`: that one looks the
        # widget up in the screen's map, a good part of a kept answer's cost.
        app = self.app
        key = (crop, self.outer_size, tuple(app.get_line_filters()), app.theme)
        kept = self._kept_lines
        if kept is not None and kept[0] == key:
            return kept[1]
        lines = super().render_lines(crop)
        self._kept_lines = (key, lines)
        return lines


# Textual takes a widget's CSS (its DEFAULT_CSS, the type names its selectors match) from its
# first base only: the Textual class comes first, KeptLines second (its methods still win,
# as the Textual classes define none of them).


class KeptLabel(Label, KeptLines):
    """A `Label` that keeps its lines while its text stays."""


class KeptStatic(Static, KeptLines):
    """A `Static` that keeps its lines while its content stays."""


class KeptVertical(Vertical, KeptLines):
    """A `Vertical` that keeps its lines (its own background: its children draw themselves)."""


class KeptHorizontal(Horizontal, KeptLines):
    """A `Horizontal` that keeps its lines."""


class KeptVerticalScroll(VerticalScroll, KeptLines):
    """A `VerticalScroll` that keeps its lines (scrolling moves its children, not its lines)."""


class KeptItemGrid(ItemGrid, KeptLines):
    """An `ItemGrid` that keeps its lines."""


def set_level_class(widget: Widget, level: str) -> None:
    """Give `widget` exactly one of the -none/-ok/-warn/-alert classes (restyling it and its
    children once: that is the costly part, so only when the level changed)."""
    wanted = f"-{level}"
    if not widget.has_class(wanted):
        widget.remove_class(*LEVEL_CLASSES, update=False)
        widget.add_class(wanted)


def text_resizes(widget: Static, old: str | None, new: str) -> bool:
    """Whether drawing `new` instead of `old` can change `widget`'s size.

    A layout pass costs the whole screen, so a ticking clock or a wait that goes from 2:35
    to 2:36 repaints its widget only. A widget whose size is fixed never needs one; an
    auto-sized one when the number of lines changes (wrapping included) or, with an auto
    width, when a line's width changes.
    """
    if old is None:
        return True
    styles = widget.styles
    # No width set: the widget fills its container (a Static), whatever its text.
    auto_width = styles.width is not None and styles.width.is_auto
    auto_height = styles.height is None or styles.height.is_auto
    if not (auto_width or auto_height):
        return False
    old_lines, new_lines = old.split("\n"), new.split("\n")
    if len(old_lines) != len(new_lines):
        return True
    widths = [(cell_len(a), cell_len(b)) for a, b in zip(old_lines, new_lines)]
    if auto_width:
        return any(a != b for a, b in widths)
    # A fixed width: a line changes the height only if it wraps (or did).
    if never_wraps(widget):
        return False
    room = widget.content_region.width
    return room <= 0 or any(a != b and max(a, b) > room for a, b in widths)


def never_wraps(widget: Static) -> bool:
    """Lines cut at the widget's edge (`text-wrap: nowrap`), never wrapped: one line each."""
    return widget.styles.text_wrap == "nowrap"


def filling_text_resizes(widget: Static, old: str | None, new: str) -> bool:
    """Whether drawing `new` instead of `old` can change the size of `widget`, which fills
    its scrolling pane at least (board.tcss: min-height 100%): alerts coming and going cost
    a layout pass of the whole screen only when the text is taller than the pane (it
    scrolls) or a line wraps (theirs never do: board.tcss)."""
    if old is None:
        return True
    room = widget.content_region
    if room.width <= 0 or room.height <= 0:
        return True
    old_lines, new_lines = old.split("\n"), new.split("\n")
    if len(old_lines) != len(new_lines) and max(len(old_lines), len(new_lines)) >= room.height:
        return True
    return not never_wraps(widget) and any(cell_len(line) > room.width for line in (*old_lines, *new_lines))


class Metric(Widget):
    """One figure on one line: a muted label on the left, the value on the right.

    The value carries a level (none, ok, warn, alert) that colours it, and a marker in front
    of it where colour is not enough (`markers_wanted`). With `show_label` off (a compact row
    under a header line) only the value is drawn. Text is always drawn literally (no markup).
    """

    DEFAULT_CSS = """
    Metric {
        height: 1;
        width: 1fr;
    }
    Metric > .metric--label {
        color: $text-muted;
    }
    Metric > .metric--none {
    }
    Metric > .metric--ok {
        color: #2da44e;
    }
    Metric > .metric--warn {
        background: #ffb000;
        color: black;
    }
    Metric > .metric--alert {
        background: #d32f2f;
        color: white;
        text-style: bold;
    }
    """

    COMPONENT_CLASSES = {"metric--label", "metric--none", "metric--ok", "metric--warn", "metric--alert"}

    def __init__(
        self, label: str, *, value: str = "", show_label: bool = True, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.label = label
        self.value = value
        self.level = "none"
        self.show_label = show_label

    def set(self, value: str, level: str = "none") -> None:
        """Change the figure; repaints only when something changed."""
        if value == self.value and level == self.level:
            return
        self.value = value
        self.level = level  # drawn through a component class: no restyle of the widget
        self.refresh()

    def render(self) -> Text:
        width = self.size.width
        # A space each side: the block of colour of an amber or red value (visible
        # without colour too), and the same right edge for every value in a column. The
        # marker takes the leading space: the columns keep their widths.
        marker = level_marker(self.level) if self.value and markers_wanted(self.app) else ""
        value = f"{marker or ' '}{self.value} "
        value_style = self.get_component_rich_style(f"metric--{self.level}")
        label = self.label if self.show_label else ""
        room = width - cell_len(value)
        if label and room < cell_len(label) + 1:
            label = label[: max(0, room - 1)]
        pad = max(0, room - cell_len(label))
        return Text.assemble(
            (label, self.get_component_rich_style("metric--label")),
            " " * pad,
            (value, value_style),
            end="",
            no_wrap=True,
            overflow="crop",
        )


BARS = " ▁▂▃▄▅▆▇█"


class IntervalBars(KeptLines):
    """A labelled row of vertical bars, one per interval, on a fixed scale.

    Unlike a sparkline it keeps a fixed scale (0-100 for a percentage), so a good day
    does not look like a crisis. Each bar has a level colour; intervals with nothing to
    show are a muted dot. The most recent intervals are kept when there are more than
    the width allows.
    """

    DEFAULT_CSS = """
    IntervalBars {
        height: 1;
        width: 1fr;
    }
    IntervalBars > .interval-bars--label {
        color: $text-muted;
    }
    IntervalBars > .interval-bars--value {
        text-style: bold;
    }
    IntervalBars > .interval-bars--none {
        color: $text-muted;
    }
    IntervalBars > .interval-bars--plain {
        color: $text-primary;
    }
    IntervalBars > .interval-bars--ok {
        color: #2da44e;
    }
    IntervalBars > .interval-bars--warn {
        color: #ffb000;
    }
    IntervalBars > .interval-bars--alert {
        color: #ff5f5f;
    }
    IntervalBars:light > .interval-bars--warn {
        color: #9a6700;
    }
    IntervalBars:light > .interval-bars--alert {
        color: #c62828;
    }
    """

    COMPONENT_CLASSES = {
        "interval-bars--label",
        "interval-bars--value",
        "interval-bars--none",
        "interval-bars--plain",
        "interval-bars--ok",
        "interval-bars--warn",
        "interval-bars--alert",
    }

    LABEL_WIDTH = 16

    def __init__(
        self, label: str, *, short_label: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.label = label
        self.short_label = short_label or label
        self.caption = ""
        self.value = ""
        self.values: tuple[float | None, ...] = ()
        self.levels: tuple[str, ...] = ()
        self.scale: float = 1.0

    def set(
        self,
        values: Sequence[float | None],
        *,
        levels: Sequence[str] | None = None,
        scale: float | None = None,
        value: str = "",
        caption: str = "",
    ) -> None:
        values = tuple(values)
        levels = tuple(levels) if levels is not None else tuple("plain" for _ in values)
        scale = scale if scale is not None else max([v for v in values if v is not None] + [1.0])
        if (values, levels, scale, value, caption) == (self.values, self.levels, self.scale, self.value, self.caption):
            return
        self.values, self.levels, self.scale, self.value, self.caption = values, levels, scale, value, caption
        self.refresh()

    def render(self) -> Text:
        width, height = self.size
        label_width = min(self.LABEL_WIDTH if height == 1 else self.LABEL_WIDTH + 4, max(0, width - 4))
        room = max(0, width - label_width)
        values = self.values[-room:] if room else ()
        levels = self.levels[-room:] if room else ()
        # Wider bars (with a gap) when there is room: a short day fills the space too.
        bar_width = min(3, max(1, room // len(values))) if values else 1
        label_style = self.get_component_rich_style("interval-bars--label")
        value_style = self.get_component_rich_style("interval-bars--value")
        styles = {
            name: self.get_component_rich_style(f"interval-bars--{name}")
            for name in ("none", "plain", "ok", "warn", "alert")
        }
        eighths = [self._eighths(v, height) for v in values]
        # The left column: label on top, value at the bottom (together on one line when
        # there is only one), caption between them.
        if height == 1:
            left_lines = [[(self.short_label, label_style), (" ", Style()), (self.value, value_style)]]
        else:
            left_lines = [[(self.label, label_style)]]
            if height >= 3 and self.caption:
                left_lines.append([(self.caption, label_style)])
            while len(left_lines) < height - 1:
                left_lines.append([])
            left_lines.append([(self.value, value_style)])
        text = Text(end="", no_wrap=True, overflow="crop")
        for row in range(height):
            line = Text(end="", no_wrap=True, overflow="crop")
            for part, style in left_lines[row]:
                line.append(part, style)
            line.truncate(label_width, overflow="crop")
            line.pad_right(label_width - line.cell_len)
            text.append_text(line)
            level_from_bottom = height - 1 - row
            gap = " " if bar_width > 1 else ""
            fill = max(1, bar_width - len(gap))
            for total, value, level in zip(eighths, values, levels):
                if value is None:
                    text.append(("·" if level_from_bottom == 0 else " ") * fill + gap, styles["none"])
                    continue
                cell = max(0, min(8, total - 8 * level_from_bottom))
                text.append(BARS[cell] * fill, styles.get(level, styles["plain"]))
                text.append(gap)
            if row < height - 1:
                text.append("\n")
        return text

    def _eighths(self, value: float | None, height: int) -> int:
        if value is None or self.scale <= 0:
            return 0
        share = max(0.0, min(1.0, value / self.scale))
        total = round(share * 8 * height)
        return max(total, 1)  # a bar of zero still shows: the interval had calls
