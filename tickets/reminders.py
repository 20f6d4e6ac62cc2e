"""Reminders and escalation: nothing promised is forgotten.

`arm` keeps a complaint's reminder rows in step with its due times; the complaint service
calls it in the same transaction as every change. `sweep` (run by the active server's
scheduler) claims due rows with a conditional UPDATE, so each fires exactly once even with
two sweepers racing, and turns each into notifications, escalating what slipped.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Engine, Result, func, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from db.callbacks import Callback
from db.complaints import AuditEvent, Complaint, FollowUp, User
from db.engine import read_session, write_session
from db.quality import QaCoaching
from db.reminders import HookDelivery, Notification, Reminder
from tickets.errors import NotFound
from tickets.lifecycle import OPEN, Status, ref_of
from tickets.records import (
    AT_RISK,
    BREACHED,
    CALLBACK_DUE,
    CALLBACK_OPEN,
    CALLBACK_OVERDUE,
    COACHING_DUE,
    DUE,
    OVERDUE,
    UPCOMING,
    NotificationInfo,
    callback_ref_of,
    stored_id,
)
from tickets.sla import BusinessCalendar

if TYPE_CHECKING:
    from wallboard.config import Settings

log = logging.getLogger(__name__)

# The service's escalation inside the sweep's transaction: (session, complaint, level, note, now).
Escalate = Callable[[Session, Complaint, int, str, float], None]

SWEEP_BATCH = 500


@dataclass(frozen=True)
class _Wanted:
    key: str
    kind: str
    follow_up_id: int | None
    basis_at: float
    fire_at: float


def _wanted(session: Session, c: Complaint, settings: Settings, calendar: BusinessCalendar) -> dict[str, _Wanted]:
    """The reminders a complaint should have now, by key."""
    config = settings.reminders
    wanted: dict[str, _Wanted] = {}
    if Status(c.status) not in OPEN:
        return wanted
    lead, grace = config.lead_minutes * 60, config.overdue_grace_minutes * 60
    follow_ups = session.execute(
        select(col(FollowUp.id), col(FollowUp.due_at)).where(
            col(FollowUp.complaint_id) == c.id, col(FollowUp.outcome).is_(None)
        )
    )
    for follow_up_id, due in follow_ups:
        stamp = f"follow_up:{follow_up_id}:{{}}:{due:.0f}"
        if lead > 0:
            wanted[stamp.format("upcoming")] = _Wanted(
                stamp.format("upcoming"), UPCOMING, follow_up_id, due, due - lead
            )
        wanted[stamp.format("due")] = _Wanted(stamp.format("due"), DUE, follow_up_id, due, due)
        wanted[stamp.format("overdue")] = _Wanted(stamp.format("overdue"), OVERDUE, follow_up_id, due, due + grace)
    if c.sla_due_at is not None:  # None while the SLA clock stands still
        stage = "acknowledge" if c.status == Status.NEW else "resolve"
        target = getattr(settings.complaints.sla, c.severity)
        budget = (target.acknowledge_hours if stage == "acknowledge" else target.resolve_hours) * 3600
        paused = 0.0 if stage == "acknowledge" else c.sla_paused_seconds
        risk_at = calendar.add(c.created_at, config.sla_risk_pct / 100 * budget + paused)
        stamp = f"sla:{c.id}:{stage}:{{}}:{c.sla_due_at:.0f}"
        wanted[stamp.format("risk")] = _Wanted(
            stamp.format("risk"), AT_RISK, None, c.sla_due_at, min(risk_at, c.sla_due_at)
        )
        wanted[stamp.format("breach")] = _Wanted(stamp.format("breach"), BREACHED, None, c.sla_due_at, c.sla_due_at)
    return wanted


def arm(session: Session, c: Complaint, settings: Settings, calendar: BusinessCalendar, now: float) -> None:
    """Bring the complaint's pending reminders in line with its due times (same transaction).

    Reminders no longer wanted are cancelled; new due times get new reminders; one that
    fired never fires again.
    """
    session.flush()
    wanted = _wanted(session, c, settings, calendar)
    rows = session.scalars(select(Reminder).where(col(Reminder.complaint_id) == c.id)).all()
    _sync(session, rows, wanted, now, complaint_id=stored_id(c.id))


def arm_callback(session: Session, cb: Callback, settings: Settings, now: float) -> None:
    """The call-back's reminders, like a follow-up's: due (its owner, or the supervisors
    while nobody has it) and overdue after the grace (supervisors; escalates). Same
    transaction as the change; an ended request's pending ones are cancelled."""
    session.flush()
    wanted: dict[str, _Wanted] = {}
    if cb.status == CALLBACK_OPEN:
        grace = settings.reminders.overdue_grace_minutes * 60
        stamp = f"callback:{cb.id}:{{}}:{cb.due_at:.0f}"
        wanted[stamp.format("due")] = _Wanted(stamp.format("due"), CALLBACK_DUE, None, cb.due_at, cb.due_at)
        wanted[stamp.format("overdue")] = _Wanted(
            stamp.format("overdue"), CALLBACK_OVERDUE, None, cb.due_at, cb.due_at + grace
        )
    rows = session.scalars(select(Reminder).where(col(Reminder.callback_id) == cb.id)).all()
    _sync(session, rows, wanted, now, callback_id=stored_id(cb.id))


def arm_coaching(session: Session, coaching: QaCoaching, now: float) -> None:
    """A quality coaching action's reminder, like a follow-up's: due (to its owner) at its due
    time, in the same transaction as the change; cancelled once the action is done."""
    session.flush()
    wanted: dict[str, _Wanted] = {}
    if coaching.status == "open":
        key = f"coaching:{coaching.id}:due:{coaching.due_at:.0f}"
        wanted[key] = _Wanted(key, COACHING_DUE, None, coaching.due_at, coaching.due_at)
    rows = session.scalars(select(Reminder).where(col(Reminder.coaching_id) == coaching.id)).all()
    _sync(session, rows, wanted, now, coaching_id=stored_id(coaching.id))


def _sync(
    session: Session,
    rows: Iterable[Reminder],
    wanted: dict[str, _Wanted],
    now: float,
    *,
    complaint_id: int | None = None,
    callback_id: int | None = None,
    coaching_id: int | None = None,
) -> None:
    """Bring one complaint's or call-back's reminder `rows` in line with the `wanted` ones."""
    rows = list(rows)
    have = {row.key: row for row in rows}
    for row in have.values():
        if row.fired_at is None and row.cancelled_at is None and row.key not in wanted:
            row.cancelled_at = now
    for key, w in wanted.items():
        existing = have.get(key)
        if existing is None and w.kind == UPCOMING and w.fire_at <= now:
            continue  # promised within the lead time: the owner knows, "due now" will follow
        if existing is None:
            session.add(
                Reminder(
                    key=key,
                    kind=w.kind,
                    complaint_id=complaint_id,
                    callback_id=callback_id,
                    coaching_id=coaching_id,
                    follow_up_id=w.follow_up_id,
                    basis_at=w.basis_at,
                    fire_at=w.fire_at,
                    armed_at=now,
                )
            )
        elif existing.fired_at is None and (existing.cancelled_at is not None or existing.fire_at != w.fire_at):
            existing.cancelled_at, existing.fire_at, existing.armed_at = None, w.fire_at, now


# -- firing ----------------------------------------------------------------------------


def next_fire_at(engine: Engine) -> float | None:
    with read_session(engine) as session:
        return session.scalar(
            select(func.min(col(Reminder.fire_at))).where(
                col(Reminder.fired_at).is_(None), col(Reminder.cancelled_at).is_(None)
            )
        )


class Sweeper:
    """Claims due reminders and notifies; `escalate(session, complaint, level, note, now)` is
    the complaint service's, so the escalation and its audit row share the transaction."""

    def __init__(self, engine: Engine, settings: Settings, *, server: str, escalate: Escalate) -> None:
        self.engine = engine
        self.settings = settings
        self.server = server
        self.escalate = escalate
        self.calendar = BusinessCalendar.from_settings(settings)

    def sweep(self, now: float) -> int:
        """Fire every reminder due by `now`; returns how many this sweeper claimed."""
        fired = 0
        while True:
            with write_session(self.engine) as session:
                query = (
                    select(col(Reminder.id))
                    .where(
                        col(Reminder.fired_at).is_(None),
                        col(Reminder.cancelled_at).is_(None),
                        col(Reminder.fire_at) <= now,
                    )
                    .order_by(col(Reminder.fire_at))
                    .limit(SWEEP_BATCH)
                )
                if session.get_bind().dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                due = session.scalars(query).all()
                for reminder_id in due:
                    fired += self._fire(session, reminder_id, now)
            if len(due) < SWEEP_BATCH:
                return fired

    def _fire(self, session: Session, reminder_id: int | None, now: float) -> int:
        claimed = rowcount(
            session.execute(
                update(Reminder)
                .where(
                    col(Reminder.id) == reminder_id,
                    col(Reminder.fired_at).is_(None),
                    col(Reminder.cancelled_at).is_(None),
                )
                .values(fired_at=now, fired_by=self.server)
                .execution_options(synchronize_session=False)
            )
        )
        if claimed != 1:
            return 0  # another sweeper got it first
        r = session.get(Reminder, reminder_id)
        if r is not None and r.callback_id is not None:
            return self._fire_callback(session, r, now)
        if r is not None and r.coaching_id is not None:
            return self._fire_coaching(session, r, now)
        c = session.get(Complaint, r.complaint_id) if r is not None and r.complaint_id is not None else None
        if r is None or c is None:
            return 0  # gone meanwhile (not a thing the tracker does: complaints are never deleted)
        follow_up = session.get(FollowUp, r.follow_up_id) if r.follow_up_id else None
        if _superseded(r, now):
            r.fired_by = f"{self.server} (superseded)"  # the server was down past the due time itself
            return 1
        recipients, text = self._message(session, r, c, follow_up, now)
        notify(session, self.settings, recipients, r.kind, c.id, text, now, reminder_id=r.id)
        if r.kind == OVERDUE:
            self.escalate(session, c, max(c.escalation_level, 1), text, now)
        elif r.kind == BREACHED:
            self.escalate(session, c, min(c.escalation_level + 1, 2), text, now)
        return 1

    def _fire_callback(self, session: Session, r: Reminder, now: float) -> int:
        """A call-back's reminder: due (its owner; the supervisors while nobody has it), or
        overdue (the supervisors, and it escalates to level 1 with its audit row)."""
        cb = session.get(Callback, r.callback_id)
        if cb is None or cb.status != CALLBACK_OPEN:
            return 1  # ended meanwhile (its reminders are cancelled in that very change)
        ref = callback_ref_of(cb.id)
        owner = session.get(User, cb.owner_id) if cb.owner_id is not None else None
        when = self._clock(r.basis_at, now)
        what = f"call back {cb.caller_number} ({cb.queue})"
        if r.kind == CALLBACK_DUE:
            recipients = _ids(owner) or self._supervisors(session)
            text = f"{ref}: {what} is due now ({when})" + ("" if owner else ": nobody has taken it")
        else:
            recipients = self._supervisors(session)
            text = f"{ref}: {what} owned by {owner.name if owner else 'nobody'} overdue since {when}: escalated"
            if cb.escalation_level < 1:
                session.add(
                    AuditEvent(
                        changeset=uuid.uuid4().hex,
                        at=now,
                        actor_id=None,
                        callback_id=cb.id,
                        kind="escalate",
                        field="escalation_level",
                        old=str(cb.escalation_level),
                        new="1",
                        note=text,
                    )
                )
                cb.escalation_level = 1
        notify(session, self.settings, recipients, r.kind, None, text, now, reminder_id=r.id)
        return 1

    def _fire_coaching(self, session: Session, r: Reminder, now: float) -> int:
        """A coaching action is due: its owner is told, and from now the agent's next calls
        are re-sampled on the coached criteria (the quality draw picks them up)."""
        coaching = session.get(QaCoaching, r.coaching_id)
        if coaching is None or coaching.status != "open":
            return 1  # done meanwhile
        coaching.status = "resampling"
        owner = session.get(User, coaching.owner_id)
        text = (
            f"CO-{coaching.id}: coaching {coaching.agent} on {coaching.criteria.replace(',', ', ')} is due now "
            f"({self._clock(r.basis_at, now)}): their next calls are re-sampled"
        )
        notify(
            session, self.settings, _ids(owner) or self._supervisors(session), r.kind, None, text, now, reminder_id=r.id
        )
        return 1

    def _message(
        self, session: Session, r: Reminder, c: Complaint, follow_up: FollowUp | None, now: float
    ) -> tuple[set[int], str]:
        ref = ref_of(c.id)
        when = self._clock(r.basis_at, now)
        owner_id = follow_up.owner_id if follow_up else c.owner_id
        owner = session.get(User, owner_id) if owner_id else None
        what = f"{follow_up.kind.replace('_', ' ')} for {c.customer_name}" if follow_up else None
        if r.kind == UPCOMING:
            minutes = max(0, round((r.basis_at - now) / 60))
            return _ids(owner), f"{ref}: {what} due at {when} (in {minutes} min)"
        if r.kind == DUE:
            return _ids(owner), f"{ref}: {what} is due now ({when})"
        if r.kind == OVERDUE:
            who = owner.name if owner else "nobody"
            return self._supervisors(session), f"{ref}: {what} owned by {who} overdue since {when}: escalated"
        stage = "acknowledge" if ":acknowledge:" in r.key else "resolve"
        if r.kind == AT_RISK:
            target = owner if owner else None
            recipients = _ids(target) or self._supervisors(session)
            return recipients, f"{ref}: {self.settings.reminders.sla_risk_pct:g}% of the {stage} time used; due {when}"
        return self._supervisors(session) | _ids(owner), f"{ref}: {stage} time missed at {when}: escalated"

    def _supervisors(self, session: Session) -> set[int]:
        return set(
            session.scalars(select(col(User.id)).where(col(User.role) == "supervisor", col(User.active).is_(True)))
        )

    def _clock(self, at: float, now: float) -> str:
        """14:30 for today's times, the date too for others."""
        local = datetime.fromtimestamp(at, self.calendar.tz)
        same_day = local.date() == datetime.fromtimestamp(now, self.calendar.tz).date()
        return local.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M")


def _superseded(r: Reminder, now: float) -> bool:
    """A warning whose deadline has passed already says nothing the next reminder won't."""
    return r.kind in (UPCOMING, AT_RISK) and now >= r.basis_at


def _ids(user: User | None) -> set[int]:
    return {stored_id(user.id)} if user is not None and user.active else set()


def notify(
    session: Session,
    settings: Settings,
    user_ids: Iterable[int],
    kind: str,
    complaint_id: int | None,
    text: str,
    now: float,
    *,
    reminder_id: int | None = None,
) -> None:
    """Notification rows for these users, plus a delivery row per configured outbound hook."""
    hooks = settings.reminders.hooks()
    for user_id in sorted(set(user_ids)):
        note = Notification(
            user_id=user_id, kind=kind, complaint_id=complaint_id, reminder_id=reminder_id, text=text, created_at=now
        )
        session.add(note)
        if hooks:
            session.flush()
            for hook in hooks:
                session.add(HookDelivery(notification_id=stored_id(note.id), hook=hook, next_attempt_at=now))


# -- reading ---------------------------------------------------------------------------


def notifications_for(
    engine: Engine, user: str, *, unread_only: bool = False, after_id: int = 0, limit: int = 200
) -> list[NotificationInfo]:
    """A user's notifications, newest first (`after_id`: only newer than that one)."""
    with read_session(engine) as session:
        user_id = _user_id(session, user)
        query = select(Notification).where(col(Notification.user_id) == user_id, col(Notification.id) > after_id)
        if unread_only:
            query = query.where(col(Notification.read_at).is_(None))
        rows = session.scalars(query.order_by(col(Notification.id).desc()).limit(limit)).all()
        return [
            NotificationInfo(
                stored_id(n.id),
                n.kind,
                ref_of(n.complaint_id) if n.complaint_id else None,
                n.text,
                n.created_at,
                n.read_at is not None,
            )
            for n in rows
        ]


def unread_count(engine: Engine, user: str) -> int:
    with read_session(engine) as session:
        user_id = _user_id(session, user)
        count = session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        )
        return count or 0


def mark_read(engine: Engine, user: str, ids: Iterable[int] | None, now: float) -> int:
    """Mark these (or, with None, all) of the user's notifications read; returns how many."""
    with write_session(engine) as session:
        user_id = _user_id(session, user)
        statement = update(Notification).where(
            col(Notification.user_id) == user_id, col(Notification.read_at).is_(None)
        )
        if ids is not None:
            statement = statement.where(col(Notification.id).in_(list(ids)))
        return rowcount(session.execute(statement.values(read_at=now).execution_options(synchronize_session=False)))


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE matched (its result is a CursorResult, typed as a plain Result)."""
    return int(cast("CursorResult[Any]", result).rowcount)


def _user_id(session: Session, name: str) -> int:
    user_id = session.scalar(select(col(User.id)).where(col(User.name) == name))
    if user_id is None:
        raise NotFound(f"no user {name!r}")
    return user_id
