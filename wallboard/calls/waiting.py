"""The callers waiting now, as the board shows them: queue, position, wait, the caller's
number masked ([callers] mask_keep_first/last), and what the floor should know about them
(a repeat caller, open complaints with the most urgent one, open call-backs, a flag).

Pure: no database (wallboard/store/waiting.py reads the rows), no Textual.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tickets.caller_records import CONFIRMED, CallerMarks, usable_caller
from wallboard.calls.levels import ALERT, NONE, WARN
from wallboard.config import Settings

# A 5,000-digit "number" still fits its column: at most this many stars stand for the hidden part.
MAX_STARS = 8
NO_CALLER = "withheld"


@dataclass(frozen=True, slots=True)
class WaitingRow:
    """An open call as read: the caller's markers are None for a withheld number."""

    queue: str
    callid: str
    caller: str | None
    enter_at: float
    marks: CallerMarks | None = None


@dataclass(frozen=True, slots=True)
class WaitingCaller:
    """One waiting caller as the board draws it (text from outside: draw it through `printable`)."""

    queue: str
    position: int  # 1: the next to be answered in that queue
    wait_seconds: float
    caller: str  # masked
    callid: str
    calls_in_window: int  # their calls within [callers] repeat_window_hours (this one included)
    repeat: bool
    open_complaints: int
    urgent_ref: str | None  # the most urgent open complaint
    urgent_state: str | None  # overdue | due | open
    open_callbacks: int
    flag_status: str | None  # flagged | confirmed | None
    flag_reason: str | None

    @property
    def level(self) -> str:
        """A flagged caller stands out most; an overdue complaint or a repeat caller warns."""
        if self.flag_status is not None:
            return ALERT
        if self.urgent_state == "overdue" or self.repeat:
            return WARN
        return NONE

    def markers(self) -> list[str]:
        """Short words for the markers, most important first."""
        words = []
        if self.flag_status is not None:
            words.append("FLAGGED" if self.flag_status == CONFIRMED else "flagged?")
        if self.repeat:
            words.append(f"{ordinal(self.calls_in_window)} call")
        if self.urgent_ref is not None:
            more = f" +{self.open_complaints - 1}" if self.open_complaints > 1 else ""
            words.append(f"{self.urgent_ref} {self.urgent_state}{more}")
        if self.open_callbacks:
            words.append(f"{self.open_callbacks} call-back{'s' if self.open_callbacks != 1 else ''}")
        return words


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def mask_caller(number: str | None, settings: Settings) -> str:
    """The number as the board shows it: 13800135678 -> 138****5678 by default. A number too
    short to keep both ends shows only its last third."""
    if number is None or not usable_caller(number):
        return NO_CALLER
    first, last = settings.callers.mask_keep_first, settings.callers.mask_keep_last
    if first == 0 and last == 0:
        return number
    if len(number) <= first + last:
        keep = len(number) // 3
        return "*" * min(MAX_STARS, len(number) - keep) + (number[-keep:] if keep else "")
    hidden = len(number) - first - last
    return number[:first] + "*" * min(MAX_STARS, hidden) + (number[-last:] if last else "")


def waiting_callers(rows: Iterable[WaitingRow], settings: Settings, now: float) -> tuple[WaitingCaller, ...]:
    """The waiting callers judged at `now`, longest wait first; positions count from the
    front of each queue (who entered it first)."""
    by_queue: dict[str, list[WaitingRow]] = {}
    for row in rows:
        by_queue.setdefault(row.queue, []).append(row)
    threshold = settings.callers.repeat_calls
    callers: list[WaitingCaller] = []
    for queue_rows in by_queue.values():
        queue_rows.sort(key=lambda r: (r.enter_at, r.callid))
        for position, row in enumerate(queue_rows, start=1):
            marks = row.marks
            urgent = marks.most_urgent if marks is not None else None
            flag = marks.flag if marks is not None else None
            callers.append(
                WaitingCaller(
                    queue=row.queue,
                    position=position,
                    wait_seconds=max(0.0, now - row.enter_at),
                    caller=mask_caller(row.caller, settings),
                    callid=row.callid,
                    calls_in_window=marks.calls_in_window if marks is not None else 0,
                    repeat=marks is not None and marks.repeat(threshold),
                    open_complaints=marks.open_complaints if marks is not None else 0,
                    urgent_ref=urgent.ref if urgent is not None else None,
                    urgent_state=urgent.due_state(now) if urgent is not None else None,
                    open_callbacks=marks.open_callbacks if marks is not None else 0,
                    flag_status=flag.status if flag is not None else None,
                    flag_reason=flag.reason if flag is not None else None,
                )
            )
    callers.sort(key=lambda c: (-c.wait_seconds, c.queue, c.position))
    return tuple(callers)


def in_queues(callers: Sequence[WaitingCaller], queues: set[str]) -> tuple[WaitingCaller, ...]:
    return tuple(c for c in callers if c.queue in queues)
