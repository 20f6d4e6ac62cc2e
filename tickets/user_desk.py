"""What one signed-in user's screens ask of the complaint tracker, with that user bound in.

The TUI's complaint screens call nothing else: in the all-in-one process they call a
`UserDesk` directly; in an SSH session's process they call the server's `UserDesk` for the
session's user over the session link (wallboard/ssh/link.py), so a session can neither
choose whom it acts as nor reach any other function. Every write is an intent of the
table (tickets/intents.py) carried out by its `ComplaintService` method (permissions,
transitions, audit); reads a display user may not make, and the overview for anyone but a
supervisor, are refused here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from tickets import reminders
from tickets.caller_records import CallerFlagInfo, CallerView, usable_caller
from tickets.callers import CallerService
from tickets.errors import PermissionDenied
from tickets.intents import METHODS
from tickets.permissions import Role, actor_refusal, overview_refusal
from tickets.queries import ComplaintQueries, current_or_last_call, inbox_state, open_by_owner
from tickets.records import PAGE, CallInfo, ComplaintInfo, InboxState, NotificationInfo, OwnerLoad, UserInfo
from tickets.service import ComplaintService
from tickets.users import get_user, list_users

if TYPE_CHECKING:
    from wallboard.config import Settings

# The desk's reads (methods below); its writes are the intents' service methods.
READS = frozenset(
    {
        "whoami",
        "inbox",
        "notifications",
        "mark_read",
        "call_for_new_complaint",
        "complaint",
        "view",
        "search",
        "overview",
        "owned_by",
        "caller_on_call",
        "flag_caller",
    }
)


class UserDesk:
    """The complaint calls of `user`. Only the names in REMOTE may be called over a link:
    the reads below, and each intent's service method with the user as its actor."""

    REMOTE = READS | METHODS

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        user: str,
        clock: Callable[[], float] = time.time,
        service: ComplaintService | None = None,
    ) -> None:
        self.engine = engine
        self.user = user
        self.clock = clock
        self.service = service or ComplaintService(engine, settings, clock)
        self.queries: ComplaintQueries = self.service.queries
        self.settings = settings
        self.callers = CallerService(engine, settings, clock)

    def __getattr__(self, name: str) -> Callable[..., ComplaintInfo]:
        """An intent's service method with this user as its actor (the service checks
        permission and transition): `desk.acknowledge(ref, note=...)`."""
        if name not in METHODS:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        method = getattr(self.service, name)

        def act(*args: Any, **fields: Any) -> ComplaintInfo:
            result: ComplaintInfo = method(*args, actor=self.user, **fields)
            return result

        act.__name__ = name
        return act

    def _reader(self, *, supervisor: bool = False) -> UserInfo:
        """The user, if they may read complaints (a supervisor, for `supervisor`)."""
        info = get_user(self.engine, self.user)
        reason = actor_refusal(info.name, info.role, info.active)
        if reason is None and supervisor:
            reason = overview_refusal(info.name, info.role)
        if reason is not None:
            raise PermissionDenied(reason)
        return info

    # -- who, and the inbox ----------------------------------------------------------------

    def whoami(self) -> UserInfo:
        return get_user(self.engine, self.user)

    def inbox(self, after_id: int | None) -> InboxState:
        return inbox_state(self.engine, self.user, after_id)

    def notifications(self, limit: int) -> list[NotificationInfo]:
        return reminders.notifications_for(self.engine, self.user, limit=limit)

    def mark_read(self, ids: Iterable[int] | None) -> int:
        return reminders.mark_read(self.engine, self.user, ids, self.clock())

    # -- reading complaints ----------------------------------------------------------------

    def call_for_new_complaint(self) -> tuple[CallInfo | None, list[CallerFlagInfo]]:
        """The user's current or last call, and the caller's active flags (their own, and
        those of their earlier complaints flagged malicious)."""
        self._reader()
        call = current_or_last_call(self.engine, self.settings, self.user, self.clock())
        if call is None or not usable_caller(call.caller):
            return call, []
        return call, self.callers.flags(caller=call.caller)

    def complaint(self, ref: str, with_users: bool = False) -> tuple[ComplaintInfo, list[str], list[str] | None]:
        """The complaint, what this user may do to it now, and (with_users) who may own it."""
        self._reader()
        info = self.queries.get(ref)
        intents = self.queries.allowed_intents(ref, self.user)
        users = [u.name for u in list_users(self.engine) if u.role != Role.DISPLAY] if with_users else None
        return info, intents, users

    def view(self, view: str, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        self._reader()
        return self.queries.view(view, self.user, now=self.clock(), limit=limit, offset=offset)

    def search(self, text: str, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        self._reader()
        return self.queries.search(text, limit=limit, offset=offset)

    def overview(self, views: Iterable[str], limit: int) -> tuple[list[OwnerLoad], dict[str, list[ComplaintInfo]]]:
        """Open complaints per owner, and the first `limit` of each view: supervisors only."""
        self._reader(supervisor=True)
        now = self.clock()
        loads = open_by_owner(self.engine, self.service.calendar, now)
        return loads, {view: self.queries.view(view, now=now, limit=limit) for view in views}

    def owned_by(self, owner: str | None, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        """One owner's open complaints (None: the unassigned ones), most urgent first: a row
        of the overview opened; supervisors only."""
        self._reader(supervisor=True)
        if owner is None:
            return self.queries.view("unassigned", now=self.clock(), limit=limit, offset=offset)
        return self.queries.matching(owner=owner, now=self.clock(), limit=limit, offset=offset)

    # -- callers ---------------------------------------------------------------------------

    def caller_on_call(self) -> CallerView | None:
        """The caller this user is connected to now: recent calls, open complaints,
        call-backs and flags (None: on no call, or the caller is withheld)."""
        self._reader()
        return self.callers.caller_on_call(self.user)

    def flag_caller(self, caller: str, *, reason: str) -> CallerFlagInfo:
        """Flag a caller abusive or malicious as this user (a supervisor's flag is confirmed)."""
        return self.callers.flag(caller, self.user, reason=reason)
