"""Queue tiles: a row or a card of figures per queue, and the big-digit wall tile.

Their layout lives in board.tcss (a compact row under a header line on small terminals,
a bordered card on large ones); these classes only put figures in place.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget
from textual.widgets import Digits, Label

from wallboard.calls.alerts import Alert
from wallboard.calls.board import QueueTile
from wallboard.calls.levels import worst
from wallboard.text import format_duration, format_pct, format_rate, printable
from wallboard.ui.widgets import LEVEL_WORDS, KeptLines, level_marker, markers_wanted, set_level_class


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
STYLE_NAMES = ("metric--label", "metric--none", "metric--ok", "metric--warn", "metric--alert", "tile--name")
# A part of a drawn line: its text and the name of its style ("" for the tile's own).
Part = tuple[str, str]


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


class QueueTileView(KeptLines):
    """One queue's figures, drawn by the tile itself. `header=True`: the column labels of the
    compact rows.

    One widget a tile, not a widget a figure: Textual repaints every widget under the
    rectangle around what changed, and a busy floor changes some figure of some queue each
    second. With a widget per figure that was some 400 widgets a second at 30 queues
    (tests/benchmarks/wallboard.py). It draws as its figure widgets did: in compact rows,
    the name then the figures at fixed widths; in a card (bordered by board.tcss), the figures
    labelled in two columns.

    It draws on the Line API (`render_line`): a line is put together from its cells' segments,
    with the styles Textual's own text rendering gives them (`_part_styles`), not through that
    rendering each time; a figure that changes repaints its cell only (`refresh(Region)`), so the screen's
    update stays as small as what changed. `render` draws the same text the Textual way (text
    selection reads it; tests/tui/test_tiles_lines.py checks the two agree).
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
        self._figures = {
            key: TileFigure(self, key, label, short if header else "") for key, label, short, _, _ in TILE_FIGURES
        }
        self._held: QueueTile | None = None
        self._drawn: tuple[QueueTile, bool] | None = None  # the tile last shown, with or without markers
        self._title = name  # the name as drawn: with the tile's level marker where colour is not enough
        self.card = False
        self.figures_shown = "all"  # all | some | few: see FIGURES_HIDDEN
        # The style of each part as Textual's text rendering gives it (None: look it up again).
        self._segment_styles: dict[str, Style] | None = None
        self._placed_styles: dict[tuple[str, int, int], Style] = {}  # with their offsets
        self._frame: _TileFrame | None = None  # while a frame draws: see render_lines
        self._framing = False

    def set_card(self, card: bool) -> None:
        """Cards label each figure; compact rows rely on the header line."""
        if card != self.card:
            self.card = card
            self._set_border_title()
            self.refresh(layout=True)

    def _set_border_title(self) -> None:
        """A card's border carries the name. A compact row has no border and draws its name
        in its line: without a border title, each frame that draws the row spends nothing
        on one (the board asks every tile for its lines each second)."""
        # Border titles are markup unless given as Content: the name is drawn literally.
        self.border_title = Content(self._title) if self.card else None

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

    def shows(self, tile: QueueTile, marked: bool) -> bool:
        """Whether the tile on screen is `tile` already (drawn with markers or not), nothing
        held back: most queues of a floor do not change in a given second."""
        return self._held is None and self._drawn == (tile, marked)

    def show(self, tile: QueueTile) -> None:
        self._held = None
        self.queue = tile.queue  # the total is renamed while a filter is on
        marked = markers_wanted(self.app)
        self._drawn = (tile, marked)
        marker = level_marker(tile.level) if marked else ""
        title = f"{marker} {printable(tile.queue)}" if marker else printable(tile.queue)
        whole = False
        if title != self._title:
            self._title = title
            self._set_border_title()
            whole = True
        set_level_class(self, tile.level)
        changed: list[TileFigure] = []
        for key, _, _, value, level_key in TILE_FIGURES:
            figure = self._figures[key]
            text, level = value(tile), tile.levels[level_key] if level_key else "none"
            if text != figure.value or level != figure.level:
                figure.value, figure.level = text, level
                changed.append(figure)
        if whole:
            self.refresh()
        elif changed:
            # Only the cells of the figures that changed: the screen's update is the rectangle
            # around every region repainted, and a busy floor changes a few figures a second.
            regions = self._cell_regions(changed)
            if regions is None:
                self.refresh()
            elif regions:  # none: the figures that changed are not drawn here
                self.refresh(*regions)

    def metric(self, key: str) -> TileFigure:
        return self._figures[key]

    # -- drawing -------------------------------------------------------------------------

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if not self.card:
            return 1
        return -(-len(self.shown()) // CARD_COLUMNS)

    def _cell_regions(self, figures: list[TileFigure]) -> list[Region] | None:
        """Where `figures` are drawn, in content coordinates (None: not laid out yet, or a
        figure not drawn: repaint the whole tile)."""
        width = self.content_region.width
        if width <= 0:
            return None
        shown = self.shown()
        regions = []
        if self.card:
            left, right = self._card_columns()
            for figure in figures:
                if figure not in shown:
                    continue
                index = shown.index(figure)
                column = index % CARD_COLUMNS
                x = 0 if column == 0 else width - right
                regions.append(Region(x, index // CARD_COLUMNS, left if column == 0 else right, 1))
            return regions
        widths = [self.cell_width(figure) for figure in shown]
        x = self._name_width(width, widths)
        line = Region(0, 0, width, 1)
        for figure, figure_width in zip(shown, widths):
            if figure in figures and (cell := Region(x, 0, figure_width, 1).intersection(line)):
                regions.append(cell)
            x += figure_width
        return regions

    def _name_width(self, width: int, widths: list[int]) -> int:
        """The width of a compact row's name column (its padding included)."""
        return max(NAME_MIN_WIDTH, min(NAME_MAX_WIDTH, width - sum(widths)))

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
        return {name: self.get_component_rich_style(name) for name in STYLE_NAMES}

    def figure_text(
        self, figure: TileFigure, width: int, styles: dict[str, Style] | None = None, marked: bool | None = None
    ) -> Text:
        """A figure in a cell `width` wide: the muted label on the left (cards only), the
        value on the right with a space each side (its block of colour when amber or red)."""
        styles = self._styles() if styles is None else styles
        marked = markers_wanted(self.app) if marked is None else marked
        label, pad, value = _figure_parts(figure.label if self.card else "", figure.value, figure.level, width, marked)
        text = Text.assemble(
            (label, styles["metric--label"]),
            pad,
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
        name_width = self._name_width(width, widths)
        name = Text(self._name_in(name_width), no_wrap=True, overflow="ellipsis")
        name.stylize(styles["tile--name"])
        name.pad_right(max(0, name_width - NAME_PADDING - name.cell_len))
        line = Text(" " * NAME_PADDING, end="", no_wrap=True, overflow="crop")
        line.append_text(name)
        for figure, figure_width in zip(figures, widths):
            line.append_text(self.figure_text(figure, figure_width, styles, marked))
        line.truncate(width)
        return line

    def _name_in(self, name_width: int) -> str:
        """The queue's name as drawn in a name column `name_width` wide (an ellipsis when cut)."""
        name = Text(self._title, no_wrap=True, overflow="ellipsis")
        name.truncate(max(0, name_width - NAME_PADDING), overflow="ellipsis")
        return name.plain

    # -- the Line API --------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.restyle(refresh=False)

    def restyle(self, refresh: bool = True) -> None:
        """Look the styles up again (a class, the theme or the markers changed); every line
        is drawn again."""
        self._segment_styles = None
        self._placed_styles.clear()
        if refresh:
            self.refresh()

    def _part_styles(self) -> dict[str, Style]:
        """The style of each kind of part as Textual's text rendering draws it on this tile
        (the tile's own style under the component's), found by rendering one cell of each
        once: the lines built from them match `render` drawn the Textual way."""
        if self._segment_styles is None:
            names = ("", *STYLE_NAMES)
            probe = Text.assemble(*((("x", self.get_component_rich_style(name)) if name else "x") for name in names))
            strips = Visual.to_strips(self, visualize(self, probe), len(names), 1, self.visual_style)
            styles = [segment.style or Style() for segment in strips[0] for _ in segment.text] if strips else []
            found = {name: style.clear_meta_and_links() for name, style in zip(names, styles)}
            self._segment_styles = found
        return self._segment_styles

    def _segments(self, parts: list[Part], y: int) -> list[Segment]:
        """Line `y` of `parts`, as Textual's text rendering makes it: a segment per styled
        part (each carrying its offset: text selection reads it), the unstyled parts between
        them run together."""
        styles = self._part_styles()
        placed = self._placed_styles
        segments = []
        x = 0
        runs: list[Part] = []
        for text, name in parts:
            if not text:
                continue
            if runs and not name and not runs[-1][1]:
                runs[-1] = (runs[-1][0] + text, "")
            else:
                runs.append((text, name))
        for text, name in runs:
            # The same figure sits in the same place second after second: its style too.
            key = (name, x, y)
            style = placed.get(key)
            if style is None:
                style = placed[key] = styles[name] + Style.from_meta({"offset": (x, y)})
            segments.append(Segment(text, style))
            x += len(text)
        return segments

    def _cell(self, figure: TileFigure, width: int, marked: bool) -> list[Part]:
        """A figure's cell, `width` wide."""
        label, pad, value = _figure_parts(figure.label if self.card else "", figure.value, figure.level, width, marked)
        parts = [(label, "metric--label"), (pad, ""), (value, f"metric--{figure.level}")]
        if cell_len(label) + len(pad) + cell_len(value) <= width:
            return parts
        cropped: list[Part] = []
        room = max(0, width)
        for text, name in parts:
            if room <= 0:
                break
            if cell_len(text) > room:
                text = set_cell_size(text, room)
            cropped.append((text, name))
            room -= cell_len(text)
        return cropped

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every line of a frame shares (the size, the figures drawn, the card's columns)
        # is looked up once a frame, and only when a line is drawn: each frame asks every tile
        # for its lines, and most tiles give back the lines they kept (nothing changed).
        self._framing = True
        try:
            return super().render_lines(crop)
        finally:
            self._framing = False
            self._frame = None

    def _frame_now(self) -> _TileFrame:
        return _TileFrame(
            width=self.size.width,
            figures=self.shown(),
            marked=markers_wanted(self.app),
            columns=self._card_columns() if self.card else (0, 0),
        )

    def render_line(self, y: int) -> Strip:
        if self.text_selection is not None:  # drawn the Textual way, with the selection
            return super().render_line(y)
        frame = self._frame
        if frame is None:
            frame = self._frame_now()
            if self._framing:
                self._frame = frame
        width, figures, marked = frame.width, frame.figures, frame.marked
        if self.card:
            left, right = frame.columns
            index = y * CARD_COLUMNS
            if index >= len(figures):
                return Strip.blank(width, self.visual_style.rich_style)
            parts = self._cell(figures[index], left, marked)
            if index + 1 < len(figures):
                parts.append((" " * (width - left - right), ""))
                parts += self._cell(figures[index + 1], right, marked)
            return Strip(self._segments(parts, y)).crop(0, width)
        if y > 0:
            return Strip.blank(width, self.visual_style.rich_style)
        widths = [self.cell_width(figure) for figure in figures]
        name_width = self._name_width(width, widths)
        name = self._name_in(name_width)
        pad = " " * max(0, name_width - NAME_PADDING - cell_len(name))
        parts = [(" " * NAME_PADDING, ""), (name, "tile--name"), (pad, "")]
        for figure, figure_width in zip(figures, widths):
            parts += self._cell(figure, figure_width, marked)
        return Strip(self._segments(parts, y)).crop(0, width)


@dataclass(frozen=True, slots=True)
class _TileFrame:
    """What the lines of a tile drawn in one frame share."""

    width: int
    figures: list[TileFigure]
    marked: bool
    columns: tuple[int, int]  # a card's two columns (compact rows: unused)


def _figure_parts(label: str, value: str, level: str, width: int, marked: bool) -> tuple[str, str, str]:
    """A figure in a cell `width` wide: the muted label on the left (cards only), the value
    on the right with a space each side (its block of colour when amber or red); before
    cropping to `width`."""
    # The marker takes the leading space: the columns keep their widths.
    marker = level_marker(level) if value and marked else ""
    shown = f"{marker or ' '}{value} "
    room = width - cell_len(shown)
    if label and room < cell_len(label) + 1:
        label = label[: max(0, room - 1)]
    pad = max(0, room - cell_len(label))
    return label, " " * pad, shown


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
