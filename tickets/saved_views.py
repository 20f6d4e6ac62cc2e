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

from sqlalchemy import Connection, Engine, Row, delete, func, insert, or_, select, update

from db import tables
from db.engine import write_transaction
from tickets.errors import InvalidInput, NotFound, PermissionDenied
from tickets.permissions import Role, actor_refusal
from tickets.queries import ComplaintQueries, ComplaintSelect, user_id_of
from tickets.records import SEVERITIES, View, choice
from tickets.statuses import Status
from tickets.text import clean
from tickets.view_records import NAME_CHARS, SEARCH_CHARS, SORTS, SavedViewInfo, ViewFilter

# Core tables, not the SQLModel classes: `ticket list --view NAME` reads a saved view on the
# complaint list's read path, which starts without SQLModel, pydantic or the ORM.
VIEWS = tables.saved_views
VIEW_EVENTS = tables.saved_view_events
USERS = tables.users

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


def view_query(filters: ViewFilter, queries: ComplaintQueries, now: float) -> ComplaintSelect:
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
        with self.engine.connect() as connection:
            me = user_id_of(connection, user)
            rows = connection.execute(
                select(VIEWS, USERS.c.name.label("owner"))
                .join(USERS, USERS.c.id == VIEWS.c.owner_id)
                .where(or_(VIEWS.c.owner_id == me, VIEWS.c.shared.is_(True)))
                .order_by(VIEWS.c.owner_id != me, VIEWS.c.name, VIEWS.c.id)
            ).all()
            return [self._info(view, view.owner, me) for view in rows]

    def get(self, user: str, name: str) -> SavedViewInfo:
        """The user's own view of this name, else a shared one."""
        wanted = (name or "").strip().lower()
        for info in self.list_for(user):
            if info.name.lower() == wanted:
                return info
        raise NotFound(f"no saved view {name!r}")

    def query(self, user: str, name: str, queries: ComplaintQueries, now: float) -> ComplaintSelect:
        return view_query(self.get(user, name).filters, queries, now)

    # -- changes -------------------------------------------------------------------------

    def save(self, user: str, name: str, filters: dict[str, Any] | ViewFilter) -> SavedViewInfo:
        """Save (or change) the user's own view of this name."""
        name = view_name(name)
        view_filter = filters if isinstance(filters, ViewFilter) else parse_filter(filters)
        text = json.dumps(view_filter.as_dict(), sort_keys=True)
        now = self.clock()
        with write_transaction(self.engine) as connection:
            me = self._actor(connection, user)
            view = self._own(connection, me.id, name, missing_ok=True)
            if view is None:
                count = connection.scalar(select(func.count(VIEWS.c.id)).where(VIEWS.c.owner_id == me.id)) or 0
                if count >= MAX_OWN_VIEWS:
                    raise InvalidInput(f"at most {MAX_OWN_VIEWS} saved views each: delete one first")
                view_id: int = connection.execute(
                    insert(VIEWS)
                    .values(owner_id=me.id, name=name, filters=text, shared=False, created_at=now, updated_at=now)
                    .returning(VIEWS.c.id)
                ).scalar_one()
                action = "saved"
            else:
                view_id = view.id
                connection.execute(
                    update(VIEWS).where(VIEWS.c.id == view_id).values(filters=text, updated_at=now, name=name)
                )
                action = "changed"
            stored = self._view(connection, view_id)
            self._audit(connection, stored, me.id, action, now)
            return self._info(stored, me.name, me.id)

    def delete(self, user: str, name: str) -> None:
        """Delete the user's own view (a shared one goes for everyone)."""
        now = self.clock()
        with write_transaction(self.engine) as connection:
            me = self._actor(connection, user)
            view = self._own(connection, me.id, name)
            assert view is not None
            self._audit(connection, view, me.id, "deleted", now)
            connection.execute(delete(VIEWS).where(VIEWS.c.id == view.id))

    def share(self, user: str, name: str, shared: bool = True) -> SavedViewInfo:
        """Share the user's own view with the floor (or stop): supervisors only."""
        now = self.clock()
        with write_transaction(self.engine) as connection:
            me = self._actor(connection, user)
            if me.role != Role.SUPERVISOR:
                raise PermissionDenied(f"{me.name} ({me.role}): sharing a view with the floor is for supervisors")
            view = self._own(connection, me.id, name)
            assert view is not None
            if view.shared != shared:
                connection.execute(update(VIEWS).where(VIEWS.c.id == view.id).values(shared=shared, updated_at=now))
                view = self._view(connection, view.id)
                self._audit(connection, view, me.id, "shared" if shared else "unshared", now)
            return self._info(view, me.name, me.id)

    def history(self, user: str, name: str) -> list[dict[str, Any]]:
        """The audit trail of the user's own view (or a deleted one's, by its last name)."""
        with self.engine.connect() as connection:
            me = user_id_of(connection, user)
            rows = connection.execute(
                select(VIEW_EVENTS)
                .where(VIEW_EVENTS.c.actor_id == me, VIEW_EVENTS.c.name == name)
                .order_by(VIEW_EVENTS.c.id)
            )
            return [
                {"at": e.at, "action": e.action, "name": e.name, "filters": json.loads(e.filters), "view_id": e.view_id}
                for e in rows
            ]

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _actor(connection: Connection, name: str) -> Row[*tuple[Any, ...]]:
        """The acting user's id, name, role; refused when removed."""
        user = connection.execute(
            select(USERS.c.id, USERS.c.name, USERS.c.role, USERS.c.active).where(USERS.c.name == name)
        ).first()
        if user is None:
            raise NotFound(f"no user {name!r}")
        reason = actor_refusal(user.name, user.role, user.active)
        if reason:
            raise PermissionDenied(reason)
        return user

    @staticmethod
    def _own(
        connection: Connection, owner_id: int, name: str, *, missing_ok: bool = False
    ) -> Row[*tuple[Any, ...]] | None:
        wanted = (name or "").strip().lower()
        for view in connection.execute(select(VIEWS).where(VIEWS.c.owner_id == owner_id)):
            if view.name.lower() == wanted:
                return view
        if missing_ok:
            return None
        raise NotFound(f"you have no saved view {name!r}")

    @staticmethod
    def _view(connection: Connection, view_id: int) -> Row[*tuple[Any, ...]]:
        return connection.execute(select(VIEWS).where(VIEWS.c.id == view_id)).one()

    @staticmethod
    def _audit(connection: Connection, view: Row[*tuple[Any, ...]], actor_id: int, action: str, now: float) -> None:
        connection.execute(
            insert(VIEW_EVENTS).values(
                view_id=view.id, at=now, actor_id=actor_id, action=action, name=view.name, filters=view.filters
            )
        )

    @staticmethod
    def _info(view: Row[*tuple[Any, ...]], owner: str, me: int) -> SavedViewInfo:
        return SavedViewInfo(
            id=view.id,
            name=view.name,
            owner=owner,
            shared=bool(view.shared),
            mine=view.owner_id == me,
            filters=parse_filter(json.loads(view.filters)),
            updated_at=view.updated_at,
        )
