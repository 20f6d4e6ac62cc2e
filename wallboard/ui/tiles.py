"""Queue tiles: a row or a card of figures per queue, and the big-digit wall tile.

Their layout lives in board.tcss (a compact row under a header line on small terminals,
a bordered card on large ones); these classes only put figures in place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Digits, Label

from wallboard.calls.alerts import Alert
from wallboard.calls.board import QueueTile
from wallboard.calls.levels import worst
from wallboard.text import format_duration, format_pct, format_rate, printable
from wallboard.ui.widgets import LEVEL_WORDS, Metric, level_marker, markers_wanted, set_level_class


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


class QueueTileView(Widget):
    """One queue's figures. `header=True`: the column labels of the compact rows."""

    def __init__(self, queue: str, *, total: bool = False, header: bool = False) -> None:
        classes = "tile" + (" -total" if total else "") + (" -header" if header else "")
        super().__init__(classes=classes)
        self.queue = queue
        self.header = header
        name = "Queue" if header else printable(queue)
        # Border titles are markup unless given as Content: the name is drawn literally.
        self.border_title = Content(name)
        self._name_label = Label(Text(name, no_wrap=True, overflow="ellipsis"), classes="tile-name", markup=False)
        self._metrics = {
            key: Metric(label, value=short if header else "", show_label=False, classes=f"m-{key}")
            for key, label, short, _, _ in TILE_FIGURES
        }
        self._held: QueueTile | None = None
        self._title = name  # the name as drawn: with the tile's level marker where colour is not enough

    def compose(self) -> ComposeResult:
        yield self._name_label
        yield from self._metrics.values()

    def set_card(self, card: bool) -> None:
        """Cards label each figure; compact rows rely on the header line."""
        if self.header:
            return
        for metric in self._metrics.values():
            if metric.show_label != card:
                metric.show_label = card
                metric.refresh()

    def hold(self, tile: QueueTile) -> None:
        """Keep `tile` for later: this tile is scrolled out of sight.

        Repainting a widget that is out of sight makes Textual rebuild its map of every
        widget on the screen (hundreds, with 30 queues); `catch_up` draws it when it
        comes into view.
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
        if title != self._title:
            self._title = title
            self.border_title = Content(title)
            self._name_label.update(Text(title, no_wrap=True, overflow="ellipsis"))
        set_level_class(self, tile.level)
        for key, _, _, value, level_key in TILE_FIGURES:
            self._metrics[key].set(value(tile), tile.levels[level_key] if level_key else "none")

    def metric(self, key: str) -> Metric:
        return self._metrics[key]


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
