"""Pushed updates (wallboard/store/changes.py): a reader learns that the call data changed
when the writer commits, from another process's connection or its own, on SQLite and on
PostgreSQL; and the board app reads then, not at its slow fallback read."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from db import open_database
from db.engine import write_transaction
from tests.support import BACKENDS, on_backend
from tests.support.floor_seed import seed_floor
from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K
from wallboard.server.runtime import local_app
from wallboard.store import changes
from wallboard.store.applier import EventApplier
from wallboard.store.changes import ChangeSignal, ChangeWatch


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
