"""Asterisk Manager Interface (AMI) feed: queue events over TCP, for sites without file access.

The protocol is text: `Key: Value` lines, a blank line ends a message. We log in, then
ask for `QueueStatus` so the board starts from the floor as it is (members and callers
already waiting), then read queue events as they happen.

Asterisk 1.8 to 22 name the same things differently, and the mapper takes every form:
- events: `Join`/`Leave` (1.8, 11) became `QueueCallerJoin`/`QueueCallerLeave` (12+);
  `QueueMemberPaused` (1.8, 11) became `QueueMemberPause` (12+);
- the member: `Location` + `MemberName` in the member events of 1.8 and 11, `Interface` +
  `MemberName` from 12; `Member` + `MemberName` in the Agent* events of 1.8 and 11, but
  `AgentCalled` + `AgentName` in their AgentCalled; `Name` + `Location` in the
  `QueueMember` entries of the QueueStatus reply, in every version. The member is named by
  its MemberName (Asterisk fills it with the interface when none is configured), else by
  its interface;
- the letter case of keys (`Holdtime`/`Ringtime` in 1.8's AgentConnect, `HoldTime`
  later): keys are matched without regard to case, as Asterisk itself reads them;
- `IsInCall` (11's QueueStatus) and `InCall` (11's QueueMemberStatus, 13+ everywhere);
  `Reason` (1.8 to 12) and `PausedReason` (13+) for why a member paused.

A member's status (QueueMemberStatus, QueueMemberAdded, QueueStatus's QueueMember) becomes
AGENT_STATUS: the queue (membership) and the state the PBX reports, by precedence:
device unavailable (5) or invalid (4) -> logged_out; paused -> paused (with the reason);
in use (2), busy (3), ringing while in use (7), on hold (8) or InCall -> on_call; ringing
(6) -> ringing; not in use (1) or unknown (0: app_queue rings such members) -> available.

A message the mapper cannot use is skipped and counted by reason in `rejected` (no
queue, member or call id where the event needs one; a number that is not one; a status
or flag outside Asterisk's values; an over-long or control-bearing field), never turned
into an event with a guessed agent or call. Messages that are fine but not needed
(replies to actions, events of other subsystems, queue events that carry nothing the
board uses) are counted in `ignored`. Nothing a message contains raises out of `map`.

Leave/QueueCallerLeave is not used: Asterisk sends it for answered calls too (before
AgentConnect), so it does not say how the call left. AgentDump is not used either (as
the queue_log parser ignores AGENTDUMP). AMI is live only: there is nothing to resume, so
a reconnect resynchronises through QueueStatus and the applier's idempotence keeps
repeated events harmless. QueueCallerAbandon also fires for queue timeouts and for
leaving an empty queue (app_queue's record_abandoned), so with AMI those count as
abandons; reports that must tell them apart need the queue_log.
"""

from __future__ import annotations

import logging
import math
import re
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping

from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K

log = logging.getLogger(__name__)

Message = dict[str, str]

# Longest value the tables hold (db/models.py): a longer one would fail the insert on
# PostgreSQL and make the whole batch fail, so such a message is rejected here.
_QUEUE_WIDTH, _AGENT_WIDTH, _CALLID_WIDTH, _TEXT_WIDTH = 80, 120, 64, 80
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_EARLIEST = 946_684_800.0  # 2000-01-01: an earlier Timestamp is a broken clock
_LATEST_AHEAD = 86_400.0  # a Timestamp more than a day ahead of ours is one too

# Asterisk's device states (include/asterisk/devicestate.h, listed in the QueueMemberStatus
# documentation of apps/app_queue.c since 11) as the board's agent states.
_DEVICE_STATES: dict[str, str] = {
    "0": "available",  # AST_DEVICE_UNKNOWN: app_queue treats it as free to ring
    "1": "available",  # AST_DEVICE_NOT_INUSE
    "2": "on_call",  # AST_DEVICE_INUSE
    "3": "on_call",  # AST_DEVICE_BUSY
    "4": "logged_out",  # AST_DEVICE_INVALID
    "5": "logged_out",  # AST_DEVICE_UNAVAILABLE
    "6": "ringing",  # AST_DEVICE_RINGING
    "7": "on_call",  # AST_DEVICE_RINGINUSE
    "8": "on_call",  # AST_DEVICE_ONHOLD
}

# Keys naming the member, best first (see the module docstring), lower-cased.
_MEMBER_NAME_KEYS = ("membername", "name", "agentname")
_MEMBER_INTERFACE_KEYS = ("interface", "location", "member", "agentcalled")

# Queue events and list replies that carry nothing the board uses.
_NOT_NEEDED = frozenset(
    {
        "leave",
        "queuecallerleave",
        "agentdump",
        "queuememberpenalty",
        "queuememberringinuse",
        "queueparams",
        "queuestatuscomplete",
        "queuesummary",
        "queuesummarycomplete",
    }
)


class _Reject(Exception):
    """This message cannot be used; the argument is the reason it is counted under."""


class _Fields:
    """A message's fields, looked up without regard to the letter case of keys."""

    __slots__ = ("values",)

    def __init__(self, message: Mapping[str, str]) -> None:
        self.values = {str(key).strip().lower(): str(value) for key, value in message.items()}

    def get(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def text(self, key: str, width: int = _TEXT_WIDTH) -> str | None:
        return _checked_text(self.get(key), width)

    def queue(self) -> str:
        queue = self.text("queue", _QUEUE_WIDTH)
        if queue is None:
            raise _Reject("no queue")
        return queue

    def callid(self) -> str:
        callid = self.text("uniqueid", _CALLID_WIDTH)
        if callid is None:
            raise _Reject("no call id")
        return callid

    def member(self) -> str:
        for keys in (_MEMBER_NAME_KEYS, _MEMBER_INTERFACE_KEYS):
            for key in keys:
                name = self.text(key, _AGENT_WIDTH)
                if name is not None:
                    return name
        raise _Reject("no member")

    def seconds(self, *keys: str) -> float | None:
        """A duration or count: a finite number, not negative; None when absent."""
        for key in keys:
            raw = self.get(key)
            if raw is not None:
                return _non_negative(raw)
        return None

    def position(self) -> int | None:
        value = self.seconds("position")
        if value is None:
            return None
        if not value.is_integer() or value > 1_000_000:
            raise _Reject("bad number")
        return int(value)

    def flag(self, *keys: str) -> bool | None:
        for key in keys:
            raw = self.get(key)
            if raw is not None:
                if raw not in ("0", "1"):
                    raise _Reject("bad flag")
                return raw == "1"
        return None


def _checked_text(value: str | None, width: int) -> str | None:
    if value is None:
        return None
    if len(value) > width:
        raise _Reject("field too long")
    if _CONTROL.search(value):
        raise _Reject("control characters")
    return value


def _non_negative(raw: str) -> float:
    if len(raw) > 32:
        raise _Reject("bad number")
    try:
        value = float(raw)
    except ValueError:
        raise _Reject("bad number") from None
    if not math.isfinite(value) or value < 0:
        raise _Reject("bad number")
    return value


class AmiEventMapper:
    """Turns AMI messages into Events. `clock` stamps events that carry no Timestamp.

    `rejected` counts the messages that could not be used, by reason; `ignored` those that
    were fine but not needed ("response", "other event", "not needed").
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.rejected: Counter[str] = Counter()
        self.ignored: Counter[str] = Counter()

    def map(self, message: Mapping[str, str]) -> Event | None:
        try:
            fields = _Fields(message)
            name = (fields.get("event") or "").lower()
            handler = _HANDLERS.get(name)
            if handler is None:
                self._ignore(fields, name)
                return None
            return handler(self._timestamp(fields), fields)
        except _Reject as reject:
            self._reject(str(reject), message)
        except Exception:  # a case the rules above missed: still one message, never the feed
            log.exception("AMI message not understood: %s", summary(message))
            self._reject("not understood", message)
        return None

    def _ignore(self, fields: _Fields, name: str) -> None:
        if not name:
            self.ignored["response" if fields.get("response") else "no event name"] += 1
        else:
            self.ignored["not needed" if name in _NOT_NEEDED else "other event"] += 1

    def _reject(self, reason: str, message: Mapping[str, str]) -> None:
        self.rejected[reason] += 1
        if self.rejected[reason] == 1:  # once per reason: a flood must not flood the log
            log.warning("AMI message skipped (%s): %s", reason, summary(message))

    def _timestamp(self, fields: _Fields) -> float:
        raw = fields.get("timestamp")  # present when manager.conf has timestampevents=yes
        now = self.clock()
        if raw is None:
            return now
        ts = _non_negative(raw)
        if not _EARLIEST <= ts <= now + _LATEST_AHEAD:
            raise _Reject("bad time")
        return ts


def summary(message: Mapping[str, str]) -> str:
    """A short, printable account of an AMI message for the log."""
    try:
        text = ", ".join(f"{str(key)[:40]}: {str(value)[:80]}" for key, value in list(message.items())[:12])
    except Exception:  # a mapping that cannot even be listed
        return "(unreadable)"
    return _short(text)


def _short(text: str, limit: int = 300) -> str:
    """`text` cut to `limit` characters, control characters shown as "?"."""
    text = _CONTROL.sub("?", text[: limit + 1])
    return text if len(text) <= limit else text[:limit] + "..."


# -- the events ------------------------------------------------------------------------


def _caller_joined(ts: float, m: _Fields) -> Event:
    """Join (1.8, 11), QueueCallerJoin (12+)."""
    return Event(
        ts,
        K.CALL_ENTERED,
        m.callid(),
        m.queue(),
        caller=m.text("calleridnum"),
        position=m.position(),
    )


def _waiting_entry(ts: float, m: _Fields) -> Event:
    """QueueStatus's QueueEntry: a caller already waiting when we connected."""
    event = _caller_joined(ts, m)
    event.ts = ts - (m.seconds("wait") or 0.0)
    return event


def _agent_called(ts: float, m: _Fields) -> Event:
    return Event(ts, K.CALL_RINGING, m.callid(), m.queue(), m.member())


def _ring_no_answer(ts: float, m: _Fields) -> Event:
    ring_ms = m.seconds("ringtime")  # milliseconds here (app_queue's rna()), seconds elsewhere
    return Event(
        ts,
        K.RING_NO_ANSWER,
        m.callid(),
        m.queue(),
        m.member(),
        ring_seconds=None if ring_ms is None else ring_ms / 1000,
    )


def _agent_connect(ts: float, m: _Fields) -> Event:
    return Event(
        ts,
        K.CALL_ANSWERED,
        m.callid(),
        m.queue(),
        m.member(),
        wait_seconds=m.seconds("holdtime"),
        ring_seconds=m.seconds("ringtime"),
    )


def _agent_complete(ts: float, m: _Fields) -> Event:
    reason = (m.get("reason") or "").lower()
    transferred = reason == "transfer"
    return Event(
        ts,
        K.CALL_TRANSFERRED if transferred else K.CALL_ENDED,
        m.callid(),
        m.queue(),
        m.member(),
        wait_seconds=m.seconds("holdtime"),
        talk_seconds=m.seconds("talktime"),
        reason=reason if reason in ("caller", "agent", "transfer") else None,
    )


def _caller_abandon(ts: float, m: _Fields) -> Event:
    return Event(
        ts,
        K.CALL_ABANDONED,
        m.callid(),
        m.queue(),
        wait_seconds=m.seconds("holdtime"),
        position=m.position(),
    )


def _member_status(ts: float, m: _Fields) -> Event:
    """QueueMemberStatus, QueueMemberAdded, and QueueStatus's QueueMember: the member's
    queue and its state now; without a Status, its membership (and pause) only."""
    queue, member = m.queue(), m.member()
    paused = m.flag("paused")
    pause_reason = m.text("pausedreason") or m.text("reason")
    in_call = m.flag("incall", "isincall")
    raw_status = m.get("status")
    if raw_status is None:
        return Event(ts, K.AGENT_JOINED_QUEUE, None, queue, member, reason="paused" if paused else None)
    device_state = _DEVICE_STATES.get(raw_status)
    if device_state is None:
        raise _Reject("bad status")
    if device_state == "logged_out":
        state = "logged_out"
    elif paused:
        state = "paused"
    elif in_call:
        state = "on_call"
    else:
        state = device_state
    return Event(
        ts, K.AGENT_STATUS, None, queue, member, reason=pause_reason if state == "paused" else None, state=state
    )


def _member_removed(ts: float, m: _Fields) -> Event:
    return Event(ts, K.AGENT_LEFT_QUEUE, None, m.queue(), m.member())


def _member_pause(ts: float, m: _Fields) -> Event:
    """QueueMemberPaused (1.8, 11), QueueMemberPause (12+)."""
    queue, member = m.queue(), m.member()
    paused = m.flag("paused")
    if paused is None:
        raise _Reject("bad flag")
    if not paused:
        return Event(ts, K.AGENT_UNPAUSED, None, queue, member)
    return Event(ts, K.AGENT_PAUSED, None, queue, member, reason=m.text("pausedreason") or m.text("reason"))


_HANDLERS: dict[str, Callable[[float, _Fields], Event]] = {
    "join": _caller_joined,
    "queuecallerjoin": _caller_joined,
    "queueentry": _waiting_entry,
    "agentcalled": _agent_called,
    "agentringnoanswer": _ring_no_answer,
    "agentconnect": _agent_connect,
    "agentcomplete": _agent_complete,
    "queuecallerabandon": _caller_abandon,
    "queuememberadded": _member_status,
    "queuememberstatus": _member_status,
    "queuemember": _member_status,
    "queuememberremoved": _member_removed,
    "queuememberpause": _member_pause,
    "queuememberpaused": _member_pause,
}


class AmiError(Exception):
    """Login refused or the connection broke; worded for the operator."""


# A line or message this long is not Asterisk talking: give up on the connection rather
# than on memory.
MAX_LINE_BYTES = 4 * 1024 * 1024
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


class AmiConnection:
    """A logged-in AMI session over one TCP connection (blocking, with a read timeout)."""

    def __init__(self, host: str, port: int, *, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""
        self.banner = self._read_line()
        if not self.banner.startswith("Asterisk Call Manager"):
            raise AmiError(f"{host}:{port} is not an Asterisk manager interface (said {self.banner[:80]!r})")

    def login(self, username: str, secret: str, *, events: str = "agent,call") -> None:
        """Log in; `events`: the event classes wanted ("off": none, for a connection that
        only sends actions)."""
        action_id = "wallboard-login"
        self.send({"Action": "Login", "ActionID": action_id, "Username": username, "Secret": secret, "Events": events})
        reply = self.reply_to(action_id)
        if reply is None or reply.get("Response") != "Success":
            said = (reply or {}).get("Message", "no answer")
            raise AmiError(f"AMI login refused: {_short(said)}")

    def action(self, name: str, fields: Mapping[str, str], action_id: str) -> Message:
        """Send action `name` with `fields` and return Asterisk's reply to it (Response:
        Success or Error, with its Message); AmiError when none came within the timeout."""
        self.send({"Action": name, "ActionID": action_id, **fields})
        reply = self.reply_to(action_id)
        if reply is None:
            raise AmiError(f"no answer from Asterisk to {name}")
        return reply

    def reply_to(self, action_id: str) -> Message | None:
        """The Response echoing `action_id` (events may come first: skipped), or None when
        nothing arrived within the read timeout."""
        reply = self.read_message()
        while reply is not None and not ("Response" in reply and reply.get("ActionID", action_id) == action_id):
            reply = self.read_message()
        return reply

    def send(self, message: Message) -> None:
        text = "".join(f"{key}: {value}\r\n" for key, value in message.items()) + "\r\n"
        self.sock.sendall(text.encode())

    def read_message(self) -> Message | None:
        """The next message, or None when nothing arrived within the read timeout."""
        lines: list[tuple[str, str]] = []
        size = 0
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
            size += len(line)
            if size > MAX_MESSAGE_BYTES:
                raise AmiError("AMI message too long: not an Asterisk manager interface")
            key, _, value = line.partition(":")
            lines.append((key.strip(), value.strip()))

    def messages(self) -> Iterator[Message | None]:
        while True:
            yield self.read_message()

    def _read_line(self) -> str:
        searched = 0  # the buffer before this offset holds no newline: do not scan it again
        while (end := self.buffer.find(b"\n", searched)) < 0:
            if len(self.buffer) > MAX_LINE_BYTES:
                raise AmiError("AMI line too long: not an Asterisk manager interface")
            searched = len(self.buffer)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AmiError("AMI connection closed by Asterisk")
            self.buffer += chunk
        line, self.buffer = self.buffer[:end], self.buffer[end + 1 :]
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def close(self) -> None:
        try:
            self.send({"Action": "Logoff"})
        except OSError:
            pass
        self.sock.close()
