"""Failed log-ins counted so that one person cannot shut out a whole site.

Three counts, each with its own limit within one window ([ssh] in config.toml):
- one user from one address (`max_failures`): shuts out that user from that address only, so
  the others behind the same NAT still get in;
- one user from any address (`max_user_failures`): shuts out that user;
- one address, whatever the users (`max_address_failures`, much higher): shuts out the
  address, before the SSH handshake (a flood, not a person mistyping).
A successful log-in clears its user's count from its address.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass

MAX_TRACKED = 10_000  # keys per count kept before the stale ones are dropped

USER_FROM_ADDRESS = "user from address"
USER = "user"
ADDRESS = "address"


@dataclass(frozen=True)
class ShutOut:
    """A shut-out one failure caused: of what (`scope`), who and where, for how long."""

    scope: str
    user: str | None
    address: str
    failures: int
    until: float  # on the limiter's clock

    def describe(self, block_minutes: float, window_minutes: float) -> str:
        what = {
            USER_FROM_ADDRESS: f"{self.user!r} from {self.address}",
            USER: f"user {self.user!r} from every address",
            ADDRESS: f"{self.address} (every user)",
        }[self.scope]
        return f"shut out {what} for {block_minutes:g} min after {self.failures} failed logins within {window_minutes:g} min"


class _Count:
    """Failures per key within `window` seconds; `limit` of them block the key for `block` s."""

    def __init__(self, limit: int, window: float, block: float, clock: Callable[[], float]) -> None:
        self.limit, self.window, self.block, self.clock = limit, window, block, clock
        self._failures: dict[Hashable, deque[float]] = {}
        self._blocked: dict[Hashable, float] = {}

    def blocked(self, key: Hashable) -> bool:
        until = self._blocked.get(key)
        if until is None:
            return False
        if self.clock() < until:
            return True
        del self._blocked[key]
        return False

    def failure(self, key: Hashable) -> float | None:
        """Count one; the end of the block when this one starts it."""
        now = self.clock()
        times = self._failures.setdefault(key, deque())
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(self._failures) > MAX_TRACKED or len(self._blocked) > MAX_TRACKED:
            self._forget(now)
        if len(times) >= self.limit and self.block > 0 and key not in self._blocked:
            self._blocked[key] = until = now + self.block
            times.clear()
            return until
        return None

    def clear(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def _forget(self, now: float) -> None:
        for key in [k for k, t in self._failures.items() if not t or t[-1] <= now - self.window]:
            del self._failures[key]
        for key in [k for k, until in self._blocked.items() if until <= now]:
            del self._blocked[key]


class FailureLimiter:
    """Failed log-ins per (address, user), per user and per address; see the module's doc."""

    def __init__(
        self,
        *,
        per_user_address: int,
        per_user: int,
        per_address: int,
        window: float,
        block: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window, self.block, self.clock = window, block, clock
        self._pairs = _Count(per_user_address, window, block, clock)
        self._users = _Count(per_user, window, block, clock)
        self._addresses = _Count(per_address, window, block, clock)

    def address_blocked(self, address: str) -> bool:
        """The whole address is shut out (its connections are closed before the handshake)."""
        return self._addresses.blocked(address)

    def user_blocked(self, address: str, user: str) -> str | None:
        """What shuts out this user from this address (USER_FROM_ADDRESS or USER), or None."""
        if self._pairs.blocked((address, user)):
            return USER_FROM_ADDRESS
        if self._users.blocked(user):
            return USER
        return None

    def failure(self, address: str, user: str | None) -> list[ShutOut]:
        """Count a failed log-in (as `user`, None when no name was given); the shut-outs it starts."""
        started = []
        counts: list[tuple[str, _Count, Hashable, str | None]] = [(ADDRESS, self._addresses, address, None)]
        if user is not None:
            counts[:0] = [(USER_FROM_ADDRESS, self._pairs, (address, user), user), (USER, self._users, user, user)]
        for scope, count, key, name in counts:
            until = count.failure(key)
            if until is not None:
                started.append(ShutOut(scope, name, address, count.limit, until))
        return started

    def success(self, address: str, user: str) -> None:
        """A log-in went through: its user's earlier failures from this address are forgiven."""
        self._pairs.clear((address, user))
