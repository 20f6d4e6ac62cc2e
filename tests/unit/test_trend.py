"""The trend's series: the whole day from opening, today against the same weekday last week."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import event

from tests.support.floor_seed import NOW, at, floor_events, seed_floor
from wallboard.calls.counts import QueueCounts
from wallboard.calls.levels import ALERT, NONE, OK
from wallboard.calls.trend import WEEK_SECONDS, Trend
from wallboard.store.board_reader import LastWeekCache, read_trend

DAY = 1_795_392_000.0  # a midnight (UTC)
STEP = 1800.0


def counts(queue: str, offered: int, within: int) -> QueueCounts:
    return QueueCounts(queue, offered=offered, answered=offered, answered_within_sl=within)


def test_the_series_spans_the_day_from_opening_and_sets_last_week_beside_today(settings):
    empty = QueueCounts("sales")
    # Today so far: 4 intervals (00:00-02:00), calls from 00:30; last week: calls 01:00-03:30.
    today = {"sales": (empty, counts("sales", 10, 9), counts("sales", 10, 5), counts("sales", 4, 4))}
    week = [QueueCounts("sales") for _ in range(48)]
    for i in range(2, 8):
        week[i] = counts("sales", 10, 7)
    trend = Trend(
        read_at=DAY + 3.5 * STEP,
        day_start=DAY,
        interval_seconds=STEP,
        starts=tuple(DAY + i * STEP for i in range(4)),
        counts=today,
        last_week={"sales": tuple(week)},
        day_slots=48,
    )
    series = trend.series(settings)
    # From 00:30 (the first calls of today or last week) to 03:30 (last week's last calls).
    assert series.starts == tuple(DAY + i * STEP for i in range(1, 8))
    assert series.elapsed == 3  # 00:30, 01:00, 01:30 have begun
    assert series.service_level == (90.0, 50.0, 100.0, None, None, None, None)
    assert series.levels == (OK, ALERT, OK, NONE, NONE, NONE, NONE)
    assert series.last_week == (None, 70.0, 70.0, 70.0, 70.0, 70.0, 70.0)
    assert series.target_pct == 80 and series.caption == "SL % per 30 min, target 80 %"
    assert series.queues == "all queues"
    assert trend.series(settings, ["sales"]).queues == "sales"
    assert trend.series(settings, ["nobody"]).offered == (0,) * 7  # a queue without calls: empty


def test_read_trend_reads_the_same_weekday_last_week(engine, settings):
    week_ago = [
        dataclasses.replace(e, ts=e.ts - WEEK_SECONDS, callid=e.callid and f"w{e.callid}") for e in floor_events()
    ]
    seed_floor(engine, settings, events=week_ago)
    seed_floor(engine, settings)
    with engine.connect() as connection:
        trend = read_trend(connection, settings, NOW)
    assert trend.day_slots == 48 and all(len(c) == 48 for c in trend.last_week.values())
    series = trend.series(settings)
    # Last week's 13:30 interval as today's (the same calls a week before), the day after it too.
    i = series.starts.index(at(13, 30))
    assert series.last_week[i] == pytest.approx(series.service_level[i])
    assert sum(c.offered for q in trend.last_week.values() for c in q) >= 28


def test_last_weeks_day_is_read_once_an_hour_not_with_every_trend(engine, settings):
    seed_floor(engine, settings)
    cache = LastWeekCache()
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with engine.connect() as connection:
        read_trend(connection, settings, NOW, None, cache)
        first = len(statements)
        read_trend(connection, settings, NOW + 60, None, cache)
        again = len(statements) - first
        read_trend(connection, settings, NOW + 3700, None, cache)
        later = len(statements) - first - again
    event.remove(engine, "before_cursor_execute", capture)
    assert first > again + 40  # last week's 48 intervals were read once
    assert later > again + 40  # and again after an hour
