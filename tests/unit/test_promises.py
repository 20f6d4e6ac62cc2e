"""The promises tile: open promises to customers read with the board's rows (due later
today, overdue, the oldest overdue), judged against [thresholds]; on SQLite and PostgreSQL."""

from __future__ import annotations

import pickle

import pytest
from sqlalchemy import text

from db.complaints import OPEN_PROMISE_SQL
from tests.support import BACKENDS, on_backend
from tests.support.floor_seed import NOW, seed_promises
from tests.support.floor_seed import PROMISES_TONIGHT as MIDNIGHT
from tickets.records import PROMISE_KINDS
from wallboard.calls.board import PromiseCounts, evaluate
from wallboard.calls.levels import ALERT, NONE, OK, WARN
from wallboard.store.board_reader import read_promises, read_rows

HOUR = 3600.0


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


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
