"""A session's board process on a pseudo-terminal: its command, its environment, and its
end (SIGHUP, then SIGKILL, reaped) when the connection goes."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import logging.handlers
import os
import re
import signal
import struct
import subprocess
import sys
import termios
from collections.abc import Callable, Mapping

from wallboard.ssh.link import LINK_FD_ENV

log = logging.getLogger("wallboard.ssh")

HANGUP_GRACE_SECONDS = 2.0  # after SIGHUP, before SIGKILL
REAP_TIMEOUT_SECONDS = 5.0
DEFAULT_SIZE = (80, 24)

# What of the server's own environment a session's TUI process keeps (the operator's
# settings, but not the database's: the process has none); everything the terminal
# decides comes from the client, below.
SERVER_ENV = ("PATH", "HOME", "USER", "LOGNAME", "TZ", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")
SERVER_ENV_PREFIXES = ("XDG_", "TEXTUAL_")
_TERM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_LANG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


# The most of a session's output the server reads before handing it to the client at once.
OUTPUT_CHUNK_BYTES = 256 * 1024

ESCAPE = b"\x1b"
# The Escape key as the kitty keyboard protocol writes it (CSI 27 u): Textual reads it as
# Escape whatever follows it. A bare ESC followed by a key in the same read of the PTY is
# read as Alt and that key, the Escape lost: a busy board reads its PTY late, and two
# keys typed a second apart (Esc, then `/`) reach it in one read.
KITTY_ESCAPE = b"\x1b[27u"
KITTY_OFF_ENV = "TEXTUAL_DISABLE_KITTY_KEY"  # Textual then parses no CSI u keys


def escape_key(env: Mapping[str, str]) -> bytes:
    """What a session's board is sent for a lone Escape key: the unambiguous form, unless
    its Textual (which reads the server's TEXTUAL_* settings) parses none of that protocol."""
    return ESCAPE if env.get(KITTY_OFF_ENV) == "1" else KITTY_ESCAPE


def board_keys(data: bytes, escape: bytes) -> bytes:
    """A client's keys as its board is sent them. The client sends each key press (or
    escape sequence, or Alt+key) as it reads it from its terminal; data that is exactly
    ESC is the Escape key on its own, and is sent as `escape`, so it stays the Escape key
    whatever reaches the board's PTY after it before the board reads it."""
    return escape if data == ESCAPE else data


def session_env(
    client_env: Mapping[str, str],
    term: str | None,
    *,
    link_fd: int,
    server_env: Mapping[str, str] = os.environ,
) -> dict[str, str]:
    """The TUI process's environment: the server's own settings (paths), the terminal as
    the client describes it (TERM, COLORTERM, LANG only, checked), its end of the link."""
    env = {k: v for k, v in server_env.items() if k in SERVER_ENV or k.startswith(SERVER_ENV_PREFIXES)}
    env["TERM"] = term if term and _TERM_RE.fullmatch(term) else "xterm"
    colorterm = client_env.get("COLORTERM", "")
    if _TERM_RE.fullmatch(colorterm):
        env["COLORTERM"] = colorterm
    lang = client_env.get("LANG", "")
    env["LANG"] = lang if _LANG_RE.fullmatch(lang) else "C.UTF-8"
    # Box drawing and symbols go out as UTF-8 whatever the locale (PuTTY: set UTF-8).
    env["PYTHONIOENCODING"] = "utf-8"
    env[LINK_FD_ENV] = str(link_fd)
    return env


def session_command(user: str) -> list[str]:
    # The name is for `ps` only: the process learns its user from the link.
    return [sys.executable, "-m", "wallboard.ssh.board_process", f"--for={user}"]


# -- a TUI process on a pseudo-terminal ------------------------------------------------


def _child_setup() -> None:  # pragma: no cover - runs in the child, between fork and exec
    # start_new_session made the child a session leader; make the PTY (its stdin) the
    # session's controlling terminal, so a hangup reaches it and it can see SIGWINCH.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    # An ignored SIGHUP survives exec, and a TUI that ignores it spins once its PTY is gone.
    for signum in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGPIPE, signal.SIGWINCH):
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, ())


def _winsize(cols: int, rows: int, xpixels: int = 0, ypixels: int = 0) -> bytes:
    return struct.pack("HHHH", _clamp(rows), _clamp(cols), min(xpixels, 65535), min(ypixels, 65535))


def _clamp(cells: int) -> int:
    return max(1, min(int(cells), 10_000))


class PtyProcess:
    """A child process on a new PTY, driven from an asyncio loop.

    on_output(bytes) gets what the child draws; on_exit(returncode) is called once, after
    the child has been reaped, its last output delivered and its process group killed.
    pass_fds: descriptors the child inherits (its end of the session link).
    """

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        size: tuple[int, int, int, int],
        on_output: Callable[[bytes], None],
        on_exit: Callable[[int], None],
        pass_fds: tuple[int, ...] = (),
    ) -> None:
        self.argv, self.env, self.size, self.pass_fds = argv, env, size, pass_fds
        self.on_output, self.on_exit = on_output, on_exit
        self.loop = asyncio.get_running_loop()
        self.proc: subprocess.Popen | None = None
        self.master: int | None = None
        self.returncode: int | None = None
        self.exited = self.loop.create_future()
        self._pidfd: int | None = None
        self._reading = False
        self._paused = False
        self._input = bytearray()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def known_pid(self) -> int | None:
        """The process's pid once it exists (a forked session's comes a moment after `start`)."""
        return self.proc.pid if self.proc is not None else None

    async def wait_started(self) -> int | None:
        """The pid once the process exists; None if it never did."""
        return self.known_pid

    def start(self) -> None:
        master, slave = os.openpty()
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, _winsize(*self.size))
            self.proc = subprocess.Popen(
                self.argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,  # Textual draws on stderr: it must be the PTY
                env=self.env,
                close_fds=True,
                pass_fds=self.pass_fds,
                start_new_session=True,
                preexec_fn=_child_setup,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.master = master
        os.set_blocking(master, False)
        self._start_reading()
        try:
            self._pidfd = os.pidfd_open(self.proc.pid)
        except (AttributeError, OSError):
            self._poll_later()
        else:
            self.loop.add_reader(self._pidfd, self._check_exit)

    # output: child -> client

    def _start_reading(self) -> None:
        if self.master is not None and not self._reading and not self._paused:
            self.loop.add_reader(self.master, self._read)
            self._reading = True

    def _stop_reading(self) -> None:
        if self._reading and self.master is not None:
            self.loop.remove_reader(self.master)
        self._reading = False

    def _read(self) -> None:
        """All the PTY holds now, up to OUTPUT_CHUNK_BYTES, as one write to the client: a
        PTY hands out a few KB a read, and a frame is more, so one frame goes out as one
        SSH write (fewer packets, each one encrypted and framed by the server), not several."""
        if self.master is None:  # closed since the loop saw it readable
            return
        chunks: list[bytes] = []
        size = 0
        ended = False
        while size < OUTPUT_CHUNK_BYTES:
            try:
                data = os.read(self.master, 65536)
            except BlockingIOError:
                break
            except OSError:  # EIO: every slave end is closed; the exit follows
                data = b""
            if not data:
                ended = True
                break
            chunks.append(data)
            size += len(data)
        if chunks:
            self.on_output(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        if ended:
            self._stop_reading()

    def pause_output(self) -> None:
        self._paused = True
        self._stop_reading()

    def resume_output(self) -> None:
        self._paused = False
        self._start_reading()

    # input: client -> child

    def write(self, data: bytes) -> None:
        if self.master is None or self.returncode is not None:
            return
        had_pending = bool(self._input)
        self._input += data
        if not had_pending:
            self._flush()

    def _flush(self) -> None:
        if self.master is None:
            return
        try:
            written = os.write(self.master, self._input)
        except BlockingIOError:
            written = 0
        except OSError:
            self._input.clear()
            written = 0
        del self._input[:written]
        if self._input:
            self.loop.add_writer(self.master, self._flush)
        else:
            self.loop.remove_writer(self.master)

    @property
    def pending_input(self) -> int:
        return len(self._input)

    def resize(self, cols: int, rows: int, xpixels: int = 0, ypixels: int = 0) -> None:
        if self.master is None or self.returncode is not None or cols <= 0 or rows <= 0:
            return
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, _winsize(cols, rows, xpixels, ypixels))
        self._signal_group(signal.SIGWINCH)

    # exit

    def _poll_later(self) -> None:
        self.loop.call_later(0.25, self._check_exit)

    def _check_exit(self) -> None:
        if self.returncode is not None or self.proc is None:
            return
        code = self.proc.poll()
        if code is None:
            if self._pidfd is None:
                self._poll_later()
            return
        self._exited(code)

    def _exited(self, code: int) -> None:
        """The child is gone (reaped) with return code `code`: deliver its last output, kill
        what it left in its group, tell the owner."""
        if self.returncode is not None:
            return
        self.returncode = code
        if self._pidfd is not None:
            self.loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        self._drain()
        self._close_master()
        self._signal_group(signal.SIGKILL)  # anything it left behind in its group
        if not self.exited.done():
            self.exited.set_result(code)
        self.on_exit(code)

    def _drain(self) -> None:
        while self.master is not None and not self._paused:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.on_output(data)

    def _close_master(self) -> None:
        self._stop_reading()
        if self.master is not None:
            self.loop.remove_writer(self.master)
            os.close(self.master)  # a hangup on the PTY: SIGHUP to its session
            self.master = None

    def _started(self) -> bool:
        return self.proc is not None

    def _signal_group(self, signum: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    async def stop(self, grace: float = HANGUP_GRACE_SECONDS) -> int | None:
        """Hang up: SIGHUP to the process group, SIGKILL after `grace`, then reap."""
        if not self._started() or self.returncode is not None:
            return self.returncode
        # The PTY stays open and read meanwhile, so the TUI can put the terminal back
        # (a client still connected sees a clean screen); output nobody reads is dropped.
        self.resume_output()
        self._signal_group(signal.SIGHUP)
        self._signal_group(signal.SIGCONT)
        try:
            return await asyncio.wait_for(asyncio.shield(self.exited), grace)
        except TimeoutError:
            log.warning("session process %d still running %.0f s after SIGHUP: SIGKILL", self.pid, grace)
        self._signal_group(signal.SIGKILL)
        try:
            return await asyncio.wait_for(asyncio.shield(self.exited), REAP_TIMEOUT_SECONDS)
        except TimeoutError:
            log.error("session process %d not reaped after SIGKILL", self.pid)
            return None
