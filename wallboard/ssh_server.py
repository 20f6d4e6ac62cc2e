"""The SSH front door: remote sites reach the board with a plain `ssh`.

`wallboard serve` runs it (`start_ssh`) on its own event loop in a thread, next to the feed.
Each terminal session runs its own TUI process, `python -m wallboard.session`, on a
pseudo-terminal; this module never imports Textual. The process has no database access of
its own: it asks this server over its session link (wallboard/session_link.py), which
answers from one board read a second shared by all sessions and from a `UserDesk` bound to
the session's user.

Authentication: public keys only. `begin_auth` binds the user name to that user's own
registered keys (`conn.set_authorized_keys`), so a key registered to somebody else does
not log in under this name; an unknown or inactive user gets an empty key list and the
same answers as a known one. Passwords, keyboard-interactive, host-based and GSSAPI
authentication are off. A connection that ends without logging in is a failed attempt:
logged, and counted per source address; too many within the window shut the address out
for a while (its connections are closed before the SSH banner).

Sessions: a PTY is required (`ssh -T` and commands get one line on stderr and exit
status 1). The child is a session leader with the PTY as its controlling terminal and
SIGHUP at its default, sees the client's window size (changes are forwarded with
TIOCSWINSZ and SIGWINCH) and of the client's environment only TERM, COLORTERM and LANG.
Its user comes from the authenticated connection (the link is bound to it), never from
the client.
When the client goes away (or idles out, or the server stops) the child's process group
gets SIGHUP, then SIGKILL after a grace period, and the child is reaped.

Connection log: the `ssh_sessions` table (`wallboard ssh sessions`) and a log file.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import logging.handlers
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncssh
import click
from platformdirs import user_data_path, user_log_path
from sqlalchemy import Engine

from tickets.errors import TicketError
from tickets.user_desk import UserDesk
from wallboard import ssh_access
from wallboard.board_reader import BoardReader
from wallboard.config import Settings
from wallboard.session_link import LINK_FD_ENV, serve_link
from wallboard.ssh_access import Login

log = logging.getLogger("wallboard.ssh")
access = logging.getLogger("wallboard.ssh.access")

HOST_KEY_NAME = "ssh_host_ed25519_key"
ACCESS_LOG_NAME = "ssh.log"
LOGIN_TIMEOUT_SECONDS = 30
KEEPALIVE_SECONDS = 30  # a silent peer is dropped after 4 unanswered keepalives
HANGUP_GRACE_SECONDS = 2.0  # after SIGHUP, before SIGKILL
MAX_KEYS_PER_CONNECTION = 6  # rejected keys before the connection is dropped (OpenSSH's MaxAuthTries)
REAP_TIMEOUT_SECONDS = 5.0
MAX_TRACKED_ADDRESSES = 10_000
BOARD_SHARE_SECONDS = 0.5  # one board read serves every session asking within this
TREND_SHARE_SECONDS = 15.0
LINK_WORKERS = 8  # threads answering sessions' database calls
DEFAULT_SIZE = (80, 24)
NO_TERMINAL = (
    "wallboard: this server shows the wallboard in a terminal only; "
    "connect with a plain `ssh -p PORT NAME@HOST` (no -T, no command)"
)

# What of the server's own environment a session's TUI process keeps (the operator's
# settings, but not the database's: the process has none); everything the terminal
# decides comes from the client, below.
SERVER_ENV = ("PATH", "HOME", "USER", "LOGNAME", "TZ", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")
SERVER_ENV_PREFIXES = ("XDG_", "TEXTUAL_")
_TERM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_LANG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


# -- small pieces (unit-tested) ----------------------------------------------------------


def host_key_path(settings: Settings) -> Path:
    if settings.ssh.host_key:
        return Path(settings.ssh.host_key).expanduser()
    return user_data_path("wallboard") / HOST_KEY_NAME


def access_log_path(settings: Settings) -> Path:
    if settings.ssh.access_log:
        return Path(settings.ssh.access_log).expanduser()
    return user_log_path("wallboard") / ACCESS_LOG_NAME


def load_or_create_host_key(path: Path) -> asyncssh.SSHKey:
    """The server's host key; generated (ed25519, mode 0600) on first start and kept.

    Written to a temporary file and linked into place, so two servers starting at once
    end up with the same key and nobody reads a half-written file.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="wallboard host key")
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(key.export_private_key())
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another server made one first: use theirs
            else:
                path.with_name(path.name + ".pub").write_bytes(key.export_public_key())
                log.info("generated the SSH host key %s", path)
        finally:
            temporary.unlink(missing_ok=True)
    elif path.stat().st_mode & 0o077:
        log.warning("the SSH host key %s is readable by others: chmod 600 it", path)
    try:
        return asyncssh.read_private_key(path)
    except (OSError, asyncssh.KeyImportError) as exc:
        raise click.ClickException(f"{path}: cannot read the SSH host key: {exc}") from None


class FailureLimiter:
    """Failed logins per source address: `limit` of them within `window` seconds shut the
    address out for `block` seconds."""

    def __init__(self, limit: int, window: float, block: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.block, self.clock = limit, window, block, clock
        self._failures: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}

    def blocked(self, address: str) -> bool:
        until = self._blocked.get(address)
        if until is None:
            return False
        if self.clock() < until:
            return True
        del self._blocked[address]
        return False

    def failure(self, address: str) -> bool:
        """Count one; True when this one shuts the address out."""
        now = self.clock()
        times = self._failures.setdefault(address, deque())
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(self._failures) > MAX_TRACKED_ADDRESSES:
            self._forget(now)
        if len(times) >= self.limit and self.block > 0:
            self._blocked[address] = now + self.block
            times.clear()
            return True
        return False

    def _forget(self, now: float) -> None:
        for address in [a for a, t in self._failures.items() if not t or t[-1] <= now - self.window]:
            del self._failures[address]
        for address in [a for a, until in self._blocked.items() if until <= now]:
            del self._blocked[address]


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
    return [sys.executable, "-m", "wallboard.session", f"--for={user}"]


class SessionHello:
    """What a session's process learns first over its link: the settings (less the
    server's secrets) and who it is."""

    REMOTE = frozenset({"hello"})

    def __init__(self, settings: Settings, login: Login) -> None:
        self.settings = settings.signed_in(login.name, login.role).without_secrets()
        self.user = login.name

    def hello(self) -> tuple[Settings, str]:
        return self.settings, self.user


def format_duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


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
    clamp = lambda n: max(1, min(int(n), 10_000))  # noqa: E731
    return struct.pack("HHHH", clamp(rows), clamp(cols), min(xpixels, 65535), min(ypixels, 65535))


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
        try:
            data = os.read(self.master, 65536)  # type: ignore[arg-type]
        except BlockingIOError:
            return
        except OSError:  # EIO: every slave end is closed; the exit follows
            data = b""
        if not data:
            self._stop_reading()
            return
        self.on_output(data)

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

    def _signal_group(self, signum: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    async def stop(self, grace: float = HANGUP_GRACE_SECONDS) -> int | None:
        """Hang up: SIGHUP to the process group, SIGKILL after `grace`, then reap."""
        if self.proc is None or self.returncode is not None:
            return self.returncode
        # The PTY stays open and read meanwhile, so the TUI can put the terminal back
        # (a client still connected sees a clean screen); output nobody reads is dropped.
        self.resume_output()
        self._signal_group(signal.SIGHUP)
        self._signal_group(signal.SIGCONT)
        try:
            return await asyncio.wait_for(asyncio.shield(self.exited), grace)
        except asyncio.TimeoutError:
            log.warning("session process %d still running %.0f s after SIGHUP: SIGKILL", self.proc.pid, grace)
        self._signal_group(signal.SIGKILL)
        try:
            return await asyncio.wait_for(asyncio.shield(self.exited), REAP_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            log.error("session process %d not reaped after SIGKILL", self.proc.pid)
            return None


# -- the SSH server --------------------------------------------------------------------


class _UserKeys(asyncssh.SSHAuthorizedKeys):
    """One user's registered keys; remembers which one matched last (the one logged in)."""

    def __init__(self, login: Login | None) -> None:
        super().__init__()
        self.matched: str | None = None
        for key in login.keys if login else ():
            try:
                self.load(key.public_key)
            except ValueError:
                log.warning("user %r has an unreadable key %s: skipped", login.name, key.fingerprint)

    def validate(self, key, client_host, client_addr, cert_principals=None, ca=False):
        options = super().validate(key, client_host, client_addr, cert_principals, ca)
        if options is not None and not ca:
            self.matched = key.get_fingerprint()
        return options


class _Connection(asyncssh.SSHServer):
    """One client connection: the address check, authentication, its sessions."""

    def __init__(self, front: SshFrontDoor) -> None:
        self.front = front
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address, self.port = "?", 0
        self.username: str | None = None
        self.login: Login | None = None
        self.keys: _UserKeys | None = None
        self.key_fingerprint: str | None = None
        self.authenticated = False
        self.tried = False
        self.rejected = 0

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address, self.port = str(peer[0]), int(peer[1])
        if self.front.limiter.blocked(self.address):
            access.info("refused connection from %s: shut out after failed logins", self.address)
            raise ConnectionRefusedError(f"{self.address} is shut out")  # asyncssh closes it at once
        self.front.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.front.connections.discard(self)
        if self.tried and not self.authenticated:
            access.info("failed login as %r from %s: left before a key registered to this user was accepted",
                        self.username, self.address)
            if self.front.limiter.failure(self.address):
                access.warning("shut out %s for %g min after %d failed logins within %g min", self.address,
                               self.front.settings.ssh.block_minutes, self.front.limiter.limit,
                               self.front.settings.ssh.failure_window_minutes)

    async def begin_auth(self, username: str) -> bool:
        self.tried = True
        self.username = username
        try:
            self.login = await asyncio.to_thread(ssh_access.find_login, self.front.engine, username)
        except Exception:  # noqa: BLE001 - a database problem refuses everyone, with a trace in the log
            log.exception("looking up SSH user %r failed", username)
            self.login = None
        self.keys = _UserKeys(self.login)
        assert self.conn is not None
        self.conn.set_authorized_keys(self.keys)
        return True  # always ask for authentication, known user or not

    def public_key_auth_supported(self) -> bool:
        return True  # also for a user without keys: same answer, nothing to learn

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # Only reached for keys that are not among this user's registered ones.
        why = "is not registered to this user" if self.login else "offered for an unknown or inactive user"
        access.info("rejected key %s for %r from %s: %s", key.get_fingerprint(), username, self.address, why)
        self.rejected += 1
        if self.rejected >= MAX_KEYS_PER_CONNECTION and self.conn is not None:
            conn = self.conn
            asyncio.get_running_loop().call_soon(
                conn.disconnect, asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "too many authentication failures")
        return False

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def auth_completed(self) -> None:
        self.authenticated = True
        self.key_fingerprint = self.keys.matched if self.keys else None
        assert self.login is not None
        access.info("login %s (%s) from %s:%d with key %s", self.login.name, self.login.role,
                    self.address, self.port, self.key_fingerprint)

    def session_requested(self) -> asyncssh.SSHServerSession:
        return _TerminalSession(self.front, self)

    # No tunnels of any kind.
    def connection_requested(self, dest_host, dest_port, orig_host, orig_port):
        return False

    def server_requested(self, listen_host, listen_port):
        return False

    def unix_connection_requested(self, dest_path):
        return False

    def unix_server_requested(self, listen_path):
        return False


class _TerminalSession(asyncssh.SSHServerSession):
    """One session channel: the TUI process on its PTY, or a one-line refusal."""

    def __init__(self, front: SshFrontDoor, owner: _Connection) -> None:
        self.front = front
        self.owner = owner
        self.chan: asyncssh.SSHServerChannel | None = None
        self.command: str | None = None
        self.child: PtyProcess | None = None
        self.last_input = time.monotonic()
        self.started_at = time.time()
        self.end_reason: str | None = None
        self.exit_status: int | None = None
        self.closed = False
        self._row: asyncio.Task | None = None
        self._finished = False
        self._message: str | None = None

    @property
    def login(self) -> Login:
        assert self.owner.login is not None
        return self.owner.login

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self.chan = chan

    def pty_requested(self, term_type, term_size, term_modes) -> bool:
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.command = command
        return True  # refused with a message once the session starts

    def subsystem_requested(self, subsystem: str) -> bool:
        access.info("refused subsystem %r for %s from %s", subsystem, self.login.name, self.owner.address)
        return False

    def session_started(self) -> None:
        assert self.chan is not None
        term = self.chan.get_terminal_type()
        if self.command is not None or term is None:
            what = f"command {self.command!r}" if self.command is not None else "a session without a terminal"
            self._refuse(f"refused: {'command' if self.command is not None else 'no terminal'}", what, NO_TERMINAL)
            return
        if self.front.closing:
            self._refuse("refused: server stopping", "a session (server stopping)", "wallboard: the server is stopping")
            return
        if len(self.front.sessions) >= self.front.settings.ssh.max_sessions:
            self._refuse("refused: server full", "a session (server full)",
                         f"wallboard: the server is full ({self.front.settings.ssh.max_sessions} sessions); try again later")
            return
        cols, rows, xpixels, ypixels = self.chan.get_terminal_size()
        size = (cols or DEFAULT_SIZE[0], rows or DEFAULT_SIZE[1], xpixels, ypixels)
        link, child_end = socket.socketpair()
        env = session_env(self.chan.get_environment(), term, link_fd=child_end.fileno())
        self.child = PtyProcess(session_command(self.login.name), env, size, self._output, self._child_exited,
                                pass_fds=(child_end.fileno(),))
        try:
            self.child.start()
        except OSError as exc:
            log.exception("cannot start the session process")
            self.child = None
            link.close()
            self._refuse("refused: cannot start", "a session (cannot start)", f"wallboard: cannot start the board: {exc}")
            return
        finally:
            child_end.close()  # the child has its own copy
        self.front.sessions.add(self)
        self.front.spawn(self._serve_link(link))
        self._row = self.front.spawn(self._log_start(term, size))

    async def _serve_link(self, link: socket.socket) -> None:
        """Answer the session process until it closes its end (it exits)."""
        front, login = self.front, self.login
        try:
            reader, writer = await asyncio.open_connection(sock=link)
        except OSError:
            link.close()
            raise
        targets = {
            "session": SessionHello(front.settings, login),
            "board": front.board,
            "desk": UserDesk(front.engine, front.settings, login.name),
        }
        await serve_link(reader, writer, targets, front.executor, passes=(TicketError,),
                         label=f"session of {login.name}")

    def _refuse(self, reason: str, what: str, message: str) -> None:
        access.info("refused %s for %s from %s", what, self.login.name, self.owner.address)
        self.end_reason, self.exit_status = reason, 1
        self._row = self.front.spawn(self._log_start(self.chan.get_terminal_type() if self.chan else None, None))
        self.front.spawn(self._log_end())
        self._finished = True
        assert self.chan is not None
        self.chan.write_stderr(message.encode() + b"\r\n")
        self.chan.exit(1)

    async def _log_start(self, term: str | None, size) -> int | None:
        try:
            row = await asyncio.to_thread(
                ssh_access.session_started, self.front.engine, self.login,
                peer_address=self.owner.address, peer_port=self.owner.port,
                key_fingerprint=self.owner.key_fingerprint, term=term, at=self.started_at,
            )
        except Exception:  # noqa: BLE001 - the session runs on; the log file has it
            log.exception("cannot record the SSH session in the database")
            row = None
        if self.child is not None:
            access.info("session %s: %s from %s:%d, %s %dx%d, pid %d", row, self.login.name, self.owner.address,
                        self.owner.port, term, size[0], size[1], self.child.pid)
        return row

    async def _log_end(self) -> None:
        row = await self._row if self._row is not None else None
        duration = time.time() - self.started_at
        if self.child is not None:
            access.info("session %s ended: %s from %s:%d after %s (%s, exit %s)", row, self.login.name,
                        self.owner.address, self.owner.port, format_duration(duration), self.end_reason, self.exit_status)
        if row is None:
            return
        try:
            await asyncio.to_thread(ssh_access.session_ended, self.front.engine, row,
                                    reason=self.end_reason or "?", exit_status=self.exit_status)
        except Exception:  # noqa: BLE001
            log.exception("cannot record the end of SSH session %s", row)

    # data

    def _output(self, data: bytes) -> None:
        if not self.closed and self.chan is not None:
            self.chan.write(data)

    def data_received(self, data: bytes, datatype) -> None:
        self.last_input = time.monotonic()
        if self.child is not None:
            self.child.write(data)
            if self.child.pending_input > 65536 and self.chan is not None:
                self.chan.pause_reading()
                self.front.loop.call_later(0.1, self._resume_input)

    def _resume_input(self) -> None:
        if self.child is None or self.closed or self.chan is None:
            return
        if self.child.pending_input > 65536:
            self.front.loop.call_later(0.1, self._resume_input)
        else:
            self.chan.resume_reading()

    def eof_received(self) -> bool:
        return True  # no more keys, but the board goes on

    def pause_writing(self) -> None:
        if self.child is not None:
            self.child.pause_output()

    def resume_writing(self) -> None:
        if self.child is not None:
            self.child.resume_output()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if self.child is not None:
            self.child.resize(width, height, pixwidth, pixheight)

    def break_received(self, msec: int) -> bool:
        return False

    # ending

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.child is not None and self.child.returncode is None:
            self.end("client disconnected")

    def end(self, reason: str, message: str | None = None) -> None:
        """Hang up the TUI process (its exit closes the channel)."""
        if self.end_reason is None:
            self.end_reason = reason
            self._message = message
        if self.child is not None:
            self.front.spawn(self.child.stop())

    def _child_exited(self, code: int) -> None:
        self.front.sessions.discard(self)
        self.exit_status = code if code >= 0 else 128 - code
        if self.end_reason is None:
            self.end_reason = "quit" if code == 0 else f"exited with status {self.exit_status}"
        if not self.closed and self.chan is not None:
            if self._message:
                self.chan.write_stderr(self._message.encode() + b"\r\n")
            self.chan.exit(self.exit_status)
        if not self._finished:
            self._finished = True
            self.front.spawn(self._log_end())

    def idle_seconds(self, now: float) -> float:
        return now - self.last_input


class SshFrontDoor:
    """The SSH server on the running event loop."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        ssh = settings.ssh
        self.limiter = FailureLimiter(ssh.max_failures, ssh.failure_window_minutes * 60, ssh.block_minutes * 60)
        self.sessions: set[_TerminalSession] = set()
        self.connections: set[_Connection] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.acceptor: asyncssh.SSHAcceptor | None = None
        self.host_key: asyncssh.SSHKey | None = None
        self._tasks: set[asyncio.Task] = set()
        self._idle_task: asyncio.Task | None = None
        self.closing = False
        # What sessions ask for over their links: the board (one read shared by all).
        self.board = BoardReader(engine, settings, share_for=BOARD_SHARE_SECONDS, share_trend_for=TREND_SHARE_SECONDS)
        self.executor = ThreadPoolExecutor(LINK_WORKERS, thread_name_prefix="session-link")

    @property
    def port(self) -> int:
        assert self.acceptor is not None
        return self.acceptor.get_port()

    def spawn(self, coroutine) -> asyncio.Task:
        assert self.loop is not None
        task = self.loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        setup_access_log(self.settings)
        logging.getLogger("asyncssh").setLevel(logging.WARNING)  # ours say who and why
        self.host_key = load_or_create_host_key(host_key_path(self.settings))
        ssh = self.settings.ssh
        try:
            self.acceptor = await asyncssh.listen(
                ssh.bind,
                ssh.port,
                server_factory=lambda: _Connection(self),
                server_host_keys=[self.host_key],
                config=None,
                authorized_client_keys=None,
                public_key_auth=True,
                password_auth=False,
                kbdint_auth=False,
                host_based_auth=False,
                gss_host=None,
                gss_auth=False,
                gss_kex=False,
                x509_trusted_certs=None,
                allow_pty=True,
                line_editor=False,
                encoding=None,
                agent_forwarding=False,
                x11_forwarding=False,
                allow_scp=False,
                login_timeout=LOGIN_TIMEOUT_SECONDS,
                keepalive_interval=KEEPALIVE_SECONDS,
                keepalive_count_max=4,
                reuse_address=True,
            )
        except OSError as exc:
            raise click.ClickException(f"cannot listen for SSH on {ssh.bind}:{ssh.port}: {exc.strerror or exc}") from None
        if ssh.idle_timeout_minutes > 0:
            self._idle_task = self.loop.create_task(self._idle_watch(ssh.idle_timeout_minutes * 60))
        access.info("listening on %s:%d, host key %s", ssh.bind, self.port, self.host_key.get_fingerprint())
        await self._close_abandoned_sessions(time.time())

    async def _close_abandoned_sessions(self, started_at: float) -> None:
        """Rows left open by an earlier run on this host that died: ended now, by the restart.
        After the port is bound, so a second server that cannot start closes nothing."""
        try:
            closed = await asyncio.to_thread(ssh_access.close_abandoned_sessions, self.engine, at=started_at)
        except Exception:  # noqa: BLE001 - the front door runs on; the log file has it
            log.exception("cannot close the SSH sessions left open by an earlier run")
            return
        if closed:
            access.info("closed %d session(s) left open by an earlier run on this host", closed)

    async def _idle_watch(self, limit: float) -> None:
        every = min(30.0, max(limit / 4, 0.5))
        while True:
            await asyncio.sleep(every)
            now = time.monotonic()
            for session in list(self.sessions):
                if session.end_reason is None and session.idle_seconds(now) >= limit:
                    access.info("%s from %s idle for %s: closing", session.login.name, session.owner.address,
                                format_duration(session.idle_seconds(now)))
                    session.end("idle timeout",
                                f"wallboard: no key pressed for {format_duration(limit)}: session closed")

    async def close(self) -> None:
        """Stop listening, hang up every session, wait for the log to be written."""
        self.closing = True
        if self._idle_task is not None:
            self._idle_task.cancel()
        if self.acceptor is not None:
            self.acceptor.close()
            await self.acceptor.wait_closed()
        for session in list(self.sessions):
            session.end("server stopped", "wallboard: the server is stopping")
        await self._settle(HANGUP_GRACE_SECONDS + REAP_TIMEOUT_SECONDS + 2)
        for connection in list(self.connections):
            if connection.conn is not None:
                connection.conn.close()
        await self._settle(HANGUP_GRACE_SECONDS + REAP_TIMEOUT_SECONDS + 2)
        self.executor.shutdown(wait=False, cancel_futures=True)
        access.info("stopped listening")

    async def _settle(self, timeout: float) -> None:
        """Until every session process is reaped and every log write done (or timeout)."""
        deadline = time.monotonic() + timeout
        while (self.sessions or self._tasks) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)


def setup_access_log(settings: Settings) -> Path:
    """The connection log file; its lines also reach the main log through propagation."""
    path = access_log_path(settings)
    for handler in access.handlers:
        if getattr(handler, "_wallboard_path", None) == path:
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    handler._wallboard_path = path  # type: ignore[attr-defined]
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    return path


# -- running it next to the feed -------------------------------------------------------


class SshThread:
    """The front door on its own event loop in a thread, for `wallboard serve`."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.front = SshFrontDoor(engine, settings)
        self.thread = threading.Thread(target=self._run, name="ssh", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def start(self) -> SshThread:
        """Returns once the port is bound; one-line ClickException when it cannot be."""
        self.thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported by start() or the log
            if not self._ready.is_set():
                self._error = exc
                self._ready.set()
            else:
                log.exception("the SSH front door failed")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await self.front.start()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.front.close()

    @property
    def port(self) -> int:
        return self.front.port

    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self, timeout: float = 15.0) -> None:
        if self._loop is not None and self._stop is not None and self.thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(timeout)


def start_ssh(engine: Engine, settings: Settings) -> SshThread:
    """Start the front door in a thread; stop it with `.stop()`."""
    return SshThread(engine, settings).start()


def serve_ssh(engine: Engine, settings: Settings, stop: threading.Event) -> None:
    """Run the front door until `stop` is set."""
    ssh = start_ssh(engine, settings)
    try:
        while not stop.wait(0.5) and ssh.alive():
            pass
    finally:
        ssh.stop()


def describe(ssh: SshThread) -> str:
    settings = ssh.front.settings
    key = ssh.front.host_key.get_fingerprint() if ssh.front.host_key else "?"
    return f"ssh on {settings.ssh.bind}:{ssh.port} (host key {key}, connection log {access_log_path(settings)})"

