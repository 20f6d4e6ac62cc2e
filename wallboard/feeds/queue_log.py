"""Asterisk queue_log feed: one line in, one normalized `Event` (or None) out.

Reads every layout Asterisk has written from 1.4 to 22 (field counts grew over the
versions, see docs/QUEUE_LOG.md), in the file form (epoch seconds) and the
realtime form (``YYYY-MM-DD HH:MM:SS[.ffffff]`` local time). `format_event` is the
inverse and writes the Asterisk 13+ file layout, for the simulator.

Bad input never raises: it is counted in `QueueLogParser.stats`.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from wallboard.calls.events import Event, EventKind

__all__ = ["ParseStats", "QueueLogParser", "format_event"]

MAX_ERRORS = 20

# Bound once: attribute lookups on the enum class cost time on every line.
_ENTERED = EventKind.CALL_ENTERED
_ANSWERED = EventKind.CALL_ANSWERED
_ENDED = EventKind.CALL_ENDED
_ABANDONED = EventKind.CALL_ABANDONED
_EXITED = EventKind.CALL_EXITED
_RNA = EventKind.RING_NO_ANSWER
_RCANCEL = EventKind.RING_CANCELED
_TRANSFERRED = EventKind.CALL_TRANSFERRED
_JOINED = EventKind.AGENT_JOINED_QUEUE
_LEFT = EventKind.AGENT_LEFT_QUEUE
_PAUSED = EventKind.AGENT_PAUSED
_UNPAUSED = EventKind.AGENT_UNPAUSED
_LOGIN = EventKind.AGENT_LOGGED_IN
_LOGOUT = EventKind.AGENT_LOGGED_OUT

# Placeholders Asterisk writes where there is no value (member operations have no call).
_NO_CALLID = frozenset({"NONE", "MANAGER", "REALTIME", "CLI", ""})
_NO_NAME = frozenset({"NONE", ""})

# Known verbs that do not change what the board shows.
_IGNORED = frozenset({"QUEUESTART", "CONFIGRELOAD", "DID", "AGENTDUMP", "PENALTY", "RINGINUSE", "OUTCALL"})

# Anything outside this range is not a plausible duration or timestamp; also rejects nan/inf.
_MAX_NUM = 1e11


@dataclass(slots=True)
class ParseStats:
    lines: int = 0
    events: int = 0
    blank: int = 0
    ignored: int = 0  # known verbs with no effect on the board
    unknown: Counter = field(default_factory=Counter)  # verb -> count
    malformed: int = 0
    errors: list = field(default_factory=list)  # (line_no, reason), first MAX_ERRORS only


class _Malformed(ValueError):
    pass


# --- field helpers -------------------------------------------------------------------
# Older versions write fewer fields and realtime exports may leave trailing columns
# empty, so a missing or empty numeric field is None; only a non-number is malformed.


def _num(p: list[str], i: int) -> float | None:
    if i < len(p):
        s = p[i]
        if s:
            v = float(s)
            if -_MAX_NUM < v < _MAX_NUM:
                return v
            raise _Malformed(f"field {i - 4} out of range: {s!r}")
    return None


def _int(p: list[str], i: int) -> int | None:
    if i < len(p):
        s = p[i]
        if s:
            return int(s)
    return None


def _caller_number(cid: str) -> str | None:
    # Some dialplans log the full '"Name" <number>' form; the board only wants the number.
    if "<" in cid and cid.endswith(">"):
        cid = cid[cid.rindex("<") + 1 : -1].strip()
    return cid or None


# (ts, callid, queue, agent, fields) -> Event
_Handler = Callable[[float, str | None, str | None, str | None, list[str]], Event]

# --- per-verb handlers: (ts, callid, queue, agent, fields) -> Event -----------------
# Field indexes count from the start of the line: 0 time, 1 callid, 2 queue, 3 agent,
# 4 verb, 5.. data.


def _enterqueue(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    # url|callerid[|origposition[|calleridname]]; 1.4/1.6 stop after callerid.
    caller = p[6] if len(p) > 6 else None
    if caller:
        caller = _caller_number(caller)
    else:
        caller = None
    return Event(ts, _ENTERED, c, q, a, caller=caller, position=_int(p, 7))


def _connect(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    # holdtime|member uniqueid[|ringtime]; ringtime from 1.6.
    return Event(ts, _ANSWERED, c, q, a, wait_seconds=_num(p, 5), ring_seconds=_num(p, 7))


def _completecaller(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    return Event(ts, _ENDED, c, q, a, wait_seconds=_num(p, 5), talk_seconds=_num(p, 6), reason="caller")


def _completeagent(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    return Event(ts, _ENDED, c, q, a, wait_seconds=_num(p, 5), talk_seconds=_num(p, 6), reason="agent")


def _abandon(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    # position|origposition|waittime; agent is kept (a member when the caller hung up
    # during the member's announcement).
    return Event(ts, _ABANDONED, c, q, a, wait_seconds=_num(p, 7), position=_int(p, 5))


def _exit_handler(reason: str) -> _Handler:
    # position|origposition|waittime[|info]; 1.4 EXITWITHTIMEOUT had the position only.
    def handler(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
        return Event(ts, _EXITED, c, q, a, wait_seconds=_num(p, 7), position=_int(p, 5), reason=reason)

    return handler


def _exitwithkey(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    # key|position|origposition|waittime; 1.4: key|position.
    return Event(ts, _EXITED, c, q, a, wait_seconds=_num(p, 8), position=_int(p, 6), reason="key")


def _ringnoanswer(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    ms = _num(p, 5)
    return Event(ts, _RNA, c, q, a, ring_seconds=None if ms is None else ms / 1000.0)


def _ringcanceled(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    ms = _num(p, 5)
    return Event(ts, _RCANCEL, c, q, a, ring_seconds=None if ms is None else ms / 1000.0)


def _transfer(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    # TRANSFER (<=11) / BLINDTRANSFER (12+): exten|context|holdtime|calltime[|origposition]
    n = len(p)
    exten = p[5] if n > 5 else ""
    context = p[6] if n > 6 else ""
    target = f"{exten}@{context}" if context else (exten or None)
    return Event(ts, _TRANSFERRED, c, q, a, wait_seconds=_num(p, 7), talk_seconds=_num(p, 8), reason=target)


def _attendedtransfer(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    # BRIDGE|id|hold|call|pos, APP|app|hold|call|pos, LINK|chan1|chan2|hold|call|pos
    n = len(p)
    kind = p[5] if n > 5 else ""
    if kind == "BRIDGE" or kind == "APP":
        target = f"{kind.lower()}:{p[6] if n > 6 else ''}"
        return Event(
            ts,
            _TRANSFERRED,
            c,
            q,
            a,
            wait_seconds=_num(p, 7),
            talk_seconds=_num(p, 8),
            reason=target,
        )
    if kind == "LINK":
        target = f"link:{p[7] if n > 7 else ''}"
        return Event(
            ts,
            _TRANSFERRED,
            c,
            q,
            a,
            wait_seconds=_num(p, 8),
            talk_seconds=_num(p, 9),
            reason=target,
        )
    # A layout we do not know: the call still left the queue, so report the transfer
    # rather than leave it "talking" on the board forever; durations are unknowable.
    return Event(ts, _TRANSFERRED, c, q, a, reason="attended")


def _need_queue(q: str | None, verb: str) -> None:
    if q is None:
        raise _Malformed(f"{verb} without a queue")


def _addmember(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    _need_queue(q, "ADDMEMBER")
    paused = "paused" if len(p) > 5 and p[5] == "PAUSED" else None
    return Event(ts, _JOINED, c, q, a, reason=paused)


def _removemember(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    _need_queue(q, "REMOVEMEMBER")
    return Event(ts, _LEFT, c, q, a)


def _pause(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    return Event(ts, _PAUSED, c, q, a, reason=(p[5] or None) if len(p) > 5 else None)


def _unpause(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    return Event(ts, _UNPAUSED, c, q, a, reason=(p[5] or None) if len(p) > 5 else None)


def _pauseall(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    return Event(ts, _PAUSED, c, None, a, reason=(p[5] or None) if len(p) > 5 else None)


def _unpauseall(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    return Event(ts, _UNPAUSED, c, None, a, reason=(p[5] or None) if len(p) > 5 else None)


def _login(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    return Event(ts, _LOGIN, c, q, a)


def _logout(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    return Event(ts, _LOGOUT, c, q, a)


# Split by what the event needs: call events need callid and queue, agent events an agent.
_CALL_VERBS = {
    "ENTERQUEUE": _enterqueue,
    "CONNECT": _connect,
    "COMPLETECALLER": _completecaller,
    "COMPLETEAGENT": _completeagent,
    "ABANDON": _abandon,
    "EXITWITHTIMEOUT": _exit_handler("timeout"),
    "EXITEMPTY": _exit_handler("empty"),
    "EXITWITHKEY": _exitwithkey,
    "WITHDRAW": _exit_handler("withdraw"),
    "SYSCOMPAT": _exit_handler("syscompat"),
    "RINGNOANSWER": _ringnoanswer,
    "RINGCANCELED": _ringcanceled,
    "TRANSFER": _transfer,
    "BLINDTRANSFER": _transfer,
    "ATTENDEDTRANSFER": _attendedtransfer,
}

_AGENT_VERBS = {
    "ADDMEMBER": _addmember,
    "REMOVEMEMBER": _removemember,
    "PAUSE": _pause,
    "UNPAUSE": _unpause,
    "PAUSEALL": _pauseall,
    "UNPAUSEALL": _unpauseall,
    "AGENTLOGIN": _login,
    "AGENTCALLBACKLOGIN": _login,
    "AGENTLOGOFF": _logout,
    "AGENTCALLBACKLOGOFF": _logout,
}


class QueueLogParser:
    """Stateful line parser: call `parse` once per physical line, in file order."""

    __slots__ = ("tz", "stats", "_localize", "_rt_key", "_rt_base")

    def __init__(self, tz: datetime.tzinfo = datetime.UTC) -> None:
        self.tz = tz
        self.stats = ParseStats()
        # pytz zones need localize(); replace(tzinfo=...) would pick their LMT offset.
        localize = getattr(tz, "localize", None)
        self._localize = localize if localize is not None else (lambda dt: dt.replace(tzinfo=tz))
        # Realtime rows come many per second: remember the last whole second's epoch.
        self._rt_key = ""
        self._rt_base = 0.0

    @property
    def line_no(self) -> int:
        """Number of the line last passed to `parse` (1-based)."""
        return self.stats.lines

    def parse(self, line: str) -> Event | None:
        st = self.stats
        st.lines += 1
        line = line.rstrip("\r\n")
        if not line or line.isspace():
            st.blank += 1
            return None
        p = line.split("|")
        if len(p) < 5:
            self._malformed(f"too few fields ({len(p)})")
            return None

        ts: float | None
        try:
            ts = float(p[0])
        except ValueError:
            ts = self._realtime_ts(p[0])
            if ts is None:
                self._malformed(f"bad timestamp {p[0][:40]!r}")
                return None
        else:
            if not 0.0 <= ts < _MAX_NUM:
                self._malformed(f"bad timestamp {p[0][:40]!r}")
                return None

        verb = p[4]
        c: str | None = p[1]
        if c in _NO_CALLID:
            c = None
        q: str | None = p[2]
        if q in _NO_NAME:
            q = None
        a: str | None = p[3]
        if a in _NO_NAME:
            a = None

        handler = _CALL_VERBS.get(verb)
        if handler is not None:
            if c is None or q is None:
                self._malformed(f"{verb} without {'a callid' if c is None else 'a queue'}")
                return None
        else:
            handler = _AGENT_VERBS.get(verb)
            if handler is None:
                if verb in _IGNORED:
                    st.ignored += 1
                elif verb:
                    st.unknown[verb] += 1
                else:
                    self._malformed("empty verb")
                    return None
                return None
            if a is None:
                self._malformed(f"{verb} without an agent")
                return None

        try:
            ev = handler(ts, c, q, a, p)
        except ValueError as exc:  # includes _Malformed
            self._malformed(f"{verb}: {exc}")
            return None
        st.events += 1
        return ev

    def _malformed(self, reason: str) -> None:
        st = self.stats
        st.malformed += 1
        if len(st.errors) < MAX_ERRORS:
            st.errors.append((st.lines, reason))
        return None

    def _realtime_ts(self, s: str) -> float | None:
        # Off the epoch hot path: realtime exports, or a BOM / stray spaces before an epoch.
        if s[4:5] != "-":
            s = s.strip().lstrip("\ufeff")
            try:
                v = float(s)
            except ValueError:
                if s[4:5] != "-":
                    return None
            else:
                return v if 0.0 <= v < _MAX_NUM else None
        key = s[:19]
        if key == self._rt_key:  # same second as the previous row: only the fraction differs
            frac = s[19:]
            if not frac:
                return self._rt_base
            if frac[0] == "." and frac[1:].isdigit():
                return self._rt_base + float(frac)
        try:
            dt = datetime.datetime.fromisoformat(s)
        except ValueError:
            return None
        if dt.tzinfo is None:  # queue_log_realtime_use_gmt=no: local time
            dt = self._localize(dt)
        ts = dt.timestamp()
        frac = s[19:]
        if len(key) == 19 and (not frac or (frac[0] == "." and frac[1:].isdigit())):
            self._rt_key, self._rt_base = key, ts - (float(frac) if frac else 0.0)
        return ts


# --- writing --------------------------------------------------------------------------


def _i(v: float | int | None) -> str:
    # Asterisk logs whole seconds; unknown values stay empty (the parser reads them as None).
    return "" if v is None else str(round(v))


def format_event(event: Event) -> str | None:
    """One queue_log line (no newline) in the Asterisk 13+ file layout, or None when
    the event has no queue_log verb (CALL_RINGING, AGENT_WRAPUP_ENDED, or an end/exit
    reason that is not one of Asterisk's)."""
    e = event
    k = e.kind
    t = int(e.ts)
    q = e.queue or "NONE"
    a = e.agent or "NONE"
    c = e.callid or "NONE"
    head = f"{t}|{c}|{q}|{a}|"

    if k is _ENTERED:
        # url is empty unless Queue() got one; position here is the join position.
        return f"{head}ENTERQUEUE||{e.caller or ''}|{_i(e.position)}"
    if k is _ANSWERED:
        # member uniqueid is not in the Event model; left empty rather than invented.
        ring = _i(e.ring_seconds)
        return f"{head}CONNECT|{_i(e.wait_seconds)}||{ring}"
    if k is _ENDED:
        if e.reason == "caller":
            verb = "COMPLETECALLER"
        elif e.reason == "agent":
            verb = "COMPLETEAGENT"
        else:
            return None
        return f"{head}{verb}|{_i(e.wait_seconds)}|{_i(e.talk_seconds)}|"
    if k is _ABANDONED:
        return f"{head}ABANDON|{_i(e.position)}||{_i(e.wait_seconds)}"
    if k is _EXITED:
        r = e.reason
        pos, wait = _i(e.position), _i(e.wait_seconds)
        if r == "timeout":
            return f"{head}EXITWITHTIMEOUT|{pos}||{wait}"
        if r == "empty":
            return f"{head}EXITEMPTY|{pos}||{wait}"
        if r == "key":
            return f"{head}EXITWITHKEY||{pos}||{wait}"
        if r == "withdraw":
            return f"{head}WITHDRAW|{pos}||{wait}|"
        if r == "syscompat":
            return f"{head}SYSCOMPAT|{pos}||{wait}"
        return None
    if k is _RNA or k is _RCANCEL:
        ms = "" if e.ring_seconds is None else str(round(e.ring_seconds * 1000))
        verb = "RINGNOANSWER" if k is _RNA else "RINGCANCELED"
        return f"{head}{verb}|{ms}"
    if k is _TRANSFERRED:
        r = e.reason or ""
        hold_call = f"{_i(e.wait_seconds)}|{_i(e.talk_seconds)}|"
        if r.startswith("bridge:"):
            return f"{head}ATTENDEDTRANSFER|BRIDGE|{r[7:]}|{hold_call}"
        if r.startswith("app:"):
            return f"{head}ATTENDEDTRANSFER|APP|{r[4:]}|{hold_call}"
        if r.startswith("link:"):
            # chan1 is not in the Event model.
            return f"{head}ATTENDEDTRANSFER|LINK||{r[5:]}|{hold_call}"
        exten, at, context = r.rpartition("@")
        if not at:
            exten, context = r, ""
        return f"{head}BLINDTRANSFER|{exten}|{context}|{hold_call}"

    # Agent events: Asterisk writes MANAGER for member operations done over AMI.
    if k is _JOINED:
        mc = e.callid or "MANAGER"
        flag = "PAUSED" if e.reason == "paused" else ""
        return f"{t}|{mc}|{q}|{a}|ADDMEMBER|{flag}"
    if k is _LEFT:
        return f"{t}|{e.callid or 'MANAGER'}|{q}|{a}|REMOVEMEMBER|"
    if k is _PAUSED or k is _UNPAUSED:
        if e.queue is None:
            verb = "PAUSEALL" if k is _PAUSED else "UNPAUSEALL"
            return f"{t}|{c}|NONE|{a}|{verb}|{e.reason or ''}"
        verb = "PAUSE" if k is _PAUSED else "UNPAUSE"
        return f"{t}|{e.callid or 'MANAGER'}|{q}|{a}|{verb}|{e.reason or ''}"
    if k is _LOGIN:
        # data is the agent's channel, which the Event model does not carry.
        return f"{t}|{c}|NONE|{a}|AGENTLOGIN|"
    if k is _LOGOUT:
        return f"{t}|{c}|NONE|{a}|AGENTLOGOFF||"
    return None  # CALL_RINGING, AGENT_WRAPUP_ENDED: nothing in queue_log
