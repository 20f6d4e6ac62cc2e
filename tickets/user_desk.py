"""What one signed-in user's screens ask of the complaint tracker, with that user bound in.

The TUI's complaint screens call nothing else: in the all-in-one process they call a
`UserDesk` directly; in an SSH session's process they call the server's `UserDesk` for the
session's user over the session link (wallboard/ssh/link.py), so a session can neither
choose whom it acts as nor reach any other function. Every write goes through the
`ComplaintService` (permissions, transitions, audit); reads a display user may not make,
and the overview for anyone but a supervisor, are refused here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from sqlalchemy import Engine

from tickets import reminders
from tickets.errors import PermissionDenied
from tickets.permissions import Role
from tickets.queries import current_or_last_call, inbox_state, open_by_owner
from tickets.records import PAGE, CallInfo, ComplaintInfo, InboxState, NotificationInfo, OwnerLoad, UserInfo
from tickets.service import ComplaintService
from tickets.users import get_user, list_users


class UserDesk:
    """The complaint calls of `user`. Only the names in REMOTE may be called over a link."""

    REMOTE = frozenset(
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
            "create",
            "acknowledge",
            "start",
            "wait",
            "resume",
            "resolve",
            "close",
            "reopen",
            "assign",
            "add_follow_up",
            "record_outcome",
            "update_details",
            "flag_malicious",
            "clear_malicious",
            "escalate",
        }
    )

    def __init__(
        self,
        engine: Engine,
        settings,
        user: str,
        clock: Callable[[], float] = time.time,
        service: ComplaintService | None = None,
    ) -> None:
        self.engine = engine
        self.user = user
        self.clock = clock
        self.service = service or ComplaintService(engine, settings, clock)
        self.settings = settings

    def _reader(self, *, supervisor: bool = False) -> UserInfo:
        """The user, if they may read complaints (a supervisor, for `supervisor`)."""
        info = get_user(self.engine, self.user)
        if not info.active:
            raise PermissionDenied(f"{info.name} has been removed and may not act")
        if info.role == Role.DISPLAY:
            raise PermissionDenied(f"{info.name} is a display user: the wallboard only, no complaints")
        if supervisor and info.role != Role.SUPERVISOR:
            raise PermissionDenied(f"{info.name} ({info.role}): the overview is for supervisors")
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

    def call_for_new_complaint(self) -> tuple[CallInfo | None, list[ComplaintInfo]]:
        """The user's current or last call, and the caller's earlier flagged complaints."""
        self._reader()
        call = current_or_last_call(self.engine, self.settings, self.user, self.clock())
        flags = self.service.caller_flags(call.caller) if call is not None and call.caller else []
        return call, flags

    def complaint(self, ref: str, with_users: bool = False) -> tuple[ComplaintInfo, list[str], list[str] | None]:
        """The complaint, what this user may do to it now, and (with_users) who may own it."""
        self._reader()
        info = self.service.get(ref)
        intents = self.service.allowed_intents(ref, self.user)
        users = [u.name for u in list_users(self.engine) if u.role != Role.DISPLAY] if with_users else None
        return info, intents, users

    def view(self, view: str, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        self._reader()
        return self.service.view(view, self.user, now=self.clock(), limit=limit, offset=offset)

    def search(self, text: str, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        self._reader()
        return self.service.search(text, limit=limit, offset=offset)

    def overview(self, views: Iterable[str], limit: int) -> tuple[list[OwnerLoad], dict[str, list[ComplaintInfo]]]:
        """Open complaints per owner, and the first `limit` of each view: supervisors only."""
        self._reader(supervisor=True)
        now = self.clock()
        loads = open_by_owner(self.engine, self.service.calendar, now)
        return loads, {view: self.service.view(view, now=now, limit=limit) for view in views}

    def owned_by(self, owner: str | None, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        """One owner's open complaints (None: the unassigned ones), most urgent first: a row
        of the overview opened; supervisors only."""
        self._reader(supervisor=True)
        if owner is None:
            return self.service.view("unassigned", now=self.clock(), limit=limit, offset=offset)
        return self.service.list(owner=owner, now=self.clock(), limit=limit, offset=offset)

    # -- changing them (the service checks permission and transition) ------------------------

    def create(self, **fields) -> ComplaintInfo:
        return self.service.create(self.user, **fields)

    def acknowledge(self, ref: str, **fields) -> ComplaintInfo:
        return self.service.acknowledge(ref, self.user, **fields)

    def start(self, ref: str, **fields) -> ComplaintInfo:
        return self.service.start(ref, self.user, **fields)

    def wait(self, ref: str, **fields) -> ComplaintInfo:
        return self.service.wait(ref, self.user, **fields)

    def resume(self, ref: str, **fields) -> ComplaintInfo:
        return self.service.resume(ref, self.user, **fields)

    def resolve(self, ref: str, **fields) -> ComplaintInfo:
        return self.service.resolve(ref, self.user, **fields)

    def close(self, ref: str, **fields) -> ComplaintInfo:
        return self.service.close(ref, self.user, **fields)

    def reopen(self, ref: str, **fields) -> ComplaintInfo:
        return self.service.reopen(ref, self.user, **fields)

    def assign(self, ref: str, **fields) -> ComplaintInfo:
        return self.service.assign(ref, self.user, **fields)

    def add_follow_up(self, ref: str, **fields) -> ComplaintInfo:
        return self.service.add_follow_up(ref, self.user, **fields)

    def record_outcome(self, ref: str, follow_up_id: int, **fields) -> ComplaintInfo:
        return self.service.record_outcome(ref, follow_up_id, self.user, **fields)

    def update_details(self, ref: str, **fields) -> ComplaintInfo:
        return self.service.update_details(ref, self.user, **fields)

    def flag_malicious(self, ref: str, **fields) -> ComplaintInfo:
        return self.service.flag_malicious(ref, self.user, **fields)

    def clear_malicious(self, ref: str, **fields) -> ComplaintInfo:
        return self.service.clear_malicious(ref, self.user, **fields)

    def escalate(self, ref: str, level: int, **fields) -> ComplaintInfo:
        return self.service.escalate(ref, level, actor=self.user, **fields)
