"""The promises tile: open promises to customers read with the board's rows (due later
today, overdue, the oldest overdue), judged against [thresholds]; on SQLite and PostgreSQL."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from db.complaints import OPEN_PROMISE_SQL
from tests.support import BACKENDS, Clock, on_backend
from tests.support.floor_seed import NOW
from tickets import users
from tickets.records import PROMISE_KINDS
from tickets.service import ComplaintService
from wallboard.calls.board import PromiseCounts, evaluate
from wallboard.calls.levels import ALERT, NONE, OK, WARN
from wallboard.store.board_reader import read_promises, read_rows

HOUR = 3600.0
MIDNIGHT = datetime(2026, 11, 24, tzinfo=UTC).timestamp()  # the end of NOW's day (14:00 UTC)


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


def seed_promises(engine, settings) -> None:
    """At the floor's 14:00: two promises overdue (by 2 h and by 10 min), one due tonight,
    one tomorrow; a kept one, one on a complaint since resolved (still owed), and an
    overdue corrective action (not a promise to the customer)."""
    users.add_user(engine, "ann", "agent")
    clock = Clock(NOW - 5 * HOUR)
    svc = ComplaintService(engine, settings, clock)
    ref = svc.create("ann", customer="Mrs Jones", contact="0207", subject="Refund", description="Late.").ref
    for due in (NOW - 2 * HOUR, NOW - 600, NOW + 2 * HOUR, MIDNIGHT + HOUR):
        svc.add_follow_up(ref, "ann", due_at=due, note="Call back")
    svc.add_follow_up(ref, "ann", due_at=NOW - HOUR, note="Coach", kind="coaching")
    kept = svc.add_follow_up(ref, "ann", due_at=NOW - 3 * HOUR, note="Call back", kind="action").follow_ups[-1]
    svc.record_outcome(ref, kept.id, "ann", outcome="done", note="Called")
    other = svc.create("ann", customer="Mr Li", contact="0208", subject="Fee", description="Wrong.").ref
    svc.add_follow_up(other, "ann", due_at=NOW - 30 * 60, note="Send the refund", kind="action")
    svc.acknowledge(other, "ann")
    svc.start(other, "ann")
    svc.resolve(other, "ann", resolution="Refunded", root_cause="process")


def test_open_promises_are_counted_with_the_boards_rows(engine, settings):
    seed_promises(engine, settings)
    with engine.connect() as connection:
        assert read_promises(connection, settings, NOW) == PromiseCounts(
            read_at=NOW, due_today=1, overdue=3, oldest_overdue_due_at=NOW - 2 * HOUR
        )
        # After midnight the one due tomorrow is today's; all the others are overdue.
        tomorrow = read_promises(connection, settings, MIDNIGHT + 60)
        assert (tomorrow.due_today, tomorrow.overdue) == (1, 4)
        rows = read_rows(connection, settings, NOW)
    # The rows travel to an SSH session's process pickled, promises and all.
    assert pickle.loads(pickle.dumps(rows)).promises == rows.promises
    tile = evaluate(rows, settings, NOW).promises
    assert tile is not None
    assert (tile.due_today, tile.overdue, tile.oldest_overdue) == (1, 3, 2 * HOUR)
    # 3 overdue: amber (from 1; red from 5); oldest 2 h: red (from 120 min): the tile is red.
    assert tile.levels == {"overdue": WARN, "oldest_overdue": ALERT} and tile.level == ALERT
    # Judged again a minute later without a read, the oldest has aged.
    later = evaluate(rows, settings, NOW + 60).promises
    assert later is not None and later.oldest_overdue == 2 * HOUR + 60


def test_no_promises_is_green(engine, settings):
    with engine.connect() as connection:
        tile = evaluate(read_rows(connection, settings, NOW), settings, NOW).promises
    assert tile is not None and (tile.due_today, tile.overdue, tile.oldest_overdue) == (0, 0, None)
    assert tile.level == OK


def test_thresholds_come_from_config(settings):
    th = settings.thresholds
    th.promises_overdue_amber, th.promises_overdue_red = 2, 3
    th.promise_oldest_overdue_amber_minutes, th.promise_oldest_overdue_red_minutes = 10, 20
    from wallboard.calls.levels import promise_levels

    assert promise_levels(th, overdue=1, oldest_overdue=5 * 60) == {"overdue": OK, "oldest_overdue": OK}
    assert promise_levels(th, overdue=2, oldest_overdue=10 * 60) == {"overdue": WARN, "oldest_overdue": WARN}
    assert promise_levels(th, overdue=3, oldest_overdue=20 * 60) == {"overdue": ALERT, "oldest_overdue": ALERT}
    assert NONE not in promise_levels(th, overdue=0, oldest_overdue=None).values()


def test_the_literal_names_the_promise_kinds():
    assert OPEN_PROMISE_SQL == f"outcome IS NULL AND kind IN ({', '.join(repr(k) for k in PROMISE_KINDS)})"


def test_sqlite_reads_the_promises_through_their_partial_index(engine, settings):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan")
    with engine.connect() as connection:
        plan = " ".join(
            str(row[-1])
            for row in connection.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT count(*), min(due_at) FROM follow_ups "
                    f"WHERE {OPEN_PROMISE_SQL} AND due_at < :end"
                ),
                {"end": MIDNIGHT},
            )
        )
    assert "ix_follow_ups_open_promise_due" in plan and "COVERING" in plan
