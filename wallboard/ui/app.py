"""The wallboard app: reads the live snapshot once a second in a thread, draws it.

It reads through a `BoardSource` on a thread of its own (never on the event loop): the rows
each second, the trend at most once a minute. The source is a
`wallboard.store.board_reader.BoardReader` on the database, or, in an SSH session's process,
the server's one over the session link; this package imports no database code.
Between reads, the last state is re-judged each second, so waits and times in state
tick even if a read is slow.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tickets.permissions import Role
from tickets.ui import ComplaintDesk
from tickets.ui.desk import NO_USER
from wallboard.calls.alerts import AlertBook, AlertRecord
from wallboard.calls.board import SORT_LABELS, SORT_MODES, BoardRows, BoardState, Freshness, evaluate, format_clock
from wallboard.calls.levels import ALERT, OK, WARN
from wallboard.calls.trend import Trend, TrendSeries
from wallboard.config import Settings
from wallboard.text import format_age, one_line, printable
from wallboard.ui.agent_actions import AgentActionRequest, AgentActionScreen, selected_agent
from wallboard.ui.agents import AgentTable
from wallboard.ui.board_screen import BoardScreen, Status
from wallboard.ui.help_screen import HelpScreen
from wallboard.ui.own_view import OwnView
from wallboard.ui.themes import WALLBOARD_THEMES

log = logging.getLogger(__name__)

THEMES = (
    "textual-dark",
    "textual-light",
    "nord",
    "gruvbox",
    "solarized-light",
    "ansi-dark",
    "wallboard-high-contrast",
)
TREND_EVERY_SECONDS = 60.0
TREND_RETRY_SECONDS = 5.0
# A feed this young that has not caught up yet is starting, not stale.
STARTING_GRACE_SECONDS = 30.0

# ("starting" | "running" | "degraded" | "stopped", problem): "degraded" is some of several
# feeds in trouble; a problem with "running" is one the feed is riding out.
FeedStatus = Callable[[], tuple[str, str | None]]


# What running the app imports beyond this module (the terminal driver, layouts): the SSH
# session template (wallboard/ssh/board_template.py) imports them once for every session.
RUN_TIME_MODULES = (
    "textual.drivers.linux_driver",
    "textual.drivers._writer_thread",
    "textual._xterm_parser",
    "textual._keyboard_protocol",
    "textual.layouts.factory",
    "textual.layouts.horizontal",
    "textual.layouts.stream",
    "textual.scrollbar",
)


def preload() -> None:
    """Import what the app will import once it runs (see RUN_TIME_MODULES).

    Some are Textual's private modules: a Textual release may move them, and a preload is
    only a head start, so one that is gone is skipped."""
    for name in RUN_TIME_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            log.debug("preload: no module %s in this Textual", name)


class BoardSource(Protocol):
    def read(self, now: float, with_trend: bool = False) -> tuple[BoardRows, Trend | None]: ...

    def alerts_today(self, now: float) -> Sequence[AlertRecord]: ...


# Young collections once per this many new objects (Python's default: 700).
YOUNG_COLLECTION_OBJECTS = 7000


def _freeze_heap() -> None:
    """Once the first board is drawn: set aside what start-up made (modules, screens, styles,
    some 180,000 objects), which lasts as long as the app, and collect the young objects less
    often. A busy board allocates fast (500 agent rows a second, each living until the next
    read): the collector's full passes came every few seconds and each one walked all of
    start-up's objects (0.15-0.2 s of CPU a pass), and its young passes ran some 5 times a
    second; together about half a point of a core (tests/benchmarks/wallboard.py). An SSH
    session's template has set aside its own already (wallboard/ssh/board_template.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_OBJECTS, *gc.get_threshold()[1:])


class ChangeSource(Protocol):
    """Tells the board that the call data changed: a `wallboard.store.changes.ChangeWatch`
    on the database, or in an SSH session the server's nudges (wallboard/ssh/link.py)."""

    def wait(self, timeout: float) -> bool:
        """True as soon as something changed since the last call; False after `timeout`."""
        ...

    def close(self) -> None: ...


def _turned_stale(read: Freshness, now: Freshness) -> bool:
    """Whether the board judged now shows stale what the last read showed live."""
    return (now.stale and not read.stale) or not set(now.stale_feeds) <= set(read.stale_feeds)


class WallboardApp(App[None]):
    """The wallboard TUI over a `BoardSource`.

    clock: the wall clock (injectable: tests freeze it).
    feed_status: for the all-in-one process, how its own feed thread is doing.
    notices: shown once at start (what the server changed of an SSH session: its size).
    changes: when given, the board reads as soon as it says the data changed, and otherwise
    only every `[board] fallback_read_seconds`; the clock and the waits still tick each
    `poll_seconds` from the last read. Without it, the board reads each `poll_seconds`.
    desk_calls: the complaint calls of who is looking (a tickets.user_desk.UserDesk or a
    session link's proxy of one; None: the board only), used through `self.desk` (tickets/ui).
    agent_calls: the supervisor actions of who is looking (a
    wallboard.feeds.agent_actions.AgentActions or a session link's proxy of one; None: none).

    A key that cannot act now is hidden from the footer (at 80 columns it has no room for
    keys that do nothing) and, pressed, says why in one line: each such key has a second,
    hidden binding to `explain`, which Textual runs when the first one's `check_action`
    refuses it.
    live: False builds the board without reading or watching anything until `attach_session`
    (the SSH session template builds it once, before any session: wallboard/ssh/board_template.py).
    """

    TITLE = "Wallboard"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("c", "complaints('complaints')", "Complaints"),
        Binding("n", "complaints('new')", "New"),
        Binding("i", "complaints('notifications')", "Inbox"),
        Binding("o", "complaints('overview')", "Overview"),
        # Not in the footer (it is full at 80 columns): the call-backs strip and the help name it.
        Binding("b", "complaints('callbacks')", "Call-backs", show=False),
        Binding("e", "complaints('quality')", "Quality", show=False),
        Binding("t", "cycle_theme", "Theme"),
        Binding("w", "toggle_wall", "Wall"),
        Binding("l", "toggle_waiting", "Waiting"),
        Binding("f", "flag_caller", "Flag caller"),
        Binding("p", "act_on_agent", "Agent"),
        # Not in the footer (full at 80 columns): the help and the command palette name them.
        Binding("a", "acknowledge_alerts", "Acknowledge alerts", show=False),
        Binding("A", "alert_history", "Alert history", show=False),
        Binding("g", "cycle_trend", "Trend queue", show=False),
        Binding("m", "own_view", "My figures", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        # Why a key above cannot act, when its check_action refuses it (see the docstring).
        Binding("n", "explain('complaints', 'new')", show=False),
        Binding("i", "explain('complaints', 'notifications')", show=False),
        Binding("o", "explain('complaints', 'overview')", show=False),
        Binding("b", "explain('complaints', 'callbacks')", show=False),
        Binding("f", "explain('flag_caller')", show=False),
        Binding("p", "explain('act_on_agent')", show=False),
    ]

    def __init__(
        self,
        source: BoardSource,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        *,
        feed_status: FeedStatus | None = None,
        handle_signals: bool = False,
        poll_seconds: float = 1.0,
        desk_calls: object | None = None,
        agent_calls: object | None = None,
        inbox_poll_seconds: float = 2.0,
        notices: Sequence[str] = (),
        changes: ChangeSource | None = None,
        live: bool = True,
    ) -> None:
        super().__init__()
        for theme in WALLBOARD_THEMES:
            self.register_theme(theme)
        self.live = live
        self._inbox_poll_seconds = inbox_poll_seconds
        self.notices = tuple(notices)
        self.source = source
        self.settings = settings
        self.clock = clock
        self.feed_status = feed_status
        self.handle_signals = handle_signals
        self.poll_seconds = poll_seconds
        self.board: BoardState | None = None  # the last read, unfiltered
        self.view: BoardState | None = None  # what is on screen
        self.trend: Trend | None = None
        self.filter_text = ""
        self.trend_queue: str | None = None  # the trend of one queue (`g` cycles), None: all of them
        self.sort_mode = SORT_MODES[0]
        self.wall = False
        self.read_error: str | None = None
        self.reads = 0  # successful reads so far (tests wait on it)
        self._alerts = AlertBook()
        self._reading = False
        self._trend_due = -math.inf
        self._series_key: tuple[Trend, tuple[str, ...] | None] | None = None
        self._series: TrendSeries | None = None
        self._board_screen = BoardScreen(self.set_filter)
        # One lasting thread for the reads, not a Textual worker a second (a thread and
        # three messages each time: it adds up over 50 SSH sessions).
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="board-read")
        self.changes = changes
        self._changed_meanwhile = False  # told of a change while a read was under way
        self._read_started = -math.inf  # monotonic
        self._drawn_at = -math.inf  # monotonic
        self._watching = threading.Event()
        self._holding_display = False  # until the first read is drawn (attach_session)
        self._on_first_frame: Callable[[], None] | None = None
        self._heap_frozen = False  # see _freeze_heap
        self.desk = ComplaintDesk(self, desk_calls, settings, clock=clock, poll_seconds=inbox_poll_seconds)
        self.agent_calls: Any = agent_calls

    # -- lifecycle ---------------------------------------------------------------------

    def on_mount(self) -> None:
        # Pushed rather than the default screen: a pushed screen loads its own .tcss.
        self.push_screen(self._board_screen)
        self._set_theme()
        if self.live:
            self._go_live()

    def _set_theme(self) -> None:
        theme = self.settings.board.theme
        if theme in self.available_themes:
            self.theme = theme
        else:
            log.warning("unknown theme %r in config; using %s", theme, self.theme)

    def attach_session(
        self,
        settings: Settings,
        source: BoardSource,
        *,
        desk_calls: object | None,
        agent_calls: object | None,
        notices: Sequence[str],
        changes: ChangeSource | None,
        on_first_frame: Callable[[], None] | None = None,
    ) -> None:
        """Give a board built without a session (`live=False`) its session (its user's
        settings: the header names who), and start. What the board showed before (a
        template's draw) is forgotten and never shown: the screen stays as it is until the
        session's own first read is drawn. That first read is made here, on this thread,
        before the caller attaches the terminal: the board is then laid out and drawn once,
        at the terminal's size, with its own figures."""
        built_with, self.settings = self.settings, settings
        if settings.board.theme != built_with.board.theme:
            self._set_theme()
        self.board = self.view = self.trend = None
        self.reads, self._trend_due, self._series_key, self._alerts = 0, -math.inf, None, AlertBook()
        self._holding_display = True
        self._on_first_frame = on_first_frame
        self._begin_batch()
        self.source, self.changes, self.notices = source, changes, tuple(notices)
        self.desk = ComplaintDesk(
            self, desk_calls, self.settings, clock=self.clock, poll_seconds=self._inbox_poll_seconds
        )
        self.agent_calls = agent_calls
        self._read_started = time.monotonic()
        self._received(*self._read(self.board_now(), True))
        # As on a board drawn first now: the agents' cursor on the first row (the template's
        # followed the agent that was first when it drew).
        agents = self._board_screen.query(AgentTable)
        if agents:
            agents.first().move_cursor(row=0, scroll=False)
        self.live = True
        self._go_live(read=self.board is None)

    def _go_live(self, read: bool = True) -> None:
        """Signals, reads, the change watch, the desk: all a session's own (threads too)."""
        if self.handle_signals and threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signum, self.exit)
        self.set_interval(self.poll_seconds, self._tick)
        if read:
            self._start_read()
        if self.changes is not None:
            self._watching.set()
            loop = asyncio.get_running_loop()
            threading.Thread(target=self._watch, args=(self.changes, loop), name="board-watch", daemon=True).start()
        self.desk.start(self._board_screen)
        # Once the board screen is up: a toast goes to the screen shown when it is posted.
        self.call_after_refresh(self._show_notices)

    def _show_notices(self) -> None:
        for notice in self.notices:
            self.notify(notice, severity="warning", timeout=20, markup=False)

    def board_now(self) -> float:
        """The moment the board is judged at: the clock's whole second. Every time on the board
        (the clock, times in state, waits) then moves on together once a second, and a read
        that lands within the second the board shows repaints only what the data changed,
        not every ticking time (a busy floor writes each second, at any point in it)."""
        return float(math.floor(self.clock()))

    def _tick(self) -> None:
        fallback = self.settings.board.fallback_read_seconds
        if not self._reading and (
            self.changes is None or self._holding_display or time.monotonic() - self._read_started >= fallback
        ):
            self._start_read()
        elif self.board is not None and time.monotonic() - self._drawn_at >= self.poll_seconds:
            # Nothing read for a while (a quiet feed, or a slow read: a locked database, a far
            # server): keep the clock and the waits moving. A live feed writes each second, and
            # each read draws them anyway: judging the board twice a second costs CPU.
            board = self.board.at(self.board_now())
            if _turned_stale(self.board.freshness, board.freshness):
                # A heartbeat alone wakes no reader: look at the database once before
                # showing a live feed stale (its heartbeat has most likely moved on).
                self._start_read()
            else:
                self._draw(board)

    def _start_read(self) -> None:
        if self._reading:
            self._changed_meanwhile = True
            return
        self._reading = True
        self._changed_meanwhile = False
        self._read_started = time.monotonic()
        now = self.board_now()
        read = asyncio.get_running_loop().run_in_executor(self._reader, self._read, now, now >= self._trend_due)
        read.add_done_callback(self._read_done)

    def _watch(self, changes: ChangeSource, loop: asyncio.AbstractEventLoop) -> None:
        """In the watch thread: a read on the event loop for each change told."""
        try:
            while self._watching.is_set():
                try:
                    changed = changes.wait(1.0)
                except Exception:
                    log.exception("watching for changes failed: reading every %g s", self.poll_seconds)
                    self.changes = None
                    return
                if changed and self._watching.is_set():
                    loop.call_soon_threadsafe(self._start_read)
        except RuntimeError:  # the loop closed under us: the app is gone
            return
        finally:
            changes.close()

    def _read_done(self, done: asyncio.Future[tuple[BoardState | None, Trend | None, str | None]]) -> None:
        if not done.cancelled():
            self._received(*done.result())

    def _read(self, now: float, with_trend: bool) -> tuple[BoardState | None, Trend | None, str | None]:
        """In the read thread: the board judged at `now` (and the trend), or what went wrong."""
        try:
            rows, trend = self.source.read(now, with_trend)
            return evaluate(rows, self.settings, now), trend, None
        except Exception as exc:
            log.exception("reading the board failed")
            error = one_line(exc)
            return None, None, error

    def on_unmount(self) -> None:
        self._watching.clear()
        self._reader.shutdown(wait=False, cancel_futures=True)
        self.desk.stop()

    def _received(self, board: BoardState | None, trend: Trend | None, error: str | None) -> None:
        self._reading = False
        self.read_error = error
        if trend is not None:
            self.trend = trend
            # Read while the feed was catching up (or stopped): look again soon.
            fresh = board is not None and not board.freshness.stale
            self._trend_due = trend.read_at + (TREND_EVERY_SECONDS if fresh else TREND_RETRY_SECONDS)
        if board is not None:
            self.board = board
            self.reads += 1
            if not self._heap_frozen:
                self._heap_frozen = True
                # Not under a test's Pilot: a process of many apps would keep each one's.
                if not self.is_headless:
                    self.call_after_refresh(_freeze_heap)
        if self.board is not None:
            self._draw(board if board is not None else self.board.at(self.board_now()))
            if self._holding_display:
                self._holding_display = False
                self._end_batch()
                if self._on_first_frame is not None:
                    self.call_after_refresh(self._on_first_frame)
        if self._changed_meanwhile:  # what this read may have missed
            self._start_read()

    # -- drawing -----------------------------------------------------------------------

    def _draw(self, board: BoardState) -> None:
        self._drawn_at = time.monotonic()
        stamped = self._alerts.stamp(board)
        self.view = stamped.filtered(self.filter_text)
        series = None
        if self.trend is not None:
            if self.trend_queue is not None:
                queues: tuple[str, ...] | None = (self.trend_queue,)
            else:
                queues = None if not self.filter_text else tuple(t.queue for t in self.view.tiles)
            # The trend changes once a minute: its series are summed once per trend and filter.
            key = (self.trend, queues)
            if self._series_key is None or self._series_key[0] is not self.trend or self._series_key[1] != queues:
                self._series = self.trend.series(self.settings, queues)
                self._series_key = key
            series = self._series
        self._board_screen.show(self.view, series, self.sort_mode, self.status(self.view))
        # A tick can land while the app shuts down, its screens already gone.
        if self.screen_stack and isinstance(self.screen, OwnView):
            self.screen.show(board)

    def redraw(self) -> None:
        if self.board is not None:
            self._draw(self.board.at(self.board_now()))

    def status(self, view: BoardState) -> Status:
        """The header's freshness word and the banner, from the data and the feed."""
        fresh = view.freshness
        state, problem = self.feed_status() if self.feed_status else ("", None)
        if self.read_error:
            return Status("no data", ALERT, f"Cannot read the database: {self.read_error}. Retrying every second.")
        if problem and state == "stopped":
            age = f" {format_age(fresh.age_seconds)} ago" if fresh.age_seconds is not None else ""
            return Status(
                fresh.label if fresh.stale else "live",
                ALERT,
                f"The feed stopped{age}: {problem}. Figures are frozen; see the log file.",
            )
        if problem and not fresh.stale:
            # One of several feeds (or one riding out a refused connection) is in trouble.
            return Status(fresh.label, WARN, f"Feed trouble: {problem}. Its figures may be behind.", WARN)
        if not fresh.stale and fresh.problems:
            return Status(fresh.label, WARN, f"Lines lost: {printable('; '.join(fresh.problems))}", WARN)
        if not fresh.stale and fresh.stale_feeds:
            return Status(
                fresh.label,
                WARN,
                f"Not live: {', '.join(fresh.stale_feeds)}: their figures are as of their last data; the others are live.",
                WARN,
            )
        if not fresh.stale:
            return Status(fresh.label, OK)
        if state == "starting":
            return Status("starting", WARN, "Catching up with the day so far...", WARN)
        if fresh.heartbeat_at is None:
            return Status(
                fresh.label,
                ALERT,
                "No feed has written to this database yet: start `wallboard serve`, or "
                "`wallboard ingest queue-log --follow`.",
            )
        when = format_clock(fresh.heartbeat_at, self.settings)
        return Status(
            fresh.label,
            ALERT,
            f"STALE: nothing from the feed for {format_age(fresh.age_seconds or 0.0)} (since {when}); "
            "counts are as of then.",
        )

    # -- actions -----------------------------------------------------------------------

    def set_filter(self, text: str) -> None:
        if text != self.filter_text:
            self.filter_text = text.strip()
            self.redraw()

    def action_filter(self) -> None:
        self._board_screen.open_filter(self.filter_text)

    def action_clear_filter(self) -> None:
        self.set_filter("")

    def action_cycle_sort(self) -> None:
        self.sort_mode = SORT_MODES[(SORT_MODES.index(self.sort_mode) + 1) % len(SORT_MODES)]
        self.notify(f"Agents sorted by {SORT_LABELS[self.sort_mode]}", timeout=2)
        self.redraw()

    def action_cycle_trend(self) -> None:
        """The trend of all queues, then of each queue in turn."""
        names: set[str] = set()
        if self.trend is not None:
            names |= set(self.trend.counts) | set(self.trend.last_week)
        if self.board is not None:
            names |= {t.queue for t in self.board.tiles}
        cycle: list[str | None] = [None, *sorted(names)]
        at = cycle.index(self.trend_queue) if self.trend_queue in cycle else 0
        self.trend_queue = cycle[(at + 1) % len(cycle)]
        self.notify(f"Trend: {printable(self.trend_queue or 'all queues')}", timeout=2, markup=False)
        self.redraw()

    def action_cycle_theme(self) -> None:
        themes = [name for name in THEMES if name in self.available_themes]
        index = themes.index(self.theme) + 1 if self.theme in themes else 0
        self.theme = themes[index % len(themes)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def action_toggle_wall(self) -> None:
        self.wall = not self.wall
        self._board_screen.set_wall(self.wall)
        self.redraw()

    def action_toggle_waiting(self) -> None:
        self._board_screen.toggle_waiting()

    def action_flag_caller(self) -> None:
        self.desk.flag_caller()

    def action_acknowledge_alerts(self) -> None:
        """Acknowledge the open alerts on the strip (as filtered) that nobody has yet: a
        supervisor's key (the desk's service refuses anyone else, with one line)."""
        desk = self.desk
        if desk.user is None or desk.calls is None:
            self.notify("No user signed in: start with `wallboard --as NAME` to acknowledge alerts.", markup=False)
            return
        view = self.view
        ids = [a.record_id for a in view.alerts if a.record_id is not None and not a.acknowledged_by] if view else []
        if not ids:
            self.notify("No alerts to acknowledge.", timeout=3, markup=False)
            return
        calls = desk.calls

        def done(count: int) -> None:
            self.notify(
                f"Acknowledged {count} alert{'s' if count != 1 else ''} as {desk.user}.", timeout=3, markup=False
            )
            self._start_read()

        desk.run(lambda: int(calls.acknowledge_alerts(ids)), done)

    def action_alert_history(self) -> None:
        from wallboard.ui.alert_history import AlertHistoryScreen

        if not isinstance(self.screen, AlertHistoryScreen):
            self.push_screen(AlertHistoryScreen(self.source, self.settings, self.clock))

    def action_own_view(self) -> None:
        """The signed-in agent's own figures (the floor is `m` away again)."""
        if isinstance(self.screen, OwnView):
            return
        if self.desk.user is None:
            self.notify("My figures need a signed-in agent: " + NO_USER, severity="warning", markup=False)
            return
        if self.desk.role == Role.DISPLAY:
            self.notify("A display user has no figures of their own.", severity="warning")
            return
        view = OwnView(self.desk.user, poll_seconds=self.desk.poll_seconds)
        self.push_screen(view)
        if self.board is not None:
            view.show(self.board.at(self.board_now()))

    def action_complaints(self, target: str) -> None:
        self.desk.open(target)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "complaints":
            return self.desk.may_open(str(parameters[0]))  # a display user has no complaint keys
        if action == "flag_caller":
            return self.desk.caller_view is not None  # offered while on a call with a known caller
        if action == "act_on_agent":
            return self.agent_action_refusal() is None
        return True

    def agent_action_refusal(self) -> str | None:
        """Why `p` cannot act on agents now (one line), or None (when the role is not read
        yet, the service has the last word)."""
        if self.agent_calls is None:
            return "Sign in as a supervisor to act on agents: start with `wallboard --as NAME`, or connect over SSH"
        role = self.desk.role
        if role is not None and role != "supervisor":
            return f"{self.desk.user} ({role}) may not act on agents: supervisors only"
        return None

    def action_explain(self, action: str, target: str = "") -> None:
        """Say why the key of `action` (`target`) cannot act now."""
        if action == "complaints":
            reason = self.desk.refusal(target)
            if reason is not None and self.desk.user is None:
                doing = {
                    "new": "log a complaint",
                    "notifications": "see your inbox",
                    "overview": "see the complaints overview",
                    "callbacks": "work the call-backs",
                }.get(target, "use complaints")
                reason = f"Sign in to {doing}: start with `wallboard --as NAME`, or connect over SSH"
        elif action == "flag_caller":
            reason = (
                "Sign in to flag a caller: start with `wallboard --as NAME`, or connect over SSH"
                if self.desk.user is None
                else "You are on no call with a known caller to flag"
            )
        else:
            reason = self.agent_action_refusal()
        if reason:
            self.notify(reason, severity="warning", markup=False, timeout=4)

    def action_act_on_agent(self) -> None:
        """Open the action dialog for the selected agent; send what is confirmed."""
        name = None if self.wall else selected_agent(self._board_screen)
        agents = self.view.agents if self.view is not None else ()
        row = next((agent for agent in agents if agent.name == name), None)
        if row is None:
            self.notify("Select an agent in the agent table first, then press p", severity="warning", timeout=4)
            return
        queues = tuple(tile.queue for tile in self.board.tiles) if self.board is not None else ()
        self.push_screen(AgentActionScreen(row, queues), self._send_agent_action)

    def _send_agent_action(self, request: AgentActionRequest | None) -> None:
        calls = self.agent_calls
        if request is None or calls is None:
            return

        def done(result: Any) -> None:
            self.notify(
                printable(result.summary()),
                title="Asterisk",
                severity="information" if result.ok else "error",
                markup=False,
                timeout=8,
            )

        self.desk.run(lambda: calls.act(request.action, request.agent, request.queue, request.reason), done)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.settings))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Filter", "Show only some queues, teams or agents (/)", self.action_filter)
        yield SystemCommand("Clear filter", "Show every queue and agent (Esc)", self.action_clear_filter)
        yield SystemCommand(
            "Sort agents", "Next agent sort: state, name, time, calls, queue (s)", self.action_cycle_sort
        )
        yield SystemCommand(
            "Trend queue", "The trend of all queues, then each queue in turn (g)", self.action_cycle_trend
        )
        yield SystemCommand("Next theme", "Cycle the colour themes (t)", self.action_cycle_theme)
        yield SystemCommand("Wall mode", "Tiles only, in big digits (w)", self.action_toggle_wall)
        yield SystemCommand(
            "Waiting callers",
            "Show or hide the callers waiting now, with their markers (l)",
            self.action_toggle_waiting,
        )
        if self.agent_action_refusal() is None:
            yield SystemCommand(
                "Act on agent",
                "Pause, unpause, remove from or add to a queue the selected agent, over AMI (p)",
                self.action_act_on_agent,
            )
        yield SystemCommand(
            "Alert history", "Today's alerts: raised, cleared, acknowledged by (A)", self.action_alert_history
        )
        yield SystemCommand(
            "Acknowledge alerts", "Acknowledge the alerts on the board: supervisors (a)", self.action_acknowledge_alerts
        )
        yield SystemCommand("Wallboard help", "Keys, colours and thresholds (?)", self.action_help)
        yield from self.desk.system_commands()
