"""JSON lines: one event per line, for any ACD that can write JSON.

    {"ts": 1700000000.5, "kind": "call_entered", "callid": "abc", "queue": "sales", "caller": "555"}
    {"ts": "2026-11-23T09:15:02+01:00", "kind": "agent_paused", "agent": "Ann", "reason": "lunch"}
    {"ts": 1700000090, "kind": "call_blocked", "callid": "abd", "queue": "sales", "reason": "full"}

`kind` is one of wallboard.calls.events.EventKind's values; the other keys are Event's fields.
`ts` is epoch seconds or ISO 8601 (without an offset: the site's time zone). A call_blocked
event's `reason` is one of full, joinempty, joinunavail, closed.

Bad lines are counted and skipped like the queue_log's, by the same rules
(wallboard/feeds/validate.py); nothing a line holds (deep nesting, huge numbers, NaN, wrong
types, lone surrogates, NUL bytes) raises out of `parse`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime, tzinfo

from wallboard.calls.events import BLOCK_REASONS, CALL_EVENTS, Event, EventKind
from wallboard.feeds.validate import (
    FUTURE_SLACK,
    MAX_POSITION,
    Malformed,
    ParseStats,
    clean_text,
    duration_problem,
    lines_of,
    time_problem,
)
from wallboard.text import one_line

__all__ = ["JsonLinesParser"]

_KINDS = {kind.value: kind for kind in EventKind}
_TEXT = ("callid", "queue", "agent", "caller", "reason")
_NUMBERS = ("wait_seconds", "talk_seconds", "ring_seconds")
_KNOWN = frozenset(f.name for f in fields(Event))
_LONGEST_TIME = 64  # characters: no ISO 8601 time is longer


class JsonLinesParser:
    """Line parser: call `parse` once per line. `clock` is now, in epoch seconds: an event
    more than a day after it is malformed."""

    def __init__(self, tz: tzinfo = UTC, *, clock: Callable[[], float] = time.time) -> None:
        self.tz = tz
        self.stats = ParseStats()
        self._clock = clock

    def parse_text(self, text: str) -> list[Event]:
        """The events of every line of `text` (many lines), in order (see validate.lines_of)."""
        parse = self.parse
        return [event for line in lines_of(text) if (event := parse(line)) is not None]

    def parse(self, line: str) -> Event | None:
        stats = self.stats
        stats.lines += 1
        if not line or line.isspace():
            stats.blank += 1
            return None
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise Malformed("not a JSON object")
            name = record.get("kind")
            kind = _KINDS.get(name) if isinstance(name, str) else None
            if kind is None:
                if name is not None and not isinstance(name, str):
                    raise Malformed("wrong type", "kind must be text")
                stats.unknown_name(str(name))
                return None
            event = self._event(kind, record)
            flags = clean_text(event)
        except Malformed as exc:
            stats.malformed_line(exc.why, str(exc))
            return None
        except RecursionError:  # the decoder's answer to '[[[[...' thousands deep
            stats.malformed_line("nested too deep", "nested too deep")
            return None
        except ValueError as exc:  # json.JSONDecodeError, or an integer of more than 4300 digits
            stats.malformed_line("not JSON", one_line(exc))
            return None
        except Exception as exc:  # the promise: nothing a line holds raises out of parse
            stats.malformed_line("unreadable", f"{type(exc).__name__}: {one_line(exc)}")
            return None
        if flags:
            stats.cleaned.update(flags)
        stats.events += 1
        return event

    def _event(self, kind: EventKind, record: dict[str, object]) -> Event:
        # Structure first, then values: a line with both wrong says what is wrong with its form.
        extra = record.keys() - _KNOWN
        if extra:
            raise Malformed("unknown field", f"unknown field {sorted(extra)[0][:40]!r}")
        ts = self._ts(record.get("ts"))
        text: dict[str, str | None] = {}
        for name in _TEXT:
            value = record.get(name)
            if value is not None and not isinstance(value, str):
                raise Malformed("wrong type", f"{name} must be text")
            text[name] = value
        seconds: dict[str, float | None] = {}
        for name in _NUMBERS:
            value = record.get(name)
            if value is None:
                seconds[name] = None
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise Malformed("wrong type", f"{name} must be a number of seconds")
            why = duration_problem(value)
            if why is not None:
                raise Malformed(why, f"{name} {str(value)[:40]}")
            seconds[name] = float(value)
        position = record.get("position")
        if position is not None:
            if isinstance(position, bool) or not isinstance(position, int):
                raise Malformed("wrong type", "position must be a whole number")
            if not 0 <= position <= MAX_POSITION:
                raise Malformed("position out of range", f"position {str(position)[:40]}")
        if kind in CALL_EVENTS:
            if not (text["callid"] and text["queue"]):
                why = "missing callid" if not text["callid"] else "missing queue"
                raise Malformed(why, f"{kind.value} needs callid and queue")
        elif not text["agent"]:
            raise Malformed("missing agent", f"{kind.value} needs agent")
        if kind is EventKind.CALL_BLOCKED and text["reason"] not in BLOCK_REASONS:
            raise Malformed("bad reason", f"call_blocked needs reason {', '.join(BLOCK_REASONS)}")
        why = time_problem(ts, self._clock() + FUTURE_SLACK)
        if why is not None:
            raise Malformed(why, f"ts {str(ts)[:40]}")
        return Event(
            float(ts),
            kind,
            text["callid"],
            text["queue"],
            text["agent"],
            text["caller"],
            seconds["wait_seconds"],
            seconds["talk_seconds"],
            seconds["ring_seconds"],
            position,
            text["reason"],
        )

    def _ts(self, value: object) -> float:
        """Epoch seconds as given (a whole number is kept whole: it may be too large for a float)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            if len(value) > _LONGEST_TIME:
                raise Malformed("bad time", "ts is too long for a time")
            try:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=self.tz)
                return moment.timestamp()
            except (ValueError, OverflowError) as exc:
                raise Malformed("bad time", one_line(exc)) from None
        raise Malformed("bad time", "ts must be epoch seconds or ISO 8601")
