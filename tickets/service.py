"""One function per user intent on complaints (the intents: tickets/intents.py); the reads
are tickets/queries.py's.

Every intent: resolves the acting user, locks and reads the complaint, refuses a stale
`expect_version` ("C-000001 changed by bob at 2026-11-23T10:04:05+00:00, reload"), checks
the permission and the status it may start from (both from the intents' table), writes the
change and its audit rows in one short write transaction (`db.engine.write_session`: BEGIN
IMMEDIATE on SQLite, `SELECT ... FOR UPDATE` on PostgreSQL), and returns the complaint as it
now is.

The complaint row carries SQLAlchemy's `version_id_col` as well: an UPDATE based on an
older version than the one stored fails (and is reported as StaleVersion) even if the row
lock were ever bypassed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col

from db.complaints import AuditEvent, Complaint, ComplaintSearch, FollowUp, User
from db.engine import read_session, write_session
from tickets import lifecycle, outcome_facts, permissions, reminders
from tickets.errors import IllegalTransition, InvalidInput, NotFound, StaleVersion
from tickets.queries import ComplaintQueries, complaint_info, user_by_name
from tickets.records import (
    ASSIGNED,
    CHANNELS,
    ESCALATION_LEVELS,
    FOLLOW_UP_KINDS,
    LAPSED,
    OUTCOMES,
    PAGE,
    PROMISE_KINDS,
    ROOT_CAUSES,
    SEVERITIES,
    ComplaintInfo,
    checked_due,
    checked_id,
    choice,
    parse_ref,
    stored_id,
)
from tickets.sla import BusinessCalendar
from tickets.statuses import OPEN, PAUSED, Status, ref_of
from tickets.text import clean, search_document

if TYPE_CHECKING:
    from wallboard.config import Settings

# A change inside an intent's transaction: the complaint (locked), who acts (None: the
# system), and the audit writer.
Change = Callable[[Session, Complaint, "User | None", "_Audit"], None]


def _person(user: User | None) -> User:
    """The acting user of an intent only a person carries out."""
    if user is None:
        raise TypeError("this intent needs a person acting")
    return user


class _Audit:
    """Audit rows of one intent: one changeset, one time, one actor."""

    def __init__(self, session: Session, complaint: Complaint | None, actor: User | None, now: float) -> None:
        self.session, self.complaint, self.actor, self.now = session, complaint, actor, now
        self.changeset = uuid.uuid4().hex

    def __call__(
        self,
        kind: str,
        field: str | None = None,
        old: object = None,
        new: object = None,
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


def _audit_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class ComplaintService:
    """Complaint intents on one database, and (delegated) its reads. `clock` gives "now"
    (epoch seconds)."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.calendar = BusinessCalendar.from_settings(settings)
        self.queries = ComplaintQueries(engine, self.calendar, clock)

    # -- SLA ----------------------------------------------------------------------------

    def _budget(self, severity: str) -> tuple[float, float]:
        target = getattr(self.settings.complaints.sla, severity)
        return float(target.acknowledge_hours) * 3600, float(target.resolve_hours) * 3600

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

    def _judge_outcome(self, session: Session, c: Complaint) -> None:
        """The one place the outcome report's facts of a complaint are kept (see
        tickets/outcome_facts.py): after the last change an intent makes to it, in its
        transaction."""
        outcome_facts.record(session, self.calendar, stored_id(c.id))

    # -- plumbing -------------------------------------------------------------------------

    def _actor(self, session: Session, name: str) -> User:
        user = user_by_name(session, name)
        permissions.check_actor(user)
        return user

    def _assignee(self, session: Session, name: str) -> User:
        user = user_by_name(session, name)
        if not user.active:
            raise InvalidInput(f"{name} has been removed: choose someone else")
        if user.role == permissions.Role.DISPLAY:
            raise InvalidInput(f"{name} is a display user and cannot own complaints or follow-ups")
        return user

    def _name(self, session: Session, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        return session.scalar(select(col(User.name)).where(col(User.id) == user_id))

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
        ref: str | int,
        actor: str | None,
        intent: str,
        expect_version: int | None,
        change: Change,
        *,
        check_permission: bool = True,
    ) -> ComplaintInfo:
        """Carry out `intent` on the complaint: the permission (unless the change checks it
        itself) and the status it may start from are the intents table's."""
        complaint_id = parse_ref(ref)
        now = self.clock()
        try:
            with write_session(self.engine) as session:
                user = self._actor(session, actor) if actor is not None else None
                c = session.scalar(select(Complaint).where(col(Complaint.id) == complaint_id).with_for_update())
                if c is None:
                    raise NotFound(f"no complaint {ref_of(complaint_id)}")
                if expect_version is not None and expect_version != c.version:
                    raise self._stale(c, session, expect_version)
                if user is not None and check_permission:
                    permissions.check(user, intent, c, ref=ref_of(c.id), owner_name=self._name(session, c.owner_id))
                lifecycle.check(intent, c.status, ref_of(c.id))
                change(session, c, user, _Audit(session, c, user, now))
                c.updated_at = now
                c.updated_by_id = user.id if user else None
                self._refresh_due(c)
                session.flush()
                self._reindex(session, c)
                reminders.arm(session, c, self.settings, self.calendar, now)
                self._judge_outcome(session, c)
                return complaint_info(session, c, full=True)
        except StaleDataError:
            with read_session(self.engine) as session:
                stored = session.get(Complaint, complaint_id)
                if stored is None:
                    raise NotFound(f"no complaint {ref_of(complaint_id)}") from None
                raise self._stale(stored, session, expect_version) from None

    def _reindex(self, session: Session, c: Complaint) -> None:
        notes = session.scalars(
            select(col(AuditEvent.note))
            .where(col(AuditEvent.complaint_id) == c.id, col(AuditEvent.note).is_not(None))
            .order_by(col(AuditEvent.id))
        ).all()
        document = search_document(
            c.subject, c.customer_name, c.customer_contact, c.category, c.resolution, c.description, *notes
        )
        row = session.get(ComplaintSearch, c.id)
        if row is None:
            session.add(ComplaintSearch(complaint_id=stored_id(c.id), document=document))
        elif row.document != document:
            row.document = document

    def _refresh_follow_ups(self, session: Session, c: Complaint) -> None:
        session.flush()
        c.next_follow_up_at = session.scalar(
            select(func.min(col(FollowUp.due_at))).where(
                col(FollowUp.complaint_id) == c.id,
                col(FollowUp.outcome).is_(None),
                col(FollowUp.kind).in_(PROMISE_KINDS),
            )
        )

    def _lapse_promises(self, session: Session, c: Complaint, audit: _Audit) -> None:
        """Closing ends the promises to the customer still open: they lapse (never kept, so
        every report counts them missed: docs/OUTCOMES.md), each with its audit row in the
        close's changeset, and leave the promises tile, the "due" lists and the reminders.
        Reopening does not revive them; a new follow-up is a new promise."""
        # No flush before the complaint's own change is complete: each flush of it is an
        # UPDATE, and each UPDATE a new version.
        with session.no_autoflush:
            still_open = session.scalars(
                select(FollowUp).where(
                    col(FollowUp.complaint_id) == c.id,
                    col(FollowUp.outcome).is_(None),
                    col(FollowUp.kind).in_(PROMISE_KINDS),
                )
            ).all()
        for f in still_open:
            f.outcome, f.outcome_at, f.outcome_by_id = LAPSED, audit.now, audit.actor.id if audit.actor else None
            audit("outcome", "outcome", None, LAPSED, None, f.id)
        c.next_follow_up_at = None  # the earliest open promise: none is left

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
        severity = choice(severity, SEVERITIES, "severity")
        channel = choice(channel, CHANNELS, "channel")
        now = self.clock()
        with write_session(self.engine) as session:
            user = self._actor(session, actor)
            permissions.check(user, "create")
            owner_user: User | None
            if unassigned:
                permissions.check(user, "create_for_other")  # nobody's yet: a supervisor's call
                owner_user = None
            elif owner and owner != user.name:
                permissions.check(user, "create_for_other")
                owner_user = self._assignee(session, owner)
            else:
                owner_user = user
            if fields["callid"]:
                self._fill_from_call(session, fields)
            c = self.create_in(session, user, fields, severity=severity, channel=channel, owner=owner_user, now=now)
            return complaint_info(session, c, full=True)

    def create_in(
        self,
        session: Session,
        user: User,
        fields: dict[str, str | None],
        *,
        severity: str,
        channel: str,
        owner: User | None,
        now: float,
        note: str | None = None,
    ) -> Complaint:
        """A new complaint from cleaned `fields`, inside the caller's transaction (a call-back
        made a complaint, tickets/callbacks.py), with its audit rows (`note` on them),
        search entry and reminders. The permission is the caller's to check."""
        owner_user = owner
        c = Complaint(
            customer_name=fields["customer_name"] or "",
            customer_contact=fields["customer_contact"] or "",
            subject=fields["subject"] or "",
            description=fields["description"] or "",
            category=fields["category"],
            callid=fields["callid"],
            call_queue=fields["call_queue"],
            call_agent=fields["call_agent"],
            caller_number=fields["caller_number"],
            channel=channel,
            severity=severity,
            status=Status.NEW.value,
            owner_id=owner_user.id if owner_user else None,
            created_by_id=stored_id(user.id),
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
        audit("create", "status", None, c.status, note)
        audit("create", "owner", None, owner_user.name if owner_user else None)
        session.flush()
        self._reindex(session, c)
        reminders.arm(session, c, self.settings, self.calendar, now)
        self._judge_outcome(session, c)
        return c

    @staticmethod
    def _fill_from_call(session: Session, fields: dict[str, str | None]) -> None:
        from db.models import Call

        call = session.execute(
            select(col(Call.queue), col(Call.agent), col(Call.caller))
            .where(col(Call.callid) == fields["callid"])
            .order_by(col(Call.enter_at).desc())
            .limit(1)
        ).first()
        if call is not None:
            fields["call_queue"] = fields["call_queue"] or call.queue
            fields["call_agent"] = fields["call_agent"] or call.agent
            fields["caller_number"] = fields["caller_number"] or call.caller

    # -- lifecycle ------------------------------------------------------------------------

    def _transition(
        self,
        intent: str,
        ref: str | int,
        actor: str,
        expect_version: int | None,
        note: str | None = None,
        extra: Change | None = None,
    ) -> ComplaintInfo:
        """An intent that moves the complaint to the status the intents table says."""

        def change(session: Session, c: Complaint, user: User | None, audit: _Audit) -> None:
            to = lifecycle.target(intent, c.status, ref_of(c.id))
            if extra is not None:
                extra(session, c, user, audit)
            old = c.status
            self._set_status(c, to, audit.now)
            audit(intent, "status", old, to.value, note)

        return self._mutate(ref, actor, intent, expect_version, change)

    def acknowledge(
        self, ref: str | int, actor: str, *, expect_version: int | None = None, note: str | None = None
    ) -> ComplaintInfo:
        """new -> acknowledged: an owner took it and told the customer. An agent acknowledging an
        unassigned complaint takes it."""
        note = clean(note, "note", multiline=True, required=False)

        def take(session: Session, c: Complaint, user: User | None, audit: _Audit) -> None:
            if c.owner_id is None:
                taker = _person(user)
                audit("acknowledge", "owner", None, taker.name)
                c.owner_id = taker.id
            c.acknowledged_at = audit.now

        return self._transition("acknowledge", ref, actor, expect_version, note, take)

    def start(
        self, ref: str | int, actor: str, *, expect_version: int | None = None, note: str | None = None
    ) -> ComplaintInfo:
        """acknowledged or reopened -> in progress."""
        return self._transition(
            "start", ref, actor, expect_version, clean(note, "note", multiline=True, required=False)
        )

    def wait(
        self, ref: str | int, actor: str, *, expect_version: int | None = None, note: str | None = None
    ) -> ComplaintInfo:
        """in progress -> waiting on customer (the SLA clock stops)."""
        return self._transition("wait", ref, actor, expect_version, clean(note, "note", multiline=True, required=False))

    def resume(
        self, ref: str | int, actor: str, *, expect_version: int | None = None, note: str | None = None
    ) -> ComplaintInfo:
        """waiting on customer -> in progress (the SLA clock runs again, its due time moved on)."""
        return self._transition(
            "resume", ref, actor, expect_version, clean(note, "note", multiline=True, required=False)
        )

    def resolve(
        self, ref: str | int, actor: str, *, resolution: str, root_cause: str, expect_version: int | None = None
    ) -> ComplaintInfo:
        """in progress or waiting -> resolved, with the answer given and the root cause."""
        answer = clean(resolution, "resolution", multiline=True)
        cause = choice(root_cause, tuple(ROOT_CAUSES), "root cause")

        def record(session: Session, c: Complaint, user: User | None, audit: _Audit) -> None:
            audit("resolve", "resolution", c.resolution, answer)
            audit("resolve", "root_cause", c.root_cause, cause)
            c.resolution, c.root_cause, c.resolved_at = answer, cause, audit.now

        return self._transition("resolve", ref, actor, expect_version, None, record)

    def close(
        self,
        ref: str | int,
        actor: str,
        *,
        confirmed: bool = False,
        expect_version: int | None = None,
        note: str | None = None,
    ) -> ComplaintInfo:
        """resolved -> closed; records whether the customer confirmed the answer. The
        complaint's promises still open lapse (`_lapse_promises`)."""
        note = clean(note, "note", multiline=True, required=False)

        def record(session: Session, c: Complaint, user: User | None, audit: _Audit) -> None:
            self._closable(c)
            audit("close", "customer_confirmed", c.customer_confirmed, confirmed)
            c.customer_confirmed, c.closed_at = confirmed, audit.now
            self._lapse_promises(session, c, audit)

        return self._transition("close", ref, actor, expect_version, note, record)

    @staticmethod
    def _closable(c: Complaint) -> None:
        missing = [
            name for name, value in (("a resolution", c.resolution), ("a root cause", c.root_cause)) if not value
        ]
        if missing:
            raise IllegalTransition(f"cannot close {ref_of(c.id)}: it needs {' and '.join(missing)}")

    def reopen(self, ref: str | int, actor: str, *, note: str, expect_version: int | None = None) -> ComplaintInfo:
        """resolved or closed -> reopened, with the same owner; the SLA clock runs again."""
        why = clean(note, "note", multiline=True)

        def record(session: Session, c: Complaint, user: User | None, audit: _Audit) -> None:
            if c.customer_confirmed is not None:
                audit("reopen", "customer_confirmed", c.customer_confirmed, None)
            c.customer_confirmed = None
            c.closed_at = None
            c.resolved_at = None

        return self._transition("reopen", ref, actor, expect_version, why, record)

    # -- ownership and follow-ups --------------------------------------------------------------

    def assign(
        self, ref: str | int, actor: str, *, to: str, note: str, expect_version: int | None = None
    ) -> ComplaintInfo:
        """Hand the complaint over to `to`, saying why. An agent hands over their own; a
        supervisor reassigns any."""
        why = clean(note, "note", multiline=True)
        if not to:
            raise InvalidInput("handing over needs the user to hand it to")

        def change(session: Session, c: Complaint, user: User | None, audit: _Audit) -> None:
            giver = _person(user)
            target = self._assignee(session, to)
            if target.id == c.owner_id:
                raise InvalidInput(f"{to} already owns {ref_of(c.id)}")
            audit("assign", "owner", self._name(session, c.owner_id), target.name, why)
            c.owner_id = target.id
            if target.id is not None and target.id != giver.id:
                reminders.notify(
                    session,
                    self.settings,
                    [target.id],
                    ASSIGNED,
                    c.id,
                    f"{ref_of(c.id)} assigned to you by {giver.name}: {why}",
                    audit.now,
                )

        return self._mutate(ref, actor, "assign", expect_version, change)

    def add_follow_up(
        self,
        ref: str | int,
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
        what = clean(note, "note", multiline=True) or ""
        kind = choice(kind, FOLLOW_UP_KINDS, "kind")
        due_at = checked_due(due_at, self.clock())

        def change(session: Session, c: Complaint, user: User | None, audit: _Audit) -> None:
            creator = _person(user)
            if c.status == Status.CLOSED and kind in PROMISE_KINDS:
                raise IllegalTransition(f"cannot promise a {kind} on {ref_of(c.id)}: it is closed; reopen it first")
            if due_at < audit.now - 60:
                raise InvalidInput(f"due time {self._fmt(due_at)} is in the past")
            owner_user: User | None
            if owner:
                owner_user = self._assignee(session, owner)
            elif c.owner_id is not None:
                owner_user = session.get(User, c.owner_id)
            else:
                owner_user = creator
            owner_user = owner_user or creator
            follow_up = FollowUp(
                complaint_id=stored_id(c.id),
                kind=kind,
                owner_id=stored_id(owner_user.id),
                due_at=due_at,
                note=what,
                created_by_id=stored_id(creator.id),
                created_at=audit.now,
            )
            session.add(follow_up)
            session.flush()
            audit("follow_up", kind, None, f"{owner_user.name} by {self._fmt(due_at)}", what, follow_up.id)
            self._refresh_follow_ups(session, c)

        return self._mutate(ref, actor, "follow_up", expect_version, change)

    def record_outcome(
        self,
        ref: str | int,
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
        what = clean(note, "note", multiline=True)
        outcome = choice(outcome, OUTCOMES, "outcome")
        follow_up_id = checked_id(follow_up_id, "follow-up")
        if new_due_at is not None and outcome != "rescheduled":
            raise InvalidInput("a new due time goes with the outcome 'rescheduled' only")
        if new_due_at is not None:
            new_due_at = checked_due(new_due_at, self.clock(), "new due time")

        def change(session: Session, c: Complaint, user: User | None, audit: _Audit) -> None:
            recorder = _person(user)
            f = session.scalar(
                select(FollowUp).where(col(FollowUp.id) == follow_up_id, col(FollowUp.complaint_id) == c.id)
            )
            if f is None:
                raise NotFound(f"{ref_of(c.id)} has no follow-up {follow_up_id}")
            permissions.check(
                recorder,
                "outcome",
                c,
                ref=ref_of(c.id),
                owner_name=self._name(session, c.owner_id),
                owns_follow_up=f.owner_id == recorder.id,
            )
            if f.outcome is not None:
                raise InvalidInput(f"follow-up {follow_up_id} already has an outcome ({f.outcome.replace('_', ' ')})")
            if new_due_at is not None and new_due_at < audit.now - 60:
                raise InvalidInput(f"new due time {self._fmt(new_due_at)} is in the past")
            f.outcome, f.outcome_note, f.outcome_at, f.outcome_by_id = outcome, what, audit.now, recorder.id
            audit("outcome", "outcome", None, outcome, what, f.id)
            if new_due_at is not None:
                again = FollowUp(
                    complaint_id=stored_id(c.id),
                    kind=f.kind,
                    owner_id=f.owner_id,
                    due_at=new_due_at,
                    note=f.note,
                    created_by_id=stored_id(recorder.id),
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

        # The follow-up's owner may record it whoever owns the complaint: checked above.
        return self._mutate(ref, actor, "outcome", expect_version, change, check_permission=False)

    # -- flags, details, escalation ------------------------------------------------------------

    def flag_malicious(
        self, ref: str | int, actor: str, *, reason: str, expect_version: int | None = None
    ) -> ComplaintInfo:
        """Mark the contact malicious or abusive (supervisors); shown when the caller calls again."""
        why = clean(reason, "reason", multiline=True)

        def change(session: Session, c: Complaint, user: User | None, audit: _Audit) -> None:
            audit("flag_malicious", "malicious", c.malicious, True, why)
            c.malicious, c.malicious_reason = True, why

        return self._mutate(ref, actor, "flag_malicious", expect_version, change)

    def clear_malicious(
        self, ref: str | int, actor: str, *, note: str, expect_version: int | None = None
    ) -> ComplaintInfo:
        """Remove the malicious flag, saying why (supervisors)."""
        why = clean(note, "note", multiline=True)

        def change(session: Session, c: Complaint, user: User | None, audit: _Audit) -> None:
            if not c.malicious:
                raise InvalidInput(f"{ref_of(c.id)} is not flagged")
            audit("clear_malicious", "malicious", True, False, why)
            c.malicious, c.malicious_reason = False, None

        return self._mutate(ref, actor, "clear_malicious", expect_version, change)

    def update_details(
        self,
        ref: str | int,
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
        changes: dict[str, str | None] = {}
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
            changes["severity"] = choice(severity, SEVERITIES, "severity")
        if channel is not None:
            changes["channel"] = choice(channel, CHANNELS, "channel")
        if not changes:
            raise InvalidInput("nothing to change")

        def change(session: Session, c: Complaint, user: User | None, audit: _Audit) -> None:
            for column, value in changes.items():
                if getattr(c, column) != value:
                    audit("update", column, getattr(c, column), value)
                    setattr(c, column, value)
            if "severity" in changes:
                self._set_targets(c)

        return self._mutate(ref, actor, "update", expect_version, change)

    def escalate(
        self,
        ref: str | int,
        level: int,
        *,
        actor: str | None = None,
        note: str,
        expect_version: int | None = None,
    ) -> ComplaintInfo:
        """Raise (or lower) the escalation level: 0 owner, 1 supervisor, 2 manager. `actor`
        None is the system (the reminder sweep); a person must be a supervisor."""
        why = clean(note, "note", multiline=True)
        if isinstance(level, bool) or not isinstance(level, int) or level not in ESCALATION_LEVELS:
            shown = repr(level)[:40]
            raise InvalidInput(f"escalation level {shown}: one of {', '.join(map(str, ESCALATION_LEVELS))}")

        def change(session: Session, c: Complaint, user: User | None, audit: _Audit) -> None:
            if c.escalation_level != level:
                audit("escalate", "escalation_level", c.escalation_level, level, why)
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
        self._judge_outcome(session, c)

    def close_stale_resolved(self, now: float | None = None, *, batch: int = 500) -> list[str]:
        """Close the complaints resolved more than `auto_close_days` ago that the customer never
        answered (confirmed: no), lapsing their promises still open as `close` does. Called by
        the scheduler; returns their references."""
        now = self.clock() if now is None else now
        days = self.settings.complaints.auto_close_days
        cutoff = now - days * 86400
        closed: list[str] = []
        while True:
            with write_session(self.engine) as session:
                stale = session.scalars(
                    select(Complaint)
                    .where(col(Complaint.status) == Status.RESOLVED.value, col(Complaint.status_changed_at) < cutoff)
                    .order_by(col(Complaint.status_changed_at))
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
                    self._lapse_promises(session, c, audit)
                    c.updated_at, c.updated_by_id = now, None
                    self._refresh_due(c)
                    reminders.arm(session, c, self.settings, self.calendar, now)
                    self._judge_outcome(session, c)
                    closed.append(ref_of(c.id))
            if len(stale) < batch:
                return closed

    # -- reads: tickets/queries.py's, kept here because the tests and benchmarks read
    # through the service they write with (dozens of call sites, nothing to gain) ------------

    def get(self, ref: str | int) -> ComplaintInfo:
        return self.queries.get(ref)

    def view(
        self, name: str, user: str | None = None, *, now: float | None = None, limit: int = PAGE, offset: int = 0
    ) -> list[ComplaintInfo]:
        return self.queries.view(name, user, now=now, limit=limit, offset=offset)

    def search(self, query_text: str, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        return self.queries.search(query_text, limit=limit, offset=offset)

    def caller_flags(self, caller_number: str) -> list[ComplaintInfo]:
        return self.queries.caller_flags(caller_number)

    # Last: a method called `list` would shadow the builtin in the annotations after it.
    def list(self, **filters: Any) -> list[ComplaintInfo]:
        return self.queries.matching(**filters)
