"""JSON lines: one event per line, for any ACD that can write JSON.

    {"ts": 1700000000.5, "kind": "call_entered", "callid": "abc", "queue": "sales", "caller": "555"}
    {"ts": "2026-11-23T09:15:02+01:00", "kind": "agent_paused", "agent": "Ann", "reason": "lunch"}

`kind` is one of wallboard.calls.events.EventKind's values; the other keys are Event's fields.
`ts` is epoch seconds or ISO 8601 (without an offset: the site's time zone). Bad lines
are counted and skipped like the queue_log's.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime, tzinfo
from typing import Any

from wallboard.calls.events import CALL_EVENTS, Event, EventKind
from wallboard.feeds.queue_log import MAX_ERRORS, ParseStats
from wallboard.text import one_line

_KINDS = {kind.value: kind for kind in EventKind}
_TEXT = ("callid", "queue", "agent", "caller", "reason")
_NUMBERS = ("wait_seconds", "talk_seconds", "ring_seconds")
_KNOWN = {f.name for f in fields(Event)}


class _Malformed(ValueError):
    pass


class JsonLinesParser:
    def __init__(self, tz: tzinfo = UTC) -> None:
        self.tz = tz
        self.stats = ParseStats()

    def parse(self, line: str) -> Event | None:
        stats = self.stats
        stats.lines += 1
        if not line.strip():
            stats.blank += 1
            return None
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise _Malformed("not a JSON object")
            kind = _KINDS.get(str(record.get("kind")))
            if kind is None:
                stats.unknown[str(record.get("kind"))[:40]] += 1
                return None
            event = self._event(kind, record)
        except (ValueError, _Malformed) as exc:  # json.JSONDecodeError is a ValueError
            stats.malformed += 1
            if len(stats.errors) < MAX_ERRORS:
                stats.errors.append((stats.lines, one_line(exc)[:120]))
            return None
        stats.events += 1
        return event

    def _event(self, kind: EventKind, record: dict[str, Any]) -> Event:
        extra = set(record) - _KNOWN
        if extra:
            raise _Malformed(f"unknown field {sorted(extra)[0]!r}")
        values: dict[str, Any] = {"ts": self._ts(record.get("ts")), "kind": kind}
        for name in _TEXT:
            value = record.get(name)
            if value is not None and not isinstance(value, str):
                raise _Malformed(f"{name} must be text")
            values[name] = value
        for name in _NUMBERS:
            value = record.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise _Malformed(f"{name} must be a number of seconds")
            values[name] = value
        position = record.get("position")
        if position is not None and (isinstance(position, bool) or not isinstance(position, int)):
            raise _Malformed("position must be a whole number")
        values["position"] = position
        if kind in CALL_EVENTS and not (values["callid"] and values["queue"]):
            raise _Malformed(f"{kind.value} needs callid and queue")
        if kind not in CALL_EVENTS and not values["agent"]:
            raise _Malformed(f"{kind.value} needs agent")
        return Event(**values)

    def _ts(self, value: object) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return float(value)
        if isinstance(value, str):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.tz)
            return moment.timestamp()
        raise _Malformed("ts must be epoch seconds or ISO 8601")
