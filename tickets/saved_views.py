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
from tickets.view_records import SavedViewInfo, ViewFilter, view_name

# Views one user may keep (their own), so a session cannot fill the table.
MAX_OWN_VIEWS = 50


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
        view_filter = filters if isinstance(filters, ViewFilter) else ViewFilter.of(filters)
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
            filters=ViewFilter.of(json.loads(view.filters)),
            updated_at=view.updated_at,
        )
