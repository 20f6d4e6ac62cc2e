"""The board built once in the session template, before any session: its app composed,
mounted, styled and laid out (headless), so a forked session only attaches its terminal,
its user and its link, and draws.

Building the board (the DOM, the CSS matched to hundreds of widgets, the layout) is what a
session's process spent most of its first second on; in the template it is done once and
each fork inherits it. The template blocks inside the running app (in `_serve`, on the
event loop's thread: no other thread exists, and none may, since a fork copies only the
calling thread) and forks there; the child returns into the same running app and makes
its own what the template's loop shared: the selector (an epoll set is shared across a
fork), the loop's wake-up socket, the terminal, the console's colours, the threads (all
started after the fork: the terminal's, the board's reads, the change watch, the desk).

Imported by the template only (wallboard/ssh/board_template.py): it imports Textual.
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.pilot import Pilot

from wallboard.config import Settings
from wallboard.ssh.board_process import desk_nudged, desk_proxy
from wallboard.ssh.link import LINK_FD_ENV, NUDGE_FD_ENV, LinkClient, LinkError, Nudges
from wallboard.ssh.session_limits import DEFAULT_SIZE, apply_session_limits
from wallboard.ui.app import WallboardApp

# Idle passes the template waits for after mounting, so the board is laid out before forks.
SETTLE_PAUSES = 3
# The template redraws the server's board after this long without a log-in, so its queues'
# tiles follow the day's (at the server's start it has none yet).
REDRAW_IDLE_SECONDS = 15.0
TIMING_ENV = "WALLBOARD_SESSION_TIMING"
PROFILE_ENV = "WALLBOARD_SESSION_PROFILE"


class SessionDriver(LinuxDriver):
    """Headless in the template (no terminal: nothing is written); after `attach`, in a
    session's process, the Linux driver on that session's PTY (stdin and stderr)."""

    def __init__(
        self, app: App[Any], *, debug: bool = False, mouse: bool = True, size: tuple[int, int] | None = None
    ) -> None:
        Driver.__init__(self, app, debug=debug, mouse=mouse, size=size or DEFAULT_SIZE)
        self.attached = False

    @property
    def is_headless(self) -> bool:
        return not self.attached

    def attach(self) -> None:
        """In the session's process, on the running loop: take its terminal and start."""
        built_at = self._app.size
        LinuxDriver.__init__(self, self._app, debug=self._debug, mouse=self._mouse, size=None)
        self.attached = True
        LinuxDriver.start_application_mode(self)  # type: ignore[no-untyped-call]  # Textual leaves it unannotated
        if self._get_terminal_size() == (built_at.width, built_at.height):
            # No resize follows (the board was built at this size): nothing would be drawn.
            self._app.screen.refresh()

    def start_application_mode(self) -> None:
        if self.attached:
            super().start_application_mode()  # type: ignore[no-untyped-call]  # Textual leaves it unannotated
            return
        # As the headless driver: the first size, so the app lays out.
        from textual import events
        from textual.geometry import Size

        assert self._size is not None
        size = Size(*self._size)
        self._app.post_message(events.Resize(size, size))

    def write(self, data: str) -> None:
        if self.attached:
            super().write(data)

    def flush(self) -> None:
        if self.attached:
            super().flush()

    def disable_input(self) -> None:
        if self.attached:
            super().disable_input()

    def stop_application_mode(self) -> None:
        if self.attached:
            super().stop_application_mode()

    def close(self) -> None:
        if self.attached:
            super().close()


class PrebuiltBoard:
    """Runs the board app in the template; `serve` (the template's fork loop) is called once
    it is built: it returns True in a forked session's process, False after its argument's
    seconds without a log-in (the template redraws the board then, and serves again)."""

    def __init__(
        self, settings: Settings, serve: Callable[[float], bool], board_link: socket.socket | None = None
    ) -> None:
        self.settings = settings
        self.serve = serve
        self.board_link = board_link
        self.app = WallboardApp(_NoSessionYet(), settings, handle_signals=True, live=False)
        self.app.driver_class = SessionDriver
        self.forked = False

    def run(self) -> int:
        """The template: build, then serve forks (exits when the server goes). A forked
        session: its board, until it quits; its return code."""
        self.app.run(auto_pilot=self._built, size=DEFAULT_SIZE)
        if not self.forked:
            raise RuntimeError("the board app ended in the session template")
        return self.app.return_code or 0

    async def _built(self, pilot: Pilot[object]) -> None:
        for _ in range(SETTLE_PAUSES):
            await pilot.pause()
        link = LinkClient(self.board_link) if self.board_link is not None else None
        loop = asyncio.get_running_loop()
        if not can_fork_loop(loop):  # found out here, in the template: it falls back to plain children
            raise RuntimeError(f"cannot give a forked child its own {type(loop).__name__}")
        timing = SessionTiming.from_env()
        while True:
            if link is not None:
                await self._draw_once(pilot, link)
            if threading.active_count() != 1:
                raise RuntimeError(f"{threading.active_count()} threads in the session template: cannot fork")
            if self.serve(REDRAW_IDLE_SECONDS):  # blocks in the template; True in a forked session
                break
        self.forked = True
        timing.start()
        fork_loop(loop)
        fork_console(self.app)
        self._start_session(timing)

    async def _draw_once(self, pilot: Pilot[object], link: LinkClient) -> None:
        """Draw the server's board once, on this thread (the template has no other): the
        tiles of its queues are built here once, not in every session. Nothing of it is
        ever shown: a session shows its own first read (WallboardApp.attach_session)."""
        app = self.app
        app.source = link.proxy("board")
        try:
            app._received(*app._read(time.time(), True))
        finally:
            app.source = _NoSessionYet()
        for _ in range(SETTLE_PAUSES):
            await pilot.pause()

    def _start_session(self, timing: SessionTiming) -> None:
        app = self.app
        fd = os.environ.pop(LINK_FD_ENV, "")
        if not fd.isdigit():
            raise RuntimeError(f"no session link (${LINK_FD_ENV})")
        link = LinkClient.from_fd(int(fd))
        try:
            settings, user, notices = link.call("session", "start")  # one round trip
        except LinkError as exc:
            app.exit(return_code=1, message=f"wallboard: {exc}")
            return
        apply_session_limits(settings.limits)
        nudge_fd = os.environ.pop(NUDGE_FD_ENV, "")
        nudges = Nudges.from_fd(int(nudge_fd)) if nudge_fd.isdigit() else None
        if nudges is not None:
            nudges.on_desk = desk_nudged(app)
        app.attach_session(
            settings,
            link.proxy("board"),
            desk_calls=desk_proxy(link, user, nudges),
            agent_calls=link.proxy("agents") if user else None,
            notices=notices,
            changes=nudges,
            on_first_frame=timing.first_frame,
        )
        driver = app._driver
        assert isinstance(driver, SessionDriver)
        driver.attach()  # after the first read is drawn: one layout, at the terminal's size


class _NoSessionYet:
    """The template's board source: nothing is read before a session attaches its link."""

    def read(self, now: float, with_trend: bool = False) -> Any:
        raise RuntimeError("the board has no session yet")

    def alerts_today(self, now: float) -> Any:
        raise RuntimeError("the board has no session yet")


def can_fork_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether `fork_loop` knows this loop's insides (asyncio's selector loop)."""
    return (
        isinstance(getattr(loop, "_selector", None), selectors.BaseSelector)
        and hasattr(loop, "_make_self_pipe")
        and hasattr(loop, "_close_self_pipe")
    )


def fork_loop(loop: asyncio.AbstractEventLoop) -> None:
    """In a forked child, on its running loop: a selector and a wake-up socket of its own.

    An epoll set survives a fork as one set shared by the template and every child (a child
    would see another's descriptors ready), and so does the loop's self-pipe (a wake-up
    meant for one child would wake another). And asyncio forgets a running loop across a
    fork (it keeps the pid it runs in): it is this child's now."""
    asyncio.events._set_running_loop(loop)
    if not can_fork_loop(loop):
        raise RuntimeError(f"cannot give a forked child its own {type(loop).__name__}")
    selector = getattr(loop, "_selector", None)
    assert isinstance(selector, selectors.BaseSelector)
    own = type(selector)()
    for key in list(selector.get_map().values()):
        own.register(key.fileobj, key.events, key.data)
    selector_loop: Any = loop  # asyncio's BaseSelectorEventLoop: its selector and self-pipe have no API
    selector_loop._selector = own
    selector.close()  # the child's copy of the template's epoll descriptor only
    selector_loop._close_self_pipe()
    selector_loop._make_self_pipe()


def fork_console(app: App[Any]) -> None:
    """The console's colours from the session's terminal (TERM, COLORTERM), not the template's."""
    from textual import constants

    console = app.console
    console._environ = dict(os.environ)
    if constants.COLOR_SYSTEM == "auto":  # else fixed by the server's TEXTUAL_COLOR_SYSTEM
        console._color_system = console._detect_color_system()


class SessionTiming:
    """Measuring, for tests/benchmarks/ssh_sessions.py: with $WALLBOARD_SESSION_TIMING=DIR in
    the server's environment, each forked session writes DIR/PID.json, its wall and CPU
    seconds from the fork to its first frame; with $WALLBOARD_SESSION_PROFILE=DIR, a cProfile
    of the same span to DIR/PID.prof (read before the fork: the child's environment is its
    session's)."""

    def __init__(self, timing_dir: str, profile_dir: str) -> None:
        self.timing_dir, self.profile_dir = timing_dir, profile_dir
        self._profile: Any = None
        self._wall = self._cpu = 0.0

    @classmethod
    def from_env(cls) -> SessionTiming:
        return cls(os.environ.get(TIMING_ENV, ""), os.environ.get(PROFILE_ENV, ""))

    def start(self) -> None:
        self._wall, self._cpu = time.monotonic(), time.process_time()
        if self.profile_dir:
            import cProfile

            self._profile = cProfile.Profile()
            self._profile.enable()

    def first_frame(self) -> None:
        wall, cpu = time.monotonic() - self._wall, time.process_time() - self._cpu
        if self._profile is not None:
            self._profile.disable()
            self._profile.dump_stats(os.path.join(self.profile_dir, f"{os.getpid()}.prof"))
        if self.timing_dir:
            with open(os.path.join(self.timing_dir, f"{os.getpid()}.json"), "w", encoding="utf-8") as out:
                json.dump({"wall": wall, "cpu": cpu}, out)
