"""Pushed updates (wallboard/store/changes.py): a reader learns that the call data changed
when the writer commits, from another process's connection or its own, on SQLite and on
PostgreSQL, and only then: a feed's heartbeat or the server's lease renewal wakes nobody; the
SSH server's relay nudges once per burst; and the board app reads when told, not at its slow
fallback read."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import select

from db import open_database
from db.engine import upsert, write_transaction
from tests.support import BACKENDS, on_backend
from tests.support.floor_seed import seed_floor
from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K
from wallboard.server.runtime import local_app
from wallboard.store import changes
from wallboard.store.applier import EventApplier
from wallboard.store.changes import ChangeSignal, ChangeWatch, relay_changes
from wallboard.store.lease import Lease
from wallboard.store.metrics import FEEDS, SNAPSHOTS, refresh_snapshots


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


def pause(engine, agent: str, reason: str) -> None:
    """What a feed does: events applied in one write transaction."""
    with write_transaction(engine) as connection:
        EventApplier().apply(connection, [Event(time.time(), K.AGENT_PAUSED, agent=agent, reason=reason)])


def test_a_commit_by_another_connection_is_seen_without_the_in_process_signal(engine, settings):
    # A signal of its own: only the database can tell this watch (as in another process).
    watch = ChangeWatch(engine, signal=ChangeSignal())
    try:
        assert watch.wait(0.2) is False, "nothing written yet"
        writer = open_database(settings.database_url(), migrate=False)
        try:
            started = time.monotonic()
            write = threading.Timer(0.3, pause, (writer, "Ann", "break"))
            write.start()
            assert watch.wait(10.0) is True
            assert time.monotonic() - started < 3.0
            write.join()
            assert watch.wait(0.2) is False, "told once per change"
        finally:
            writer.dispose()
    finally:
        watch.close()
        watch.wait(0)  # closes its connection in this thread


def heartbeat(engine, name: str = "queue-log:/var/log/asterisk/queue_log") -> None:
    """What a feed with nothing new writes: its heartbeat, no call data."""
    with write_transaction(engine) as connection:
        upsert(connection, FEEDS, [{"name": name, "kind": "queue-log", "heartbeat_at": time.time()}], key=("name",))


def test_only_call_data_commits_by_another_connection_wake_the_watch(engine, settings):
    # The SQLite case this guards: any commit moves PRAGMA data_version; a heartbeat each
    # second and the lease every 2 s woke every session ~2.5 times a second.
    watch = ChangeWatch(engine, signal=ChangeSignal())
    writer = open_database(settings.database_url(), migrate=False)
    lease = Lease(writer, "other-host:1")
    try:
        assert watch.wait(0.2) is False, "nothing written yet"
        for _ in range(3):
            heartbeat(writer)
            assert lease.acquire_or_renew(time.time())
            assert watch.wait(0.3) is False, "a heartbeat and a lease renewal are no call data"
        pause(writer, "Ann", "break")
        assert watch.wait(10.0) is True, "a call-data commit wakes it"
        heartbeat(writer)
        assert watch.wait(0.3) is False, "told once per change, and not for the heartbeat after it"
    finally:
        writer.dispose()
        watch.close()
        watch.wait(0)  # closes its connection in this thread


def test_a_rolled_back_call_data_write_leaves_the_counter_alone(engine, settings):
    watch = ChangeWatch(engine, signal=ChangeSignal())
    writer = open_database(settings.database_url(), migrate=False)
    try:
        assert watch.wait(0.1) is False
        with pytest.raises(RuntimeError), write_transaction(writer) as connection:
            EventApplier().apply(connection, [Event(time.time(), K.AGENT_PAUSED, agent="Ann", reason="x")])
            raise RuntimeError("rolled back")
        heartbeat(writer)  # a commit after it, so SQLite's data_version moves
        assert watch.wait(0.3) is False, "nothing committed to the call data"
    finally:
        writer.dispose()
        watch.close()
        watch.wait(0)


GAP = 2.0  # long enough for a burst of writes on a loaded machine


def test_the_relay_calls_at_once_then_once_per_gap_for_a_burst(engine, settings):
    watch = ChangeWatch(engine, signal=ChangeSignal())  # told by the database only
    writer = open_database(settings.database_url(), migrate=False)
    calls: list[float] = []
    told = [threading.Event() for _ in range(3)]  # the first, second and third call
    running = threading.Event()
    running.set()
    watching = threading.Event()

    def on_change() -> None:
        calls.append(time.monotonic())
        told[min(len(calls), 3) - 1].set()

    def relay() -> None:
        try:
            watch.wait(0)  # where the database is now: what changes after this is news
            watching.set()
            relay_changes(watch, on_change, running.is_set, gap=GAP)
        finally:
            watch.close()
            watch.wait(0)  # its connection is closed in the thread that opened it

    relaying = threading.Thread(target=relay)
    relaying.start()
    try:
        assert watching.wait(10.0)
        pause(writer, "Ann", "first")
        changed_at = time.monotonic()
        assert told[0].wait(5.0), "the first change of a burst is passed on at once"
        assert calls[0] - changed_at < 1.0
        for n in range(5):  # the rest of the burst, well inside the gap
            pause(writer, "Ann", f"more {n}")
        assert time.monotonic() - calls[0] < GAP, "the burst took longer than the gap"
        assert told[1].wait(10.0)
        assert calls[1] - calls[0] >= GAP, "the rest of the burst waits out the gap"
        assert not told[2].wait(1.0), "one call at once, one for the rest of the burst, none after"
        assert len(calls) == 2
    finally:
        running.clear()
        relaying.join(5.0)
        writer.dispose()


def test_a_rolled_back_write_tells_nobody_in_this_process(engine):
    before = changes.LOCAL.version
    with pytest.raises(RuntimeError), write_transaction(engine) as connection:
        EventApplier().apply(connection, [Event(time.time(), K.AGENT_PAUSED, agent="Ann", reason="x")])
        raise RuntimeError("rolled back")
    assert changes.LOCAL.version == before
    pause(engine, "Ann", "lunch")
    assert changes.LOCAL.version == before + 1, "one signal per committed transaction"


def test_the_board_reads_when_the_feed_writes_not_at_its_fallback(engine, settings):
    seed_floor(engine, settings)
    settings.board.fallback_read_seconds = 600.0
    app = local_app(engine, settings, clock=time.time)

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            reads = await wait_async(lambda: app.reads, 30)
            writer = open_database(settings.database_url(), migrate=False)
            try:
                await asyncio.to_thread(pause, writer, "Maria Garcia", "pushed")
                # Read when written: far sooner than the 600 s fallback, even on a loaded machine.
                await wait_async(lambda: app.reads > reads and app.board and _reason_of(app, "Maria Garcia"), 120)
            finally:
                writer.dispose()

    asyncio.run(run())


def _reason_of(app, agent: str) -> bool:
    return any(row.name == agent and row.pause_reason == "pushed" for row in app.board.agents)


async def wait_async(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


def test_a_snapshot_refresh_that_changes_no_figure_writes_nothing_and_wakes_nobody(engine, settings):
    # A feed refreshes its snapshot each second: equal figures must not make every board
    # (and every SSH session) read again each second.
    now = seed_floor(engine, settings)
    watch = ChangeWatch(engine, signal=ChangeSignal())  # told by the database only
    local_before = changes.LOCAL.version
    try:
        assert watch.wait(0.1) is False
        for later in (1.0, 2.0):
            with write_transaction(engine) as connection:
                assert refresh_snapshots(connection, settings, now + later) is False
        assert changes.LOCAL.version == local_before
        assert watch.wait(0.3) is False, "a refresh with the same figures is no change"
        with engine.connect() as connection:
            written = set(connection.execute(select(SNAPSHOTS.c.updated_at)).scalars())
        assert written == {now}, "rows the refresh found equal were not rewritten"
        with write_transaction(engine) as connection:
            EventApplier().apply(connection, [Event(now + 3, K.CALL_ENTERED, callid="new-1", queue="sales")])
            assert refresh_snapshots(connection, settings, now + 3) is True
        assert watch.wait(10.0) is True
        with engine.connect() as connection:
            sales = connection.execute(select(SNAPSHOTS).where(SNAPSHOTS.c.queue == "sales")).mappings().one()
        assert sales["updated_at"] == now + 3 and sales["waiting"] >= 1
    finally:
        watch.close()
        watch.wait(0)


def test_the_board_reads_once_before_it_shows_a_live_feed_stale(engine, settings):
    # Heartbeats wake no reader; with a slow fallback the board's last read ages past
    # stale_after_seconds while the feed is alive. It must look again, not cry STALE.
    seed_floor(engine, settings, heartbeat_age=None)
    settings.board.fallback_read_seconds = 600.0
    settings.board.stale_after_seconds = 2
    beating = threading.Event()
    beating.set()

    def beat() -> None:
        while beating.is_set():
            heartbeat(engine, "simulator")
            time.sleep(0.1)  # a feed's pace; nothing waits on it

    beats = threading.Thread(target=beat, daemon=True)
    heartbeat(engine, "simulator")
    beats.start()
    app = local_app(engine, settings, clock=time.time)
    stale_seen: list[float] = []

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            first = await wait_async(lambda: app.reads, 30)
            # Past stale_after_seconds twice over, with no change pushed: the ticks' re-judged
            # board would be stale, so it reads instead of drawing that.
            watched_until = time.monotonic() + 5.0
            while time.monotonic() < watched_until:
                if app.view is not None and app.view.freshness.stale:
                    stale_seen.append(time.monotonic())
                await asyncio.sleep(0.05)
            assert app.reads > first, "it read again before showing stale"
            beating.clear()
            beats.join(5.0)
            await wait_async(lambda: app.view is not None and app.view.freshness.stale, 30)

    try:
        asyncio.run(run())
    finally:
        beating.clear()
    assert not stale_seen, "a live feed was shown stale"
