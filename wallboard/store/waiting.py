"""Reading the callers waiting now and their markers (wallboard/calls/waiting.py judges them).

Cheap enough for every board read (each second): the open calls by their partial index
(ix_calls_open), then the markers of their callers in four indexed reads whatever their
number (tickets.callers.caller_marks). Measured in tests/benchmarks/wallboard.py.
"""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from db.models import Call, table_of
from tickets.caller_records import usable_caller
from tickets.callers import caller_marks
from wallboard.calls.waiting import WaitingRow
from wallboard.config import Settings
from wallboard.store.metrics import WAITING_HORIZON_SECONDS

CALLS = table_of(Call)


def read_waiting(connection: Connection, settings: Settings, now: float) -> tuple[WaitingRow, ...]:
    """The open calls with their callers' markers."""
    c = CALLS.c
    rows = connection.execute(
        select(c.queue, c.callid, c.caller, c.enter_at)
        # As the queue snapshot counts them (wallboard/store/metrics.py): the two agree.
        .where(c.outcome == "waiting", c.enter_at > now - WAITING_HORIZON_SECONDS)
    ).all()
    if not rows:
        return ()
    with Session(bind=connection) as session:
        marks = caller_marks(session, settings, (row.caller for row in rows), now)
    return tuple(
        WaitingRow(
            queue=row.queue,
            callid=row.callid,
            caller=row.caller,
            enter_at=row.enter_at,
            marks=marks.get(row.caller) if row.caller is not None and usable_caller(row.caller) else None,
        )
        for row in rows
    )
