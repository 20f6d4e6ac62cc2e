"""The live simulator feed: warm-up to now, real-time ticks, restart without double counting."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from db.models import Agent, Call, Feed, QueueSnapshot
from tests.support import Clock
from wallboard.feeds.live import LiveSimulatorFeed

NOON = 1_795_000_000.0 - (1_795_000_000.0 % 86400) + 12 * 3600  # a day at 12:00 UTC


class TickingStop(threading.Event):
    def __init__(self, clock: Clock, ticks: int) -> None:
        super().__init__()
        self.clock, self.ticks = clock, ticks

    def wait(self, timeout=None) -> bool:
        self.clock.now += 1.0
        self.ticks -= 1
        if self.ticks <= 0:
            self.set()
        return self.is_set()


def count(engine, table, *where):
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_first_run_opens_on_a_day_in_progress(engine, settings):
    clock = Clock(NOON)
    LiveSimulatorFeed(engine, settings, clock=clock).run(TickingStop(clock, 5))
    calls = Call.__table__
    assert count(engine, calls) > 100  # two hours of warm-up at midday
    assert count(engine, Agent.__table__, Agent.__table__.c.state != "logged_out") >= 5
    with engine.connect() as connection:
        snapshots = connection.execute(select(QueueSnapshot.__table__)).all()
        feed = connection.execute(select(Feed.__table__)).one()
    assert {row.queue for row in snapshots} >= {"sales", "support", "billing"}
    # Written by the last refresh that changed a figure (one that changed nothing writes nothing).
    (updated_at,) = {row.updated_at for row in snapshots}
    assert NOON <= updated_at <= clock.now - 1
    assert sum(row.offered for row in snapshots) > 100
    assert feed.heartbeat_at >= NOON + 3 and feed.last_event_at <= clock.now


def test_restart_continues_after_the_last_event_without_double_counting(engine, settings):
    clock = Clock(NOON)
    LiveSimulatorFeed(engine, settings, clock=clock).run(TickingStop(clock, 3))
    calls = Call.__table__
    entered_before = count(engine, calls, calls.c.enter_at <= NOON)
    clock.now = NOON + 600  # ten minutes later the wallboard starts again
    LiveSimulatorFeed(engine, settings, clock=clock).run(TickingStop(clock, 3))
    # Nothing before the first run's last event was simulated twice.
    assert count(engine, calls, calls.c.enter_at <= NOON) == entered_before
    # What the first run left open was closed, not left "waiting" for ever.
    stale = count(engine, calls, calls.c.outcome.in_(["waiting", "answered"]), calls.c.enter_at < NOON)
    assert stale == 0
