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
from wallboard.store.metrics import FEEDS


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
                written = time.monotonic()
                await wait_async(lambda: app.reads > reads and app.board and _reason_of(app, "Maria Garcia"), 30)
                assert time.monotonic() - written < 5.0, "read when written, not at the 600 s fallback"
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
