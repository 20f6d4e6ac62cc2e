"""Saved views of one's own: a filter and sort of the complaint list under a name.

A user saves the filter (`/` search text, statuses, owner, severities, overdue, the time
received) and the sort under a name, sees it as a tab beside the seven fixed views, and
deletes it; a supervisor may share theirs with the floor (every user sees it, only its owner
changes it). Every change is one row of `saved_view_events` with the filter as it was.
A name is looked up among one's own views first, then among the shared ones.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, Select, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from db.complaints import Complaint, User
from db.engine import read_session, write_session
from db.saved_views import SavedView, SavedViewEvent
from tickets.errors import InvalidInput, NotFound, PermissionDenied
from tickets.permissions import Role, actor_refusal
from tickets.queries import ComplaintQueries, user_by_name
from tickets.records import SEVERITIES, View, choice
from tickets.statuses import Status
from tickets.text import clean
from tickets.view_records import NAME_CHARS, SEARCH_CHARS, SORTS, SavedViewInfo, ViewFilter

# Views one user may keep (their own), so a session cannot fill the table.
MAX_OWN_VIEWS = 50


def parse_filter(values: dict[str, Any] | None) -> ViewFilter:
    """A filter from plain values (a session's, the CLI's, the database's JSON), each
    checked: InvalidInput names the first that is wrong."""
    values = dict(values or {})
    unknown = sorted(set(values) - {f for f in ViewFilter.__dataclass_fields__})
    if unknown:
        raise InvalidInput(f"a view has no filter {unknown[0]!r}")
    search = values.get("search")
    search = clean(search, "search", required=False) or None
    if search is not None and len(search) > SEARCH_CHARS:
        raise InvalidInput(f"search: at most {SEARCH_CHARS} characters")
    statuses = tuple(choice(s, tuple(Status), "status") for s in _strings(values.get("statuses"), "statuses"))
    severities = tuple(choice(s, SEVERITIES, "severity") for s in _strings(values.get("severities"), "severities"))
    every_status = _flag(values.get("every_status"), "every_status")
    if every_status and statuses:
        raise InvalidInput("every status, or some statuses: not both")
    owner = clean(values.get("owner"), "owner", required=False) or None
    created_from = _time(values.get("created_from"), "created_from")
    created_to = _time(values.get("created_to"), "created_to")
    if created_from is not None and created_to is not None and created_to <= created_from:
        raise InvalidInput("the date range must end after it starts")
    sort = values.get("sort")
    return ViewFilter(
        search=search,
        statuses=statuses,
        every_status=every_status,
        owner=owner,
        severities=severities,
        overdue=_flag(values.get("overdue"), "overdue"),
        created_from=created_from,
        created_to=created_to,
        sort=choice(sort, SORTS, "sort") if sort is not None else None,
    )


def _strings(value: object, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value) or len(value) > 20:
        raise InvalidInput(f"{what}: a list of names")
    return list(value)


def _flag(value: object, what: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(f"{what}: true or false")
    return value


def _time(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e11:
        raise InvalidInput(f"{what}: a time")
    return float(value)


def view_name(name: object) -> str:
    """A view's name: one line, 1 to NAME_CHARS characters, not a fixed view's."""
    cleaned = clean(name if isinstance(name, str) or name is None else str(name), "name") or ""
    if len(cleaned) > NAME_CHARS:
        raise InvalidInput(f"a view's name has at most {NAME_CHARS} characters")
    if cleaned.lower().replace("-", "_").replace(" ", "_") in {v.value for v in View}:
        raise InvalidInput(f"{cleaned!r} is a fixed view: choose another name")
    return cleaned


def view_query(filters: ViewFilter, queries: ComplaintQueries, now: float) -> Select[Complaint]:
    """The complaints a view's filter matches, in its order."""
    return queries.matching_query(
        owner=filters.owner,
        statuses=list(filters.statuses) or None,
        every_status=filters.every_status,
        overdue=filters.overdue,
        search=filters.search,
        created_from=filters.created_from,
        created_to=filters.created_to,
        now=now,
        severities=list(filters.severities) or None,
        sort=filters.sort,
    )


class SavedViews:
    """The saved views of every user; each call names the user acting."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    # -- reads ---------------------------------------------------------------------------

    def list_for(self, user: str) -> list[SavedViewInfo]:
        """The user's own views, then those shared by others, each by name."""
        with read_session(self.engine) as session:
            me = self._user(session, user)
            rows = session.execute(
                select(SavedView, col(User.name))
                .join(User, col(User.id) == col(SavedView.owner_id))
                .where(or_(col(SavedView.owner_id) == me.id, col(SavedView.shared).is_(True)))
                .order_by(col(SavedView.owner_id) != me.id, col(SavedView.name), col(SavedView.id))
            ).all()
            return [self._info(view, owner, me) for view, owner in rows]

    def get(self, user: str, name: str) -> SavedViewInfo:
        """The user's own view of this name, else a shared one."""
        wanted = (name or "").strip().lower()
        for info in self.list_for(user):
            if info.name.lower() == wanted:
                return info
        raise NotFound(f"no saved view {name!r}")

    def query(self, user: str, name: str, queries: ComplaintQueries, now: float) -> Select[Complaint]:
        return view_query(self.get(user, name).filters, queries, now)

    # -- changes -------------------------------------------------------------------------

    def save(self, user: str, name: str, filters: dict[str, Any] | ViewFilter) -> SavedViewInfo:
        """Save (or change) the user's own view of this name."""
        name = view_name(name)
        view_filter = filters if isinstance(filters, ViewFilter) else parse_filter(filters)
        text = json.dumps(view_filter.as_dict(), sort_keys=True)
        now = self.clock()
        with write_session(self.engine) as session:
            me = self._actor(session, user)
            view = self._own(session, me, name, missing_ok=True)
            if view is None:
                count = (
                    session.scalar(select(func.count(col(SavedView.id))).where(col(SavedView.owner_id) == me.id)) or 0
                )
                if count >= MAX_OWN_VIEWS:
                    raise InvalidInput(f"at most {MAX_OWN_VIEWS} saved views each: delete one first")
                view = SavedView(owner_id=me.id or 0, name=name, filters=text, created_at=now, updated_at=now)
                action = "saved"
            else:
                view.filters, view.updated_at, view.name = text, now, name
                action = "changed"
            session.add(view)
            session.flush()
            self._audit(session, view, me, action, now)
            return self._info(view, me.name, me)

    def delete(self, user: str, name: str) -> None:
        """Delete the user's own view (a shared one goes for everyone)."""
        now = self.clock()
        with write_session(self.engine) as session:
            me = self._actor(session, user)
            view = self._own(session, me, name)
            assert view is not None
            self._audit(session, view, me, "deleted", now)
            session.delete(view)

    def share(self, user: str, name: str, shared: bool = True) -> SavedViewInfo:
        """Share the user's own view with the floor (or stop): supervisors only."""
        now = self.clock()
        with write_session(self.engine) as session:
            me = self._actor(session, user)
            if me.role != Role.SUPERVISOR:
                raise PermissionDenied(f"{me.name} ({me.role}): sharing a view with the floor is for supervisors")
            view = self._own(session, me, name)
            assert view is not None
            if view.shared != shared:
                view.shared, view.updated_at = shared, now
                session.add(view)
                self._audit(session, view, me, "shared" if shared else "unshared", now)
            return self._info(view, me.name, me)

    def history(self, user: str, name: str) -> list[dict[str, Any]]:
        """The audit trail of the user's own view (or a deleted one's, by its last name)."""
        with read_session(self.engine) as session:
            me = self._user(session, user)
            rows = session.execute(
                select(SavedViewEvent)
                .where(col(SavedViewEvent.actor_id) == me.id, col(SavedViewEvent.name) == name)
                .order_by(col(SavedViewEvent.id))
            ).scalars()
            return [
                {"at": e.at, "action": e.action, "name": e.name, "filters": json.loads(e.filters), "view_id": e.view_id}
                for e in rows
            ]

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _user(session: Session, name: str) -> User:
        return user_by_name(session, name)

    @staticmethod
    def _actor(session: Session, name: str) -> User:
        user = user_by_name(session, name)
        reason = actor_refusal(user.name, user.role, user.active)
        if reason:
            raise PermissionDenied(reason)
        return user

    @staticmethod
    def _own(session: Session, me: User, name: str, *, missing_ok: bool = False) -> SavedView | None:
        wanted = (name or "").strip().lower()
        for view in session.scalars(select(SavedView).where(col(SavedView.owner_id) == me.id)):
            if view.name.lower() == wanted:
                return view
        if missing_ok:
            return None
        raise NotFound(f"you have no saved view {name!r}")

    @staticmethod
    def _audit(session: Session, view: SavedView, me: User, action: str, now: float) -> None:
        session.add(
            SavedViewEvent(
                view_id=view.id or 0, at=now, actor_id=me.id or 0, action=action, name=view.name, filters=view.filters
            )
        )

    @staticmethod
    def _info(view: SavedView, owner: str, me: User) -> SavedViewInfo:
        return SavedViewInfo(
            id=view.id or 0,
            name=view.name,
            owner=owner,
            shared=view.shared,
            mine=view.owner_id == me.id,
            filters=parse_filter(json.loads(view.filters)),
            updated_at=view.updated_at,
        )
