"""Asterisk Manager Interface (AMI) feed: queue events over TCP, for sites without file access.

The protocol is text: `Key: Value` lines, a blank line ends a message. We log in, then
ask for `QueueStatus` so the board starts from the floor as it is (members and callers
already waiting), then read queue events as they happen. Asterisk 12+ event names.

AMI is live only: there is nothing to resume, so a reconnect resynchronises through
QueueStatus and the applier's idempotence keeps repeated events harmless.
QueueCallerAbandon also fires for queue timeouts (docs/ARCHITECTURE.md, Live call data), so with AMI a
timeout counts as an abandon; reports that must tell them apart need the queue_log.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K

Message = dict[str, str]


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _member(message: Message) -> str | None:
    return message.get("MemberName") or message.get("Interface") or None


class AmiEventMapper:
    """Turns AMI messages into Events. `clock` stamps events that carry no Timestamp."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.unknown = 0

    def map(self, message: Message) -> Event | None:
        name = message.get("Event")
        handler = _HANDLERS.get(name or "")
        if handler is None:
            self.unknown += 1
            return None
        ts = _number(message.get("Timestamp")) or self.clock()
        return handler(ts, message)


def _caller_joined(ts: float, m: Message) -> Event:
    position = _number(m.get("Position"))
    return Event(
        ts,
        K.CALL_ENTERED,
        m.get("Uniqueid"),
        m.get("Queue"),
        caller=m.get("CallerIDNum"),
        position=None if position is None else int(position),
    )


def _waiting_entry(ts: float, m: Message) -> Event:
    """QueueStatus's QueueEntry: a caller already waiting when we connected."""
    event = _caller_joined(ts, m)
    event.ts = ts - (_number(m.get("Wait")) or 0.0)
    return event


def _agent_called(ts: float, m: Message) -> Event:
    return Event(ts, K.CALL_RINGING, m.get("Uniqueid"), m.get("Queue"), _member(m))


def _ring_no_answer(ts: float, m: Message) -> Event:
    ring = _number(m.get("RingTime"))
    return Event(
        ts,
        K.RING_NO_ANSWER,
        m.get("Uniqueid"),
        m.get("Queue"),
        _member(m),
        ring_seconds=None if ring is None else ring / 1000,
    )


def _agent_connect(ts: float, m: Message) -> Event:
    return Event(
        ts,
        K.CALL_ANSWERED,
        m.get("Uniqueid"),
        m.get("Queue"),
        _member(m),
        wait_seconds=_number(m.get("HoldTime")),
        ring_seconds=_number(m.get("RingTime")),
    )


def _agent_complete(ts: float, m: Message) -> Event:
    reason = (m.get("Reason") or "").lower()
    kind = K.CALL_TRANSFERRED if reason == "transfer" else K.CALL_ENDED
    return Event(
        ts,
        kind,
        m.get("Uniqueid"),
        m.get("Queue"),
        _member(m),
        wait_seconds=_number(m.get("HoldTime")),
        talk_seconds=_number(m.get("TalkTime")),
        reason=reason if reason in ("caller", "agent") else "transfer" if kind is K.CALL_TRANSFERRED else None,
    )


def _caller_abandon(ts: float, m: Message) -> Event:
    position = _number(m.get("Position"))
    return Event(
        ts,
        K.CALL_ABANDONED,
        m.get("Uniqueid"),
        m.get("Queue"),
        wait_seconds=_number(m.get("HoldTime")),
        position=None if position is None else int(position),
    )


def _member_added(ts: float, m: Message) -> Event:
    paused = m.get("Paused") == "1"
    return Event(ts, K.AGENT_JOINED_QUEUE, None, m.get("Queue"), _member(m), reason="paused" if paused else None)


def _member_removed(ts: float, m: Message) -> Event:
    return Event(ts, K.AGENT_LEFT_QUEUE, None, m.get("Queue"), _member(m))


def _member_pause(ts: float, m: Message) -> Event:
    reason = m.get("PausedReason") or m.get("Reason") or None
    kind = K.AGENT_PAUSED if m.get("Paused") == "1" else K.AGENT_UNPAUSED
    return Event(ts, kind, None, m.get("Queue"), _member(m), reason=reason if kind is K.AGENT_PAUSED else None)


_HANDLERS: dict[str, Callable[[float, Message], Event]] = {
    "QueueCallerJoin": _caller_joined,
    "QueueEntry": _waiting_entry,
    "AgentCalled": _agent_called,
    "AgentRingNoAnswer": _ring_no_answer,
    "AgentConnect": _agent_connect,
    "AgentComplete": _agent_complete,
    "QueueCallerAbandon": _caller_abandon,
    "QueueMemberAdded": _member_added,
    "QueueMember": _member_added,  # QueueStatus's view of a member: joined (paused or not)
    "QueueMemberRemoved": _member_removed,
    "QueueMemberPause": _member_pause,
    "QueueMemberPaused": _member_pause,  # Asterisk 12's name for it
}


class AmiError(Exception):
    """Login refused or the connection broke; worded for the operator."""


class AmiConnection:
    """A logged-in AMI session over one TCP connection (blocking, with a read timeout)."""

    def __init__(self, host: str, port: int, *, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""
        self.banner = self._read_line()
        if not self.banner.startswith("Asterisk Call Manager"):
            raise AmiError(f"{host}:{port} is not an Asterisk manager interface (said {self.banner!r})")

    def login(self, username: str, secret: str) -> None:
        self.send({"Action": "Login", "Username": username, "Secret": secret, "Events": "agent,call"})
        reply = self.read_message()
        while reply is not None and "Response" not in reply:
            reply = self.read_message()
        if reply is None or reply.get("Response") != "Success":
            raise AmiError(f"AMI login refused: {(reply or {}).get('Message', 'no answer')}")

    def send(self, message: Message) -> None:
        text = "".join(f"{key}: {value}\r\n" for key, value in message.items()) + "\r\n"
        self.sock.sendall(text.encode())

    def read_message(self) -> Message | None:
        """The next message, or None when nothing arrived within the read timeout."""
        lines: list[tuple[str, str]] = []
        while True:
            try:
                line = self._read_line()
            except TimeoutError:
                if not lines:
                    return None
                continue
            if line == "":
                if lines:
                    return dict(lines)
                continue
            key, _, value = line.partition(":")
            lines.append((key.strip(), value.strip()))

    def messages(self) -> Iterator[Message | None]:
        while True:
            yield self.read_message()

    def _read_line(self) -> str:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AmiError("AMI connection closed by Asterisk")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def close(self) -> None:
        try:
            self.send({"Action": "Logoff"})
        except OSError:
            pass
        self.sock.close()
