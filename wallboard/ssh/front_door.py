"""The SSH front door: remote sites reach the board with a plain `ssh`.

`wallboard serve` runs it (`start_ssh`) on its own event loop in a thread, next to the feed.
Each terminal session runs its own TUI process on a pseudo-terminal, forked by the session
template (wallboard/ssh/template.py; Textual imported and the board built before the fork:
wallboard/ssh/prebuilt.py) or, while there is none,
`python -m wallboard.ssh.board_process`; this module never imports Textual. The process has
no database access of its own: it asks this server over its session link
(wallboard/ssh/link.py), which answers from one board read shared by all sessions and from
a `UserDesk` bound to the session's user. When the call data changes (wallboard/store/changes.py)
every session is nudged to read the board at once.

Authentication: public keys only. `begin_auth` binds the user name to that user's own
registered keys (`conn.set_authorized_keys`), so a key registered to somebody else does
not log in under this name; an unknown or inactive user gets an empty key list and the
same answers as a known one. Passwords, keyboard-interactive, host-based and GSSAPI
authentication are off. A connection that ends without logging in is a failed attempt:
logged, and counted per (address, user), per user and per address (limiter.py): too many
within the window shut out that user from that address, that user, or (at a much higher
ceiling) the address, whose connections are then closed before the SSH banner.

Sessions: a PTY is required (`ssh -T` and commands get one line on stderr and exit
status 1). The child is a session leader with the PTY as its controlling terminal and
SIGHUP at its default, sees the client's window size (changes are forwarded with
TIOCSWINSZ and SIGWINCH) and of the client's environment only TERM, COLORTERM and LANG.
Its user comes from the authenticated connection (the link is bound to it), never from
the client. [limits] (session_limits.py) clamps its terminal size, caps the sessions per
user and in total, and ends a session whose process is over its memory ceiling.
When the client goes away (or idles out, or the server stops) the child's process group
gets SIGHUP, then SIGKILL after a grace period, and the child is reaped.

Connection log: the `ssh_sessions` table (`wallboard ssh sessions`) and a log file; failed
log-ins and shut-outs in `ssh_login_failures` (`wallboard ssh sessions --failures`) too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.handlers
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import asyncssh
from sqlalchemy import Engine

from tickets.errors import TicketError
from tickets.user_desk import UserDesk
from wallboard.config import Settings
from wallboard.errors import RunError
from wallboard.feeds.agent_actions import AgentActions
from wallboard.ssh import access as ssh_access
from wallboard.ssh.access import Login
from wallboard.ssh.board_share import SharedBoard
from wallboard.ssh.desk_push import DeskWatch, WatchedDesk
from wallboard.ssh.host_key import access_log_path, host_key_path, load_or_create_host_key, setup_access_log
from wallboard.ssh.limiter import USER_FROM_ADDRESS, FailureLimiter
from wallboard.ssh.link import LINK_FD_ENV, NUDGE_FD_ENV, nudge, serve_link
from wallboard.ssh.pty import (
    ESCAPE,
    HANGUP_GRACE_SECONDS,
    REAP_TIMEOUT_SECONDS,
    PtyProcess,
    board_keys,
    escape_key,
    session_command,
    session_env,
)
from wallboard.ssh.session_limits import (
    TerminalSize,
    clamp_terminal_size,
    over_memory_message,
    resident_mb,
    too_big_notice,
)
from wallboard.ssh.template import ForkedPtyProcess, SessionTemplate, template_env
from wallboard.store.board_reader import BoardReader
from wallboard.store.changes import ChangeWatch, relay_changes
from wallboard.text import format_duration, printable

log = logging.getLogger("wallboard.ssh")
access = logging.getLogger("wallboard.ssh.access")

LOGIN_TIMEOUT_SECONDS = 30
KEEPALIVE_SECONDS = 30  # a silent peer is dropped after 4 unanswered keepalives
MAX_KEYS_PER_CONNECTION = 6  # rejected keys before the connection is dropped (OpenSSH's MaxAuthTries)
BOARD_SHARE_SECONDS = 0.5  # one board read serves every session asking within this
TREND_SHARE_SECONDS = 15.0
LINK_WORKERS = 8  # threads answering sessions' database calls
MEMORY_WATCH_SECONDS = 1.0  # how often the sessions' processes are weighed
# How often the signed-in users' desks are looked at (once for all: desk_push.py), besides
# at once on a change of the call data or a desk's write.
DESK_LOOK_SECONDS = 1.0
# A busy feed changes the call data up to 5 times a second (changes.NUDGE_GAP_SECONDS): the
# looks follow at most this often.
DESK_LOOK_GAP_SECONDS = 0.5
# Ciphers, in the server's order; the client picks the first of its own list that is here.
# AES-GCM (one call into OpenSSL per packet, AES in hardware) costs a fifth of the CPU per
# packet of asyncssh's chacha20-poly1305 (which builds cipher objects for every packet),
# and every session's every redraw is packets: so chacha20-poly1305, OpenSSH's first
# choice, is left out. AES-CTR (with an -etm MAC) is for clients without GCM.
SESSION_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr")
# The client's exit status when the server ended a session (idle, memory, stopping) that quit cleanly.
ENDED_BY_SERVER_STATUS = 1
T = TypeVar("T")
NO_TERMINAL = (
    "wallboard: this server shows the wallboard in a terminal only; "
    "connect with a plain `ssh -p PORT NAME@HOST` (no -T, no command)"
)

# What of the server's own environment a session's TUI process keeps (the operator's
# settings, but not the database's: the process has none); everything the terminal
# decides comes from the client, below.


class SessionHello:
    """What a session's process learns first over its link: the settings (less the
    server's secrets) and who it is."""

    REMOTE = frozenset({"start", "hello", "notices"})
    INLINE = True  # answered on the server's loop: it only hands back what it holds (link.py)

    def __init__(self, settings: Settings, login: Login, notices: Sequence[str] = ()) -> None:
        self.settings = settings.signed_in(login.name, login.role).without_secrets()
        self.user = login.name
        self._notices = list(notices)

    def start(self) -> tuple[Settings, str, list[str]]:
        """All a session's process asks before it draws, in one round trip: `hello`, then
        `notices`."""
        return self.settings, self.user, self._notices

    def hello(self) -> tuple[Settings, str]:
        return self.settings, self.user

    def notices(self) -> list[str]:
        """What the server changed of the session's request (a terminal too big), for the
        board to show once."""
        return self._notices


# -- the SSH server --------------------------------------------------------------------


class _UserKeys(asyncssh.SSHAuthorizedKeys):
    """One user's registered keys; remembers which one matched last (the one logged in)."""

    def __init__(self, login: Login | None) -> None:
        super().__init__()
        self.matched: str | None = None
        if login is None:
            return
        for key in login.keys:
            try:
                self.load(key.public_key)
            except ValueError:
                log.warning("user %r has an unreadable key %s: skipped", login.name, key.fingerprint)

    def validate(
        self,
        key: asyncssh.SSHKey,
        client_host: str,
        client_addr: str,
        cert_principals: Sequence[str] | None = None,
        ca: bool = False,
    ) -> Mapping[str, object] | None:
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
        self.shut_out = False
        self.rejected = 0

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address, self.port = str(peer[0]), int(peer[1])
        if self.front.limiter.address_blocked(self.address):
            access.info("refused connection from %s: shut out after failed logins", self.address)
            raise ConnectionRefusedError(f"{self.address} is shut out")  # asyncssh closes it at once
        self.front.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.front.connections.discard(self)
        if self.tried and not self.authenticated and not self.shut_out:
            access.info(
                "failed login as %r from %s: left before a key registered to this user was accepted",
                self.username,
                self.address,
            )
            self.front.login_failed(self.address, self.username)

    async def begin_auth(self, username: str) -> bool:
        self.tried = True
        self.username = username
        assert self.conn is not None
        if (scope := self.front.limiter.user_blocked(self.address, username)) is not None:
            # Not counted again: the shut-out is not extended by the person waiting it out.
            self.shut_out = True
            where = "from this address" if scope == USER_FROM_ADDRESS else "from any address"
            access.info("refused login as %r from %s: shut out %s after failed logins", username, self.address, where)
            self.conn.set_authorized_keys(_UserKeys(None))
            conn = self.conn
            asyncio.get_running_loop().call_soon(
                conn.disconnect,
                asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE,
                f"too many failed logins as {printable(username)} {where}: try again in "
                f"{self.front.settings.ssh.block_minutes:g} minutes",
            )
            return True
        try:
            self.login = await asyncio.to_thread(ssh_access.find_login, self.front.engine, username)
        except Exception:
            log.exception("looking up SSH user %r failed", username)
            self.login = None
        self.keys = _UserKeys(self.login)
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
                conn.disconnect, asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "too many authentication failures"
            )
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
        self.front.limiter.success(self.address, self.login.name)
        access.info(
            "login %s (%s) from %s:%d with key %s",
            self.login.name,
            self.login.role,
            self.address,
            self.port,
            self.key_fingerprint,
        )

    def session_requested(self) -> asyncssh.SSHServerSession:
        return _TerminalSession(self.front, self)

    # No tunnels of any kind.
    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int) -> bool:
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
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
        self._row: asyncio.Task[int | None] | None = None
        self._finished = False
        self.nudges: socket.socket | None = None  # the server's end of the change nudges
        self._message: str | None = None
        self.notices: list[str] = []
        self._desk_watch: int | None = None  # its handle in the front door's DeskWatch
        self._escape = ESCAPE  # what a lone Escape key is sent as (set with the board's environment)

    @property
    def login(self) -> Login:
        assert self.owner.login is not None
        return self.owner.login

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: TerminalSize, term_modes: Mapping[int, int]) -> bool:
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
        if self._refused_over_limits():
            return
        limits = self.front.settings.limits
        asked = self.chan.get_terminal_size()
        size = clamp_terminal_size(asked, limits)
        if size[:2] != asked[:2] and asked[0] and asked[1]:
            self.notices.append(too_big_notice(asked, limits))
            access.info(
                "%s from %s asked for a %dx%d terminal: drawn at %dx%d",
                self.login.name,
                self.owner.address,
                asked[0],
                asked[1],
                size[0],
                size[1],
            )
        link, child_end = socket.socketpair()
        nudges, nudged_end = socket.socketpair()
        env = session_env(self.chan.get_environment(), term, link_fd=child_end.fileno())
        env[NUDGE_FD_ENV] = str(nudged_end.fileno())
        self._escape = escape_key(env)
        fds = {LINK_FD_ENV: child_end.fileno(), NUDGE_FD_ENV: nudged_end.fileno()}
        try:
            self.child = self.front.start_session_process(
                self.login.name, env, size, self._output, self._child_exited, fds
            )
        except OSError as exc:
            log.exception("cannot start the session process")
            self.child = None
            link.close()
            nudges.close()
            self._refuse(
                "refused: cannot start", "a session (cannot start)", f"wallboard: cannot start the board: {exc}"
            )
            return
        finally:
            child_end.close()  # the child has its own copies
            nudged_end.close()
        self.nudges = nudges
        self.front.sessions.add(self)
        self._desk_watch = self.front.desks.watch(self.login.name, self._nudge_desk)
        self.front.spawn(self._serve_link(link))
        if self.notices:
            # Also on the terminal itself, for a client that leaves before the board shows it.
            self.chan.write_stderr(("wallboard: " + " ".join(self.notices)).encode() + b"\r\n")
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
            "session": SessionHello(front.settings, login, self.notices),
            "board": front.board,
            "desk": WatchedDesk(UserDesk(front.engine, front.settings, login.name), front.desk_written_soon),
            "agents": AgentActions(front.engine, front.settings, login.name),
        }
        await serve_link(
            reader,
            writer,
            targets,
            front.executor,
            passes=(TicketError,),
            label=f"session of {login.name}",
            limits=front.settings.limits,
        )

    def _refused_over_limits(self) -> bool:
        """Refuse the session (True) when the server or this user has all the sessions allowed."""
        limits = self.front.settings.limits
        if len(self.front.sessions) >= limits.sessions_total:
            self._refuse(
                "refused: server full",
                "a session (server full)",
                f"wallboard: the server is full ({limits.sessions_total} sessions); try again later",
            )
            return True
        own = sum(1 for session in self.front.sessions if session.login.name == self.login.name)
        if own >= limits.sessions_per_user:
            self._refuse(
                "refused: user's sessions",
                f"a session (already {own} of this user's)",
                f"wallboard: {self.login.name} has {own} sessions open already (at most "
                f"{limits.sessions_per_user}); close one first",
            )
            return True
        return False

    def _refuse(self, reason: str, what: str, message: str) -> None:
        access.info("refused %s for %s from %s", what, self.login.name, self.owner.address)
        self.end_reason, self.exit_status = reason, 1
        self._row = self.front.spawn(self._log_start(self.chan.get_terminal_type() if self.chan else None, None))
        self.front.spawn(self._log_end())
        self._finished = True
        assert self.chan is not None
        self.chan.write_stderr(message.encode() + b"\r\n")
        self.chan.exit(1)

    async def _log_start(self, term: str | None, size: TerminalSize | None) -> int | None:
        try:
            row = await asyncio.to_thread(
                ssh_access.session_started,
                self.front.engine,
                self.login,
                peer_address=self.owner.address,
                peer_port=self.owner.port,
                key_fingerprint=self.owner.key_fingerprint,
                term=term,
                at=self.started_at,
            )
        except Exception:
            log.exception("cannot record the SSH session in the database")
            row = None
        pid = await self.child.wait_started() if self.child is not None else None
        if self.child is not None and size is not None:
            access.info(
                "session %s: %s from %s:%d, %s %dx%d, pid %s",
                row,
                self.login.name,
                self.owner.address,
                self.owner.port,
                term,
                size[0],
                size[1],
                pid if pid is not None else "none (never started)",
            )
        return row

    async def _log_end(self) -> None:
        row = await self._row if self._row is not None else None
        duration = time.time() - self.started_at
        if self.child is not None:
            access.info(
                "session %s ended: %s from %s:%d after %s (%s, exit %s)",
                row,
                self.login.name,
                self.owner.address,
                self.owner.port,
                format_duration(duration),
                self.end_reason,
                self.exit_status,
            )
        if row is None:
            return
        try:
            await asyncio.to_thread(
                ssh_access.session_ended,
                self.front.engine,
                row,
                reason=self.end_reason or "?",
                exit_status=self.exit_status,
            )
        except Exception:
            log.exception("cannot record the end of SSH session %s", row)

    # data

    def _output(self, data: bytes) -> None:
        if not self.closed and self.chan is not None:
            self.chan.write(data)

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.last_input = time.monotonic()
        if self.child is not None:
            self.child.write(board_keys(data, self._escape))
            if self.child.pending_input > 65536 and self.chan is not None:
                self.chan.pause_reading()
                asyncio.get_running_loop().call_later(0.1, self._resume_input)

    def _resume_input(self) -> None:
        if self.child is None or self.closed or self.chan is None:
            return
        if self.child.pending_input > 65536:
            asyncio.get_running_loop().call_later(0.1, self._resume_input)
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
            self.child.resize(*clamp_terminal_size((width, height, pixwidth, pixheight), self.front.settings.limits))

    def break_received(self, msec: int) -> bool:
        return False

    # ending

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.child is not None and self.child.returncode is None:
            self.end("client disconnected")

    def end(self, reason: str, message: str | None = None) -> None:
        """Hang up the TUI process (its exit closes the channel). With a message (the
        server ends it: idle, out of memory, stopping) the client is told why and gets a
        non-zero exit status, whatever the process exits with."""
        if self.end_reason is None:
            self.end_reason = reason
            self._message = message
        if self.child is not None:
            self.front.spawn(self.child.stop())

    def _nudge_desk(self, what: bytes) -> None:
        if self.nudges is not None:
            nudge(self.nudges, what)

    def _child_exited(self, code: int) -> None:
        self.front.sessions.discard(self)
        if self._desk_watch is not None:
            self.front.desks.forget(self._desk_watch)
            self._desk_watch = None
        if self.nudges is not None:
            self.nudges.close()
            self.nudges = None
        self.exit_status = code if code >= 0 else 128 - code
        if self._message and self.exit_status == 0:
            self.exit_status = ENDED_BY_SERVER_STATUS
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


class _LoopClosed(Exception):
    """The server's event loop closed under the change watch: nobody is left to nudge."""


class SshFrontDoor:
    """The SSH server on the running event loop."""

    def __init__(self, engine: Engine, settings: Settings, *, use_template: bool = True) -> None:
        self.engine = engine
        self.settings = settings
        ssh = settings.ssh
        self.limiter = FailureLimiter(
            per_user_address=ssh.max_failures,
            per_user=ssh.max_user_failures,
            per_address=ssh.max_address_failures,
            window=ssh.failure_window_minutes * 60,
            block=ssh.block_minutes * 60,
        )
        self.sessions: set[_TerminalSession] = set()
        self.connections: set[_Connection] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.acceptor: asyncssh.SSHAcceptor | None = None
        self.host_key: asyncssh.SSHKey | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        # The template's link lasts as long as the template: close() must not wait for it
        # with the sessions' work (it ends when close() shuts the template down, last).
        self._template_links: set[asyncio.Task[None]] = set()
        self._idle_task: asyncio.Task[None] | None = None
        self._memory_task: asyncio.Task[None] | None = None
        self.closing = False
        # What sessions ask for over their links: the board (one read shared by all).
        self.board = SharedBoard(
            BoardReader(engine, settings, share_for=BOARD_SHARE_SECONDS, share_trend_for=TREND_SHARE_SECONDS),
            BOARD_SHARE_SECONDS,
        )
        self.executor = ThreadPoolExecutor(LINK_WORKERS, thread_name_prefix="session-link")
        # Forks the sessions' board processes with Textual already imported (None: each
        # session starts its own process).
        self.template: SessionTemplate | None = (
            SessionTemplate(template_env(), settings, serve_board=self._serve_template_link) if use_template else None
        )
        # Tells the shared board and the sessions when the call data changed.
        self.changes = ChangeWatch(engine)
        self._watcher: threading.Thread | None = None
        # Tells each session when its user's inbox or the caller on their line changed.
        self.desks = DeskWatch(engine, settings)
        self._desk_due = asyncio.Event()
        self._desk_task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        assert self.acceptor is not None
        return self.acceptor.get_port()

    def start_session_process(
        self,
        user: str,
        env: dict[str, str],
        size: TerminalSize,
        on_output: Callable[[bytes], None],
        on_exit: Callable[[int], None],
        fds: Mapping[str, int],
    ) -> PtyProcess:
        """A session's board process, started: forked by the template when it is ready,
        else a process of its own. OSError when neither can start."""
        if self.template is not None and self.template.usable():
            child: PtyProcess = ForkedPtyProcess(self.template, user, env, size, on_output, on_exit, fds)
            try:
                child.start()
                return child
            except OSError:
                log.exception("the session template did not start a session: starting its own process")
        child = PtyProcess(session_command(user), env, size, on_output, on_exit, pass_fds=tuple(fds.values()))
        child.start()
        return child

    def _serve_template_link(self, link: socket.socket) -> None:
        """The template's own link: the board only (it draws one before any session, so the
        queues' tiles are built once for every session)."""
        assert self.loop is not None
        task = self.loop.create_task(self._serve_board_to_template(link))
        self._template_links.add(task)
        task.add_done_callback(self._template_links.discard)

    async def _serve_board_to_template(self, link: socket.socket) -> None:
        try:
            reader, writer = await asyncio.open_connection(sock=link)
        except OSError:
            link.close()
            raise
        await serve_link(
            reader, writer, {"board": self.board}, self.executor, label="session template", limits=self.settings.limits
        )

    def spawn(self, coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        assert self.loop is not None
        task = self.loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        if self.template is not None:
            self.template.start()  # it imports while the host key loads and the port opens
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
                encryption_algs=SESSION_CIPHERS,
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
            raise RunError(f"cannot listen for SSH on {ssh.bind}:{ssh.port}: {exc.strerror or exc}") from None
        if ssh.idle_timeout_minutes > 0:
            self._idle_task = self.loop.create_task(self._idle_watch(ssh.idle_timeout_minutes * 60))
        self._memory_task = self.loop.create_task(self._memory_watch(MEMORY_WATCH_SECONDS))
        self._desk_task = self.loop.create_task(self._desk_watch(DESK_LOOK_SECONDS))
        if self.template is not None:
            await self.template.wait_ready()
        self._watcher = threading.Thread(target=self._watch_changes, name="board-changes", daemon=True)
        self._watcher.start()
        access.info("listening on %s:%d, host key %s", ssh.bind, self.port, self.host_key.get_fingerprint())
        await self._close_abandoned_sessions(time.time())

    def _watch_changes(self) -> None:
        """In its thread: when the call data changes, the shared board reads again and every
        session is nudged to ask for it, at most once per burst (wallboard/store/changes.py)."""
        try:
            relay_changes(self.changes, self._changed, lambda: not self.closing)
        except _LoopClosed:
            pass
        except Exception:
            log.exception(
                "watching the call data failed: sessions read every %g s", self.settings.board.fallback_read_seconds
            )
        finally:
            self.changes.close()
            self.changes.wait(0)  # closes its connection in this thread, the one that opened it

    def _changed(self) -> None:
        """In the watch thread: the call data changed."""
        self.board.changed()
        if self.loop is None:
            return
        try:
            self.loop.call_soon_threadsafe(self._nudge_sessions)
        except RuntimeError:
            raise _LoopClosed from None

    def _nudge_sessions(self) -> None:
        for session in self.sessions:
            if session.nudges is not None:
                nudge(session.nudges)
        self._desk_due.set()  # an agent's call may have begun or ended

    def desk_written_soon(self) -> None:
        """From a link's worker thread: a desk wrote; its users' desks are looked at now."""
        if self.loop is not None and not self.closing:
            try:
                self.loop.call_soon_threadsafe(self._desk_written)
            except RuntimeError:  # the loop has closed
                pass

    def _desk_written(self) -> None:
        self.desks.written()
        self._desk_due.set()

    async def _desk_watch(self, every: float) -> None:
        """Look at the signed-in users' desks once for all of them, each `every` seconds and
        at once when told (call data, a desk's write); nudge the sessions with something new
        (wallboard/ssh/desk_push.py). A failed look is logged once, until one succeeds."""
        assert self.loop is not None
        failing = False
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._desk_due.wait(), every)
            self._desk_due.clear()
            users = self.desks.users()
            if not users:
                continue
            try:
                marks = await self.loop.run_in_executor(self.executor, self.desks.look, users)
            except Exception:
                if not failing:
                    log.exception("looking at the sessions' desks failed: they fall back on their slow polls")
                failing = True
            else:
                failing = False
                self.desks.nudge_changed(marks)
            await asyncio.sleep(DESK_LOOK_GAP_SECONDS)  # the changes meanwhile make one look after it

    def login_failed(self, address: str, user: str | None) -> None:
        """Count a failed log-in; log it and the shut-outs it starts, here and in the database."""
        ssh = self.settings.ssh
        shut_outs = self.limiter.failure(address, user)
        for shut_out in shut_outs:
            access.warning("%s", shut_out.describe(ssh.block_minutes, ssh.failure_window_minutes))
        at = time.time()
        events = [ssh_access.LoginFailure(at, address, user, "failed")] + [
            ssh_access.LoginFailure(at, address, s.user, "shut out", s.scope, at + s.until - self.limiter.clock())
            for s in shut_outs
        ]
        self.spawn(self._record_failures(events))

    async def _record_failures(self, events: list[ssh_access.LoginFailure]) -> None:
        try:
            await asyncio.to_thread(ssh_access.record_login_failures, self.engine, events)
        except Exception:
            log.exception("cannot record failed SSH logins in the database")

    async def _close_abandoned_sessions(self, started_at: float) -> None:
        """Rows left open by an earlier run on this host that died: ended now, by the restart.
        After the port is bound, so a second server that cannot start closes nothing."""
        try:
            closed = await asyncio.to_thread(ssh_access.close_abandoned_sessions, self.engine, at=started_at)
        except Exception:
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
                    access.info(
                        "%s from %s idle for %s: closing",
                        session.login.name,
                        session.owner.address,
                        format_duration(session.idle_seconds(now)),
                    )
                    session.end(
                        "idle timeout", f"wallboard: no key pressed for {format_duration(limit)}: session closed"
                    )

    async def _memory_watch(self, every: float) -> None:
        """End a session whose process is resident over [limits] session_memory_mb."""
        limits = self.settings.limits
        while True:
            await asyncio.sleep(every)
            for session in list(self.sessions):
                if session.child is None or session.end_reason is not None:
                    continue
                pid = session.child.known_pid
                if pid is None:
                    continue  # not forked yet
                used = resident_mb(pid)
                if used is not None and used > limits.session_memory_mb:
                    log.warning(
                        "session of %s (pid %d) used %.0f MB, over %d MB: closing",
                        session.login.name,
                        pid,
                        used,
                        limits.session_memory_mb,
                    )
                    session.end("over memory limit", over_memory_message(limits, used))

    async def close(self) -> None:
        """Stop listening, hang up every session, wait for the log to be written."""
        self.closing = True
        for task in (self._idle_task, self._memory_task, self._desk_task):
            if task is not None:
                task.cancel()
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
        if self.template is not None:
            self.template.shut_down()
        access.info("stopped listening")

    async def _settle(self, timeout: float) -> None:
        """Until every session process is reaped and every log write done (or timeout)."""
        deadline = time.monotonic() + timeout
        while (self.sessions or self._tasks) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)


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
        except BaseException as exc:
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
