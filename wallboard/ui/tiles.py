"""Queue tiles: a row or a card of figures per queue, and the big-digit wall tile.

Their layout lives in board.tcss (a compact row under a header line on small terminals,
a bordered card on large ones); these classes only put figures in place.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Digits, Label

from wallboard.calls.alerts import Alert
from wallboard.calls.board import QueueTile
from wallboard.calls.levels import worst
from wallboard.text import format_duration, format_pct, format_rate, printable
from wallboard.ui.widgets import LEVEL_WORDS, level_marker, markers_wanted, set_level_class


def _count(value: int) -> str:
    return str(value)


# key, card label, header label (compact rows), value, level key
TILE_FIGURES: tuple[tuple[str, str, str, Callable[[QueueTile], str], str | None], ...] = (
    ("waiting", "Waiting", "Wait", lambda t: _count(t.waiting), "waiting"),
    ("longest", "Longest", "Longest", lambda t: format_duration(t.longest_wait), "longest_wait"),
    ("sl", "SL today", "SL", lambda t: format_pct(t.service_level_pct), "service_level"),
    ("answered", "Answered", "Ans", lambda t: _count(t.answered), None),
    ("abandoned", "Abandoned", "Abn", lambda t: _count(t.abandoned), None),
    ("abandon-rate", "Abandon %", "Abn%", lambda t: format_rate(t.abandon_rate_pct), "abandon_rate"),
    ("blocked", "Blocked", "Blk", lambda t: _count(t.blocked), None),
    ("asa", "ASA", "ASA", lambda t: format_duration(t.asa_seconds), "asa"),
    ("aht", "AHT", "AHT", lambda t: format_duration(t.aht_seconds), "aht"),
    ("available", "Available", "Free", lambda t: _count(t.agents_available), "available"),
    ("on-call", "On call", "Call", lambda t: _count(t.agents_on_call), None),
    ("paused", "Paused", "Paus", lambda t: _count(t.agents_paused), None),
    ("wrap-up", "Wrap-up", "Wrap", lambda t: _count(t.agents_wrap_up), None),
)


# The compact rows (one line per queue under a header line): each figure's width; the name
# takes what is left, between NAME_MIN_WIDTH and NAME_MAX_WIDTH (further, a queue's figures
# would drift away from its name).
ROW_FIGURE_WIDTHS = {"longest": 8, "sl": 6, "answered": 6, "abandon-rate": 6, "asa": 6, "aht": 7}
ROW_FIGURE_WIDTH = 5
NAME_MIN_WIDTH = 8
NAME_MAX_WIDTH = 24
NAME_PADDING = 1
# At 80 columns the compact rows have no room for these: the cards show them.
ROW_HIDDEN = frozenset({"wrap-up", "blocked"})
# Narrower columns of rows (wallboard/ui/layout.py) keep the figures a floor looks at first.
FIGURES_HIDDEN = {
    "all": frozenset[str](),
    "some": frozenset({"answered", "asa", "aht", "on-call", "paused"}),
    "few": frozenset({"answered", "abandoned", "abandon-rate", "asa", "aht", "available", "on-call", "paused"}),
}
CARD_COLUMNS = 2
CARD_GUTTER = 2


class TileFigure:
    """One figure of a tile: its label, value and level (none, ok, warn, alert)."""

    __slots__ = ("key", "label", "level", "tile", "value")

    def __init__(self, tile: QueueTileView, key: str, label: str, value: str) -> None:
        self.tile = tile
        self.key = key
        self.label = label
        self.value = value
        self.level = "none"

    def get_component_rich_style(self, name: str) -> Style:
        """The style of one of the tile's component classes (metric--ok, metric--warn, ...)."""
        return self.tile.get_component_rich_style(name)

    def render(self) -> Text:
        """The figure as drawn in its cell."""
        return self.tile.figure_text(self, self.tile.cell_width(self))


class QueueTileView(Widget):
    """One queue's figures, drawn by the tile itself. `header=True`: the column labels of the
    compact rows.

    One widget a tile, not a widget a figure: Textual repaints every widget under the
    rectangle around what changed, and a busy floor changes some figure of some queue each
    second. With a widget per figure that was some 400 widgets a second at 30 queues
    (tests/benchmarks/wallboard.py). It draws as its figure widgets did: in compact rows,
    the name then the figures at fixed widths; in a card (bordered by board.tcss), the figures
    labelled in two columns.
    """

    COMPONENT_CLASSES = {"tile--name", "metric--label", "metric--none", "metric--ok", "metric--warn", "metric--alert"}

    DEFAULT_CSS = """
    QueueTileView > .tile--name {
        text-style: bold;
    }
    QueueTileView > .metric--label {
        color: $text-muted;
    }
    QueueTileView > .metric--none {
    }
    QueueTileView > .metric--ok {
        color: #2da44e;
    }
    QueueTileView > .metric--warn {
        background: #ffb000;
        color: black;
    }
    QueueTileView > .metric--alert {
        background: #d32f2f;
        color: white;
        text-style: bold;
    }
    """

    def __init__(self, queue: str, *, total: bool = False, header: bool = False) -> None:
        classes = "tile" + (" -total" if total else "") + (" -header" if header else "")
        super().__init__(classes=classes)
        self.queue = queue
        self.header = header
        name = "Queue" if header else printable(queue)
        # Border titles are markup unless given as Content: the name is drawn literally.
        self.border_title = Content(name)
        self._figures = {
            key: TileFigure(self, key, label, short if header else "") for key, label, short, _, _ in TILE_FIGURES
        }
        self._held: QueueTile | None = None
        self._title = name  # the name as drawn: with the tile's level marker where colour is not enough
        self.card = False
        self.figures_shown = "all"  # all | some | few: see FIGURES_HIDDEN

    def set_card(self, card: bool) -> None:
        """Cards label each figure; compact rows rely on the header line."""
        if card != self.card:
            self.card = card
            self.refresh(layout=True)

    def set_figures(self, figures: str) -> None:
        """Which figures a compact row shows: all, some or few (wallboard/ui/layout.py)."""
        if figures != self.figures_shown:
            self.figures_shown = figures
            self.refresh(layout=True)

    def shown(self) -> list[TileFigure]:
        """The figures drawn, in order."""
        hidden = FIGURES_HIDDEN[self.figures_shown] | (frozenset() if self.card else ROW_HIDDEN)
        return [figure for key, figure in self._figures.items() if key not in hidden]

    def hold(self, tile: QueueTile) -> None:
        """Keep `tile` for later: this tile is scrolled out of sight.

        Repainting a widget that is out of sight makes Textual rebuild its map of every
        widget on the screen; `catch_up` draws it when it comes into view.
        """
        self._held = tile

    def catch_up(self) -> None:
        if self._held is not None:
            self.show(self._held)

    def show(self, tile: QueueTile) -> None:
        self._held = None
        self.queue = tile.queue  # the total is renamed while a filter is on
        marker = level_marker(tile.level) if markers_wanted(self.app) else ""
        title = f"{marker} {printable(tile.queue)}" if marker else printable(tile.queue)
        changed = False
        if title != self._title:
            self._title = title
            self.border_title = Content(title)
            changed = True
        set_level_class(self, tile.level)
        for key, _, _, value, level_key in TILE_FIGURES:
            figure = self._figures[key]
            text, level = value(tile), tile.levels[level_key] if level_key else "none"
            if text != figure.value or level != figure.level:
                figure.value, figure.level = text, level
                changed = True
        if changed:
            self.refresh()

    def metric(self, key: str) -> TileFigure:
        return self._figures[key]

    # -- drawing -------------------------------------------------------------------------

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if not self.card:
            return 1
        return -(-len(self.shown()) // CARD_COLUMNS)

    def _card_columns(self) -> tuple[int, int]:
        """The widths of a card's two columns, as a grid of two 1fr columns makes them
        (offsets rounded down)."""
        width = self.content_region.width
        half = Fraction(width - CARD_GUTTER * (CARD_COLUMNS - 1), CARD_COLUMNS)
        return max(0, math.floor(half)), max(0, width - math.floor(half + CARD_GUTTER))

    def cell_width(self, figure: TileFigure) -> int:
        """The width of the cell `figure` is drawn in."""
        if not self.card:
            return ROW_FIGURE_WIDTHS.get(figure.key, ROW_FIGURE_WIDTH)
        left, right = self._card_columns()
        return left if self.shown().index(figure) % CARD_COLUMNS == 0 else right

    def _styles(self) -> dict[str, Style]:
        """The component styles a render uses, looked up once a render (each lookup walks
        the tile's styles)."""
        names = ("metric--label", "metric--none", "metric--ok", "metric--warn", "metric--alert", "tile--name")
        return {name: self.get_component_rich_style(name) for name in names}

    def figure_text(
        self, figure: TileFigure, width: int, styles: dict[str, Style] | None = None, marked: bool | None = None
    ) -> Text:
        """A figure in a cell `width` wide: the muted label on the left (cards only), the
        value on the right with a space each side (its block of colour when amber or red)."""
        styles = self._styles() if styles is None else styles
        marked = markers_wanted(self.app) if marked is None else marked
        # The marker takes the leading space: the columns keep their widths.
        marker = level_marker(figure.level) if figure.value and marked else ""
        value = f"{marker or ' '}{figure.value} "
        label = figure.label if self.card else ""
        room = width - cell_len(value)
        if label and room < cell_len(label) + 1:
            label = label[: max(0, room - 1)]
        pad = max(0, room - cell_len(label))
        text = Text.assemble(
            (label, styles["metric--label"]),
            " " * pad,
            (value, styles[f"metric--{figure.level}"]),
            end="",
            no_wrap=True,
            overflow="crop",
        )
        text.truncate(max(0, width))
        return text

    def render(self) -> Text:
        width = self.content_region.width
        figures = self.shown()
        styles, marked = self._styles(), markers_wanted(self.app)
        if self.card:
            left, right = self._card_columns()
            lines = []
            for index in range(0, len(figures), CARD_COLUMNS):
                line = Text(end="", no_wrap=True, overflow="crop")
                line.append_text(self.figure_text(figures[index], left, styles, marked))
                if index + 1 < len(figures):
                    line.append(" " * (width - left - right))
                    line.append_text(self.figure_text(figures[index + 1], right, styles, marked))
                lines.append(line)
            return Text("\n", end="", no_wrap=True, overflow="crop").join(lines)
        widths = [self.cell_width(figure) for figure in figures]
        name_width = max(NAME_MIN_WIDTH, min(NAME_MAX_WIDTH, width - sum(widths)))
        name = Text(self._title, no_wrap=True, overflow="ellipsis")
        name.truncate(max(0, name_width - NAME_PADDING), overflow="ellipsis")
        name.stylize(styles["tile--name"])
        name.pad_right(max(0, name_width - NAME_PADDING - name.cell_len))
        line = Text(" " * NAME_PADDING, end="", no_wrap=True, overflow="crop")
        line.append_text(name)
        for figure, figure_width in zip(figures, widths):
            line.append_text(self.figure_text(figure, figure_width, styles, marked))
        line.truncate(width)
        return line


class WallFigure(Horizontal):
    """A small label beside a big number."""

    def __init__(self, label: str, key: str) -> None:
        super().__init__(classes=f"wall-figure w-{key}")
        self.label = label
        self.shown_label = label
        self._label = Label(label, classes="wall-label", markup=False)
        self.digits = Digits("-", classes="wall-digits")
        self.level = "none"

    def compose(self) -> ComposeResult:
        yield self._label
        yield self.digits

    def set(self, value: str, level: str, *, marked: bool = False) -> None:
        """`marked`: name the level in words beside the label (where colour is not enough)."""
        if value != self.digits.value:
            self.digits.update(value)
        word = LEVEL_WORDS.get(level, "") if marked else ""
        label = f"{self.label} {level_marker(level)} {word}" if word else self.label
        if label != self.shown_label:
            self.shown_label = label
            self._label.update(label)
        if level != self.level:
            self.level = level
            set_level_class(self.digits, level)


class WallTileView(Widget):
    """A queue for the wall: calls waiting, longest wait, service level and abandoned calls in
    big digits, and a line for its alerts."""

    def __init__(self, queue: str, *, total: bool = False) -> None:
        super().__init__(classes="wall-tile" + (" -total" if total else ""))
        self.queue = queue
        self.border_title = Content(printable(queue))
        self._title = printable(queue)
        self.figures = {
            "waiting": WallFigure("WAITING", "waiting"),
            "longest_wait": WallFigure("LONGEST", "longest"),
            "service_level": WallFigure("SL %", "sl"),
            "abandoned": WallFigure("ABANDONED", "abandoned"),
        }
        self.alert_line = Label("", classes="wall-alerts", markup=False)
        self.alert_text = ""

    def compose(self) -> ComposeResult:
        with Widget(classes="wall-figures"):
            yield from self.figures.values()
        yield self.alert_line

    def show(self, tile: QueueTile, alerts: Sequence[Alert] = ()) -> None:
        marked = markers_wanted(self.app)
        set_level_class(self, tile.level)
        marker = level_marker(tile.level) if marked else ""
        title = f"{marker} {printable(tile.queue)}" if marker else printable(tile.queue)
        if title != self._title:
            self._title = title
            self.border_title = Content(title)
        self.figures["waiting"].set(str(tile.waiting), tile.levels["waiting"], marked=marked)
        longest = format_duration(tile.longest_wait) if tile.longest_wait is not None else "0:00"
        self.figures["longest_wait"].set(longest, tile.levels["longest_wait"], marked=marked)
        sl = "-" if tile.service_level_pct is None else f"{tile.service_level_pct:.0f}"
        self.figures["service_level"].set(sl, tile.levels["service_level"], marked=marked)
        self.figures["abandoned"].set(str(tile.abandoned), tile.levels["abandon_rate"], marked=marked)
        level = worst(a.level for a in alerts) if alerts else "none"
        if not alerts:
            text = "No alerts"
        else:
            count = f"{len(alerts)} alerts" if len(alerts) > 1 else "Alert"
            text = f"{level_marker(level) if marked else ''} {count}: {printable(alerts[0].text)}".strip()
        if text != self.alert_text:
            self.alert_text = text
            self.alert_line.update(Text(text, no_wrap=True, overflow="ellipsis"))
        set_level_class(self.alert_line, level if alerts else "ok")
