"""The board screen: header, queue tiles, alerts, trend and the agent table; or the wall.

The screen draws what the app hands it (a `BoardState` already judged against the
thresholds); it never reads the database. Layout and colours are in board.tcss: the tiles
as cards or compact rows in as many columns as fit (wallboard/ui/layout.py decides, on each
resize), a side column for the alerts and the trend on terminals from 150x45, and the
big-digit wall (tiles only) in wall mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ItemGrid
from textual.content import Content
from textual.css.query import NoMatches
from textual.events import Resize
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.widgets import Input, Label, Static

from tickets.ui.footer import KeyFooter
from wallboard.calls.alerts import Alert
from wallboard.calls.board import BoardState, agents_heading, format_clock, shown_agents, sort_agents
from wallboard.calls.levels import ALERT
from wallboard.calls.trend import TrendSeries
from wallboard.text import format_duration, printable
from wallboard.ui.agents import AgentTable
from wallboard.ui.colours import ALERT_BLOCK, OK_TEXT, WARN_BLOCK
from wallboard.ui.layout import CHROME_LINES, MAX_COLUMNS, TileLayout, tile_layout
from wallboard.ui.tiles import QueueTileView, WallTileView
from wallboard.ui.trend_chart import TrendChart
from wallboard.ui.waiting import WAITING_MIN_WIDTH, WaitingPane
from wallboard.ui.widgets import (
    IntervalBars,
    KeptHorizontal,
    KeptItemGrid,
    KeptLabel,
    KeptStatic,
    KeptVertical,
    KeptVerticalScroll,
    filling_text_resizes,
    level_marker,
    markers_wanted,
    set_level_class,
    text_resizes,
)

# The side column (and the wide agent table, the roomy wall) from this size up.
CARDS_MIN_WIDTH = 150
CARDS_MIN_HEIGHT = 45
COMPACT_ALERT_LINES = 3
# Wall tiles (board.tcss): (least width, height, (vertical, horizontal) gutter). Compact: four
# figures one under another, label beside digits; roomy: two by two, label over digits.
WALL_COMPACT = (26, 15, (0, 0))
WALL_ROOMY = (40, 14, (1, 2))
WALL_PROMISES_ROOMY = 3


@dataclass(frozen=True)
class Status:
    """What the header and the banner say about the data, decided by the app."""

    label: str  # "live", "stale 42 s", "starting", ...
    level: str  # ok | warn | alert
    banner: str | None = None
    banner_level: str = ALERT


class FilterBar(Input):
    """The `/` filter: narrows tiles, agents and alerts as you type; Enter keeps it, Escape
    puts back the one before. The bar acts on each key in the order typed: a busy board
    reads keys typed ahead together (`Esc` `/`, or a name and Enter), and Textual hands them
    all to the bar before a binding on the screen or the app would act on the first."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=True)]

    def __init__(self, on_close: Callable[[str | None], None], *, placeholder: str, id: str) -> None:
        # The text is selected by `open` (at once), not on focus (after keys typed ahead).
        super().__init__(placeholder=placeholder, id=id, select_on_focus=False)
        self.on_close = on_close  # the value kept (Enter), or None (Escape)
        self.editing = False

    def open(self, current: str) -> None:
        self.value = current
        self.select_all()
        self.editing = True

    def action_cancel(self) -> None:
        self._close(None)

    async def action_submit(self) -> None:
        self._close(self.value)

    def _close(self, kept: str | None) -> None:
        if self.editing:
            self.editing = False
            self.on_close(kept)

    async def on_key(self, event: events.Key) -> None:
        # Runs before Input's own key handling, which prevent_default() skips.
        if self.editing and event.key in ("escape", "enter"):
            event.stop()
            event.prevent_default()
            self._close(None if event.key == "escape" else self.value)
        elif not self.editing:
            # Typed after the Enter or Escape that closed the bar: the board's key.
            event.stop()
            event.prevent_default()
            if event.key == "slash":
                await self.run_action("app.filter")  # open again at once: what follows is typed in it
            else:
                self.app.post_message(events.Key(event.key, event.character))

    def validate_value(self, value: str) -> str:
        # A pasted escape sequence is drawn as symbols, never sent to the terminal.
        return printable(value)


class BoardScreen(Screen[None]):
    """The board; `set_filter` is the app's, which owns the filter (it filters every read)."""

    CSS_PATH = "board.tcss"
    # The agent table has the focus from the start (as on_mount sets it): Textual's default
    # focuses the first focusable widget, the tiles' scroll, and each move of the focus
    # restyles the tiles' scroll with every tile in it.
    AUTO_FOCUS = "#agents"
    BINDINGS = [
        # Not in the footer (full at 80 columns): the help names it.
        Binding("h", "toggle_logged_out", "Show or hide logged-out agents", show=False),
    ]

    def __init__(self, set_filter: Callable[[str], None]) -> None:
        super().__init__()
        self.set_filter = set_filter
        self.cards = False
        self.wall = False
        # The waiting callers: None shows them where there is room (WAITING_MIN_WIDTH);
        # the `l` key sets it.
        self.waiting_wanted: bool | None = None
        self.waiting_shown = False
        self.logged_out_shown = False  # the `h` key: logged-out agents in the table
        self.tile_layout: TileLayout | None = None
        self._tiles: dict[str, QueueTileView] = {}
        self._tile_names: list[str] = []
        self._wall_tiles: dict[str, WallTileView] = {}
        self._wall_names: list[str] = []
        self.wall_page = 0  # the page of queues the wall shows (turned by a timer)
        self.wall_pages = 1
        self._wall_capacity = 1  # tiles that fit the wall at this size
        self._wall_timer: Timer | None = None
        self._filter_before = ""
        self._last: tuple[BoardState, TrendSeries | None, str, Status] | None = None
        self._shown: dict[Static, str] = {}  # what each header label and the banner show
        self._alerts_key: str | None = None  # the alerts shown (their text and levels)
        self._alerts_text: str | None = None

    def compose(self) -> ComposeResult:
        # The layout classes before the widgets are mounted: each is then styled once, for
        # the terminal's size, rather than restyled when on_mount sets them.
        width, height = self.app.size
        cards = width >= CARDS_MIN_WIDTH and height >= CARDS_MIN_HEIGHT
        layout = tile_layout(width, height, len(self._tile_names) or 1)
        self._set_layout_classes(width, cards, self._waiting_wanted_at(width), layout)
        with KeptHorizontal(id="header"):
            yield KeptLabel(id="site", markup=False)
            yield KeptLabel(id="mode", markup=False)
            yield KeptLabel(id="clock", markup=False)
            yield KeptLabel(id="freshness", markup=False)
        yield KeptStatic(id="banner", markup=False)
        with KeptVertical(id="normal"):
            with KeptVerticalScroll(id="tiles-scroll"):
                # A header line over each column of compact rows.
                with KeptItemGrid(id="tiles-header"):
                    for _ in range(MAX_COLUMNS):
                        yield QueueTileView("Queue", header=True)
                yield KeptItemGrid(id="tiles")
            yield KeptStatic(id="callbacks", markup=False)
            with KeptVertical(id="body"):
                with KeptVertical(id="side"):
                    yield KeptStatic(id="promises", markup=False)
                    with KeptVerticalScroll(id="alerts-scroll"):
                        yield KeptStatic(id="alerts", markup=False)
                    yield WaitingPane(id="waiting-side")
                    with KeptVertical(id="trend"):
                        yield TrendChart(id="trend-sl")
                        yield IntervalBars("Offered calls", short_label="Offered", id="trend-offered")
                with KeptHorizontal(id="people"):
                    with KeptVertical(id="agents-pane"):
                        yield KeptLabel(id="agents-title", markup=False)
                        yield AgentTable(id="agents")
                    yield WaitingPane(id="waiting-pane")
        with KeptVertical(id="wall-area"):
            with KeptVerticalScroll(id="wall-scroll"):
                yield KeptItemGrid(id="wall")
            yield KeptStatic(id="wall-promises", markup=False)
        yield FilterBar(
            self._filter_closed,
            id="filter",
            placeholder="filter: queue, team or agent (comma for several); Enter keeps, Esc cancels",
        )
        yield KeyFooter()

    def on_mount(self) -> None:
        self.watch(self.query_one("#tiles-scroll"), "scroll_y", self._tiles_scrolled, init=False)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self._layout_for(self.app.size.width, self.app.size.height)
        self.query_one(AgentTable).focus()

    def _theme_changed(self, _theme: Theme) -> None:
        self.query_one(AgentTable).restyle()
        # The level markers come and go with the theme (widgets.markers_wanted).
        for tile in self.query(QueueTileView):
            tile.restyle()
        self.redraw()

    # -- layout ------------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        self._layout_for(event.size.width, event.size.height)
        self._tiles_scrolled()

    def _tiles_scrolled(self) -> None:
        """Tiles may have come into view: draw the figures they held while out of sight."""
        for tile in self._tiles.values():
            tile.catch_up()

    def _layout_for(self, width: int, height: int) -> None:
        cards = width >= CARDS_MIN_WIDTH and height >= CARDS_MIN_HEIGHT
        waiting_appeared = self._place_waiting(width)
        self._arrange_wall(width, height, cards)
        self._arrange_tiles(width, height)
        self._set_layout_classes(width, cards, self.waiting_shown, self.tile_layout)
        if waiting_appeared and cards == self.cards:
            self.redraw()
        if cards != self.cards:
            self.cards = cards
            self.query_one(AgentTable).set_wide(cards)
            self.redraw()

    def _set_layout_classes(self, width: int, cards: bool, waiting: bool, layout: TileLayout | None) -> None:
        """The screen's layout classes, which board.tcss keys off, changed at once: each
        restyle of the screen walks every widget on it, so one restyle, not one a class."""
        wanted = {
            "-cards": cards,
            "-compact": not cards,
            "-waiting": waiting,
            "-waiting-only": waiting and width < WAITING_MIN_WIDTH and not cards,
        }
        if layout is not None:
            wanted["-tile-cards"] = layout.mode == "cards"
            wanted["-tile-rows"] = layout.mode != "cards"
            for figures in ("all", "some", "few"):
                wanted[f"-figures-{figures}"] = layout.figures == figures
        before = set(self.classes)
        for name, present in wanted.items():
            self.set_class(present, name, update=False)
        if self.classes != before:
            self.update_node_styles()

    def _arrange_tiles(self, width: int, height: int) -> None:
        """Cards or rows, in how many columns: from the terminal size and the number of tiles
        only (never from a container's width, which a scrollbar changes): see layout.py.
        The screen's classes for it are the caller's to set (_set_layout_classes)."""
        layout = tile_layout(width, height, len(self._tile_names) or 1)
        if layout == self.tile_layout:
            return
        self.tile_layout = layout
        cards = layout.mode == "cards"
        self.query_one("#tiles", ItemGrid).styles.grid_size_columns = layout.columns
        header = self.query_one("#tiles-header", ItemGrid)
        header.styles.grid_size_columns = layout.columns
        for index, column in enumerate(header.query_children(QueueTileView)):
            column.display = not cards and index < layout.columns
            column.set_figures(layout.figures)
        for tile in self._tiles.values():
            tile.set_card(cards)
            tile.set_figures(layout.figures)

    def _arrange_wall(self, width: int, height: int, roomy: bool) -> None:
        """How many wall tiles fit (columns x rows): more queues than that turn in pages."""
        tile_width, tile_height, gutter = WALL_ROOMY if roomy else WALL_COMPACT
        room = height - CHROME_LINES - (WALL_PROMISES_ROOMY if roomy else 1)
        columns = max(1, min(MAX_COLUMNS, (width - 2 + gutter[1]) // (tile_width + gutter[1])))
        rows = max(1, (room + gutter[0]) // (tile_height + gutter[0]))
        self.query_one("#wall", ItemGrid).styles.grid_size_columns = columns
        if columns * rows != self._wall_capacity:
            self._wall_capacity = columns * rows
            if self.wall:
                self.redraw()

    def next_wall_page(self) -> None:
        """Turn the wall to its next page of queues (the timer's; a test may call it)."""
        if self.wall_pages > 1:
            self.wall_page = (self.wall_page + 1) % self.wall_pages
            self.redraw()

    def _waiting_wanted_at(self, width: int) -> bool:
        """Beside the agents where there is room (with cards: in the side column); instead
        of them when asked for on a smaller terminal."""
        return width >= WAITING_MIN_WIDTH if self.waiting_wanted is None else self.waiting_wanted

    def _place_waiting(self, width: int) -> bool:
        """Show or hide the waiting callers for a terminal `width` wide; whether they have
        just been shown. The screen's classes for it are the caller's to set
        (_set_layout_classes)."""
        shown = self._waiting_wanted_at(width)
        changed = shown != self.waiting_shown
        self.waiting_shown = shown
        return changed and shown

    def toggle_waiting(self) -> bool:
        """Show or hide the waiting callers; whether they are shown now."""
        self.waiting_wanted = not self.waiting_shown
        self._place_waiting(self.app.size.width)
        self._set_layout_classes(self.app.size.width, self.cards, self.waiting_shown, self.tile_layout)
        if self.waiting_shown and not self.wall and self.has_class("-waiting-only"):
            self.set_focus(None)  # the agent table is hidden; the list has nothing to scroll
        elif not self.wall:
            self.query_one(AgentTable).focus()
        self.redraw()
        return self.waiting_shown

    def set_wall(self, wall: bool) -> None:
        self.wall = wall
        self.set_class(wall, "-wall")
        if self._wall_timer is not None:
            self._wall_timer.stop()
            self._wall_timer = None
        if wall:
            self.wall_page = 0
            self.query_one("#wall-scroll").focus()
        else:
            self.query_one(AgentTable).focus()
        self.redraw()

    # -- filter ------------------------------------------------------------------------

    def open_filter(self, current: str) -> None:
        bar = self.query_one(FilterBar)
        self._filter_before = current
        bar.open(current)
        self.add_class("-filtering")
        self.set_focus(bar)  # now, not after the keys already typed

    def _filter_closed(self, kept: str | None) -> None:
        self.set_filter(self._filter_before if kept is None else kept)
        self.remove_class("-filtering")
        self.set_focus(self.query_one("#wall-scroll") if self.wall else self.query_one(AgentTable))

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        # Only the bar's text now: keys typed ahead are one redraw, and a change made before
        # an Escape or a new `/` is not shown after it.
        bar = event.input
        if isinstance(bar, FilterBar) and bar.editing and event.value == bar.value:
            self.set_filter(event.value)

    # -- drawing -----------------------------------------------------------------------

    def redraw(self) -> None:
        if self._last is not None:
            self.show(*self._last)

    def show(self, view: BoardState, trend: TrendSeries | None, sort_mode: str, status: Status) -> None:
        """Draw `view`; only the widgets whose content changed repaint."""
        self._last = (view, trend, sort_mode, status)
        if not self.is_mounted:
            return
        try:
            with self.app.batch_update():
                if self.wall:
                    self._show_wall(view)  # first: the header names its page
                self._show_header(view, sort_mode, status)
                if self.wall:
                    self._show_wall_promises(view)
                else:
                    self._show_tiles(view)
                    self._show_callbacks(view)
                    self._show_promises(view)
                    self._show_alerts(view)
                    self._show_trend(view, trend)
                    self._show_agents(view, sort_mode)
                    if self.waiting_shown:
                        self._show_waiting(view)
        except NoMatches:
            # The board's widgets are composed once and never removed, so one is missing only
            # while the app closes: a read that finished then has nothing left to draw on.
            return

    def _show_header(self, view: BoardState, sort_mode: str, status: Status) -> None:
        settings = view.settings
        self._set_label("#site", printable(view.site))
        mode = []
        if view.filter:
            mode.append(f"filter: {printable(view.filter)}")
        if self.wall:
            mode.append(f"wall {self.wall_page + 1}/{self.wall_pages}" if self.wall_pages > 1 else "wall")
        self._set_label("#mode", "  ".join(mode))
        self._set_label("#clock", format_clock(view.now, settings))
        freshness = self.query_one("#freshness", Label)
        self._set_label("#freshness", status.label)
        set_level_class(freshness, status.level)
        banner = self.query_one("#banner", Static)
        banner.display = status.banner is not None
        if status.banner is not None:
            self._set_static(banner, status.banner)
            set_level_class(banner, status.banner_level)

    def _set_label(self, selector: str, text: str) -> None:
        self._set_static(self.query_one(selector, Static), text)

    def _set_static(self, widget: Static, text: str) -> None:
        old = self._shown.get(widget)
        if old != text:
            self._shown[widget] = text
            widget.update(Content(text), layout=text_resizes(widget, old, text))

    def _show_tiles(self, view: BoardState) -> None:
        tiles = list(view.tiles) + [view.total]
        names = [t.queue for t in view.tiles] + ["\x00total"]
        if names != self._tile_names:
            grid = self.query_one("#tiles", ItemGrid)
            grid.remove_children()
            self._tiles = {}
            for name, tile in zip(names, tiles):
                widget = QueueTileView(tile.queue, total=tile.is_total)
                if self.tile_layout is not None:
                    widget.set_card(self.tile_layout.mode == "cards")
                    widget.set_figures(self.tile_layout.figures)
                self._tiles[name] = widget
            grid.mount_all(self._tiles.values())
            self._tile_names = names
            self._arrange_tiles(self.app.size.width, self.app.size.height)
            self._set_layout_classes(self.app.size.width, self.cards, self.waiting_shown, self.tile_layout)
        # Tiles scrolled out of sight keep their figures until they come into view
        # (scrolling, a resize): see QueueTileView.hold.
        viewport = self.query_one("#tiles-scroll").region
        marked = markers_wanted(self.app)
        for name, tile in zip(names, tiles):
            if tile.is_total and view.filter:
                tile = replace(tile, queue="Selected")
            widget = self._tiles[name]
            if widget.shows(tile, marked):
                continue
            region = widget.region
            if region.area and viewport.area and not region.overlaps(viewport):
                widget.hold(tile)
            else:
                widget.show(tile)

    def _show_callbacks(self, view: BoardState) -> None:
        """The call-backs tile of each queue with open requests, on one line (none: hidden)."""
        widget = self.query_one("#callbacks", Static)
        widget.display = bool(view.callbacks)
        if not view.callbacks:
            return
        parts: list[Content | str] = [Content.styled("Call-backs (b)", "bold"), "  "]
        for index, tile in enumerate(view.callbacks):
            if index:
                parts.append("  │  ")
            style = f"bold white on {ALERT_BLOCK}" if tile.level == ALERT else ""
            parts.append(Content.styled(f" {printable(tile.text)} ", style) if style else printable(tile.text))
        content = Content.assemble(*parts)
        if self._shown.get(widget) != content.plain:
            self._shown[widget] = content.plain
            widget.update(content)

    def _show_wall(self, view: BoardState) -> None:
        tiles = list(view.tiles) + [view.total]
        names = [t.queue for t in view.tiles] + ["\x00total"]
        if names != self._wall_names:
            grid = self.query_one("#wall", ItemGrid)
            grid.remove_children()
            self._wall_tiles = {name: WallTileView(tile.queue, total=tile.is_total) for name, tile in zip(names, tiles)}
            grid.mount_all(self._wall_tiles.values())
            self._wall_names = names
        if self._wall_timer is None:
            self._wall_timer = self.set_interval(view.settings.board.wall_page_seconds, self.next_wall_page)
        # A page of queues at a time when they do not all fit, the total on every page.
        per_page = max(1, self._wall_capacity - 1)
        self.wall_pages = max(1, math.ceil(len(view.tiles) / per_page)) if len(tiles) > self._wall_capacity else 1
        self.wall_page %= self.wall_pages
        first = self.wall_page * per_page
        shown = set(names[:-1][first : first + per_page]) | {"\x00total"} if self.wall_pages > 1 else set(names)
        alerts: dict[str | None, list[Alert]] = {}
        for alert in view.alerts:
            alerts.setdefault(alert.queue, []).append(alert)
        for name, tile in zip(names, tiles):
            widget = self._wall_tiles[name]
            widget.display = name in shown
            if name in shown:
                widget.show(tile, view.alerts if tile.is_total else alerts.get(tile.queue, ()))

    def _show_wall_promises(self, view: BoardState) -> None:
        """The promises to customers under the wall's tiles."""
        widget = self.query_one("#wall-promises", Static)
        tile = view.promises
        widget.display = tile is not None
        if tile is None:
            return
        marker = level_marker(tile.level) if markers_wanted(self.app) else ""
        text = f"PROMISES  {tile.due_today} due today  ·  {tile.overdue} overdue"
        if tile.oldest_overdue is not None:
            text += f"  ·  oldest {format_duration(tile.oldest_overdue)}"
        self._set_static(widget, f"{marker} {text}" if marker else text)
        set_level_class(widget, tile.level)

    def _show_promises(self, view: BoardState) -> None:
        """Promises to customers beside the call figures: due today, overdue, the oldest."""
        widget = self.query_one("#promises", Static)
        tile = view.promises
        widget.display = tile is not None
        if tile is None:
            return
        text = f"Promises  {tile.due_today} due today · {tile.overdue} overdue"
        if tile.oldest_overdue is not None:
            text += f" · oldest {format_duration(tile.oldest_overdue)}"
        marker = level_marker(tile.level) if markers_wanted(self.app) else ""
        self._set_static(widget, f"{marker} {text}" if marker else text)
        set_level_class(widget, tile.level)

    def _show_alerts(self, view: BoardState) -> None:
        """Open alerts ("since 19:41 ... for 12 min", who acknowledged), then those cleared
        lately, greyed, until `[board] cleared_alert_seconds` have passed."""
        alerts = view.alerts
        widget = self.query_one("#alerts", Static)
        set_level_class(widget, "ok" if not alerts else "alert")
        if not alerts and not view.cleared_alerts:
            content = Content.styled("No alerts", OK_TEXT)
        else:
            every = alerts + view.cleared_alerts
            limit = len(every) if self.cards else COMPACT_ALERT_LINES
            shown = every if len(every) <= limit else every[: limit - 1]
            lines = [self._alert_line(alert, view) for alert in shown]
            if len(shown) < len(every):
                lines.append(
                    Content.styled(f"  +{len(every) - len(shown)} more (A: alert history; / to filter)", "$text-muted")
                )
            content = Content("\n").join(lines)
        key = content.plain + str([a.level for a in alerts])
        if self._alerts_key != key:
            self._alerts_key = key
            resizes = filling_text_resizes if self.cards else text_resizes
            widget.update(content, layout=resizes(widget, self._alerts_text, content.plain))
            self._alerts_text = content.plain

    def _alert_line(self, alert: Alert, view: BoardState) -> Content:
        since = alert.since_label(lambda ts: format_clock(ts, view.settings, seconds=False))
        duration = alert.duration_label(view.now)
        tail = f" · {duration}" if duration else ""
        if alert.cleared_at is not None:
            return Content.assemble(
                (f" {since} ", "reverse $text-muted"), " ", (printable(alert.text) + tail, "$text-muted")
            )
        if alert.acknowledged_by:
            tail += f" · ack {printable(alert.acknowledged_by)}"
        style = f"bold white on {ALERT_BLOCK}" if alert.level == ALERT else f"black on {WARN_BLOCK}"
        return Content.assemble((f" {since} ", style), " ", printable(alert.text), (tail, "$text-muted"))

    def _show_trend(self, view: BoardState, trend: TrendSeries | None) -> None:
        """The service level chart (the day from opening against last week) and today's
        offered calls per interval."""
        chart = self.query_one("#trend-sl", TrendChart)
        offered_bars = self.query_one("#trend-offered", IntervalBars)
        if trend is None:
            chart.show_series(None, ())
            offered_bars.set([], value="", caption="")
            return
        settings = view.settings
        chart.show_series(trend, tuple(format_clock(start, settings, seconds=False) for start in trend.starts))
        offered = trend.offered[: trend.elapsed]
        offered_bars.label = f"Offered per {trend.interval_minutes} min"
        since = format_clock(trend.starts[0], settings, seconds=False) if trend.starts else ""
        offered_bars.set(
            offered,
            value=str(offered[-1] if offered else 0),
            caption=f"from {since} · peak {max(offered, default=0)}",
        )

    def _show_agents(self, view: BoardState, sort_mode: str) -> None:
        table = self.query_one(AgentTable)
        table.sync(sort_agents(shown_agents(view.agents, logged_out=self.logged_out_shown), sort_mode))
        heading = agents_heading(view.agents, sort_mode, logged_out_shown=self.logged_out_shown)
        self._set_label("#agents-title", heading)

    def action_toggle_logged_out(self) -> None:
        self.logged_out_shown = not self.logged_out_shown
        self.notify(f"Logged-out agents {'shown' if self.logged_out_shown else 'hidden'} (h)", timeout=2)
        self.redraw()

    def _show_waiting(self, view: BoardState) -> None:
        pane = self.query_one("#waiting-side" if self.cards else "#waiting-pane", WaitingPane)
        pane.show(view.waiting)
