"""How the board's readers learn that the call data changed, instead of reading each second.

Writers: `EventApplier.apply` and `refresh_snapshots` (only when a figure it stores changed)
call `call_data_changed(connection)` in their transaction. On PostgreSQL that is a `NOTIFY wallboard_board` (delivered at commit, to
every listening process); on SQLite it adds one to the database's `PRAGMA user_version` (the
call-data counter: a field of the file's header, committed or rolled back with the
transaction; nothing else in the project uses it, Alembic keeps its own table); in every case
the process's own readers are woken once the transaction has committed (an in-process
signal, `LOCAL`).

Readers: a `ChangeWatch` on the engine. `wait(timeout)` returns True as soon as the call data
changed since its last call:
- PostgreSQL: `LISTEN wallboard_board` on a connection of its own;
- SQLite: the in-process signal, and, for the writes of other processes, `PRAGMA
  data_version` on a connection of its own every 100 ms (a few microseconds: it reads no
  table). Any commit by any other connection moves data_version (a lease renewal, a
  complaint, a session's log row), so only when it moved is the counter read (the header,
  page 1: no table), and only a new counter wakes the reader.
The board's app reads when told (and still, slowly, when not: `[board]
fallback_read_seconds`), and the SSH server tells its sessions over their nudge sockets, at
most one nudge per `NUDGE_GAP_SECONDS` (`relay_changes`, wallboard/ssh/front_door.py). See
docs/ARCHITECTURE.md, Live call data.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, text

from db.engine import after_commit

log = logging.getLogger(__name__)

CHANNEL = "wallboard_board"
SQLITE_CHECK_SECONDS = 0.1  # how often PRAGMA data_version is looked at (10 wake-ups a second)
RECONNECT_SECONDS = 5.0
# A burst of changes (a feed's events, then its snapshot refresh, a moment later) reaches a
# relay's listeners once at once and once more at the end of this gap, not once per commit.
NUDGE_GAP_SECONDS = 0.2
# user_version is a signed 32-bit field: the counter wraps before it would overflow.
_COUNTER_MODULUS = 2**31


class ChangeSignal:
    """A counter that readers in this process wait on."""

    def __init__(self) -> None:
        self.version = 0
        self._condition = threading.Condition()

    def notify(self) -> None:
        with self._condition:
            self.version += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """The version, once it is not `seen` any more or after `timeout` seconds."""
        with self._condition:
            self._condition.wait_for(lambda: self.version != seen, timeout)
            return self.version


LOCAL = ChangeSignal()  # the call data of this process's writers


def call_data_changed(connection: Connection) -> None:
    """Inside a write transaction that changed what the board shows: tell the readers once
    it commits (every process on PostgreSQL; this process's readers on either)."""
    # PostgreSQL delivers the same notification once however often a transaction sends it;
    # after_commit keeps one callback per transaction.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    elif connection.dialect.name == "sqlite":
        # Inside the write transaction (BEGIN IMMEDIATE): no other writer can bump it between
        # the read and the write. A PRAGMA takes no bound parameter: the value is an int.
        counter = int(connection.exec_driver_sql("PRAGMA user_version").scalar_one())
        connection.exec_driver_sql(f"PRAGMA user_version = {(counter + 1) % _COUNTER_MODULUS}")
    after_commit(connection, LOCAL.notify)


class ChangeWatch:
    """Waits for a change of the call data, for one consumer thread at a time."""

    def __init__(self, engine: Engine, *, signal: ChangeSignal = LOCAL) -> None:
        self.engine = engine
        self.signal = signal
        self.kind = engine.dialect.name
        self._seen_local = signal.version
        self._connection: Any = None  # the DBAPI connection (sqlite3 or psycopg)
        self._data_version: int | None = None
        self._counter: int | None = None  # the call-data counter (PRAGMA user_version)
        self._retry_at = 0.0
        self._closed = False

    def wait(self, timeout: float) -> bool:
        """True as soon as the call data changed since the last call; False after `timeout`."""
        deadline = time.monotonic() + timeout
        if self._closed:
            self._close_connection()
            return False
        if self.kind == "postgresql":
            return self._wait_notified(deadline)
        while not self._closed:
            version = self.signal.wait(
                self._seen_local, min(SQLITE_CHECK_SECONDS, max(0.0, deadline - time.monotonic()))
            )
            if version != self._seen_local:
                self._seen_local = version
                self._sqlite_changed()  # take in the new data_version and counter too
                return True
            if self._sqlite_changed():
                return True
            if time.monotonic() >= deadline:
                return False
        self._close_connection()
        return False

    def _sqlite_changed(self) -> bool:
        connection = self._connect()
        if connection is None:
            return False
        try:
            (version,) = connection.execute("PRAGMA data_version").fetchone()
            if version == self._data_version:
                return False  # nobody else committed anything
            # Read after data_version: a commit in between moves data_version again, so the
            # next look reads the counter again and misses nothing.
            (counter,) = connection.execute("PRAGMA user_version").fetchone()
        except Exception as exc:
            self._lost(exc)
            return False
        changed = self._counter is not None and counter != self._counter
        self._data_version, self._counter = version, counter
        return changed

    def _wait_notified(self, deadline: float) -> bool:
        while not self._closed:
            left = deadline - time.monotonic()
            connection = self._connect()
            if connection is None:
                time.sleep(min(max(left, 0.0), 1.0))
                if time.monotonic() >= deadline:
                    return False
                continue
            try:
                # (psycopg takes a timeout of 0 for none at all: wait at least a little.)
                for _ in connection.notifies(timeout=max(0.01, min(left, 1.0)), stop_after=1):
                    return True
            except Exception as exc:
                self._lost(exc)
            if time.monotonic() >= deadline:
                return False
        self._close_connection()
        return False

    def _connect(self) -> Any:
        if self._connection is not None:
            return self._connection
        if time.monotonic() < self._retry_at:
            return None
        try:
            cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
            connection = self.engine.dialect.dbapi.connect(*cargs, **cparams)  # type: ignore[union-attr]  # the dialect's DBAPI module is loaded once an engine exists
            if self.kind == "postgresql":
                connection.autocommit = True
                connection.execute(f"LISTEN {CHANNEL}")
            else:
                connection.isolation_level = None  # no transaction around the pragma
        except Exception as exc:
            self._lost(exc)
            return None
        self._connection = connection
        return connection

    def _lost(self, exc: Exception) -> None:
        log.warning("watching the call data for changes failed (%s): retrying in %g s", exc, RECONNECT_SECONDS)
        self._close_connection()
        self._data_version = self._counter = None
        self._retry_at = time.monotonic() + RECONNECT_SECONDS

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def close(self) -> None:
        """Stop; the consumer's thread closes the connection (a sqlite3 connection belongs to
        its thread) when it returns from or next calls `wait`."""
        self._closed = True


def relay_changes(
    watch: ChangeWatch,
    on_change: Callable[[], None],
    running: Callable[[], bool],
    *,
    gap: float = NUDGE_GAP_SECONDS,
) -> None:
    """In the watch's thread, while `running()`: `on_change()` as soon as the call data
    changed, then at most once per `gap` seconds: the changes seen within a gap of the last
    call make one call at its end. Errors of the watch or of `on_change` are raised."""
    pending = False
    quiet_until = -math.inf  # monotonic
    while running():
        now = time.monotonic()
        if pending and now >= quiet_until:
            pending = False
            quiet_until = now + gap
            on_change()
            continue
        # While one is pending, wait out the gap; the changes seen meanwhile join it.
        if watch.wait(quiet_until - now if pending else 1.0):
            pending = True
