"""The server's side of the session template (wallboard/ssh/board_template.py): start it,
ask it for a session's process, learn that process's end; restart it if it dies.

A session's process forked by the template is not the server's child: the template reaps it
and writes its pid, then its return code, on a status socket of that session's own, which
the server watches on its event loop. If the template dies first, that socket closes
without a return code and the server watches the process through a pidfd instead.
Whenever the template is not ready (starting, restarting, dead) a session falls back to a
process of its own (`python -m wallboard.ssh.board_process`), as before the template.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import pickle
import select
import socket
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wallboard.config import Settings

from wallboard.ssh.board_template import PID, READY, TEMPLATE_FD_ENV, TEMPLATE_LINK_FD_ENV
from wallboard.ssh.pty import HANGUP_GRACE_SECONDS, SERVER_ENV, SERVER_ENV_PREFIXES, PtyProcess, _winsize

log = logging.getLogger("wallboard.ssh")

SPAWN_TIMEOUT_SECONDS = 5.0  # for the template's answer (a pid) to one request
READY_TIMEOUT_SECONDS = 60.0
RESTART_AFTER_SECONDS = 5.0  # between a template's death and the next start
UNKNOWN_EXIT = 255  # the template died before telling a session's return code
# Measuring a forked session from its fork to its first frame (wallboard/ssh/prebuilt.py).
MEASURING_ENV = ("WALLBOARD_SESSION_TIMING", "WALLBOARD_SESSION_PROFILE")


def template_command() -> list[str]:
    return [sys.executable, "-m", "wallboard.ssh.board_template"]


def template_env(server_env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The template's environment: what a session keeps of the server's (paths, TEXTUAL_*
    settings, which Textual reads once, at import), UTF-8 streams; each child then gets its
    session's whole environment (wallboard/ssh/pty.py, session_env)."""
    env = {
        k: v
        for k, v in server_env.items()
        if k in SERVER_ENV or k.startswith(SERVER_ENV_PREFIXES) or k in MEASURING_ENV
    }
    env.update(LANG="C.UTF-8", PYTHONIOENCODING="utf-8")
    return env


class SessionTemplate:
    """The template process, owned by the SSH front door's event loop thread.

    env: the template's environment (the server's paths and settings, as a session gets
    them; the client's TERM, LANG and link come with each request).
    settings: the server's, less its secrets (as every session gets them): the template
    builds the board with them before any session (None: each session builds its own,
    after its fork).
    serve_board: called on the server's loop with the server's end of each new template's
    link (wallboard/ssh/link.py: the board only), which it serves until the template exits.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        settings: Settings | None = None,
        serve_board: Callable[[socket.socket], None] | None = None,
    ) -> None:
        self.env = dict(env)
        self.serve_board = serve_board
        self.settings = settings.without_secrets() if settings is not None else None
        self.proc: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.ready = False
        self.forked = 0  # sessions started through the template (tests, log)
        self.waiting = 0  # requests sent whose pid has not come yet
        self._started_at = -RESTART_AFTER_SECONDS
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watching: socket.socket | None = None
        self._restart: asyncio.TimerHandle | None = None
        self._restarting: asyncio.Task[bool] | None = None
        self.closed = False
        self._awaiting_ready = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        """Start the template (it imports for a second or two; `wait_ready` or `spawn` find
        out when it is ready)."""
        self.close()
        self._started_at = time.monotonic()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        board, board_theirs = socket.socketpair() if self.serve_board is not None else (None, None)
        passed = [theirs.fileno()] + ([board_theirs.fileno()] if board_theirs is not None else [])
        try:
            env = dict(self.env, **{TEMPLATE_FD_ENV: str(theirs.fileno())})
            if board_theirs is not None:
                env[TEMPLATE_LINK_FD_ENV] = str(board_theirs.fileno())
            self.proc = subprocess.Popen(
                template_command(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                close_fds=True,
                pass_fds=passed,
                start_new_session=True,  # the operator's Ctrl-C goes to the server only
            )
        except OSError:
            ours.close()
            if board is not None:
                board.close()
            log.exception("cannot start the session template: sessions start their own process")
            return
        finally:
            theirs.close()
            if board_theirs is not None:
                board_theirs.close()
        if board is not None and self.serve_board is not None:
            self.serve_board(board)
        try:
            ours.sendall(pickle.dumps(self.settings, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            log.exception("cannot send the session template its settings")
        self.control = ours
        log.info("session template started, pid %d", self.proc.pid)

    async def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> bool:
        """Until the template says it is ready (False: it died or took too long)."""
        if self.ready or self.control is None:
            return self.ready
        loop, control = asyncio.get_running_loop(), self.control
        control.setblocking(False)
        self._awaiting_ready = True
        try:
            message = await asyncio.wait_for(loop.sock_recv(control, 64), timeout)
        except (TimeoutError, OSError):
            message = b""
        finally:
            self._awaiting_ready = False
            control.setblocking(True)
        if control is self.control:  # not closed meanwhile
            self._ready_with(message)
        return self.ready

    def _ready_with(self, message: bytes) -> None:
        if message == READY:
            self.ready = True
            log.info("session template ready")
            self._watch()
        else:
            log.warning("the session template did not become ready: sessions start their own process")
            self.close()

    def _watch(self) -> None:
        """Notice the template's death at once (its control socket closes) and start another."""
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self.control is not None:
            self._watching = self.control
            self._loop.add_reader(self.control.fileno(), self._control_readable)

    def _unwatch(self) -> None:
        if self._watching is not None and self._loop is not None:
            self._loop.remove_reader(self._watching.fileno())
        self._watching = None

    def _control_readable(self) -> None:
        # The template sends nothing after "ready": readable means it has gone.
        log.warning("the session template died: starting another in %g s", RESTART_AFTER_SECONDS)
        self.close()
        if self._loop is not None and not self.closed:
            self._restart = self._loop.call_later(RESTART_AFTER_SECONDS, self._start_again)

    def _start_again(self) -> None:
        self._restart = None
        if self.closed or self.proc is not None or self._loop is None:
            return
        self.start()
        self._restarting = self._loop.create_task(self.wait_ready())

    def usable(self) -> bool:
        """Ready and alive; restarts a dead template (it is ready for a later session)."""
        if self.proc is not None and self.proc.poll() is not None:
            log.warning("the session template exited (%s): restarting it", self.proc.returncode)
            self.close()
        if self.proc is None:
            if (
                not self.closed
                and self._restart is None
                and time.monotonic() - self._started_at >= RESTART_AFTER_SECONDS
            ):
                self.start()
            return False
        if not self.ready and self.control is not None and not self._awaiting_ready:
            # Starting: take its "ready" if it has come, without waiting.
            readable, _, _ = select.select([self.control], [], [], 0)
            if readable:
                self._ready_with(self.control.recv(64))
        return self.ready

    def spawn(self, user: str, env: Mapping[str, str], slave: int, fds: Mapping[str, int]) -> socket.socket:
        """Ask for a session's process forked on the PTY `slave`, with `fds` passed under
        their env names. Returns at once (the fork takes the template ~20 ms: not on the
        server's loop) the status socket, which will carry the child's pid, then its return
        code. OSError if the request cannot be sent (the caller starts a process of its own)."""
        if self.control is None:
            raise OSError("no session template")
        status, theirs = socket.socketpair()
        try:
            request = json.dumps({"user": user, "env": dict(env), "fd_env": list(fds)}).encode()
            passed = [theirs.fileno(), slave, *fds.values()]
            # One datagram (SOCK_SEQPACKET) per request: requests sent back to back stay apart.
            self.control.sendmsg([request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, _pack_fds(passed))])
        except OSError:
            status.close()
            self.close()  # a template that cannot be asked is replaced
            raise
        finally:
            theirs.close()  # in flight, the template has its own copy
        status.setblocking(False)
        self.forked += 1
        self.waiting += 1
        return status

    def answer_due_in(self) -> float:
        """Seconds the request just sent may wait for its pid: the template forks one request
        at a time, so SPAWN_TIMEOUT_SECONDS for each one waiting (50 log-ins at once queue)."""
        return SPAWN_TIMEOUT_SECONDS * max(1, self.waiting)

    def answered(self) -> None:
        """A request's pid came (or it was given up)."""
        self.waiting = max(0, self.waiting - 1)

    def unanswered(self) -> None:
        """A request got no pid in time: the template is stuck; replace it."""
        log.warning("the session template did not answer a request in time: restarting it")
        self.close()

    def shut_down(self) -> None:
        """For good (the server stops): no restart."""
        self.closed = True
        if self._restart is not None:
            self._restart.cancel()
        self.close()

    def close(self) -> None:
        """Stop the template (its sessions go on: each is hung up by its own session)."""
        self.ready = False
        self.waiting = 0  # a new template starts with none
        self._unwatch()
        if self.control is not None:
            self.control.close()  # the template exits when its control socket closes
            self.control = None
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                proc.wait(2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _pack_fds(fds: list[int]) -> bytes:
    import array

    return array.array("i", fds).tobytes()


class ForkedPtyProcess(PtyProcess):
    """A session's board process forked by the template, on a new PTY: the same driving
    as `PtyProcess` (output, input, resize, hang-up), but started by the template and its
    end learnt from the status socket."""

    def __init__(
        self,
        template: SessionTemplate,
        user: str,
        env: dict[str, str],
        size: tuple[int, int, int, int],
        on_output: Callable[[bytes], None],
        on_exit: Callable[[int], None],
        fds: Mapping[str, int],
    ) -> None:
        super().__init__([], env, size, on_output, on_exit)
        self.template, self.user, self.fds = template, user, dict(fds)
        self._status: socket.socket | None = None
        self._forked_pid: int | None = None
        self._pid_known: asyncio.Future[int | None] = self.loop.create_future()  # None: never forked
        self._unanswered: asyncio.TimerHandle | None = None

    @property
    def pid(self) -> int:
        assert self._forked_pid is not None
        return self._forked_pid

    @property
    def known_pid(self) -> int | None:
        return self._forked_pid

    def start(self) -> None:
        """Ask the template for the process and return: its pid comes on the status
        socket, read by the loop (`_status_readable`), so the loop never waits on a fork."""
        master, slave = os.openpty()
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, _winsize(*self.size))
            self._status = self.template.spawn(self.user, self.env, slave, self.fds)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.master = master
        os.set_blocking(master, False)
        self._start_reading()
        self.loop.add_reader(self._status.fileno(), self._status_readable)
        self._unanswered = self.loop.call_later(self.template.answer_due_in(), self._no_pid)

    async def wait_started(self) -> int | None:
        return await asyncio.shield(self._pid_known)

    def _cancel_timeout(self) -> None:
        if self._unanswered is not None:
            self._unanswered.cancel()
            self._unanswered = None
            self.template.answered()

    def _no_pid(self) -> None:
        self._unanswered = None
        self.template.answered()
        if self._forked_pid is None and self.returncode is None:
            self.template.unanswered()
            self._status_closed()

    def _status_readable(self) -> None:
        assert self._status is not None
        try:
            answer = self._status.recv(PID.size)
        except BlockingIOError:
            return
        except OSError:
            answer = b""
        if len(answer) == PID.size and self._forked_pid is None:
            # First the child's pid; its return code follows when it exits.
            (self._forked_pid,) = PID.unpack(answer)
            self._cancel_timeout()
            if not self._pid_known.done():
                self._pid_known.set_result(self._forked_pid)
            return
        self._status_closed(PID.unpack(answer)[0] if len(answer) == PID.size else None)

    def _status_closed(self, code: int | None = None) -> None:
        """The status socket said the return code (`code`), or closed without one."""
        assert self._status is not None
        self._cancel_timeout()
        self.loop.remove_reader(self._status.fileno())
        self._status.close()
        if not self._pid_known.done():
            self._pid_known.set_result(self._forked_pid)
        if code is not None:
            self._exited(code)
            return
        if self._forked_pid is None:  # never forked (the template died first, or is stuck)
            self._exited(UNKNOWN_EXIT)
            return
        # The template died before its child: watch the child itself.
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            self._exited(UNKNOWN_EXIT)
        else:
            self.loop.add_reader(self._pidfd, self._orphan_exited)

    def _orphan_exited(self) -> None:
        self._exited(UNKNOWN_EXIT)

    def _check_exit(self) -> None:
        return  # the status socket says when

    def _signal_group(self, signum: int) -> None:
        if self._forked_pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._forked_pid, signum)

    def _started(self) -> bool:
        return self._status is not None

    async def stop(self, grace: float = HANGUP_GRACE_SECONDS) -> int | None:
        """As `PtyProcess.stop`, once the template has said which process to hang up."""
        if self._started() and self.returncode is None:
            await self.wait_started()
        return await super().stop(grace)
