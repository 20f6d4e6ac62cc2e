"""Reading the callers waiting now and their markers (wallboard/calls/waiting.py judges them).

Cheap enough for every board read (each second): the open calls by their partial index
(ix_calls_open), then the markers of their callers in four indexed reads whatever their
number (tickets.callers.caller_marks), and with a `MarksCache` (the BoardReader's) only of
the callers new to the list or whose markers aged. Measured in
tests/benchmarks/waiting_callers.py.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from db.models import Call, table_of
from tickets.caller_records import CallerMarks, usable_caller
from tickets.callers import caller_marks
from wallboard.calls.waiting import WaitingRow
from wallboard.config import Settings
from wallboard.store.metrics import WAITING_HORIZON_SECONDS

CALLS = table_of(Call)


# A caller's markers are read again after this many seconds (a new flag or complaint shows
# within it); a caller new to the list is read at once.
MARKS_MAX_AGE_SECONDS = 15.0


class MarksCache:
    """The markers of the callers waiting, kept MARKS_MAX_AGE_SECONDS: each board read then
    reads only the callers who joined the list and those whose markers aged (a few a second
    with 100 waiting), not all of them. Not thread-safe: one board read at a time (the
    BoardReader's lock)."""

    def __init__(self, max_age: float = MARKS_MAX_AGE_SECONDS) -> None:
        self.max_age = max_age
        self._marks: dict[str, tuple[float, CallerMarks]] = {}

    def get(self, connection: Connection, settings: Settings, callers: set[str], now: float) -> dict[str, CallerMarks]:
        found = {c: e[1] for c in callers if (e := self._marks.get(c)) is not None and 0 <= now - e[0] < self.max_age}
        missing = callers - found.keys()
        if missing:
            read = _read_marks(connection, settings, missing, now)
            for caller in missing:
                marks = read.get(caller, CallerMarks(caller))
                self._marks[caller] = (now, marks)
                found[caller] = marks
        for gone in self._marks.keys() - callers:  # no longer waiting
            del self._marks[gone]
        return found


def _read_marks(connection: Connection, settings: Settings, callers: set[str], now: float) -> dict[str, CallerMarks]:
    with Session(bind=connection) as session:
        return caller_marks(session, settings, callers, now)


_c = CALLS.c
# Read each second: built once (a select built each time costs more than the read).
_WAITING_READ = select(_c.queue, _c.callid, _c.caller, _c.enter_at).where(
    # The partial index's own condition, as a literal (SQLite uses a partial index only
    # then), and the horizon the queue snapshot counts with (wallboard/store/metrics.py)
    # as `+enter_at`: no index on it, so SQLite reads the few open calls by the partial
    # index rather than the day's calls by ix_calls_enter_at (PostgreSQL reads it alike).
    text("calls.outcome = 'waiting'"),
    text("+calls.enter_at > :horizon"),
)


def read_waiting(
    connection: Connection, settings: Settings, now: float, marks: MarksCache | None = None
) -> tuple[WaitingRow, ...]:
    """The open calls with their callers' markers (`marks`: kept between reads)."""
    rows = connection.execute(_WAITING_READ, {"horizon": now - WAITING_HORIZON_SECONDS}).all()
    if not rows:
        return ()
    callers = {row.caller for row in rows if row.caller is not None and usable_caller(row.caller)}
    found = (
        marks.get(connection, settings, callers, now)
        if marks is not None
        else _read_marks(connection, settings, callers, now)
    )
    return tuple(
        WaitingRow(
            queue=row.queue,
            callid=row.callid,
            caller=row.caller,
            enter_at=row.enter_at,
            marks=found.get(row.caller) if row.caller is not None else None,
        )
        for row in rows
    )
