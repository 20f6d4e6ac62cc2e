"""The session link: how an SSH session's TUI process asks the server for what it shows.

The server (wallboard/ssh/front_door.py) keeps the database; each session's process
(wallboard/ssh/board_process.py) holds one end of a socket pair and asks over it, so it needs neither
the database layer in memory nor a connection of its own, and 50 sessions share one board
read a second.

Requests, process -> server: a length-prefixed JSON array [target, method, args, kwargs].
The server calls only the methods a target lists in its REMOTE set, on the objects it bound
to this session (a `UserDesk` of the session's user, the shared `BoardReader`), so a session
cannot choose whom it acts as. Replies, server -> process: a length-prefixed pickle of
(True, result) or (False, exception): the process trusts its server, the server trusts no
session, hence JSON that way. A failure the person should read (a refused action, a stale
edit) comes back as itself; anything else as a `LinkError` with one line.

Stdlib only: the session's process must stay small.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import pickle
import select
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from wallboard.text import one_line

if TYPE_CHECKING:
    from wallboard.config import LimitSettings

log = logging.getLogger(__name__)

LINK_FD_ENV = "WALLBOARD_LINK_FD"
# The server's nudges: one byte down this socket pair whenever the board's data changed,
# so the session reads at once instead of polling; and whenever its user's inbox or the
# caller on their line did (wallboard/ssh/desk_push.py), so its desk reads instead of polling.
NUDGE_FD_ENV = "WALLBOARD_NUDGE_FD"
BOARD_NUDGE = b"!"
INBOX_NUDGE = b"i"
CALLER_NUDGE = b"c"
HEADER = struct.Struct("!I")


class LinkError(Exception):
    """The server could not answer; the message is one line for the person."""


# -- the session's side ----------------------------------------------------------------


class LinkClient:
    """Blocking calls over the link, from any thread (one at a time)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._lock = threading.Lock()

    @classmethod
    def from_fd(cls, fd: int) -> LinkClient:
        return cls(socket.socket(fileno=fd))

    def call(self, target: str, method: str, *args: object, **kwargs: object) -> Any:
        """The server's answer: whatever `target.method` returns (typed by the caller, who
        knows the target), or its exception raised here."""
        request = json.dumps([target, method, args, kwargs]).encode()
        with self._lock:
            try:
                self.sock.sendall(HEADER.pack(len(request)) + request)
                (size,) = HEADER.unpack(self._receive(HEADER.size))
                reply = self._receive(size)
            except OSError as exc:
                raise LinkError(f"lost the connection to the server ({exc.strerror or exc})") from None
        try:
            ok, value = pickle.loads(reply)
        except Exception as exc:
            raise LinkError(f"cannot read the server's answer to {method}: {exc}") from None
        if ok:
            return value
        raise value

    def _receive(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise ConnectionResetError(0, "the server closed the link")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def proxy(self, target: str, **attributes: object) -> Proxy:
        return Proxy(self, target, attributes)

    def close(self) -> None:
        self.sock.close()


class Proxy:
    """Stands for the server's `target` object: `proxy.view("mine", limit=50)` is a call over
    the link. `attributes` are plain values known in advance (a desk's `user`)."""

    def __init__(self, client: LinkClient, target: str, attributes: Mapping[str, object]) -> None:
        self._client, self._target = client, target
        self.__dict__.update(attributes)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)
        return functools.partial(self._client.call, self._target, method)


DeskNudged = Callable[[bool, bool], None]  # (the inbox changed, the caller on the line did)


class Nudges:
    """The session's side of the nudges: a `wallboard.ui.app.ChangeSource` for the board's;
    the desk's go to `on_desk` (called in the thread that waits)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.setblocking(False)
        self._gone = False
        self.on_desk: DeskNudged | None = None

    @classmethod
    def from_fd(cls, fd: int) -> Nudges:
        return cls(socket.socket(fileno=fd))

    def wait(self, timeout: float) -> bool:
        if self._gone:  # the server closed it: the board's slow reads go on
            threading.Event().wait(timeout)
            return False
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return False
        try:
            data = self.sock.recv(4096)  # several nudges since the last look: one read
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if not data:
            self._gone = True
            return False
        inbox, caller = INBOX_NUDGE in data, CALLER_NUDGE in data
        if (inbox or caller) and self.on_desk is not None:
            try:
                self.on_desk(inbox, caller)
            except Exception:  # the app closing: the board's watch must go on to its end
                log.debug("a desk nudge was not delivered", exc_info=True)
        return BOARD_NUDGE in data

    def close(self) -> None:
        self.sock.close()


def nudge(sock: socket.socket, what: bytes = BOARD_NUDGE) -> None:
    """Tell a session the board changed (or its desk's `what`; from the server; never
    blocks: a session whose socket is full has not read the last nudges yet, and reads all
    it is told at once)."""
    try:
        sock.send(what, socket.MSG_DONTWAIT)
    except OSError:
        pass


# -- the server's side -----------------------------------------------------------------


def request_problem(request: object, limits: LimitSettings) -> str | None:
    """Why a parsed request is refused ([limits]: nesting, string length, items, integers),
    or None. Walked without recursion: a request cannot make this overflow the stack."""
    stack: list[tuple[object, int]] = [(request, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            if depth > limits.request_depth:
                return f"request nested deeper than {limits.request_depth} levels"
            if len(value) > limits.request_items:
                return f"request has a list or object of over {limits.request_items:,} items"
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
        elif isinstance(value, str):
            if len(value) > limits.string_chars:
                return f"request has a text of over {limits.string_chars:,} characters"
        elif isinstance(value, int) and not isinstance(value, bool) and not -(1 << 63) <= value < 1 << 63:
            return "request has a number out of range"
    return None


def _allowed(targets: Mapping[str, object], target: object, method: object) -> Callable[..., object] | None:
    obj = targets.get(target) if isinstance(target, str) else None
    if obj is None or not isinstance(method, str) or method not in getattr(obj, "REMOTE", ()):
        return None
    call: Callable[..., object] = getattr(obj, method)
    return call


class _NotNow:
    """`answer_now`'s answer when the call must run in a worker thread."""


NOT_NOW = _NotNow()


def _answer_now(
    targets: Mapping[str, object], target: object, method: str, args: list[Any], kwargs: dict[str, Any]
) -> object:
    """A target's answer on the loop, if it has one ready (`answer_now`: a shared answer
    kept since it was last read), sparing the thread hop; else NOT_NOW."""
    obj = targets.get(target) if isinstance(target, str) else None
    answer_now = getattr(obj, "answer_now", None)
    if answer_now is None:
        return NOT_NOW
    answer: object = answer_now(method, args, kwargs)
    return answer


def _inline(targets: Mapping[str, object], target: object) -> bool:
    """Whether the target answers on the loop itself (INLINE: its calls only hand back what
    it holds), sparing a thread hop per call; the others block on the database."""
    obj = targets.get(target) if isinstance(target, str) else None
    return bool(getattr(obj, "INLINE", False))


async def serve_link(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    targets: Mapping[str, object],
    executor: Executor,
    *,
    passes: tuple[type[BaseException], ...] = (),
    label: str = "session",
    limits: LimitSettings | None = None,
) -> None:
    """Answer one session's requests, in order, until it closes its end. The calls run in
    `executor` (they block on the database), an INLINE target's on the loop. Exceptions of
    the `passes` types go back as they are; others are logged and go back as a one-line
    LinkError. A request over [limits] is refused with a LinkError (a too big one closes
    the link: it is not read)."""
    if limits is None:
        from wallboard.config import LimitSettings

        limits = LimitSettings()
    loop = asyncio.get_running_loop()
    try:
        while True:
            problem = None
            try:
                (size,) = HEADER.unpack(await reader.readexactly(HEADER.size))
                if size > limits.request_bytes:
                    log.warning("%s: a request of %d bytes: closing its link", label, size)
                    return
                request = json.loads(await reader.readexactly(size))
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            except RecursionError:
                # Read whole, so the next request is where it should be: refuse this one only.
                request, problem = None, f"request nested deeper than {limits.request_depth} levels"
            except ValueError:
                log.warning("%s: a request that is not JSON: closing its link", label)
                return
            problem = problem or request_problem(request, limits)
            target, method, args, kwargs = request if isinstance(request, list) and len(request) == 4 else (0, 0, 0, 0)
            try:
                if problem is not None:
                    raise LinkError(f"refused: {problem}")
                call = _allowed(targets, target, method)
                if call is None or not isinstance(args, list) or not isinstance(kwargs, dict):
                    raise LinkError(f"no such call: {target}.{method}")
                if _inline(targets, target):
                    result = (True, call(*args, **kwargs))
                elif (ready := _answer_now(targets, target, str(method), args, kwargs)) is not NOT_NOW:
                    result = (True, ready)
                else:
                    result = (True, await loop.run_in_executor(executor, functools.partial(call, *args, **kwargs)))
            except passes as exc:
                result = (False, exc)
            except LinkError as exc:
                log.warning("%s: %s", label, exc)
                result = (False, exc)
            except Exception as exc:
                log.exception("%s: %s.%s failed", label, target, method)
                result = (False, LinkError(one_line(exc)))
            reply = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            writer.write(HEADER.pack(len(reply)) + reply)
            await writer.drain()
    except ConnectionError:
        return
    finally:
        writer.close()
