"""Small reads for the complaint screens: the agent's current or last call, the
supervisor's overview of open complaints by owner, and a session's inbox poll.

No Textual here (the screens in tickets/ui/ call these in a worker thread); no writes.
"""

from __future__ import annotations

from sqlalchemy import Engine, case, func, select, text

from db.complaints import OPEN_SQL, Complaint, User
from db.engine import read_session
from db.models import Agent, Call
from db.reminders import Notification
from tickets.errors import NotFound
from tickets.lifecycle import Status, ref_of
from tickets.records import CallInfo, InboxState, NotificationInfo, OwnerLoad
from tickets.sla import BusinessCalendar

# "Last call": the newest one the agent answered within this many hours (a range over the
# calls' enter_at index: never a scan of the whole call table).
LAST_CALL_HOURS = 12.0


def acd_names(settings, user: str) -> list[str]:
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


def current_or_last_call(engine: Engine, settings, user: str, now: float) -> CallInfo | None:
    """The call `user` is on now, else the last one they answered in the past
    `LAST_CALL_HOURS`; None when the call data knows no such agent or call."""
    columns = (Call.callid, Call.queue, Call.caller, Call.agent, Call.enter_at, Call.answer_at, Call.end_at)
    with read_session(engine) as session:
        names = acd_names(settings, user)
        agent_row = session.execute(
            select(Agent.name, Agent.current_callid, Agent.current_queue).where(Agent.name.in_(names))
        ).first()
        if agent_row is None:
            agent = _match_agent(names, list(session.scalars(select(Agent.name))))
            if agent is None:
                return None
            agent_row = session.execute(
                select(Agent.name, Agent.current_callid, Agent.current_queue).where(Agent.name == agent)
            ).first()
        if agent_row.current_callid:
            query = select(*columns).where(Call.callid == agent_row.current_callid)
            if agent_row.current_queue:
                query = query.where(Call.queue == agent_row.current_queue)
            row = session.execute(query.order_by(Call.enter_at.desc()).limit(1)).first()
            if row is not None:
                return CallInfo(
                    row.callid, row.queue, row.caller, agent_row.name, True, row.enter_at, row.answer_at, row.end_at
                )
        row = session.execute(
            select(*columns)
            .where(
                Call.enter_at >= now - LAST_CALL_HOURS * 3600,
                Call.enter_at <= now,
                Call.agent == agent_row.name,
                Call.answer_at.is_not(None),
            )
            .order_by(Call.enter_at.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return CallInfo(
            row.callid, row.queue, row.caller, agent_row.name, False, row.enter_at, row.answer_at, row.end_at
        )


def open_by_owner(engine: Engine, calendar: BusinessCalendar, now: float) -> list[OwnerLoad]:
    """Open complaints per owner with how many are overdue, due today (site time zone),
    escalated and waiting on the customer; the most overdue owners first."""
    start, end = calendar.day_bounds(calendar.local_date(now))

    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    with read_session(engine) as session:
        rows = session.execute(
            select(
                Complaint.owner_id,
                func.count(),
                count(Complaint.due_at < now),
                count((Complaint.due_at >= start) & (Complaint.due_at < end)),
                count(Complaint.escalation_level > 0),
                count(Complaint.status == Status.WAITING.value),
            )
            .where(text(OPEN_SQL))
            .group_by(Complaint.owner_id)
        ).all()
        ids = {row[0] for row in rows if row[0] is not None}
        names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
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
        row = session.execute(select(User.id, User.role, User.active).where(User.name == user)).first()
        if row is None:
            raise NotFound(f"no user {user!r}")
        unread = session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == row.id, Notification.read_at.is_(None))
        )
        if after_id is None:
            newest = session.scalar(select(func.max(Notification.id)).where(Notification.user_id == row.id)) or 0
            return InboxState(row.role, row.active, unread, newest, ())
        notes = session.scalars(
            select(Notification)
            .where(Notification.user_id == row.id, Notification.id > after_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        ).all()
        new = tuple(
            NotificationInfo(
                n.id,
                n.kind,
                ref_of(n.complaint_id) if n.complaint_id else None,
                n.text,
                n.created_at,
                n.read_at is not None,
            )
            for n in notes
        )
        return InboxState(row.role, row.active, unread, max((n.id for n in new), default=after_id), new)
