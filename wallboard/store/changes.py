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
  data_version` on a connection of its own (a few microseconds: it reads no table). Any
  commit by any other connection moves data_version (a lease renewal, a complaint, a
  session's log row), so only when it moved is the counter read (the header, page 1: no
  table), and only a new counter wakes the reader. On Linux the watch sleeps on inotify
  (`FileWatch`: the database's folder, for writes to its files) and looks when a file was
  written, again shortly after (a commit's last step, the WAL index in shared memory, makes
  no event), and every 0.25 s in case an event never comes (a file system that sends none);
  elsewhere it looks every 50 ms. An idle board wakes 4 times a second, not 20.
The board's app reads when told (and still, slowly, when not: `[board]
fallback_read_seconds`), and the SSH server tells its sessions over their nudge sockets, at
most one nudge per `NUDGE_GAP_SECONDS` (`relay_changes`, wallboard/ssh/front_door.py). See
docs/ARCHITECTURE.md, Live call data.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import os
import select
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from db.engine import after_commit

log = logging.getLogger(__name__)

CHANNEL = "wallboard_board"
SQLITE_CHECK_SECONDS = 0.05  # how often PRAGMA data_version is looked at (no inotify)
WATCHED_CHECK_SECONDS = 0.25  # how often with inotify, in case an event never comes
# After a write to the database's files with no new counter yet: a commit makes its WAL
# frames visible in the WAL index (shared memory, which makes no event) just after writing
# them, or, on a loaded machine, once the writer is scheduled again: look again after these
# pauses (10, 30, 70, 150 ms after the last write).
RECHECK_SECONDS = (0.01, 0.02, 0.04, 0.08)
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
        self._wakeup_fds: set[int] = set()  # written to on each change: for readers in select()

    def notify(self) -> None:
        with self._condition:
            self.version += 1
            self._condition.notify_all()
            for fd in self._wakeup_fds:
                with contextlib.suppress(OSError):  # full: the reader has a byte to wake on already
                    os.write(fd, b"\0")

    def add_wakeup_fd(self, fd: int) -> None:
        with self._condition:
            self._wakeup_fds.add(fd)

    def remove_wakeup_fd(self, fd: int) -> None:
        with self._condition:
            self._wakeup_fds.discard(fd)

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


# inotify(7): the events that say a file in the folder was written, made, renamed or removed.
_IN_MODIFY, _IN_CLOSE_WRITE, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x2, 0x8, 0x80, 0x100, 0x200
_EVENT_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len (then len bytes of name)


class FileWatch:
    """Linux inotify on a SQLite database's folder: `fd` is readable once any of the
    database's files (the database, its -wal, its -journal) was written since the last
    `written()`. Other files in the folder are read past."""

    def __init__(self, database: Path) -> None:
        self.name = os.fsencode(database.name)
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        mask = _IN_MODIFY | _IN_CLOSE_WRITE | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
        if libc.inotify_add_watch(fd, os.fsencode(database.parent), mask) < 0:
            error = ctypes.get_errno()
            os.close(fd)
            raise OSError(error, f"inotify_add_watch {database.parent}")
        self.fd = fd

    def written(self) -> bool:
        """Whether any of the database's files changed since the last call (reads every event)."""
        found = False
        while True:
            try:
                data = os.read(self.fd, 16384)
            except BlockingIOError:
                return found
            offset = 0
            while offset + _EVENT_HEADER.size <= len(data):
                _, _, _, length = _EVENT_HEADER.unpack_from(data, offset)
                start = offset + _EVENT_HEADER.size
                name = data[start : start + length].rstrip(b"\0")
                offset = start + length
                # An overflow (no name) may have hidden one of ours.
                found = found or not name or name == self.name or name.startswith(self.name + b"-")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _database_file(engine: Engine) -> Path | None:
    """The file of a SQLite engine's database (None: in memory, or not a plain path)."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).resolve()
    return path if path.is_file() else None


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
        # SQLite on Linux: inotify on the database's folder, and a pipe the in-process signal
        # and `close` wake the select on (made by the consumer's thread at its first wait).
        self._files: FileWatch | None = None
        self._wakeup: tuple[int, int] | None = None
        self._files_tried = False
        self._rechecks = 0  # looks still due after a write (RECHECK_SECONDS), the counter read the same
        self._wakeup_lock = threading.Lock()
        self._waiting = False  # the consumer is inside `wait` (`close` then leaves its files to it)

    def wait(self, timeout: float) -> bool:
        """True as soon as the call data changed since the last call; False after `timeout`."""
        with self._wakeup_lock:
            self._waiting = True
        try:
            return self._wait(timeout)
        finally:
            with self._wakeup_lock:
                self._waiting = False
                if self._closed:
                    self._close_files()

    def _wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if self._closed:
            self._close_all()
            return False
        if self.kind == "postgresql":
            return self._wait_notified(deadline)
        if not self._files_tried and not self._closed:
            self._files_tried = True
            self._watch_files()
        if self._files is not None and self._wakeup is not None:
            return self._wait_watched(deadline, self._files, self._wakeup[0])
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
        self._close_all()
        return False

    @property
    def watching_files(self) -> bool:
        """Whether it sleeps on inotify (SQLite on Linux) rather than looking every 50 ms."""
        return self._files is not None

    def _watch_files(self) -> None:
        """inotify on the database's folder where there is one (Linux, a database file)."""
        database = _database_file(self.engine)
        if database is None or not sys.platform.startswith("linux"):
            return
        try:
            files = FileWatch(database)
        except (OSError, AttributeError) as exc:  # AttributeError: a libc without inotify
            log.info("no inotify on %s (%s): looking every %g s", database.parent, exc, SQLITE_CHECK_SECONDS)
            return
        read, write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        with self._wakeup_lock:
            self._files, self._wakeup = files, (read, write)
        self.signal.add_wakeup_fd(write)

    def _wait_watched(self, deadline: float, files: FileWatch, wakeup: int) -> bool:
        if self._counter is None:
            self._sqlite_changed()  # what "changed" is measured from
        while not self._closed:
            version = self.signal.version
            if version != self._seen_local:
                self._seen_local = version
                self._sqlite_changed()  # take in the new data_version and counter too
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            rechecks = self._rechecks
            pause = RECHECK_SECONDS[-rechecks] if rechecks else WATCHED_CHECK_SECONDS
            ready, _, _ = select.select([files.fd, wakeup], [], [], min(left, pause))
            if wakeup in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(wakeup, 4096)
            written = files.fd in ready and files.written()
            if written or not ready:  # written, or a pause without any event: look
                if self._sqlite_changed():
                    self._rechecks = 0
                    return True
                # Written and no new counter (yet): look again shortly, for a commit whose
                # WAL index was not updated yet when it woke us.
                self._rechecks = len(RECHECK_SECONDS) if written else max(0, rechecks - 1)
        self._close_all()
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

    def _close_all(self) -> None:
        """The connection (the consumer's thread), the inotify watch and the wake-up pipe."""
        self._close_connection()
        with self._wakeup_lock:
            self._close_files()

    def _close_files(self) -> None:
        """Close the inotify watch and the wake-up pipe (with `_wakeup_lock` held)."""
        files, self._files = self._files, None
        if files is not None:
            files.close()
        wakeup, self._wakeup = self._wakeup, None
        if wakeup is not None:
            self.signal.remove_wakeup_fd(wakeup[1])
            for fd in wakeup:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def close(self) -> None:
        """Stop; the consumer's thread closes the connection (a sqlite3 connection belongs to
        its thread) when it returns from or next calls `wait`. A consumer asleep in `wait` is
        woken; the inotify watch and its pipe are closed here when none is."""
        self._closed = True
        with self._wakeup_lock:
            if not self._waiting:
                self._close_files()
            elif self._wakeup is not None:
                with contextlib.suppress(OSError):  # full: it has a byte to wake on already
                    os.write(self._wakeup[1], b"\0")


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
