"""Validation at the edge: what every feed parser checks before an `Event` leaves it.

A parser turns one line into an Event or into nothing; these rules decide which, the same
for the queue_log and the JSON-lines parsers. Each case was decided on what a wrong value
would do downstream:

Malformed: counted in `ParseStats.malformed`, its short reason in `ParseStats.why_malformed`,
the line number and details in `ParseStats.errors`; the line is skipped and nothing of it is
stored. A wrong time or duration would silently skew every figure it touches (a wait of -5 s
lowers the ASA; a call "in 5138" stays the newest for ever), and no part of it can be trusted:

- time: not a finite number, before 2000-01-01 00:00 UTC (`EARLIEST`), or more than a day
  (`FUTURE_SLACK`) after the parser's clock: "bad time", "time before 2000", "time in the future".
- durations (wait, talk, ring): negative, not finite (NaN, infinity, 1e400) or longer than a
  week (`MAX_DURATION`; no caller waits and no call lasts that long): "negative duration",
  "duration not finite", "duration over a week".
- position in the queue: not a whole number from 0 to `MAX_POSITION`: "position out of range".
- NUL bytes anywhere in a queue_log line or in any text of an event: "NUL bytes". A crash
  leaves NUL-filled blocks in a log file: such a line is a torn write, not a name with a
  stray byte (and PostgreSQL refuses NUL in text).
- lone surrogates (half of a UTF-16 pair, from a broken encoder) in any text: "lone
  surrogates"; they cannot even be written to the database.
- a line that cannot be read at all (not JSON, nested too deep, wrong types, missing callid,
  queue or agent, too few fields): malformed with its own reason. Nothing a line contains
  raises out of a parser's `parse`.

Cleaned and flagged: the event is kept, the field is repaired, and each repair is counted in
`ParseStats.cleaned` by reason. The call or agent behind it is real, only a name is odd, and
dropping the line would lose a call from the counts (a stray byte in a caller id, a dialplan
that logs a whole SIP header as the caller):

- other control characters (C0, DEL, C1) in the queue, agent, caller or reason (the pause
  reason, a transfer target) become U+FFFD, the mark a decoder leaves for a byte it cannot
  read: "control characters in caller". A callid is an opaque key and is kept as written.
- text longer than its column is cut to it: "caller cut to 80 characters". No text field is
  ever longer than 256 characters (`MAX_TEXT`); each is held to the width of the column that
  stores it (`TEXT_LIMITS`, db/models.py), tighter still, since PostgreSQL refuses a longer
  value and one such line would stop a whole batch.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from wallboard.calls.events import Event

__all__ = [
    "EARLIEST",
    "FUTURE_SLACK",
    "MAX_DURATION",
    "MAX_ERRORS",
    "MAX_POSITION",
    "MAX_TEXT",
    "TEXT_LIMITS",
    "Malformed",
    "ParseStats",
    "breakdown",
    "clean_text",
    "duration_problem",
    "time_problem",
]

EARLIEST = 946_684_800.0  # 2000-01-01 00:00:00 UTC
FUTURE_SLACK = 86_400.0  # a day: clocks drift and sites sit in other time zones, not more
MAX_DURATION = 7 * 86_400.0
MAX_POSITION = 100_000
MAX_TEXT = 256
# The width of the column each text field is stored in (db/models.py: Call, Agent), all within MAX_TEXT.
TEXT_LIMITS: dict[str, int] = {"callid": 64, "queue": 80, "agent": 120, "caller": 80, "reason": 80}
SHORTEST_LIMIT = min(TEXT_LIMITS.values())
# The texts drawn on the board; a callid is an opaque key (drawn through wallboard.text.printable
# where it is drawn at all), so only its length, NUL bytes and surrogates matter.
CLEANED_FIELDS = frozenset({"queue", "agent", "caller", "reason"})

MAX_ERRORS = 20  # lines whose details are kept in ParseStats.errors
MAX_UNKNOWN_NAMES = 100  # distinct unknown verbs or kinds counted by name; the rest together
UNKNOWN_NAME_CHARS = 64
OTHER_UNKNOWN = "(other)"

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_REPLACEMENT = "\ufffd"


class Malformed(ValueError):
    """A line that must not be stored: `why` is the short reason the summary counts, the
    message the details kept for the first lines."""

    def __init__(self, why: str, detail: str = "") -> None:
        super().__init__(f"{why}: {detail}" if detail else why)
        self.why = why


@dataclass(slots=True)
class ParseStats:
    """What a parser made of its lines. Every line is counted once: as an event, blank,
    ignored (a known verb with no effect on the board), unknown or malformed."""

    lines: int = 0
    events: int = 0
    blank: int = 0
    ignored: int = 0
    unknown: Counter[str] = field(default_factory=Counter)  # verb or kind -> lines
    malformed: int = 0
    why_malformed: Counter[str] = field(default_factory=Counter)  # short reason -> lines
    cleaned: Counter[str] = field(default_factory=Counter)  # repair -> fields (the events were kept)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line_no, details), first MAX_ERRORS only

    def malformed_line(self, why: str, detail: str) -> None:
        self.malformed += 1
        self.why_malformed[why] += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append((self.lines, detail[:160]))

    def unknown_name(self, name: str) -> None:
        # Free text is a valid verb (Asterisk's QueueLog() app): a file of distinct ones must not
        # grow this counter without bound, nor keep a megabyte-long "verb".
        if len(name) > UNKNOWN_NAME_CHARS:
            name = name[:UNKNOWN_NAME_CHARS] + "…"
        unknown = self.unknown
        if name not in unknown and len(unknown) >= MAX_UNKNOWN_NAMES:
            name = OTHER_UNKNOWN
        unknown[name] += 1


def lines_of(text: str) -> list[str]:
    """The lines of a block of text read from a file, without their newlines: split on "\n"
    only (str.splitlines would also split on \x1c, \x85, \u2028 ... that a caller id or pause
    reason may carry); a last line without its newline is a line, the empty rest after the
    last newline is not."""
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()
    return lines


def time_problem(ts: float, latest: float) -> str | None:
    """Why `ts` (epoch seconds) is no time an event can have, or None; `latest` is the
    parser's clock plus FUTURE_SLACK."""
    if EARLIEST <= ts <= latest:
        return None
    if isinstance(ts, float) and not math.isfinite(ts):  # a whole number (JSON) is always finite
        return "bad time"
    return "time before 2000" if ts < EARLIEST else "time in the future"


def duration_problem(seconds: float) -> str | None:
    """Why `seconds` is no wait, talk or ring time, or None."""
    if 0.0 <= seconds <= MAX_DURATION:
        return None
    if isinstance(seconds, float) and not math.isfinite(seconds):
        return "duration not finite"
    return "negative duration" if seconds < 0 else "duration over a week"


def clean_text(event: Event) -> list[str]:
    """Repairs the event's text fields in place (see the module's rules); returns one flag
    per repair, empty when nothing needed one. Raises Malformed for a NUL byte or a lone
    surrogate in any of them."""
    flags: list[str] = []
    for name, limit in TEXT_LIMITS.items():
        value: str | None = getattr(event, name)
        if value is None:
            continue
        repaired = len(flags)
        if not value.isprintable():  # a cheap test that lets almost every text through
            if "\x00" in value:
                raise Malformed("NUL bytes", f"in {name}")
            if not value.isascii() and _SURROGATE.search(value):
                raise Malformed("lone surrogates", f"in {name}")
            if name in CLEANED_FIELDS:
                value, controls = _CONTROL.subn(_REPLACEMENT, value)
                if controls:
                    flags.append(f"control characters in {name}")
        if len(value) > limit:
            value = value[:limit]
            flags.append(f"{name} cut to {limit} characters")
        if len(flags) > repaired:
            setattr(event, name, value)
    return flags


def breakdown(counts: Mapping[str, int], limit: int = 5) -> str:
    """ " [3 time in the future, 1 negative duration]": the most frequent reasons first;
    empty when there are none."""
    if not counts:
        return ""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    parts = [f"{n} {why}" for why, n in ranked[:limit]]
    if len(ranked) > limit:
        parts.append(f"{sum(n for _, n in ranked[limit:])} other")
    return f" [{', '.join(parts)}]"
