"""One function per user intent on complaints, and the read side (show, views, search).

Every intent: resolves the acting user, locks and reads the complaint, refuses a stale
`expect_version` ("C-000001 changed by bob at 2026-11-23T10:04:05+00:00, reload"), checks
the permission and the transition, writes the change and its audit rows in one short write
transaction (`db.engine.write_session`: BEGIN IMMEDIATE on SQLite, `SELECT ... FOR UPDATE`
on PostgreSQL), and returns the complaint as it now is.

The complaint row carries SQLAlchemy's `version_id_col` as well: an UPDATE based on an
older version than the one stored fails (and is reported as StaleVersion) even if the row
lock were ever bypassed.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, case, func, select, text
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from db.complaints import (
    OPEN_SQL,
    AuditEvent,
    Complaint,
    ComplaintSearch,
    FollowUp,
    User,
    search_condition,
)
from db.engine import read_session, write_session
from tickets import lifecycle, permissions, reminders
from tickets.errors import InvalidInput, NotFound, PermissionDenied, StaleVersion
from tickets.lifecycle import OPEN, PAUSED, Status, ref_of
from tickets.records import (
    ASSIGNED,
    CHANNELS,
    ESCALATION_LEVELS,
    FOLLOW_UP_KINDS,
    OUTCOMES,
    PAGE,
    PROMISE_KINDS,
    ROOT_CAUSES,
    SEVERITIES,
    ComplaintInfo,
    EventInfo,
    FollowUpInfo,
    View,
    parse_ref,
)
from tickets.sla import BusinessCalendar
from tickets.text import clean, parse_query, search_document

# -- the service --------------------------------------------------------------------------


class _Audit:
    """Audit rows of one intent: one changeset, one time, one actor."""

    def __init__(self, session: Session, complaint: Complaint | None, actor: User | None, now: float) -> None:
        self.session, self.complaint, self.actor, self.now = session, complaint, actor, now
        self.changeset = uuid.uuid4().hex

    def __call__(
        self,
        kind: str,
        field: str | None = None,
        old=None,
        new=None,
        note: str | None = None,
        follow_up_id: int | None = None,
    ) -> None:
        self.session.add(
            AuditEvent(
                changeset=self.changeset,
                at=self.now,
                actor_id=self.actor.id if self.actor else None,
                complaint_id=self.complaint.id if self.complaint else None,
                follow_up_id=follow_up_id,
                kind=kind,
                field=field,
                old=_audit_text(old),
                new=_audit_text(new),
                note=note,
            )
        )


def _audit_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class ComplaintService:
    """Complaint intents and reads on one database. `clock` gives "now" (epoch seconds)."""

    def __init__(self, engine: Engine, settings, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.calendar = BusinessCalendar.from_settings(settings)

    # -- SLA ----------------------------------------------------------------------------

    def _budget(self, severity: str) -> tuple[float, float]:
        target = getattr(self.settings.complaints.sla, severity)
        return target.acknowledge_hours * 3600, target.resolve_hours * 3600

    def _set_targets(self, c: Complaint) -> None:
        ack, resolve = self._budget(c.severity)
        c.ack_due_at = self.calendar.add(c.created_at, ack)
        c.resolve_due_at = self.calendar.add(c.created_at, resolve + c.sla_paused_seconds)

    def _set_status(self, c: Complaint, status: Status, now: float) -> None:
        was_paused = Status(c.status) in PAUSED if c.status else False
        c.status = status.value
        c.status_changed_at = now
        if status in PAUSED and not was_paused:
            c.sla_paused_since = now
        elif status not in PAUSED and was_paused:
            if c.sla_paused_since is not None:
                c.sla_paused_seconds += self.calendar.seconds_between(c.sla_paused_since, now)
            c.sla_paused_since = None
            self._set_targets(c)

    @staticmethod
    def _refresh_due(c: Complaint) -> None:
        status = Status(c.status)
        if status is Status.NEW:
            c.sla_due_at = c.ack_due_at
        elif status in PAUSED:
            c.sla_due_at = None
        else:
            c.sla_due_at = c.resolve_due_at
        if status in OPEN:
            dues = [d for d in (c.sla_due_at, c.next_follow_up_at) if d is not None]
            c.due_at = min(dues) if dues else None
        else:
            c.due_at = None

    # -- plumbing -------------------------------------------------------------------------

    @staticmethod
    def _user(session: Session, name: str, *, what: str = "user") -> User:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"no {what} {name!r}")
        return user

    def _actor(self, session: Session, name: str) -> User:
        user = self._user(session, name)
        reason = permissions.refusal(user, "act")
        if reason:
            raise PermissionDenied(reason)
        return user

    def _assignee(self, session: Session, name: str) -> User:
        user = self._user(session, name)
        if not user.active:
            raise InvalidInput(f"{name} has been removed: choose someone else")
        if user.role == permissions.Role.DISPLAY:
            raise InvalidInput(f"{name} is a display user and cannot own complaints or follow-ups")
        return user

    def _name(self, session: Session, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        return session.scalar(select(User.name).where(User.id == user_id))

    def _fmt(self, at: float) -> str:
        return datetime.fromtimestamp(at, self.calendar.tz).isoformat(timespec="seconds")

    def _stale(self, c: Complaint, session: Session, expected: int | None) -> StaleVersion:
        who = self._name(session, c.updated_by_id) or "the system"
        mine = f" (you have version {expected}, it is at {c.version})" if expected is not None else ""
        return StaleVersion(
            f"{ref_of(c.id)} changed by {who} at {self._fmt(c.updated_at)}, reload{mine}", current_version=c.version
        )

    def _mutate(
        self,
        ref,
        actor: str | None,
        intent: str,
        expect_version: int | None,
        change: Callable[[Session, Complaint, User | None, _Audit], None],
        *,
        check_permission: bool = True,
    ) -> ComplaintInfo:
        complaint_id = parse_ref(ref)
        now = self.clock()
        try:
            with write_session(self.engine) as session:
                user = self._actor(session, actor) if actor is not None else None
                c = session.scalar(select(Complaint).where(Complaint.id == complaint_id).with_for_update())
                if c is None:
                    raise NotFound(f"no complaint {ref_of(complaint_id)}")
                if expect_version is not None and expect_version != c.version:
                    raise self._stale(c, session, expect_version)
                if user is not None and check_permission:
                    permissions.check(user, intent, c, ref=ref_of(c.id), owner_name=self._name(session, c.owner_id))
                change(session, c, user, _Audit(session, c, user, now))
                c.updated_at = now
                c.updated_by_id = user.id if user else None
                self._refresh_due(c)
                session.flush()
                self._reindex(session, c)
                reminders.arm(session, c, self.settings, self.calendar, now)
                return self._info(session, c, full=True)
        except StaleDataError:
            with read_session(self.engine) as session:
                c = session.get(Complaint, complaint_id)
                raise self._stale(c, session, expect_version) from None

    def _reindex(self, session: Session, c: Complaint) -> None:
        notes = session.scalars(
            select(AuditEvent.note)
            .where(AuditEvent.complaint_id == c.id, AuditEvent.note.is_not(None))
            .order_by(AuditEvent.id)
        ).all()
        document = search_document(
            c.subject, c.customer_name, c.customer_contact, c.category, c.resolution, c.description, *notes
        )
        row = session.get(ComplaintSearch, c.id)
        if row is None:
            session.add(ComplaintSearch(complaint_id=c.id, document=document))
        elif row.document != document:
            row.document = document

    def _refresh_follow_ups(self, session: Session, c: Complaint) -> None:
        session.flush()
        c.next_follow_up_at = session.scalar(
            select(func.min(FollowUp.due_at)).where(
                FollowUp.complaint_id == c.id, FollowUp.outcome.is_(None), FollowUp.kind.in_(PROMISE_KINDS)
            )
        )

    # -- create ---------------------------------------------------------------------------

    def create(
        self,
        actor: str,
        *,
        customer: str,
        contact: str,
        subject: str,
        description: str,
        severity: str = "normal",
        category: str | None = None,
        channel: str = "phone",
        callid: str | None = None,
        call_queue: str | None = None,
        call_agent: str | None = None,
        caller_number: str | None = None,
        owner: str | None = "",
        unassigned: bool = False,
    ) -> ComplaintInfo:
        """A new complaint, owned by its creator unless a supervisor names another `owner`
        (or `unassigned`). A known `callid` fills in the call's queue, agent and caller."""
        fields = {
            "customer_name": clean(customer, "customer"),
            "customer_contact": clean(contact, "contact"),
            "subject": clean(subject, "subject"),
            "description": clean(description, "description", multiline=True),
            "category": clean(category, "category", required=False),
            "callid": clean(callid, "call", required=False),
            "call_queue": clean(call_queue, "queue", required=False),
            "call_agent": clean(call_agent, "agent", required=False),
            "caller_number": clean(caller_number, "caller number", required=False),
        }
        severity = _choice(severity, SEVERITIES, "severity")
        channel = _choice(channel, CHANNELS, "channel")
        now = self.clock()
        with write_session(self.engine) as session:
            user = self._actor(session, actor)
            permissions.check(user, "create")
            if unassigned:
                owner_user = None
            elif owner and owner != user.name:
                permissions.check(user, "create_for_other")
                owner_user = self._assignee(session, owner)
            else:
                owner_user = user
            if fields["callid"]:
                self._fill_from_call(session, fields)
            c = Complaint(
                **fields,
                channel=channel,
                severity=severity,
                status=Status.NEW.value,
                owner_id=owner_user.id if owner_user else None,
                created_by_id=user.id,
                created_at=now,
                updated_at=now,
                updated_by_id=user.id,
                status_changed_at=now,
                ack_due_at=0.0,
                resolve_due_at=0.0,
                sla_paused_seconds=0.0,
            )
            self._set_targets(c)
            self._refresh_due(c)
            session.add(c)
            session.flush()
            audit = _Audit(session, c, user, now)
            audit("create", "status", None, Status.NEW.value)
            audit("create", "owner", None, owner_user.name if owner_user else None)
            session.flush()
            self._reindex(session, c)
            reminders.arm(session, c, self.settings, self.calendar, now)
            return self._info(session, c, full=True)

    @staticmethod
    def _fill_from_call(session: Session, fields: dict) -> None:
        from db.models import Call

        call = session.execute(
            select(Call.queue, Call.agent, Call.caller)
            .where(Call.callid == fields["callid"])
            .order_by(Call.enter_at.desc())
            .limit(1)
        ).first()
        if call is not None:
            fields["call_queue"] = fields["call_queue"] or call.queue
            fields["call_agent"] = fields["call_agent"] or call.agent
            fields["caller_number"] = fields["caller_number"] or call.caller

    # -- lifecycle ------------------------------------------------------------------------

    def _transition(self, intent: str, ref, actor, expect_version, note=None, extra=None) -> ComplaintInfo:
        def change(session, c, user, audit):
            to = lifecycle.target(intent, c.status, ref_of(c.id))
            if extra is not None:
                extra(session, c, user, audit)
            old = c.status
            self._set_status(c, to, audit.now)
            audit(intent, "status", old, to.value, note)

        return self._mutate(ref, actor, intent, expect_version, change)

    def acknowledge(
        self, ref, actor: str, *, expect_version: int | None = None, note: str | None = None
    ) -> ComplaintInfo:
        """new -> acknowledged: an owner took it and told the customer. An agent acknowledging an
        unassigned complaint takes it."""
        note = clean(note, "note", multiline=True, required=False)

        def take(session, c, user, audit):
            if c.owner_id is None:
                audit("acknowledge", "owner", None, user.name)
                c.owner_id = user.id
            c.acknowledged_at = audit.now

        return self._transition("acknowledge", ref, actor, expect_version, note, take)

    def start(self, ref, actor: str, *, expect_version: int | None = None, note: str | None = None) -> ComplaintInfo:
        """acknowledged or reopened -> in progress."""
        return self._transition(
            "start", ref, actor, expect_version, clean(note, "note", multiline=True, required=False)
        )

    def wait(self, ref, actor: str, *, expect_version: int | None = None, note: str | None = None) -> ComplaintInfo:
        """in progress -> waiting on customer (the SLA clock stops)."""
        return self._transition("wait", ref, actor, expect_version, clean(note, "note", multiline=True, required=False))

    def resume(self, ref, actor: str, *, expect_version: int | None = None, note: str | None = None) -> ComplaintInfo:
        """waiting on customer -> in progress (the SLA clock runs again, its due time moved on)."""
        return self._transition(
            "resume", ref, actor, expect_version, clean(note, "note", multiline=True, required=False)
        )

    def resolve(
        self, ref, actor: str, *, resolution: str, root_cause: str, expect_version: int | None = None
    ) -> ComplaintInfo:
        """in progress or waiting -> resolved, with the answer given and the root cause."""
        resolution = clean(resolution, "resolution", multiline=True)
        root_cause = _choice(root_cause, tuple(ROOT_CAUSES), "root cause")

        def record(session, c, user, audit):
            audit("resolve", "resolution", c.resolution, resolution)
            audit("resolve", "root_cause", c.root_cause, root_cause)
            c.resolution, c.root_cause, c.resolved_at = resolution, root_cause, audit.now

        return self._transition("resolve", ref, actor, expect_version, None, record)

    def close(
        self, ref, actor: str, *, confirmed: bool = False, expect_version: int | None = None, note: str | None = None
    ) -> ComplaintInfo:
        """resolved -> closed; records whether the customer confirmed the answer."""
        note = clean(note, "note", multiline=True, required=False)

        def record(session, c, user, audit):
            self._closable(c)
            audit("close", "customer_confirmed", c.customer_confirmed, confirmed)
            c.customer_confirmed, c.closed_at = confirmed, audit.now

        return self._transition("close", ref, actor, expect_version, note, record)

    @staticmethod
    def _closable(c: Complaint) -> None:
        missing = [
            name for name, value in (("a resolution", c.resolution), ("a root cause", c.root_cause)) if not value
        ]
        if missing:
            raise lifecycle.IllegalTransition(f"cannot close {ref_of(c.id)}: it needs {' and '.join(missing)}")

    def reopen(self, ref, actor: str, *, note: str, expect_version: int | None = None) -> ComplaintInfo:
        """resolved or closed -> reopened, with the same owner; the SLA clock runs again."""
        note = clean(note, "note", multiline=True)

        def record(session, c, user, audit):
            if c.customer_confirmed is not None:
                audit("reopen", "customer_confirmed", c.customer_confirmed, None)
            c.customer_confirmed = None
            c.closed_at = None
            c.resolved_at = None

        return self._transition("reopen", ref, actor, expect_version, note, record)

    # -- ownership and follow-ups --------------------------------------------------------------

    def assign(self, ref, actor: str, *, to: str, note: str, expect_version: int | None = None) -> ComplaintInfo:
        """Hand the complaint over to `to`, saying why. An agent hands over their own; a
        supervisor reassigns any."""
        note = clean(note, "note", multiline=True)
        if not to:
            raise InvalidInput("handing over needs the user to hand it to")

        def change(session, c, user, audit):
            if c.status == Status.CLOSED:
                raise lifecycle.IllegalTransition(f"cannot assign {ref_of(c.id)}: it is closed; reopen it first")
            target = self._assignee(session, to)
            if target.id == c.owner_id:
                raise InvalidInput(f"{to} already owns {ref_of(c.id)}")
            audit("assign", "owner", self._name(session, c.owner_id), target.name, note)
            c.owner_id = target.id
            if target.id != user.id:
                reminders.notify(
                    session,
                    self.settings,
                    [target.id],
                    ASSIGNED,
                    c.id,
                    f"{ref_of(c.id)} assigned to you by {user.name}: {note}",
                    audit.now,
                )

        return self._mutate(ref, actor, "assign", expect_version, change)

    def add_follow_up(
        self,
        ref,
        actor: str,
        *,
        due_at: float,
        note: str,
        kind: str = "callback",
        owner: str | None = None,
        expect_version: int | None = None,
    ) -> ComplaintInfo:
        """A promised call-back or action, or a corrective action, due at `due_at`, owned by
        `owner` (default: the complaint's owner, else the actor)."""
        note = clean(note, "note", multiline=True)
        kind = _choice(kind, FOLLOW_UP_KINDS, "kind")

        def change(session, c, user, audit):
            if c.status == Status.CLOSED and kind in PROMISE_KINDS:
                raise lifecycle.IllegalTransition(
                    f"cannot promise a {kind} on {ref_of(c.id)}: it is closed; reopen it first"
                )
            if due_at < audit.now - 60:
                raise InvalidInput(f"due time {self._fmt(due_at)} is in the past")
            if owner:
                owner_user = self._assignee(session, owner)
            elif c.owner_id is not None:
                owner_user = session.get(User, c.owner_id)
            else:
                owner_user = user
            follow_up = FollowUp(
                complaint_id=c.id,
                kind=kind,
                owner_id=owner_user.id,
                due_at=due_at,
                note=note,
                created_by_id=user.id,
                created_at=audit.now,
            )
            session.add(follow_up)
            session.flush()
            audit("follow_up", kind, None, f"{owner_user.name} by {self._fmt(due_at)}", note, follow_up.id)
            self._refresh_follow_ups(session, c)

        return self._mutate(ref, actor, "follow_up", expect_version, change)

    def record_outcome(
        self,
        ref,
        follow_up_id: int,
        actor: str,
        *,
        outcome: str,
        note: str,
        new_due_at: float | None = None,
        expect_version: int | None = None,
    ) -> ComplaintInfo:
        """The outcome of a follow-up: done, no answer, or rescheduled (to `new_due_at`, which
        opens a new follow-up like it). The follow-up's owner may record it too."""
        note = clean(note, "note", multiline=True)
        outcome = _choice(outcome, OUTCOMES, "outcome")
        if new_due_at is not None and outcome != "rescheduled":
            raise InvalidInput("a new due time goes with the outcome 'rescheduled' only")

        def change(session, c, user, audit):
            f = session.scalar(select(FollowUp).where(FollowUp.id == follow_up_id, FollowUp.complaint_id == c.id))
            if f is None:
                raise NotFound(f"{ref_of(c.id)} has no follow-up {follow_up_id}")
            if f.owner_id != user.id:  # a follow-up's owner records its outcome, whoever owns the complaint
                permissions.check(user, "outcome", c, ref=ref_of(c.id), owner_name=self._name(session, c.owner_id))
            if f.outcome is not None:
                raise InvalidInput(f"follow-up {follow_up_id} already has an outcome ({f.outcome.replace('_', ' ')})")
            if new_due_at is not None and new_due_at < audit.now - 60:
                raise InvalidInput(f"new due time {self._fmt(new_due_at)} is in the past")
            f.outcome, f.outcome_note, f.outcome_at, f.outcome_by_id = outcome, note, audit.now, user.id
            audit("outcome", "outcome", None, outcome, note, f.id)
            if new_due_at is not None:
                again = FollowUp(
                    complaint_id=c.id,
                    kind=f.kind,
                    owner_id=f.owner_id,
                    due_at=new_due_at,
                    note=f.note,
                    created_by_id=user.id,
                    created_at=audit.now,
                )
                session.add(again)
                session.flush()
                audit(
                    "follow_up",
                    again.kind,
                    None,
                    f"{self._name(session, again.owner_id)} by {self._fmt(new_due_at)}",
                    f"rescheduled from follow-up {f.id}",
                    again.id,
                )
            self._refresh_follow_ups(session, c)

        return self._mutate(ref, actor, "outcome", expect_version, change, check_permission=False)

    # -- flags, details, escalation ------------------------------------------------------------

    def flag_malicious(self, ref, actor: str, *, reason: str, expect_version: int | None = None) -> ComplaintInfo:
        """Mark the contact malicious or abusive (supervisors); shown when the caller calls again."""
        reason = clean(reason, "reason", multiline=True)

        def change(session, c, user, audit):
            audit("flag_malicious", "malicious", c.malicious, True, reason)
            c.malicious, c.malicious_reason = True, reason

        return self._mutate(ref, actor, "flag_malicious", expect_version, change)

    def clear_malicious(self, ref, actor: str, *, note: str, expect_version: int | None = None) -> ComplaintInfo:
        note = clean(note, "note", multiline=True)

        def change(session, c, user, audit):
            if not c.malicious:
                raise InvalidInput(f"{ref_of(c.id)} is not flagged")
            audit("clear_malicious", "malicious", True, False, note)
            c.malicious, c.malicious_reason = False, None

        return self._mutate(ref, actor, "clear_malicious", expect_version, change)

    def update_details(
        self,
        ref,
        actor: str,
        *,
        expect_version: int | None = None,
        subject: str | None = None,
        description: str | None = None,
        customer: str | None = None,
        contact: str | None = None,
        category: str | None = None,
        severity: str | None = None,
        channel: str | None = None,
    ) -> ComplaintInfo:
        """Edit the complaint's own fields (a form's save). A new severity moves the SLA targets."""
        changes = {}
        for name, value, column, multiline in (
            ("subject", subject, "subject", False),
            ("description", description, "description", True),
            ("customer", customer, "customer_name", False),
            ("contact", contact, "customer_contact", False),
            ("category", category, "category", False),
        ):
            if value is not None:
                changes[column] = clean(value, name, multiline=multiline)
        if severity is not None:
            changes["severity"] = _choice(severity, SEVERITIES, "severity")
        if channel is not None:
            changes["channel"] = _choice(channel, CHANNELS, "channel")
        if not changes:
            raise InvalidInput("nothing to change")

        def change(session, c, user, audit):
            if c.status == Status.CLOSED:
                raise lifecycle.IllegalTransition(f"cannot edit {ref_of(c.id)}: it is closed; reopen it first")
            for column, value in changes.items():
                if getattr(c, column) != value:
                    audit("update", column, getattr(c, column), value)
                    setattr(c, column, value)
            if "severity" in changes:
                self._set_targets(c)

        return self._mutate(ref, actor, "update", expect_version, change)

    def escalate(
        self, ref, level: int, *, actor: str | None = None, note: str, expect_version: int | None = None
    ) -> ComplaintInfo:
        """Raise (or lower) the escalation level: 0 owner, 1 supervisor, 2 manager. `actor`
        None is the system (the reminder sweep); a person must be a supervisor."""
        note = clean(note, "note", multiline=True)
        if level not in ESCALATION_LEVELS:
            raise InvalidInput(f"escalation level {level}: one of {', '.join(map(str, ESCALATION_LEVELS))}")

        def change(session, c, user, audit):
            if c.escalation_level != level:
                audit("escalate", "escalation_level", c.escalation_level, level, note)
                c.escalation_level = level

        return self._mutate(ref, actor, "escalate", expect_version, change)

    def escalate_in(self, session: Session, c: Complaint, level: int, note: str, now: float) -> None:
        """The system raises the escalation level inside the caller's transaction (the
        reminder sweep), with its audit row; never lowers it."""
        if level <= c.escalation_level:
            return
        _Audit(session, c, None, now)("escalate", "escalation_level", c.escalation_level, level, note)
        c.escalation_level = level
        c.updated_at, c.updated_by_id = now, None
        self._refresh_due(c)

    def close_stale_resolved(self, now: float | None = None, *, batch: int = 500) -> list[str]:
        """Close the complaints resolved more than `auto_close_days` ago that the customer never
        answered (confirmed: no). Called by the scheduler; returns their references."""
        now = self.clock() if now is None else now
        days = self.settings.complaints.auto_close_days
        cutoff = now - days * 86400
        closed: list[str] = []
        while True:
            with write_session(self.engine) as session:
                stale = session.scalars(
                    select(Complaint)
                    .where(Complaint.status == Status.RESOLVED.value, Complaint.status_changed_at < cutoff)
                    .order_by(Complaint.status_changed_at)
                    .limit(batch)
                    .with_for_update()
                ).all()
                for c in stale:
                    audit = _Audit(session, c, None, now)
                    note = f"no answer from the customer within {days:g} days of the resolution"
                    self._set_status(c, Status.CLOSED, now)
                    audit("auto_close", "status", Status.RESOLVED.value, Status.CLOSED.value, note)
                    audit("auto_close", "customer_confirmed", c.customer_confirmed, False)
                    c.customer_confirmed, c.closed_at = False, now
                    c.updated_at, c.updated_by_id = now, None
                    self._refresh_due(c)
                    reminders.arm(session, c, self.settings, self.calendar, now)
                    closed.append(ref_of(c.id))
            if len(stale) < batch:
                return closed

    # -- reads ----------------------------------------------------------------------------------

    def get(self, ref) -> ComplaintInfo:
        """The complaint with its audit trail (oldest first) and follow-ups."""
        complaint_id = parse_ref(ref)
        with read_session(self.engine) as session:
            c = session.get(Complaint, complaint_id)
            if c is None:
                raise NotFound(f"no complaint {ref_of(complaint_id)}")
            return self._info(session, c, full=True)

    def allowed_intents(self, ref, actor: str) -> list[str]:
        """What `actor` may do to the complaint now (for the TUI's action list)."""
        with read_session(self.engine) as session:
            user = self._user(session, actor)
            c = session.get(Complaint, parse_ref(ref))
            if c is None:
                raise NotFound(f"no complaint {ref}")
            found = []
            for intent in lifecycle.allowed_intents(c.status):
                if permissions.refusal(user, intent, c) is None:
                    found.append(intent)
            if c.status != Status.CLOSED:
                for intent in ("assign", "follow_up", "update"):
                    if permissions.refusal(user, intent, c) is None:
                        found.append(intent)
            for intent in ("clear_malicious" if c.malicious else "flag_malicious", "escalate"):
                if permissions.refusal(user, intent, c) is None:
                    found.append(intent)
            return found

    def view(
        self, name: str, user: str | None = None, *, now: float | None = None, limit: int = PAGE, offset: int = 0
    ) -> list[ComplaintInfo]:
        """A saved view's page. `mine` needs the user; ordered by urgency (overdue promises
        first, then SLA time left, then severity), `due_today`/`overdue` by due time,
        `waiting` longest first, `escalated` highest level first, `all_open` newest first."""
        try:
            view = View(name.replace("-", "_"))
        except ValueError:
            raise InvalidInput(f"no view {name!r}: one of {', '.join(v.value for v in View)}") from None
        now = self.clock() if now is None else now
        open_ = text(OPEN_SQL)
        query = select(Complaint)
        if view is View.MINE:
            if not user:
                raise InvalidInput("the view 'mine' needs a user")
            with read_session(self.engine) as session:
                owner_id = self._user(session, user).id
            query = query.where(Complaint.owner_id == owner_id, open_).order_by(*self._urgency(now))
        elif view is View.DUE_TODAY:
            start, end = self.calendar.day_bounds(self.calendar.local_date(now))
            query = query.where(open_, Complaint.due_at >= start, Complaint.due_at < end).order_by(
                Complaint.due_at, Complaint.id
            )
        elif view is View.OVERDUE:
            query = query.where(open_, Complaint.due_at < now).order_by(Complaint.due_at, Complaint.id)
        elif view is View.UNASSIGNED:
            query = query.where(open_, Complaint.owner_id.is_(None)).order_by(*self._urgency(now))
        elif view is View.WAITING:
            query = query.where(Complaint.status == Status.WAITING.value).order_by(
                Complaint.status_changed_at, Complaint.id
            )
        elif view is View.ESCALATED:
            query = query.where(open_, Complaint.escalation_level > 0).order_by(
                Complaint.escalation_level.desc(), Complaint.due_at.is_(None), Complaint.due_at, Complaint.id
            )
        else:
            query = query.where(open_).order_by(Complaint.id.desc())
        return self._page(query, limit, offset)

    @staticmethod
    def _urgency(now: float):
        severity = case(
            {s: i for i, s in enumerate(reversed(SEVERITIES))}, value=Complaint.severity, else_=len(SEVERITIES)
        )
        promise_overdue = case((Complaint.next_follow_up_at < now, 0), else_=1)
        return (promise_overdue, Complaint.sla_due_at.is_(None), Complaint.sla_due_at, severity, Complaint.id)

    def list(
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
        now = self.clock() if now is None else now
        query = select(Complaint)
        if statuses:
            wanted = [_choice(s, tuple(Status), "status") for s in statuses]
            query = query.where(Complaint.status.in_(wanted))
        elif not search:
            query = query.where(text(OPEN_SQL))
        if owner:
            with read_session(self.engine) as session:
                query = query.where(Complaint.owner_id == self._user(session, owner).id)
        if overdue:
            query = query.where(text(OPEN_SQL), Complaint.due_at < now)
        if search is not None:
            query = self._search_filter(query, search)
            query = query.order_by(Complaint.id.desc())
        else:
            query = query.order_by(Complaint.due_at.is_(None), Complaint.due_at, Complaint.id.desc())
        return self._page(query, limit, offset)

    def search(self, query_text: str, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        """Full text over subject, description, customer, contact, resolution and every note;
        newest first. A reference (C-000123) finds that complaint."""
        query = self._search_filter(select(Complaint), query_text, newest=limit + offset).order_by(Complaint.id.desc())
        return self._page(query, limit, offset)

    def _search_filter(self, query, query_text: str, newest: int | None = None):
        query_text = clean(query_text, "search") or ""
        terms = parse_query(query_text)
        if not terms:
            raise InvalidInput("search: no words to look for")
        condition = search_condition(self.engine.dialect.name, terms, newest)
        if re.fullmatch(r"C-\d{1,12}", query_text.strip(), re.IGNORECASE):
            condition = condition | (Complaint.id == parse_ref(query_text))
        return query.where(condition)

    def caller_flags(self, caller_number: str) -> list[ComplaintInfo]:
        """Complaints flagged malicious from this caller number (shown when they call again)."""
        query = (
            select(Complaint)
            .where(text("malicious"), Complaint.caller_number == caller_number)
            .order_by(Complaint.id.desc())
        )
        return self._page(query, PAGE, 0)

    def _page(self, query, limit: int, offset: int) -> list[ComplaintInfo]:
        with read_session(self.engine) as session:
            rows = session.scalars(query.limit(limit).offset(offset)).all()
            names = self._names(session, {i for c in rows for i in (c.owner_id, c.created_by_id, c.updated_by_id)})
            return [self._info(session, c, names=names) for c in rows]

    @staticmethod
    def _names(session: Session, ids: set) -> dict[int, str]:
        ids.discard(None)
        if not ids:
            return {}
        return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())

    def _info(self, session: Session, c: Complaint, *, full: bool = False, names: dict | None = None) -> ComplaintInfo:
        if names is None:
            names = self._names(session, {c.owner_id, c.created_by_id, c.updated_by_id})
        events: tuple = ()
        follow_ups: tuple = ()
        if full:
            actor = aliased(User)
            events = tuple(
                EventInfo(e.id, e.changeset, e.at, name, e.kind, e.field, e.old, e.new, e.note, e.follow_up_id)
                for e, name in session.execute(
                    select(AuditEvent, actor.name)
                    .outerjoin(actor, actor.id == AuditEvent.actor_id)
                    .where(AuditEvent.complaint_id == c.id)
                    .order_by(AuditEvent.id)
                )
            )
            rows = session.scalars(select(FollowUp).where(FollowUp.complaint_id == c.id).order_by(FollowUp.id)).all()
            people = self._names(session, {i for f in rows for i in (f.owner_id, f.created_by_id, f.outcome_by_id)})
            follow_ups = tuple(
                FollowUpInfo(
                    f.id,
                    f.kind,
                    people.get(f.owner_id),
                    f.due_at,
                    f.note,
                    people.get(f.created_by_id),
                    f.created_at,
                    f.outcome,
                    f.outcome_note,
                    f.outcome_at,
                    people.get(f.outcome_by_id),
                )
                for f in rows
            )
        return ComplaintInfo(
            id=c.id,
            ref=ref_of(c.id),
            status=c.status,
            owner=names.get(c.owner_id),
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
            created_by=names.get(c.created_by_id),
            created_at=c.created_at,
            updated_by=names.get(c.updated_by_id),
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


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    normal = (value or "").strip().lower().replace("-", "_").replace(" ", "_")
    if normal not in allowed:
        raise InvalidInput(f"{what} {value!r}: one of {', '.join(a.replace('_', '-') for a in allowed)}")
    return normal
