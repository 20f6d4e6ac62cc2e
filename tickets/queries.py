"""The complaint tracker's reads: a complaint with its trail, the saved views, search,
what a user may do to a complaint now (`ComplaintQueries`); the agent's current or last
call, the supervisor's overview of open complaints by owner, and a session's inbox poll.

No Textual here (the screens in tickets/ui/ call these through tickets/user_desk.py); no
writes (those are tickets/service.py's).

On the Core tables of db/tables.py, not the SQLModel classes: `wallboard ticket list` reads
through here and starts without importing SQLModel, pydantic or the ORM (issue 17). The
functions that take a `session` run their Core statements in the caller's ORM session
(its transaction, its flushed changes); `user_by_name` alone hands out an ORM row, for the
writers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, Engine, Row, Select, case, func, or_, select, text

from db import tables
from db.complaint_sql import OPEN_SQL, search_condition
from tickets import permissions
from tickets.errors import InvalidInput, NotFound
from tickets.intents import TABLE, Needs
from tickets.records import (
    PAGE,
    PROMISE_KINDS,
    SEVERITIES,
    CallbackInfo,
    CallInfo,
    ComplaintInfo,
    EventInfo,
    FollowUpInfo,
    InboxState,
    NotificationInfo,
    OwnerLoad,
    PromiseDue,
    View,
    choice,
    parse_ref,
)
from tickets.sla import BusinessCalendar
from tickets.statuses import Status, ref_of
from tickets.text import clean, parse_query
from tickets.view_records import SORTS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from db.complaints import Complaint, User
    from wallboard.config import Settings

COMPLAINTS = tables.complaints
USERS = tables.users
FOLLOW_UPS = tables.follow_ups
AUDIT_EVENTS = tables.audit_events
CALLBACKS = tables.callbacks
NOTIFICATIONS = tables.notifications
AGENTS = tables.agents
CALLS = tables.calls

# The complaints a list shows: a select of the complaints table's columns (`view_query`,
# `matching_query`), filtered and ordered, for `page` or the export.
ComplaintSelect = Select[*tuple[Any, ...]]

# "Last call": the newest one the agent answered within this many hours (a range over the
# calls' enter_at index: never a scan of the whole call table).
LAST_CALL_HOURS = 12.0


def acd_names(settings: Settings, user: str) -> list[str]:
    """The names `user` may have in the call data: the one set in config.toml
    ([complaints.agent_names]), else the user name itself."""
    mapped = settings.complaints.agent_names.get(user)
    return [mapped] if mapped else [user]


def match_agent(names: list[str], agents: list[str]) -> str | None:
    """The agent row for these names: exact, then ignoring case, then an interface whose
    last part is the name (SIP/ann, PJSIP/ann, Local/ann@agents)."""
    for name in names:
        if name in agents:
            return name
    folded = {a.casefold(): a for a in agents}
    for name in names:
        if name.casefold() in folded:
            return folded[name.casefold()]
    for name in names:
        for agent in agents:
            tail = agent.rsplit("/", 1)[-1].split("@", 1)[0].casefold()
            if "/" in agent and tail == name.casefold():
                return agent
    return None


def agent_of(engine: Engine, settings: Settings, user: str) -> str | None:
    """`user`'s agent row in the call data (as `current_or_last_call` matches it), or None."""
    names = acd_names(settings, user)
    with engine.connect() as connection:
        found: str | None = connection.scalar(select(AGENTS.c.name).where(AGENTS.c.name.in_(names)).limit(1))
        if found is not None:
            return found
        return match_agent(names, list(connection.scalars(select(AGENTS.c.name))))


def own_promises(
    engine: Engine, user: str, now: float, day_end: float, *, limit: int = 5
) -> tuple[int, int, tuple[PromiseDue, ...]]:
    """The open promises `user` owns due by `day_end`: how many are overdue at `now`, how
    many fall due from `now` to `day_end`, and the `limit` soonest (the overdue first).
    One range over the open follow-ups by owner and due time (ix_follow_ups_open_owner)."""
    with engine.connect() as connection:
        user_id = user_id_of(connection, user)
        mine = (
            FOLLOW_UPS.c.owner_id == user_id,
            FOLLOW_UPS.c.outcome.is_(None),
            FOLLOW_UPS.c.kind.in_(PROMISE_KINDS),
            FOLLOW_UPS.c.due_at < day_end,
        )
        due = FOLLOW_UPS.c.due_at
        overdue, due_today = connection.execute(
            select(
                func.coalesce(func.sum(case((due < now, 1), else_=0)), 0),
                func.coalesce(func.sum(case((due >= now, 1), else_=0)), 0),
            ).where(*mine)
        ).one()
        rows = connection.execute(
            select(FOLLOW_UPS.c.complaint_id, FOLLOW_UPS.c.kind, due).where(*mine).order_by(due).limit(limit)
        ).all()
    soonest = tuple(PromiseDue(ref_of(complaint_id), kind, due_at) for complaint_id, kind, due_at in rows)
    return int(overdue), int(due_today), soonest


def current_or_last_call(engine: Engine, settings: Settings, user: str, now: float) -> CallInfo | None:
    """The call `user` is on now, else the last one they answered in the past
    `LAST_CALL_HOURS`; None when the call data knows no such agent or call."""
    columns = (
        CALLS.c.callid,
        CALLS.c.queue,
        CALLS.c.caller,
        CALLS.c.agent,
        CALLS.c.enter_at,
        CALLS.c.answer_at,
        CALLS.c.end_at,
    )
    agent_columns = select(AGENTS.c.name, AGENTS.c.current_callid, AGENTS.c.current_queue)
    with engine.connect() as connection:
        names = acd_names(settings, user)
        agent_row = connection.execute(agent_columns.where(AGENTS.c.name.in_(names))).first()
        if agent_row is None:
            agent = match_agent(names, list(connection.scalars(select(AGENTS.c.name))))
            if agent is None:
                return None
            agent_row = connection.execute(agent_columns.where(AGENTS.c.name == agent)).first()
            if agent_row is None:
                return None
        agent_name, current_callid, current_queue = agent_row
        if current_callid:
            query = select(*columns).where(CALLS.c.callid == current_callid)
            if current_queue:
                query = query.where(CALLS.c.queue == current_queue)
            row = connection.execute(query.order_by(CALLS.c.enter_at.desc()).limit(1)).first()
            if row is not None:
                return CallInfo(
                    row.callid, row.queue, row.caller, agent_name, True, row.enter_at, row.answer_at, row.end_at
                )
        row = connection.execute(
            select(*columns)
            .where(
                CALLS.c.enter_at >= now - LAST_CALL_HOURS * 3600,
                CALLS.c.enter_at <= now,
                CALLS.c.agent == agent_name,
                CALLS.c.answer_at.is_not(None),
            )
            .order_by(CALLS.c.enter_at.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return CallInfo(row.callid, row.queue, row.caller, agent_name, False, row.enter_at, row.answer_at, row.end_at)


def open_by_owner(engine: Engine, calendar: BusinessCalendar, now: float) -> list[OwnerLoad]:
    """Open complaints per owner with how many are overdue, due today (site time zone),
    escalated and waiting on the customer; the most overdue owners first."""
    start, end = calendar.day_bounds(calendar.local_date(now))
    due_at = COMPLAINTS.c.due_at

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    with engine.connect() as connection:
        rows = connection.execute(
            select(
                COMPLAINTS.c.owner_id,
                func.count(),
                count(due_at < now),
                count((due_at >= start) & (due_at < end)),
                count(COMPLAINTS.c.escalation_level > 0),
                count(COMPLAINTS.c.status == Status.WAITING.value),
            )
            .where(text(OPEN_SQL))
            .group_by(COMPLAINTS.c.owner_id)
        ).all()
        names = user_names(connection, (row[0] for row in rows))
    loads = [
        OwnerLoad(names.get(owner_id) if owner_id is not None else None, *map(int, counts))
        for owner_id, *counts in rows
    ]
    return sorted(loads, key=lambda load: (-load.overdue, -load.escalated, -load.open, load.owner or ""))


def inbox_state(engine: Engine, user: str, after_id: int | None, *, limit: int = 50) -> InboxState:
    """The user's role, unread count and notifications newer than `after_id` (None: the
    first poll, which only learns where the newest one is). Three indexed reads, one
    transaction: cheap enough for every session every few seconds."""
    with engine.connect() as connection:
        row = connection.execute(select(USERS.c.id, USERS.c.role, USERS.c.active).where(USERS.c.name == user)).first()
        if row is None:
            raise NotFound(f"no user {user!r}")
        user_id, role, active = row
        mine = NOTIFICATIONS.c.user_id == user_id
        unread: int | None = connection.scalar(
            select(func.count()).select_from(NOTIFICATIONS).where(mine, NOTIFICATIONS.c.read_at.is_(None))
        )
        if after_id is None:
            newest: int = connection.scalar(select(func.max(NOTIFICATIONS.c.id)).where(mine)) or 0
            return InboxState(role, active, unread or 0, newest, ())
        notes = connection.execute(
            select(
                NOTIFICATIONS.c.id,
                NOTIFICATIONS.c.kind,
                NOTIFICATIONS.c.complaint_id,
                NOTIFICATIONS.c.text,
                NOTIFICATIONS.c.created_at,
                NOTIFICATIONS.c.read_at,
            )
            .where(mine, NOTIFICATIONS.c.id > after_id)
            .order_by(NOTIFICATIONS.c.id.desc())
            .limit(limit)
        ).all()
        new = tuple(
            NotificationInfo(
                n.id or 0,
                n.kind,
                ref_of(n.complaint_id) if n.complaint_id else None,
                n.text,
                n.created_at,
                n.read_at is not None,
            )
            for n in notes
        )
        return InboxState(role, active, unread or 0, max((n.id for n in new), default=after_id), new)


# -- complaints ---------------------------------------------------------------------------


def user_by_name(session: Session, name: str, *, what: str = "user") -> User:
    """The user's ORM row, for a writer's session (it may be changed and flushed there)."""
    from sqlmodel import col

    from db.complaints import User

    # The model's own column: the Core table's would be a second `users` in the FROM list.
    user = session.scalar(select(User).where(col(User.name) == name))
    if user is None:
        raise NotFound(f"no {what} {name!r}")
    return user


def user_id_of(reads: Connection | Session, name: str, *, what: str = "user") -> int:
    """The id of the user of this name."""
    user_id: int | None = reads.scalar(select(USERS.c.id).where(USERS.c.name == name))
    if user_id is None:
        raise NotFound(f"no {what} {name!r}")
    return user_id


def user_names(reads: Connection | Session, ids: Iterable[int | None]) -> dict[int, str]:
    """The names of these users by id (None ids skipped)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = reads.execute(select(USERS.c.id, USERS.c.name).where(USERS.c.id.in_(wanted))).all()
    return {user_id: name for user_id, name in rows if user_id is not None}


def complaint_info(
    reads: Connection | Session,
    c: Complaint | Row[*tuple[Any, ...]],
    *,
    full: bool = False,
    names: dict[int, str] | None = None,
) -> ComplaintInfo:
    """The complaint (its ORM row or a Core row of the complaints table) as handed out;
    `full`: with its audit trail (oldest first) and follow-ups."""
    if not isinstance(reads, Connection):
        # A writer's session: its pending rows (the audit of the change just made) are read
        # too, as the ORM's own queries would have flushed them (Core statements do not).
        reads.flush()
    if names is None:
        names = user_names(reads, (c.owner_id, c.created_by_id, c.updated_by_id))
    events: tuple[EventInfo, ...] = ()
    follow_ups: tuple[FollowUpInfo, ...] = ()
    if full:
        events, follow_ups = _trail(reads, c.id)

    def name_of(user_id: int | None) -> str | None:
        return names.get(user_id) if user_id is not None else None

    return ComplaintInfo(
        id=c.id or 0,
        ref=ref_of(c.id),
        status=c.status,
        owner=name_of(c.owner_id),
        version=c.version,
        severity=c.severity,
        subject=c.subject,
        description=c.description,
        customer=c.customer_name,
        contact=c.customer_contact,
        channel=c.channel,
        category=c.category,
        callid=c.callid,
        call_queue=c.call_queue,
        call_agent=c.call_agent,
        caller_number=c.caller_number,
        created_by=names.get(c.created_by_id, ""),
        created_at=c.created_at,
        updated_by=name_of(c.updated_by_id),
        updated_at=c.updated_at,
        status_changed_at=c.status_changed_at,
        acknowledged_at=c.acknowledged_at,
        resolved_at=c.resolved_at,
        closed_at=c.closed_at,
        ack_due_at=c.ack_due_at,
        resolve_due_at=c.resolve_due_at,
        sla_paused=c.sla_paused_since is not None,
        sla_due_at=c.sla_due_at,
        next_follow_up_at=c.next_follow_up_at,
        due_at=c.due_at,
        root_cause=c.root_cause,
        resolution=c.resolution,
        customer_confirmed=c.customer_confirmed,
        malicious=c.malicious,
        malicious_reason=c.malicious_reason,
        escalation_level=c.escalation_level,
        events=events,
        follow_ups=follow_ups,
    )


def _trail(
    reads: Connection | Session, complaint_id: int | None
) -> tuple[tuple[EventInfo, ...], tuple[FollowUpInfo, ...]]:
    """A complaint's audit trail (oldest first) and its follow-ups."""
    actor = USERS.alias("actor")
    events = tuple(
        EventInfo(e.id or 0, e.changeset, e.at, e.actor, e.kind, e.field, e.old, e.new, e.note, e.follow_up_id)
        for e in reads.execute(
            select(
                AUDIT_EVENTS.c.id,
                AUDIT_EVENTS.c.changeset,
                AUDIT_EVENTS.c.at,
                actor.c.name.label("actor"),
                AUDIT_EVENTS.c.kind,
                AUDIT_EVENTS.c.field,
                AUDIT_EVENTS.c.old,
                AUDIT_EVENTS.c.new,
                AUDIT_EVENTS.c.note,
                AUDIT_EVENTS.c.follow_up_id,
            )
            .outerjoin(actor, actor.c.id == AUDIT_EVENTS.c.actor_id)
            .where(
                or_(
                    AUDIT_EVENTS.c.complaint_id == complaint_id,
                    # The history of the call-back it was made from (tickets/callbacks.py).
                    AUDIT_EVENTS.c.callback_id.in_(
                        select(CALLBACKS.c.id).where(CALLBACKS.c.complaint_id == complaint_id)
                    ),
                )
            )
            .order_by(AUDIT_EVENTS.c.id)
        )
    )
    rows = reads.execute(
        select(FOLLOW_UPS).where(FOLLOW_UPS.c.complaint_id == complaint_id).order_by(FOLLOW_UPS.c.id)
    ).all()
    people = user_names(reads, (i for f in rows for i in (f.owner_id, f.created_by_id, f.outcome_by_id)))
    follow_ups = tuple(
        FollowUpInfo(
            f.id or 0,
            f.kind,
            people.get(f.owner_id, ""),
            f.due_at,
            f.note,
            people.get(f.created_by_id, ""),
            f.created_at,
            f.outcome,
            f.outcome_note,
            f.outcome_at,
            people.get(f.outcome_by_id) if f.outcome_by_id is not None else None,
        )
        for f in rows
    )
    return events, follow_ups


class ComplaintQueries:
    """The read side of the complaint tracker on one database. `clock` gives "now"."""

    def __init__(self, engine: Engine, calendar: BusinessCalendar, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.calendar = calendar
        self.clock = clock

    def get(self, ref: str | int) -> ComplaintInfo:
        """The complaint with its audit trail (oldest first) and follow-ups."""
        complaint_id = parse_ref(ref)
        with self.engine.connect() as connection:
            c = connection.execute(select(COMPLAINTS).where(COMPLAINTS.c.id == complaint_id)).first()
            if c is None:
                raise NotFound(f"no complaint {ref_of(complaint_id)}")
            return complaint_info(connection, c, full=True)

    def allowed_intents(self, ref: str | int, actor: str) -> list[str]:
        """What `actor` may do to the complaint now (the detail screen's actions), in the
        intents' order: those that may start from its status, whose other needs it meets
        (a flag to clear, an open follow-up), and that the actor is allowed."""
        with self.engine.connect() as connection:
            user = connection.execute(
                select(USERS.c.id, USERS.c.name, USERS.c.role, USERS.c.active).where(USERS.c.name == actor)
            ).first()
            if user is None:
                raise NotFound(f"no user {actor!r}")
            c = connection.execute(select(COMPLAINTS).where(COMPLAINTS.c.id == parse_ref(ref))).first()
            if c is None:
                raise NotFound(f"no complaint {ref}")
            open_owners = set(
                connection.scalars(
                    select(FOLLOW_UPS.c.owner_id).where(
                        FOLLOW_UPS.c.complaint_id == c.id, FOLLOW_UPS.c.outcome.is_(None)
                    )
                )
            )
            needs_met = {
                Needs.NOTHING: True,
                Needs.FLAGGED: c.malicious,
                Needs.NOT_FLAGGED: not c.malicious,
                Needs.OPEN_FOLLOW_UP: bool(open_owners),
            }
            return [
                it.name
                for it in TABLE
                if it.on_complaint
                and it.may_start(c.status)
                and needs_met[it.needs]
                and permissions.refusal(user, it.name, c, owns_follow_up=user.id in open_owners) is None
            ]

    def view(
        self, name: str, user: str | None = None, *, now: float | None = None, limit: int = PAGE, offset: int = 0
    ) -> list[ComplaintInfo]:
        """A saved view's page. `mine` needs the user; ordered by urgency (overdue promises
        first, then SLA time left, then severity), `due_today`/`overdue` by due time,
        `waiting` longest first, `escalated` highest level first, `all_open` newest first."""
        return self._page(self.view_query(name, user, now=now), limit, offset)

    def view_query(self, name: str, user: str | None = None, *, now: float | None = None) -> ComplaintSelect:
        """The complaints of a saved view, in its order (see `view`)."""
        try:
            view = View(name.replace("-", "_"))
        except ValueError:
            raise InvalidInput(f"no view {name!r}: one of {', '.join(v.value for v in View)}") from None
        now = self.clock() if now is None else now
        open_ = text(OPEN_SQL)
        due_at, complaint_id = COMPLAINTS.c.due_at, COMPLAINTS.c.id
        query = select(COMPLAINTS)
        if view is View.MINE:
            if not user:
                raise InvalidInput("the view 'mine' needs a user")
            owner_id = self._user_id(user)
            query = query.where(COMPLAINTS.c.owner_id == owner_id, open_).order_by(*self._urgency(now))
        elif view is View.DUE_TODAY:
            start, end = self.calendar.day_bounds(self.calendar.local_date(now))
            query = query.where(open_, due_at >= start, due_at < end).order_by(due_at, complaint_id)
        elif view is View.OVERDUE:
            query = query.where(open_, due_at < now).order_by(due_at, complaint_id)
        elif view is View.UNASSIGNED:
            query = query.where(open_, COMPLAINTS.c.owner_id.is_(None)).order_by(*self._urgency(now))
        elif view is View.WAITING:
            query = query.where(COMPLAINTS.c.status == Status.WAITING.value).order_by(
                COMPLAINTS.c.status_changed_at, complaint_id
            )
        elif view is View.ESCALATED:
            level = COMPLAINTS.c.escalation_level
            query = query.where(open_, level > 0).order_by(level.desc(), due_at.is_(None), due_at, complaint_id)
        else:
            query = query.where(open_).order_by(complaint_id.desc())
        return query

    def _user_id(self, name: str) -> int:
        with self.engine.connect() as connection:
            return user_id_of(connection, name)

    @staticmethod
    def _urgency(now: float) -> tuple[ColumnElement[Any], ...]:
        severity = case(
            {s: i for i, s in enumerate(reversed(SEVERITIES))},
            value=COMPLAINTS.c.severity,
            else_=len(SEVERITIES),
        )
        sla_due = COMPLAINTS.c.sla_due_at
        promise_overdue = case((COMPLAINTS.c.next_follow_up_at < now, 0), else_=1)
        return (promise_overdue, sla_due.is_(None), sla_due, severity, COMPLAINTS.c.id)

    def matching(
        self,
        *,
        owner: str | None = None,
        statuses: list[str] | None = None,
        overdue: bool = False,
        search: str | None = None,
        now: float | None = None,
        limit: int = PAGE,
        offset: int = 0,
    ) -> list[ComplaintInfo]:
        """Complaints matching all the filters given; without `statuses`, the open ones.
        With `search`, newest first; else by due time (none last), then newest."""
        query = self.matching_query(owner=owner, statuses=statuses, overdue=overdue, search=search, now=now)
        return self._page(query, limit, offset)

    def matching_query(
        self,
        *,
        owner: str | None = None,
        statuses: list[str] | None = None,
        every_status: bool = False,
        overdue: bool = False,
        search: str | None = None,
        created_from: float | None = None,
        created_to: float | None = None,
        now: float | None = None,
        severities: list[str] | None = None,
        sort: str | None = None,
    ) -> ComplaintSelect:
        """The complaints of `matching`, in its order; `every_status`: whatever their status
        (else the open ones unless `statuses` or `search` say), `created_from`/`created_to`:
        received in [from, to); `severities`: of these only; `sort` (one of SORTS) instead
        of that order."""
        now = self.clock() if now is None else now
        due_at, complaint_id = COMPLAINTS.c.due_at, COMPLAINTS.c.id
        query = select(COMPLAINTS)
        if statuses:
            wanted = [choice(s, tuple(Status), "status") for s in statuses]
            query = query.where(COMPLAINTS.c.status.in_(wanted))
        elif not search and not every_status:
            query = query.where(text(OPEN_SQL))
        if owner:
            query = query.where(COMPLAINTS.c.owner_id == self._user_id(owner))
        if overdue:
            query = query.where(text(OPEN_SQL), due_at < now)
        if created_from is not None:
            query = query.where(COMPLAINTS.c.created_at >= created_from)
        if created_to is not None:
            query = query.where(COMPLAINTS.c.created_at < created_to)
        if severities:
            wanted_severities = [choice(s, SEVERITIES, "severity") for s in severities]
            query = query.where(COMPLAINTS.c.severity.in_(wanted_severities))
        if search is not None:
            query = self._search_filter(query, search)
        if sort is not None:
            return query.order_by(*self._sorted(choice(sort, SORTS, "sort"), now))
        if search is not None:
            return query.order_by(complaint_id.desc())
        return query.order_by(due_at.is_(None), due_at, complaint_id.desc())

    def _sorted(self, sort: str, now: float) -> tuple[ColumnElement[Any], ...]:
        due_at, complaint_id = COMPLAINTS.c.due_at, COMPLAINTS.c.id
        if sort == "newest":
            return (complaint_id.desc(),)
        if sort == "oldest":
            return (complaint_id,)
        if sort == "urgency":
            return self._urgency(now)
        return (due_at.is_(None), due_at, complaint_id.desc())

    def search(self, query_text: str, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        """Full text over subject, description, customer, contact, resolution and every note;
        newest first. A reference (C-000123) finds that complaint."""
        query = self._search_filter(select(COMPLAINTS), query_text, newest=limit + offset)
        return self._page(query.order_by(COMPLAINTS.c.id.desc()), limit, offset)

    def _search_filter(self, query: ComplaintSelect, query_text: str, newest: int | None = None) -> ComplaintSelect:
        query_text = clean(query_text, "search") or ""
        terms = parse_query(query_text)
        if not terms:
            raise InvalidInput("search: no words to look for")
        condition = search_condition(self.engine.dialect.name, terms, newest)
        if re.fullmatch(r"C-\d{1,12}", query_text.strip(), re.IGNORECASE):
            condition = condition | (COMPLAINTS.c.id == parse_ref(query_text))
        return query.where(condition)

    def caller_flags(self, caller_number: str) -> list[ComplaintInfo]:
        """Complaints flagged malicious from this caller number (shown when they call again)."""
        query = (
            select(COMPLAINTS)
            .where(text("malicious"), COMPLAINTS.c.caller_number == caller_number)
            .order_by(COMPLAINTS.c.id.desc())
        )
        return self._page(query, PAGE, 0)

    def by_ids(self, ids: list[int]) -> list[ComplaintInfo]:
        """These complaints, in the order of `ids` (one page: the caller keeps it short)."""
        if not ids:
            return []
        found = {info.id: info for info in self._page(select(COMPLAINTS).where(COMPLAINTS.c.id.in_(ids)), len(ids), 0)}
        return [found[i] for i in ids if i in found]

    def page(self, query: ComplaintSelect, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        """The complaints of a query from `view_query` or `matching_query`, a page of them."""
        return self._page(query, limit, offset)

    def _page(self, query: ComplaintSelect, limit: int, offset: int) -> list[ComplaintInfo]:
        with self.engine.connect() as connection:
            rows = connection.execute(query.limit(limit).offset(offset)).all()
            names = user_names(connection, (i for c in rows for i in (c.owner_id, c.created_by_id, c.updated_by_id)))
            return [complaint_info(connection, c, names=names) for c in rows]


# -- call-backs (tickets/callbacks.py writes them) -----------------------------------------


def open_callbacks_for(session: Session, caller_number: str) -> list[CallbackInfo]:
    """The open call-back requests of this caller (at most one: several abandons join it),
    without their history: for the board's caller marks and the agent's view of a call."""
    from sqlmodel import col

    from db.callbacks import Callback
    from tickets.callbacks import callback_info

    rows = session.scalars(
        select(Callback).where(col(Callback.caller_number) == caller_number, text("callbacks.status = 'open'"))
    ).all()
    return [callback_info(session, cb) for cb in rows]
