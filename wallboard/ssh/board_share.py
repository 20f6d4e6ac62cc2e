"""The board as the SSH server hands it to its sessions: read once per change, encoded once.

Every session asks for the board when nudged (the call data changed): 50 sessions, 50 asks
within a moment of each other. The `BoardReader` reads the database once for all of them
(its shared read); this wrapper also keeps that read's encoded form (pickled once, not once
per session: the link's reply carries the bytes as they are, `Encoded`), and answers an ask
for it on the server's loop (`answer_now`, wallboard/ssh/link.py) instead of a worker
thread's, while nothing changed since and it is younger than the shared read's age.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from wallboard.calls.alerts import AlertRecord
from wallboard.calls.board import BoardRows
from wallboard.calls.trend import Trend
from wallboard.ssh.link import NOT_NOW
from wallboard.store.board_reader import BoardReader


class Encoded:
    """A value pickled once: pickling it again copies the bytes, unpickling it gives the value."""

    __slots__ = ("data",)

    def __init__(self, value: object) -> None:
        self.data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def __reduce__(self) -> tuple[Callable[[bytes], object], tuple[bytes]]:
        return pickle.loads, (self.data,)


class SharedBoard:
    """`BoardReader`'s calls for the sessions' links, with the last answer kept encoded."""

    REMOTE = BoardReader.REMOTE

    def __init__(self, reader: BoardReader, share_for: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.reader, self.share_for, self.clock = reader, share_for, clock
        self.encodes = 0  # answers pickled (tests)
        self._lock = threading.Lock()
        self._generation = 0
        # The last answer without the trend: what it was made of, encoded, when, for which generation.
        self._rows: BoardRows | None = None
        self._encoded: Encoded | None = None
        self._at = -float("inf")
        self._read_generation = -1
        # The last answer with the trend (once a minute per session): encoded, by what.
        self._with_trend: tuple[BoardRows, Trend, Encoded] | None = None

    def changed(self) -> None:
        """The call data changed: the next ask reads (through the reader's shared read)."""
        self.reader.changed()  # first: whoever sees the new generation reads the new rows
        with self._lock:
            self._generation += 1

    def answer_now(self, method: str, args: Sequence[object], kwargs: Mapping[str, object]) -> object:
        """On the loop: the board without the trend as last read, if nothing changed since
        and it is young enough; else NOT_NOW (the link asks `read` in a worker thread)."""
        with_trend = kwargs.get("with_trend", args[1] if len(args) > 1 else False)
        if method != "read" or with_trend:
            return NOT_NOW
        with self._lock:
            if (
                self._encoded is None
                or self._read_generation != self._generation
                or self.clock() - self._at >= self.share_for
            ):
                return NOT_NOW
            return self._encoded

    def read(self, now: float, with_trend: bool = False) -> Encoded:
        """In a worker thread: the reader's (shared) read, encoded once per read."""
        with self._lock:
            generation = self._generation
        rows, trend = self.reader.read(now, with_trend)
        with self._lock:
            if trend is not None:
                kept = self._with_trend
                if kept is not None and kept[0] is rows and kept[1] is trend:
                    return kept[2]
                encoded = self._encode((rows, trend))
                self._with_trend = (rows, trend, encoded)
                return encoded
            if self._rows is not rows or self._encoded is None:
                self._rows, self._encoded = rows, self._encode((rows, None))
                self._at, self._read_generation = self.clock(), generation
            return self._encoded

    def _encode(self, value: tuple[BoardRows, Trend | None]) -> Encoded:
        self.encodes += 1
        return Encoded(value)

    def alerts_today(self, now: float) -> list[AlertRecord]:
        return self.reader.alerts_today(now)
