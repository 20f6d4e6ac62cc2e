"""Failed log-ins counted per source address; too many shut the address out for a while."""

from __future__ import annotations

import logging
import logging.handlers
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger("wallboard.ssh")

MAX_TRACKED_ADDRESSES = 10_000

# What of the server's own environment a session's TUI process keeps (the operator's
# settings, but not the database's: the process has none); everything the terminal
# decides comes from the client, below.


class FailureLimiter:
    """Failed logins per source address: `limit` of them within `window` seconds shut the
    address out for `block` seconds."""

    def __init__(self, limit: int, window: float, block: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.block, self.clock = limit, window, block, clock
        self._failures: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}

    def blocked(self, address: str) -> bool:
        until = self._blocked.get(address)
        if until is None:
            return False
        if self.clock() < until:
            return True
        del self._blocked[address]
        return False

    def failure(self, address: str) -> bool:
        """Count one; True when this one shuts the address out."""
        now = self.clock()
        times = self._failures.setdefault(address, deque())
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(self._failures) > MAX_TRACKED_ADDRESSES:
            self._forget(now)
        if len(times) >= self.limit and self.block > 0:
            self._blocked[address] = now + self.block
            times.clear()
            return True
        return False

    def _forget(self, now: float) -> None:
        for address in [a for a, t in self._failures.items() if not t or t[-1] <= now - self.window]:
            del self._failures[address]
        for address in [a for a, until in self._blocked.items() if until <= now]:
            del self._blocked[address]
