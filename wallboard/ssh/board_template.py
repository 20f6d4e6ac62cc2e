"""The session template: `python -m wallboard.ssh.board_template`, started once by the SSH
server, imports Textual and the board's screens once and builds the board (with the
server's settings: wallboard/ssh/prebuilt.py), then forks one board process per session,
so 50 people logging in at a shift's start do not each start Python, import Textual and
build the board (seconds each on a busy machine).

It must stay single-threaded: a fork copies only the calling thread, and a lock held by
another thread at that moment would stay locked in the child for ever. The board's asyncio
loop runs in the template (without threads) and forks from inside it; the child makes the
loop's descriptors its own before it goes on (prebuilt.fork_loop). Without settings, or if
building the board fails, the template forks from a plain loop and each child starts the
board itself (`wallboard.ssh.board_process.main`).

Control protocol, on the SOCK_SEQPACKET socket at $WALLBOARD_TEMPLATE_FD (see
wallboard/ssh/template.py for the server's side):
- the server's first message is its settings (a pickle: the template trusts its server, as a
  session does), or a pickled None;
- the template sends b"ready" once it has imported and built what a session needs;
- each request from the server is one message: JSON {"user", "env", "fd_env"} with
  descriptors attached (SCM_RIGHTS): the status socket, the PTY's slave end, then one
  descriptor per name in fd_env (the session link, the change nudges), whose numbers the
  child puts in its environment under those names;
- on the status socket the template writes the child's pid (4 bytes, network order) at
  once, and its return code (4 bytes, signed, as subprocess gives it: -N for signal N)
  when it has reaped it; then closes it. The server reads nothing else from it.
The template exits when the server closes its end of the control socket.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import pickle
import random
import select
import signal
import socket
import struct
import sys
import termios
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wallboard.config import Settings

TEMPLATE_FD_ENV = "WALLBOARD_TEMPLATE_FD"
# The template's own session link to the server (the board only: see prebuilt.py).
TEMPLATE_LINK_FD_ENV = "WALLBOARD_TEMPLATE_LINK_FD"
READY = b"ready"
READY_NAME = "wb-template"  # the template's name for `ps -o comm` once it is ready (tests wait on it)
PID = struct.Struct("!i")
MAX_REQUEST_BYTES = 1 << 16
MAX_FDS = 8
MAX_SETTINGS_BYTES = 1 << 20
# Signals a session's board process has at their defaults (as a freshly started Python has them).
_DEFAULT_SIGNALS = (signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM, signal.SIGWINCH, signal.SIGCHLD)


def preload() -> None:
    """Import what a session's process imports, so each fork starts with it in memory."""
    import wallboard.ssh.board_process
    import wallboard.ssh.prebuilt  # noqa: F401
    from wallboard.ui.app import preload as preload_app

    preload_app()


class Template:
    """The fork loop: requests on the control socket, reaped children on SIGCHLD."""

    def __init__(self, control: socket.socket, board_link: socket.socket | None = None) -> None:
        self.control = control
        self.board_link = board_link  # the template's, closed in each child
        self.children: dict[int, socket.socket] = {}  # pid -> its status socket
        # True: a forked child returns from `run` into the board built before the fork
        # (prebuilt); False: it runs `board_process.main` and exits.
        self.child_returns = False
        self.in_child = False
        self._ready_sent = False
        self._wake_read, self._wake_write = os.pipe()
        for fd in (self._wake_read, self._wake_write):
            os.set_blocking(fd, False)

    def run(self, idle_seconds: float | None = None) -> int | None:
        """Serve forks until the server goes (its return code); or None after `idle_seconds`
        without a request; or, in a forked child that returns (`child_returns`), until the
        fork (then `in_child` is True)."""
        # SIGCHLD only wakes the select below (through the pipe); reaping happens in the loop.
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self._wake_write)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the operator's Ctrl-C is for the server
        if not self._ready_sent:
            self.control.sendall(READY)
            self._ready_sent = True
            _name_process(READY_NAME)
        while True:
            try:
                ready, _, _ = select.select([self.control.fileno(), self._wake_read], [], [], idle_seconds)
            except InterruptedError:
                ready = [self._wake_read]
            if not ready:
                self._reap()
                return None
            if self._wake_read in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._wake_read, 512)
            self._reap()
            if self.control.fileno() in ready and not self._request():
                return 0
            if self.in_child:
                return 0

    def serve_built(self, idle_seconds: float) -> bool:
        """The fork loop once the board is built (called from inside its running app): True
        in a forked child; False after `idle_seconds` without a request (the template may
        redraw, then serves again); the template exits here when the server goes."""
        self.child_returns = True
        _freeze_shared()
        code = self.run(idle_seconds)
        if self.in_child:
            return True
        if code is None:
            return False
        os._exit(code)

    def _request(self) -> bool:
        """Serve one request; False when the server has gone."""
        try:
            data, ancillary, _flags, _ = self.control.recvmsg(MAX_REQUEST_BYTES, socket.CMSG_SPACE(MAX_FDS * 4))
        except InterruptedError:
            return True
        except OSError:
            return False
        fds = _received_fds(ancillary)
        if not data:
            _close_all(fds)
            return False
        try:
            request = json.loads(data)
            env: dict[str, str] = {str(k): str(v) for k, v in request["env"].items()}
            fd_env = [str(name) for name in request["fd_env"]]
            user = str(request["user"])
            if len(fds) != 2 + len(fd_env):
                raise ValueError(f"{len(fds)} descriptors for {len(fd_env)} names")
        except (ValueError, KeyError, TypeError, AttributeError):
            _close_all(fds)  # the status socket closes: the server sees no pid
            return True
        status = socket.socket(fileno=fds[0])
        slave = fds[1]
        env.update({name: str(fd) for name, fd in zip(fd_env, fds[2:])})
        try:
            pid = os.fork()
        except OSError:
            status.close()
            _close_all(fds[1:])
            return True
        if pid == 0:  # pragma: no cover - the session's process
            self._become_session(user, env, slave, status)
            self.in_child = True  # only when child_returns
            return True
        _close_all(fds[1:])
        self.children[pid] = status
        with contextlib.suppress(OSError):
            status.sendall(PID.pack(pid))
        return True

    def _reap(self) -> None:
        while self.children:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            status = self.children.pop(pid, None)
            if status is not None:
                with contextlib.suppress(OSError):
                    status.sendall(PID.pack(os.waitstatus_to_exitcode(wait_status)))
                status.close()

    def _become_session(
        self, user: str, env: dict[str, str], slave: int, status: socket.socket
    ) -> None:  # pragma: no cover - runs in the child (the e2e tests run it)
        """In the forked child: a session leader on its PTY, then the board process's main
        (the passed descriptors stay open: their numbers are in `env`); with
        `child_returns`, back to the caller (the board built before the fork) instead."""
        code = 1
        try:
            status.close()
            self.control.close()
            if self.board_link is not None:
                self.board_link.close()
            for other in self.children.values():
                other.close()
            signal.set_wakeup_fd(-1)
            for fd in (self._wake_read, self._wake_write):
                os.close(fd)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)  # the PTY becomes the controlling terminal
            for target in (0, 1, 2):
                os.dup2(slave, target)
            os.close(slave)
            for signum in _DEFAULT_SIGNALS:
                signal.signal(signum, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.pthread_sigmask(signal.SIG_SETMASK, ())
            os.environ.clear()
            os.environ.update(env)
            random.seed()  # not the template's sequence, shared by every session
            _name_process(f"wb:{user}")
            if self.child_returns:
                return
            from wallboard.ssh.board_process import main

            code = main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            import traceback

            traceback.print_exc()
        _exit(code)


def _exit(code: int) -> None:  # pragma: no cover - a session's process ends here
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _freeze_shared() -> None:
    """Everything made so far is shared with every child: keep the collector from writing
    to those objects' pages (which would copy them into each child)."""
    gc.collect()
    gc.freeze()


def _received_fds(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    fds: list[int] = []
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(data) - len(data) % 4
            fds.extend(struct.unpack(f"{usable // 4}i", data[:usable]))
    return fds


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _name_process(name: str) -> None:
    """What `ps -o comm` and top show for the child (15 bytes), since its command line is the
    template's."""
    try:
        import ctypes

        libc: Any = ctypes.CDLL(None)
        libc.prctl(15, name.encode()[:15] + b"\0", 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


def main() -> int:
    fd = os.environ.pop(TEMPLATE_FD_ENV, "")
    if not fd.isdigit():
        print(f"wallboard: no control socket (${TEMPLATE_FD_ENV}); `wallboard serve` starts this", file=sys.stderr)
        return 2
    control = socket.socket(fileno=int(fd))
    link_fd = os.environ.pop(TEMPLATE_LINK_FD_ENV, "")
    board_link = socket.socket(fileno=int(link_fd)) if link_fd.isdigit() else None
    preload()
    template = Template(control, board_link)
    settings = _receive_settings(control)
    if settings is not None:
        _run_built(template, settings)  # returns only if the board could not be built
    _freeze_shared()
    return template.run() or 0


def _receive_settings(control: socket.socket) -> Settings | None:
    """The server's first message: its settings (None: build no board)."""
    try:
        message = control.recv(MAX_SETTINGS_BYTES)
        settings = pickle.loads(message) if message else None
    except Exception:
        return None
    from wallboard.config import Settings

    return settings if isinstance(settings, Settings) else None


def _run_built(template: Template, settings: Settings) -> None:
    """Build the board and fork from inside it. In a forked child, the board runs and the
    process exits here; in the template, this returns only if building failed (the
    template then forks plain children, each building its own board)."""
    try:
        from wallboard.ssh.prebuilt import PrebuiltBoard

        code = PrebuiltBoard(settings, template.serve_built, template.board_link).run()
    except BaseException:
        if not template.in_child:
            template.child_returns = False  # plain children from now on
            return
        import traceback

        traceback.print_exc()
        code = 1
    _exit(code)  # pragma: no cover - a session's process


if __name__ == "__main__":
    sys.exit(main())
