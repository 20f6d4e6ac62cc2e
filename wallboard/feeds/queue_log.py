"""Asterisk queue_log feed: one line in, one normalized `Event` (or None) out.

Reads every layout Asterisk has written from 1.4 to 22 (field counts grew over the
versions, see docs/QUEUE_LOG.md), in the file form (epoch seconds) and the
realtime form (``YYYY-MM-DD HH:MM:SS[.ffffff]`` local time). `format_event` is the
inverse and writes the Asterisk 13+ file layout, for the simulator.

Queues refusing a caller are not written by app_queue itself but by the dialplan of many
sites (Wazo/XiVO, QueueMetrics' conventions): ``ts|callid|queue|NONE|FULL|[callerid]`` with
FULL, JOINEMPTY, JOINUNAVAIL or CLOSED; they become CALL_BLOCKED, with the caller when the
dialplan logs one as the first data field.

Bad input never raises: every line is counted in `QueueLogParser.stats`, and what a line
must hold to become an event (times, durations, text) is wallboard/feeds/validate.py's.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable

from wallboard.calls.events import BLOCK_REASONS, Event, EventKind
from wallboard.feeds.validate import (
    EARLIEST,
    FUTURE_SLACK,
    MAX_DURATION,
    MAX_ERRORS,
    MAX_POSITION,
    SHORTEST_LIMIT,
    TEXT_LIMITS,
    Malformed,
    ParseStats,
    clean_text,
    duration_problem,
    lines_of,
    time_problem,
)
from wallboard.text import one_line

__all__ = ["MAX_ERRORS", "ParseStats", "QueueLogParser", "format_event"]

# Bound once: attribute lookups on the enum class cost time on every line.
_ENTERED = EventKind.CALL_ENTERED
_ANSWERED = EventKind.CALL_ANSWERED
_ENDED = EventKind.CALL_ENDED
_ABANDONED = EventKind.CALL_ABANDONED
_EXITED = EventKind.CALL_EXITED
_BLOCKED = EventKind.CALL_BLOCKED
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

_CALLID_LIMIT = TEXT_LIMITS["callid"]
_MAX_NAMES = 10_000  # queue and agent names remembered as clean; then the memory starts again

# Known verbs that do not change what the board shows.
_IGNORED = frozenset({"QUEUESTART", "CONFIGRELOAD", "DID", "AGENTDUMP", "PENALTY", "RINGINUSE", "OUTCALL"})

Handler = Callable[[float, str | None, str | None, str | None, list[str]], Event]

# --- field helpers -------------------------------------------------------------------
# Older versions write fewer fields and realtime exports may leave trailing columns
# empty, so a missing or empty numeric field is None; only a non-number is malformed.


def _num(p: list[str], i: int) -> float | None:
    """A duration in seconds."""
    if i < len(p):
        s = p[i]
        if s:
            v = float(s)
            if 0.0 <= v <= MAX_DURATION:  # also False for nan
                return v
            raise Malformed(duration_problem(v) or "bad duration", f"field {i - 4} {s[:40]!r}")
    return None


def _ms(p: list[str], i: int) -> float | None:
    """A duration written in milliseconds, in seconds."""
    if i < len(p):
        s = p[i]
        if s:
            v = float(s) / 1000.0
            if 0.0 <= v <= MAX_DURATION:
                return v
            raise Malformed(duration_problem(v) or "bad duration", f"field {i - 4} {s[:40]!r} ms")
    return None


def _int(p: list[str], i: int) -> int | None:
    """A position in the queue."""
    if i < len(p):
        s = p[i]
        if s:
            v = int(s)
            if 0 <= v <= MAX_POSITION:
                return v
            raise Malformed("position out of range", f"field {i - 4} {s[:40]!r}")
    return None


def _caller_number(cid: str) -> str | None:
    # Some dialplans log the full '"Name" <number>' form; the board only wants the number.
    if "<" in cid and cid.endswith(">"):
        cid = cid[cid.rindex("<") + 1 : -1].strip()
    return cid or None


class _Unclean(Exception):
    """Raised by a handler whose event took a caller or reason that is not short printable
    text: the parser gives the event a closer look (validate.clean_text). An exception, so
    that the lines of every other verb pay nothing for the test."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


def _checked(event: Event, text: str | None) -> Event:
    if text is not None and (len(text) > SHORTEST_LIMIT or not text.isprintable()):
        raise _Unclean(event)
    return event


# --- per-verb handlers: (ts, callid, queue, agent, fields) -> Event -----------------
# Field indexes count from the start of the line: 0 time, 1 callid, 2 queue, 3 agent,
# 4 verb, 5.. data. Events are built with positional arguments, in Event's field order
# (ts, kind, callid, queue, agent, caller, wait, talk, ring, position, reason): keywords
# cost a tenth of the whole parse.


def _enterqueue(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    # url|callerid[|origposition[|calleridname]]; 1.4/1.6 stop after callerid.
    # A third of all lines: _caller_number, _int and _checked written out here.
    n = len(p)
    caller = p[6] if n > 6 else None
    if not caller:
        caller = None
    elif "<" in caller:
        caller = _caller_number(caller)
    position = None
    if n > 7:
        written = p[7]
        if written:
            position = int(written)
            if not 0 <= position <= MAX_POSITION:
                raise Malformed("position out of range", f"field 3 {written[:40]!r}")
    event = Event(ts, _ENTERED, c, q, a, caller, None, None, None, position)
    if caller is not None and (len(caller) > SHORTEST_LIMIT or not caller.isprintable()):
        raise _Unclean(event)
    return event


# CONNECT and COMPLETE* are half of all lines: their two durations are read in line when both
# are written and in range (what _num gives them, in its order: a field that is not a number
# raises the same ValueError), else by _num, which also says what is wrong.


def _connect(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    # holdtime|member uniqueid[|ringtime]; ringtime from 1.6.
    if len(p) > 7 and p[5] and p[7]:
        wait = float(p[5])
        if 0.0 <= wait <= MAX_DURATION:
            ring = float(p[7])
            if 0.0 <= ring <= MAX_DURATION:
                return Event(ts, _ANSWERED, c, q, a, None, wait, None, ring)
    return Event(ts, _ANSWERED, c, q, a, None, _num(p, 5), None, _num(p, 7))


def _completed(p: list[str]) -> tuple[float | None, float | None]:
    """COMPLETECALLER/COMPLETEAGENT's holdtime|calltime."""
    if len(p) > 6 and p[5] and p[6]:
        wait = float(p[5])
        if 0.0 <= wait <= MAX_DURATION:
            talk = float(p[6])
            if 0.0 <= talk <= MAX_DURATION:
                return wait, talk
    return _num(p, 5), _num(p, 6)


def _completecaller(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    wait, talk = _completed(p)
    return Event(ts, _ENDED, c, q, a, None, wait, talk, None, None, "caller")


def _completeagent(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    wait, talk = _completed(p)
    return Event(ts, _ENDED, c, q, a, None, wait, talk, None, None, "agent")


def _abandon(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    # position|origposition|waittime; agent is kept (a member when the caller hung up
    # during the member's announcement).
    return Event(ts, _ABANDONED, c, q, a, None, _num(p, 7), None, None, _int(p, 5))


def _exit_handler(reason: str) -> Handler:
    # position|origposition|waittime[|info]; 1.4 EXITWITHTIMEOUT had the position only.
    def handler(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
        return Event(ts, _EXITED, c, q, a, None, _num(p, 7), None, None, _int(p, 5), reason)

    return handler


def _exitwithkey(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    # key|position|origposition|waittime; 1.4: key|position.
    return Event(ts, _EXITED, c, q, a, None, _num(p, 8), None, None, _int(p, 6), "key")


def _ringnoanswer(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    return Event(ts, _RNA, c, q, a, None, None, None, _ms(p, 5))


def _ringcanceled(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    return Event(ts, _RCANCEL, c, q, a, None, None, None, _ms(p, 5))


def _blocked_handler(reason: str) -> Handler:
    # Written by the dialplan, not app_queue: [callerid], when the site logs one.
    def handler(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
        caller = _caller_number(p[5]) if len(p) > 5 else None
        return _checked(Event(ts, _BLOCKED, c, q, a, caller, None, None, None, None, reason), caller)

    return handler


def _transfer(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    # TRANSFER (<=11) / BLINDTRANSFER (12+): exten|context|holdtime|calltime[|origposition]
    n = len(p)
    exten = p[5] if n > 5 else ""
    context = p[6] if n > 6 else ""
    target = f"{exten}@{context}" if context else (exten or None)
    return _checked(Event(ts, _TRANSFERRED, c, q, a, None, _num(p, 7), _num(p, 8), None, None, target), target)


def _attendedtransfer(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    # BRIDGE|id|hold|call|pos, APP|app|hold|call|pos, LINK|chan1|chan2|hold|call|pos
    n = len(p)
    kind = p[5] if n > 5 else ""
    if kind == "BRIDGE" or kind == "APP":
        target = f"{kind.lower()}:{p[6] if n > 6 else ''}"
        return _checked(Event(ts, _TRANSFERRED, c, q, a, None, _num(p, 7), _num(p, 8), None, None, target), target)
    if kind == "LINK":
        target = f"link:{p[7] if n > 7 else ''}"
        return _checked(Event(ts, _TRANSFERRED, c, q, a, None, _num(p, 8), _num(p, 9), None, None, target), target)
    # A layout we do not know: the call still left the queue, so report the transfer
    # rather than leave it "talking" on the board forever; durations are unknowable.
    return Event(ts, _TRANSFERRED, c, q, a, reason="attended")


def _need_queue(q: str | None, verb: str) -> None:
    if q is None:
        raise Malformed("missing queue", f"{verb} without a queue")


def _addmember(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    _need_queue(q, "ADDMEMBER")
    paused = "paused" if len(p) > 5 and p[5] == "PAUSED" else None
    return Event(ts, _JOINED, c, q, a, None, None, None, None, None, paused)


def _removemember(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    _need_queue(q, "REMOVEMEMBER")
    return Event(ts, _LEFT, c, q, a)


def _reason(p: list[str]) -> str | None:
    return (p[5] or None) if len(p) > 5 else None


def _pause(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    reason = _reason(p)
    return _checked(Event(ts, _PAUSED, c, q, a, None, None, None, None, None, reason), reason)


def _unpause(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    reason = _reason(p)
    return _checked(Event(ts, _UNPAUSED, c, q, a, None, None, None, None, None, reason), reason)


def _pauseall(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    reason = _reason(p)
    return _checked(Event(ts, _PAUSED, c, None, a, None, None, None, None, None, reason), reason)


def _unpauseall(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    reason = _reason(p)
    return _checked(Event(ts, _UNPAUSED, c, None, a, None, None, None, None, None, reason), reason)


def _login(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    return Event(ts, _LOGIN, c, q, a)


def _logout(ts: float, c: str | None, q: str | None, a: str | None, p: list[str]) -> Event:
    return Event(ts, _LOGOUT, c, q, a)


# Split by what the event needs: call events need callid and queue, agent events an agent.
_CALL_VERBS: dict[str, Handler] = {
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
    **{reason.upper(): _blocked_handler(reason) for reason in BLOCK_REASONS},
}

_AGENT_VERBS: dict[str, Handler] = {
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
    """Stateful line parser: call `parse` once per physical line, in file order.

    `clock` is now, in epoch seconds: a line more than a day after it is malformed.
    """

    __slots__ = ("tz", "stats", "_clock", "_latest", "_names", "_dirty", "_localize", "_rt_key", "_rt_base")

    def __init__(self, tz: datetime.tzinfo = datetime.UTC, *, clock: Callable[[], float] = time.time) -> None:
        self.tz = tz
        self.stats = ParseStats()
        self._clock = clock
        # The latest time a line may have, read from the clock again only when a line is past
        # it: a call per line would cost more than the rest of the check (a clock is assumed
        # not to run backwards).
        self._latest = clock() + FUTURE_SLACK
        # Queue and agent fields as written -> as an event takes them: None for Asterisk's
        # placeholders, the name itself once it was seen short and printable (_new_names).
        self._names: dict[str, str | None] = dict.fromkeys(_NO_NAME)
        self._dirty = False  # the event being made needs a closer look at its text
        # pytz zones need localize(); replace(tzinfo=...) would pick their LMT offset.
        localize = getattr(tz, "localize", None)
        self._localize: Callable[[datetime.datetime], datetime.datetime] = (
            localize if localize is not None else (lambda dt: dt.replace(tzinfo=tz))
        )
        # Realtime rows come many per second: remember the last whole second's epoch.
        self._rt_key = ""
        self._rt_base = 0.0

    @property
    def line_no(self) -> int:
        """Number of the line last passed to `parse` (1-based)."""
        return self.stats.lines

    def parse(self, line: str) -> Event | None:
        """The event of one line (its newline may be there), or None."""
        plain = line.isascii() and "\n" not in line and "\r" not in line and "\x00" not in line
        events = self._parse_lines((line,), plain)
        return events[0] if events else None

    def parse_text(self, text: str) -> list[Event]:
        """The events of every line of `text` (see validate.lines_of), in order: what `parse`
        gives line by line, with what can be checked once for the whole text checked once."""
        lines = lines_of(text)
        return self._parse_lines(lines, text.isascii() and "\r" not in text and "\x00" not in text)

    def _parse_lines(self, lines: Iterable[str], plain: bool) -> list[Event]:
        """plain: no line holds a CR, LF, NUL or non-ASCII character (checked by the caller once
        for all of them), so no line needs those looked for."""
        st = self.stats
        names = self._names
        latest = self._latest
        events: list[Event] = []
        keep = events.append
        number = before = st.lines
        # The number of each line as the stats count them: stored in st.lines only for a
        # malformed line's details (ParseStats.errors), and once at the end.
        for number, line in enumerate(lines, before + 1):
            if not plain:
                line = line.rstrip("\r\n")
            p = line.split("|")
            if len(p) < 5:
                if not line or line.isspace():
                    st.blank += 1
                else:
                    self._malformed(number, "too few fields", f"too few fields ({len(p)})")
                continue
            if not plain and "\x00" in line:  # a torn write (a crash leaves NUL-filled blocks): nothing in it is sure
                self._malformed(number, "NUL bytes", f"NUL bytes in {line[:40]!r}")
                continue

            ts: float | None
            try:
                try:
                    ts = float(p[0])
                except ValueError:
                    rt = self._realtime_ts(p[0])
                    if rt is None:
                        self._malformed(number, "bad time", f"bad timestamp {p[0][:40]!r}")
                        continue
                    ts = rt
                if not EARLIEST <= ts <= latest:  # also False for nan
                    latest = self._latest = self._clock() + FUTURE_SLACK
                    why = time_problem(ts, latest)
                    if why is not None:
                        self._malformed(number, why, f"{why}: timestamp {p[0][:40]!r}")
                        continue

                verb = p[4]
                c: str | None = p[1]
                if c in _NO_CALLID:
                    c = None
                try:
                    q = names[p[2]]
                    a = names[p[3]]
                except KeyError:
                    q, a = self._new_names(p[2], p[3])

                handler = _CALL_VERBS.get(verb)
                if handler is not None:
                    if c is None:
                        self._malformed(number, "missing callid", f"{verb} without a callid")
                        continue
                    if q is None:
                        self._malformed(number, "missing queue", f"{verb} without a queue")
                        continue
                else:
                    handler = _AGENT_VERBS.get(verb)
                    if handler is None:
                        if verb in _IGNORED:
                            st.ignored += 1
                        elif verb:
                            st.unknown_name(verb)
                        else:
                            self._malformed(number, "empty verb", "empty verb")
                        continue
                    if a is None:
                        self._malformed(number, "missing agent", f"{verb} without an agent")
                        continue

                try:
                    ev = handler(ts, c, q, a, p)
                except _Unclean as unclean:
                    ev = unclean.event
                    self._dirty = True
                except ValueError as exc:  # a number that is none, or Malformed
                    why = exc.why if isinstance(exc, Malformed) else "bad number"
                    self._malformed(number, why, f"{verb}: {exc}")
                    continue
                # Does the event's text need validate.clean_text? Cheap tests that let almost every
                # line through: queue and agent names were looked at when first seen, a
                # caller or reason from the data fields by its handler (_Unclean), and an ASCII line
                # holds no surrogate. A callid is an opaque key: only its length matters.
                if self._dirty or (not plain and not line.isascii()) or (c is not None and len(c) > _CALLID_LIMIT):
                    self._check_text(ev)
            except Malformed as exc:  # from clean_text: a NUL byte or a lone surrogate in a text
                self._malformed(number, exc.why, str(exc))
                continue
            except Exception as exc:  # the promise: nothing a line holds raises out of parse
                self._malformed(number, "unreadable", f"{type(exc).__name__}: {one_line(exc)}")
                continue
            keep(ev)
        st.lines = number
        st.events += len(events)
        return events

    def _new_names(self, *written: str) -> tuple[str | None, ...]:
        """The queue and agent of a line with a name not seen yet: remembered if short and
        printable, else the line is marked for a closer look."""
        names = self._names
        for name in written:
            if name in names:
                continue
            if len(name) <= SHORTEST_LIMIT and name.isprintable():
                if len(names) >= _MAX_NAMES:  # a file of ever new names must not grow this for ever
                    names.clear()
                    names.update(dict.fromkeys(_NO_NAME))
                names[name] = name
            else:
                self._dirty = True
        return tuple(names.get(name, name) for name in written)

    def _check_text(self, ev: Event) -> None:
        self._dirty = False
        flags = clean_text(ev)
        if flags:
            self.stats.cleaned.update(flags)

    def _malformed(self, number: int, why: str, detail: str) -> None:
        """Counts line `number` as malformed."""
        self.stats.lines = number
        self.stats.malformed_line(why, detail)

    def _realtime_ts(self, s: str) -> float | None:
        # Off the epoch hot path: realtime exports, or a BOM / stray spaces before an epoch.
        if s[4:5] != "-":
            s = s.strip().lstrip("\ufeff")
            try:
                return float(s)
            except ValueError:
                if s[4:5] != "-":
                    return None
        key = s[:19]
        frac = s[19:]
        # Only ASCII digits: float() reads other scripts' digits too, isdigit() passes "²".
        plain_frac = not frac or (frac[0] == "." and frac[1:].isascii() and frac[1:].isdigit())
        if key == self._rt_key and plain_frac:  # same second as the previous row: only the fraction differs
            return self._rt_base + float(frac) if frac else self._rt_base
        try:
            dt = datetime.datetime.fromisoformat(s)
            if dt.tzinfo is None:  # queue_log_realtime_use_gmt=no: local time
                dt = self._localize(dt)
            ts = dt.timestamp()
        except (ValueError, OverflowError):  # not a date; a date no clock can show
            return None
        if len(key) == 19 and plain_frac:
            self._rt_key, self._rt_base = key, ts - (float(frac) if frac else 0.0)
        return ts


# --- writing --------------------------------------------------------------------------


def _i(v: float | int | None) -> str:
    # Asterisk logs whole seconds; unknown values stay empty (the parser reads them as None).
    return "" if v is None else str(round(v))


def format_event(event: Event) -> str | None:
    """One queue_log line (no newline) in the Asterisk 13+ file layout, or None when
    the event has no queue_log verb (CALL_RINGING, AGENT_WRAPUP_ENDED, or an end, exit or
    block reason that is not one of Asterisk's or the dialplans')."""
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
    if k is _BLOCKED:
        if e.reason not in BLOCK_REASONS:
            return None
        return f"{head}{e.reason.upper()}|{e.caller or ''}"
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
