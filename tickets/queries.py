"""The complaint tracker's reads: a complaint with its trail, the saved views, search,
what a user may do to a complaint now (`ComplaintQueries`); the agent's current or last
call, the supervisor's overview of open complaints by owner, and a session's inbox poll.

No Textual here (the screens in tickets/ui/ call these through tickets/user_desk.py); no
writes (those are tickets/service.py's).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, Select, case, func, or_, select, text
from sqlalchemy.orm import Mapped, Session, aliased
from sqlmodel import col

from db.callbacks import Callback
from db.complaints import OPEN_SQL, AuditEvent, Complaint, FollowUp, User, search_condition
from db.engine import read_session
from db.models import Agent, Call
from db.reminders import Notification
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
    from wallboard.config import Settings

# "Last call": the newest one the agent answered within this many hours (a range over the
# calls' enter_at index: never a scan of the whole call table).
LAST_CALL_HOURS = 12.0


def acd_names(settings: Settings, user: str) -> list[str]:
    """The names `user` may have in the call data: the one set in config.toml
    ([complaints.agent_names]), else the user name itself."""
    mapped = settings.complaints.agent_names.get(user)
    return [mapped] if mapped else [user]


def _match_agent(names: list[str], agents: list[str]) -> str | None:
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
    with read_session(engine) as session:
        found = session.scalar(select(col(Agent.name)).where(col(Agent.name).in_(names)).limit(1))
        if found is not None:
            return found
        return _match_agent(names, list(session.scalars(select(col(Agent.name)))))


def own_promises(
    engine: Engine, user: str, now: float, day_end: float, *, limit: int = 5
) -> tuple[int, int, tuple[PromiseDue, ...]]:
    """The open promises `user` owns due by `day_end`: how many are overdue at `now`, how
    many fall due from `now` to `day_end`, and the `limit` soonest (the overdue first).
    One range over the open follow-ups by owner and due time (ix_follow_ups_open_owner)."""
    with read_session(engine) as session:
        user_id = session.scalar(select(col(User.id)).where(col(User.name) == user))
        if user_id is None:
            raise NotFound(f"no user {user!r}")
        mine = (
            col(FollowUp.owner_id) == user_id,
            col(FollowUp.outcome).is_(None),
            col(FollowUp.kind).in_(PROMISE_KINDS),
            col(FollowUp.due_at) < day_end,
        )
        due = col(FollowUp.due_at)
        overdue, due_today = session.execute(
            select(
                func.coalesce(func.sum(case((due < now, 1), else_=0)), 0),
                func.coalesce(func.sum(case((due >= now, 1), else_=0)), 0),
            ).where(*mine)
        ).one()
        rows = session.execute(
            select(col(FollowUp.complaint_id), col(FollowUp.kind), due).where(*mine).order_by(due).limit(limit)
        ).all()
    soonest = tuple(PromiseDue(ref_of(complaint_id), kind, due_at) for complaint_id, kind, due_at in rows)
    return int(overdue), int(due_today), soonest


def current_or_last_call(engine: Engine, settings: Settings, user: str, now: float) -> CallInfo | None:
    """The call `user` is on now, else the last one they answered in the past
    `LAST_CALL_HOURS`; None when the call data knows no such agent or call."""
    columns = (
        col(Call.callid),
        col(Call.queue),
        col(Call.caller),
        col(Call.agent),
        col(Call.enter_at),
        col(Call.answer_at),
        col(Call.end_at),
    )
    agent_columns = select(col(Agent.name), col(Agent.current_callid), col(Agent.current_queue))
    with read_session(engine) as session:
        names = acd_names(settings, user)
        agent_row = session.execute(agent_columns.where(col(Agent.name).in_(names))).first()
        if agent_row is None:
            agent = _match_agent(names, list(session.scalars(select(col(Agent.name)))))
            if agent is None:
                return None
            agent_row = session.execute(agent_columns.where(col(Agent.name) == agent)).first()
            if agent_row is None:
                return None
        agent_name, current_callid, current_queue = agent_row
        if current_callid:
            query = select(*columns).where(col(Call.callid) == current_callid)
            if current_queue:
                query = query.where(col(Call.queue) == current_queue)
            row = session.execute(query.order_by(col(Call.enter_at).desc()).limit(1)).first()
            if row is not None:
                return CallInfo(
                    row.callid, row.queue, row.caller, agent_name, True, row.enter_at, row.answer_at, row.end_at
                )
        row = session.execute(
            select(*columns)
            .where(
                col(Call.enter_at) >= now - LAST_CALL_HOURS * 3600,
                col(Call.enter_at) <= now,
                col(Call.agent) == agent_name,
                col(Call.answer_at).is_not(None),
            )
            .order_by(col(Call.enter_at).desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return CallInfo(row.callid, row.queue, row.caller, agent_name, False, row.enter_at, row.answer_at, row.end_at)


def open_by_owner(engine: Engine, calendar: BusinessCalendar, now: float) -> list[OwnerLoad]:
    """Open complaints per owner with how many are overdue, due today (site time zone),
    escalated and waiting on the customer; the most overdue owners first."""
    start, end = calendar.day_bounds(calendar.local_date(now))
    due_at = col(Complaint.due_at)

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    with read_session(engine) as session:
        rows = session.execute(
            select(
                col(Complaint.owner_id),
                func.count(),
                count(due_at < now),
                count((due_at >= start) & (due_at < end)),
                count(col(Complaint.escalation_level) > 0),
                count(col(Complaint.status) == Status.WAITING.value),
            )
            .where(text(OPEN_SQL))
            .group_by(col(Complaint.owner_id))
        ).all()
        names = user_names(session, (row[0] for row in rows))
    loads = [
        OwnerLoad(names.get(owner_id) if owner_id is not None else None, *map(int, counts))
        for owner_id, *counts in rows
    ]
    return sorted(loads, key=lambda load: (-load.overdue, -load.escalated, -load.open, load.owner or ""))


def inbox_state(engine: Engine, user: str, after_id: int | None, *, limit: int = 50) -> InboxState:
    """The user's role, unread count and notifications newer than `after_id` (None: the
    first poll, which only learns where the newest one is). Three indexed reads, one
    transaction: cheap enough for every session every few seconds."""
    with read_session(engine) as session:
        row = session.execute(
            select(col(User.id), col(User.role), col(User.active)).where(col(User.name) == user)
        ).first()
        if row is None:
            raise NotFound(f"no user {user!r}")
        user_id, role, active = row
        mine = col(Notification.user_id) == user_id
        unread = session.scalar(
            select(func.count()).select_from(Notification).where(mine, col(Notification.read_at).is_(None))
        )
        if after_id is None:
            newest = session.scalar(select(func.max(col(Notification.id))).where(mine)) or 0
            return InboxState(role, active, unread or 0, newest, ())
        notes = session.scalars(
            select(Notification)
            .where(mine, col(Notification.id) > after_id)
            .order_by(col(Notification.id).desc())
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
    user = session.scalar(select(User).where(col(User.name) == name))
    if user is None:
        raise NotFound(f"no {what} {name!r}")
    return user


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """The names of these users by id (None ids skipped)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(col(User.id), col(User.name)).where(col(User.id).in_(wanted))).all()
    return {user_id: name for user_id, name in rows if user_id is not None}


def complaint_info(
    session: Session, c: Complaint, *, full: bool = False, names: dict[int, str] | None = None
) -> ComplaintInfo:
    """The complaint as handed out; `full`: with its audit trail (oldest first) and follow-ups."""
    if names is None:
        names = user_names(session, (c.owner_id, c.created_by_id, c.updated_by_id))
    events: tuple[EventInfo, ...] = ()
    follow_ups: tuple[FollowUpInfo, ...] = ()
    if full:
        actor = aliased(User)
        events = tuple(
            EventInfo(e.id or 0, e.changeset, e.at, name, e.kind, e.field, e.old, e.new, e.note, e.follow_up_id)
            for e, name in session.execute(
                select(AuditEvent, col(actor.name))
                .outerjoin(actor, col(actor.id) == col(AuditEvent.actor_id))
                .where(
                    or_(
                        col(AuditEvent.complaint_id) == c.id,
                        # The history of the call-back it was made from (tickets/callbacks.py).
                        col(AuditEvent.callback_id).in_(
                            select(col(Callback.id)).where(col(Callback.complaint_id) == c.id)
                        ),
                    )
                )
                .order_by(col(AuditEvent.id))
            )
        )
        rows = session.scalars(
            select(FollowUp).where(col(FollowUp.complaint_id) == c.id).order_by(col(FollowUp.id))
        ).all()
        people = user_names(session, (i for f in rows for i in (f.owner_id, f.created_by_id, f.outcome_by_id)))
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


class ComplaintQueries:
    """The read side of the complaint tracker on one database. `clock` gives "now"."""

    def __init__(self, engine: Engine, calendar: BusinessCalendar, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.calendar = calendar
        self.clock = clock

    def get(self, ref: str | int) -> ComplaintInfo:
        """The complaint with its audit trail (oldest first) and follow-ups."""
        complaint_id = parse_ref(ref)
        with read_session(self.engine) as session:
            c = session.get(Complaint, complaint_id)
            if c is None:
                raise NotFound(f"no complaint {ref_of(complaint_id)}")
            return complaint_info(session, c, full=True)

    def allowed_intents(self, ref: str | int, actor: str) -> list[str]:
        """What `actor` may do to the complaint now (the detail screen's actions), in the
        intents' order: those that may start from its status, whose other needs it meets
        (a flag to clear, an open follow-up), and that the actor is allowed."""
        with read_session(self.engine) as session:
            user = user_by_name(session, actor)
            c = session.get(Complaint, parse_ref(ref))
            if c is None:
                raise NotFound(f"no complaint {ref}")
            open_owners = set(
                session.scalars(
                    select(col(FollowUp.owner_id)).where(
                        col(FollowUp.complaint_id) == c.id, col(FollowUp.outcome).is_(None)
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

    def view_query(self, name: str, user: str | None = None, *, now: float | None = None) -> Select[Complaint]:
        """The complaints of a saved view, in its order (see `view`)."""
        try:
            view = View(name.replace("-", "_"))
        except ValueError:
            raise InvalidInput(f"no view {name!r}: one of {', '.join(v.value for v in View)}") from None
        now = self.clock() if now is None else now
        open_ = text(OPEN_SQL)
        due_at, complaint_id = col(Complaint.due_at), col(Complaint.id)
        query = select(Complaint)
        if view is View.MINE:
            if not user:
                raise InvalidInput("the view 'mine' needs a user")
            with read_session(self.engine) as session:
                owner_id = user_by_name(session, user).id
            query = query.where(col(Complaint.owner_id) == owner_id, open_).order_by(*self._urgency(now))
        elif view is View.DUE_TODAY:
            start, end = self.calendar.day_bounds(self.calendar.local_date(now))
            query = query.where(open_, due_at >= start, due_at < end).order_by(due_at, complaint_id)
        elif view is View.OVERDUE:
            query = query.where(open_, due_at < now).order_by(due_at, complaint_id)
        elif view is View.UNASSIGNED:
            query = query.where(open_, col(Complaint.owner_id).is_(None)).order_by(*self._urgency(now))
        elif view is View.WAITING:
            query = query.where(col(Complaint.status) == Status.WAITING.value).order_by(
                col(Complaint.status_changed_at), complaint_id
            )
        elif view is View.ESCALATED:
            level = col(Complaint.escalation_level)
            query = query.where(open_, level > 0).order_by(level.desc(), due_at.is_(None), due_at, complaint_id)
        else:
            query = query.where(open_).order_by(complaint_id.desc())
        return query

    @staticmethod
    def _urgency(now: float) -> tuple[ColumnElement[Any] | Mapped[Any], ...]:
        severity = case(
            {s: i for i, s in enumerate(reversed(SEVERITIES))},
            value=col(Complaint.severity),
            else_=len(SEVERITIES),
        )
        sla_due = col(Complaint.sla_due_at)
        promise_overdue = case((col(Complaint.next_follow_up_at) < now, 0), else_=1)
        return (promise_overdue, sla_due.is_(None), sla_due, severity, col(Complaint.id))

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
    ) -> Select[Complaint]:
        """The complaints of `matching`, in its order; `every_status`: whatever their status
        (else the open ones unless `statuses` or `search` say), `created_from`/`created_to`:
        received in [from, to); `severities`: of these only; `sort` (one of SORTS) instead
        of that order."""
        now = self.clock() if now is None else now
        due_at, complaint_id = col(Complaint.due_at), col(Complaint.id)
        query = select(Complaint)
        if statuses:
            wanted = [choice(s, tuple(Status), "status") for s in statuses]
            query = query.where(col(Complaint.status).in_(wanted))
        elif not search and not every_status:
            query = query.where(text(OPEN_SQL))
        if owner:
            with read_session(self.engine) as session:
                query = query.where(col(Complaint.owner_id) == user_by_name(session, owner).id)
        if overdue:
            query = query.where(text(OPEN_SQL), due_at < now)
        if created_from is not None:
            query = query.where(col(Complaint.created_at) >= created_from)
        if created_to is not None:
            query = query.where(col(Complaint.created_at) < created_to)
        if severities:
            wanted_severities = [choice(s, SEVERITIES, "severity") for s in severities]
            query = query.where(col(Complaint.severity).in_(wanted_severities))
        if search is not None:
            query = self._search_filter(query, search)
        if sort is not None:
            return query.order_by(*self._sorted(choice(sort, SORTS, "sort"), now))
        if search is not None:
            return query.order_by(complaint_id.desc())
        return query.order_by(due_at.is_(None), due_at, complaint_id.desc())

    def _sorted(self, sort: str, now: float) -> tuple[ColumnElement[Any] | Mapped[Any], ...]:
        due_at, complaint_id = col(Complaint.due_at), col(Complaint.id)
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
        query = self._search_filter(select(Complaint), query_text, newest=limit + offset)
        return self._page(query.order_by(col(Complaint.id).desc()), limit, offset)

    def _search_filter(self, query: Select[Complaint], query_text: str, newest: int | None = None) -> Select[Complaint]:
        query_text = clean(query_text, "search") or ""
        terms = parse_query(query_text)
        if not terms:
            raise InvalidInput("search: no words to look for")
        condition = search_condition(self.engine.dialect.name, terms, newest)
        if re.fullmatch(r"C-\d{1,12}", query_text.strip(), re.IGNORECASE):
            condition = condition | (col(Complaint.id) == parse_ref(query_text))
        return query.where(condition)

    def caller_flags(self, caller_number: str) -> list[ComplaintInfo]:
        """Complaints flagged malicious from this caller number (shown when they call again)."""
        query = (
            select(Complaint)
            .where(text("malicious"), col(Complaint.caller_number) == caller_number)
            .order_by(col(Complaint.id).desc())
        )
        return self._page(query, PAGE, 0)

    def by_ids(self, ids: list[int]) -> list[ComplaintInfo]:
        """These complaints, in the order of `ids` (one page: the caller keeps it short)."""
        if not ids:
            return []
        found = {info.id: info for info in self._page(select(Complaint).where(col(Complaint.id).in_(ids)), len(ids), 0)}
        return [found[i] for i in ids if i in found]

    def page(self, query: Select[Complaint], limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        """The complaints of a query from `view_query` or `matching_query`, a page of them."""
        return self._page(query, limit, offset)

    def _page(self, query: Select[Complaint], limit: int, offset: int) -> list[ComplaintInfo]:
        with read_session(self.engine) as session:
            rows = session.scalars(query.limit(limit).offset(offset)).all()
            names = user_names(session, (i for c in rows for i in (c.owner_id, c.created_by_id, c.updated_by_id)))
            return [complaint_info(session, c, names=names) for c in rows]


# -- call-backs (tickets/callbacks.py writes them) -----------------------------------------


def open_callbacks_for(session: Session, caller_number: str) -> list[CallbackInfo]:
    """The open call-back requests of this caller (at most one: several abandons join it),
    without their history: for the board's caller marks and the agent's view of a call."""
    from tickets.callbacks import callback_info

    rows = session.scalars(
        select(Callback).where(col(Callback.caller_number) == caller_number, text("callbacks.status = 'open'"))
    ).all()
    return [callback_info(session, cb) for cb in rows]
