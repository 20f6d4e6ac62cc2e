"""The complaint desk's changes, pushed to the SSH sessions instead of each session polling.

Each session's desk (tickets/ui/desk.py) shows its user's inbox (role, unread count, new
notifications) and the caller on the user's line. Polling those every 2 s from every
session cost ~2.7 ms of the server's CPU per call: 50 sessions, ~13 % of a core, for mostly
nothing new. Instead the server looks once for all the signed-in users (`DeskWatch.look`:
a handful of indexed reads, whatever the number of sessions), each second and at once when
the call data or a desk's write changed something, and nudges only the sessions whose user
has something new: `i` for the inbox, `c` for the caller on the line (wallboard/ssh/link.py);
those sessions read it as before, over their link. A session with nothing new costs nothing.

What a look sees, per user: role and active (users), unread count (the partial index of
unread notifications), the newest notification's id (the id range since the last look:
O(new rows)), the agent's current call (agents; the user's agent found as
`tickets.queries.agent_of` finds it). The caller panel also shows the caller's flags,
complaints and call-backs: a new caller flag event, or a desk write through any session,
nudges the users on a call too. Writes by other processes to a caller's complaints while on
the call reach the panel by the desk's slow safety poll (tickets/ui/desk.py).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, func, select
from sqlmodel import col

from db.callers import CallerFlagEvent
from db.complaints import User
from db.models import Agent
from db.reminders import Notification
from tickets.queries import (
    acd_names,
    match_agent,  # as agent_of matches: one rule
)
from tickets.user_desk import QUALITY_READS, READS, UserDesk
from wallboard.config import Settings
from wallboard.ssh.link import CALLER_NUDGE, INBOX_NUDGE

# The desk's calls that write nothing: any other call through a session's link may change
# what a caller panel shows (a complaint, a call-back, a flag), so the users on a call are
# told to read theirs again.
DESK_READS = READS | QUALITY_READS
# An unmatched user (no agent of that name yet) is matched again against every agent's name
# at most this often: an agent row appears when the agent first logs in to a queue.
REMATCH_SECONDS = 30.0


class InboxMark(NamedTuple):
    role: str
    active: bool
    unread: int
    newest_id: int


class CallerMark(NamedTuple):
    callid: str | None
    # While on a call: what else a caller panel shows moved (a flag event, a desk's write).
    flags: int
    writes: int


@dataclass
class _Watcher:
    user: str
    send: Callable[[bytes], None]
    inbox: InboxMark | None = None
    caller: CallerMark | None = None


class DeskWatch:
    """The signed-in users' desks, looked at once for all of them. `watch` and `nudge_changed`
    run on the server's loop, `look` in a worker thread (it reads the database); one look at
    a time (the caller's job: wallboard/ssh/front_door.py)."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock
        self._watchers: dict[int, _Watcher] = {}
        self._ids = itertools.count(1)
        self.looks = 0  # looks at the database done (tests wait on it)
        self.writes = 0  # desk writes through any session's link
        # The look's own memory (its thread's only).
        self._newest_seen: int | None = None  # the newest notification id at the last look
        self._newest_of: dict[int, int] = {}  # user id -> their newest notification's id
        self._agents: dict[str, str] = {}  # user -> their agent row's name
        self._matched_at: dict[str, float] = {}  # user -> when last matched against every agent

    def watch(self, user: str, send: Callable[[bytes], None]) -> int:
        """Nudge `send` when `user`'s desk changes (the first look nudges it too: it may
        have read before the look began). Returns a handle for `forget`."""
        handle = next(self._ids)
        self._watchers[handle] = _Watcher(user, send)
        return handle

    def forget(self, handle: int) -> None:
        self._watchers.pop(handle, None)

    def users(self) -> list[str]:
        return sorted({w.user for w in self._watchers.values()})

    def written(self) -> None:
        """A desk wrote (a complaint, a call-back, a flag...): caller panels may show it."""
        self.writes += 1

    def look(self, users: Iterable[str]) -> dict[str, tuple[InboxMark, CallerMark]]:
        """In a worker thread: each user's inbox and caller marks now (an unknown user has none)."""
        names = sorted(set(users))
        if not names:
            return {}
        with self.engine.connect() as connection:
            marks = self._read(connection, names)
        self.looks += 1
        return marks

    def _read(self, connection: Connection, names: list[str]) -> dict[str, tuple[InboxMark, CallerMark]]:
        users = connection.execute(
            select(col(User.id), col(User.name), col(User.role), col(User.active)).where(col(User.name).in_(names))
        ).all()
        ids = [int(user_id or 0) for user_id, _, _, _ in users]
        unread = dict(
            connection.execute(
                select(col(Notification.user_id), func.count())
                .where(col(Notification.user_id).in_(ids), col(Notification.read_at).is_(None))
                .group_by(col(Notification.user_id))
            ).all()
        )
        newest = connection.execute(select(func.max(col(Notification.id)))).scalar() or 0
        if self._newest_seen is not None and newest > self._newest_seen:
            # What arrived since the last look: the id range, O(new rows).
            for user_id, top in connection.execute(
                select(col(Notification.user_id), func.max(col(Notification.id)))
                .where(col(Notification.id) > self._newest_seen)
                .group_by(col(Notification.user_id))
            ):
                self._newest_of[int(user_id)] = int(top or 0)
        for user_id in ids:
            if user_id not in self._newest_of or self._newest_seen is None:
                # A user first seen: their newest by the (user_id, id) index.
                self._newest_of[user_id] = int(
                    connection.execute(
                        select(func.max(col(Notification.id))).where(col(Notification.user_id) == user_id)
                    ).scalar()
                    or 0
                )
        self._newest_seen = newest
        flags = connection.execute(select(func.max(col(CallerFlagEvent.id)))).scalar() or 0
        calls = self._current_calls(connection, [name for _, name, _, _ in users])
        writes = self.writes
        marks: dict[str, tuple[InboxMark, CallerMark]] = {}
        for user_id, (_, name, role, active) in zip(ids, users):
            callid = calls.get(name)
            marks[name] = (
                InboxMark(role, bool(active), int(unread.get(user_id, 0)), self._newest_of.get(user_id, 0)),
                CallerMark(callid, flags if callid else 0, writes if callid else 0),
            )
        return marks

    def _current_calls(self, connection: Connection, users: list[str]) -> dict[str, str | None]:
        """Each user's agent's current call id (None: on no call, or no agent)."""
        now = self.clock()
        wanted: dict[str, list[str]] = {}  # user -> the names their agent may have
        for user in users:
            if user not in self._agents:
                wanted[user] = acd_names(self.settings, user)
        if wanted:
            names = [name for candidates in wanted.values() for name in candidates]
            exact = set(connection.execute(select(col(Agent.name)).where(col(Agent.name).in_(names))).scalars())
            every: list[str] | None = None
            for user, candidates in wanted.items():
                found = next((n for n in candidates if n in exact), None)
                if found is None and now - self._matched_at.get(user, -REMATCH_SECONDS) >= REMATCH_SECONDS:
                    self._matched_at[user] = now
                    if every is None:
                        every = list(connection.execute(select(col(Agent.name))).scalars())
                    found = match_agent(candidates, every)
                if found is not None:
                    self._agents[user] = found
        agents = {self._agents[user] for user in users if user in self._agents}
        current = dict(
            connection.execute(
                select(col(Agent.name), col(Agent.current_callid)).where(col(Agent.name).in_(sorted(agents)))
            ).all()
        )
        return {user: current.get(self._agents[user]) if user in self._agents else None for user in users}

    def nudge_changed(self, marks: dict[str, tuple[InboxMark, CallerMark]]) -> int:
        """On the loop, with a look's marks: nudge each session whose user's desk changed
        since it was last nudged (or never was); how many were."""
        nudged = 0
        for watcher in list(self._watchers.values()):
            mark = marks.get(watcher.user)
            if mark is None:
                continue
            inbox, caller = mark
            what = (INBOX_NUDGE if inbox != watcher.inbox else b"") + (
                CALLER_NUDGE if caller != watcher.caller else b""
            )
            watcher.inbox, watcher.caller = inbox, caller
            if what:
                watcher.send(what)
                nudged += 1
        return nudged


class WatchedDesk:
    """A session's `UserDesk` as its link serves it: the same calls, and after any call that
    may write (not in DESK_READS), `written()` (from the link's worker thread)."""

    def __init__(self, desk: UserDesk, written: Callable[[], None]) -> None:
        self._desk, self._written = desk, written
        self.REMOTE = desk.REMOTE

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._desk, name)
        if name in DESK_READS or not callable(call):
            return call

        def wrote(*args: Any, **kwargs: Any) -> Any:
            try:
                return call(*args, **kwargs)
            finally:
                self._written()

        return wrote
