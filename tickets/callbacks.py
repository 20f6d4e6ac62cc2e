"""Call-back requests: a caller who hung up waiting is owed a call (docs/ARCHITECTURE.md, Call-backs).

Two halves:
- `CallbackIntake` turns the call data into requests: every abandon longer than a short
  abandon, from a usable number, makes one (several of one caller join the open one), and
  an open request closes by itself when its caller is later answered in any queue. It runs
  on the active server (a scheduler job) and in `wallboard ingest ... --follow`, after the
  feed's writes, never inside them; each abandon is judged once (`callback_calls`).
- `CallbackService` carries out the people's intents (tickets/intents.py, subject CALLBACK):
  request, take, attempt, assign, close, make a complaint. Like the complaint service: the
  acting user, the row locked, a stale `expect_version` refused, the permission from the
  intents' table, the change and its audit rows and reminders in one short transaction.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col

from db.callbacks import Callback, CallbackAttempt, CallbackCall, IntakeCheckpoint
from db.complaints import AuditEvent, User
from db.engine import read_session, write_session
from db.models import Call
from tickets import permissions, reminders
from tickets.errors import IllegalTransition, InvalidInput, NotFound, StaleVersion, TicketError
from tickets.queries import user_by_name, user_names
from tickets.records import (
    ATTEMPT_OUTCOMES,
    CALLBACK_OPEN,
    AttemptInfo,
    CallbackInfo,
    ComplaintInfo,
    EventInfo,
    RecentCall,
    callback_ref_of,
    choice,
    parse_callback_ref,
    stored_id,
)
from tickets.sla import BusinessCalendar
from tickets.statuses import ref_of
from tickets.text import clean

if TYPE_CHECKING:
    from tickets.service import ComplaintService
    from wallboard.config import Settings

log = logging.getLogger(__name__)

# -- is this a number to call back? ---------------------------------------------------------

# Digits with an optional leading +, 5 to 20 of them: shorter is an extension, longer no
# phone number (E.164 has at most 15 digits; a few more for trunk and exit prefixes).
PHONE_NUMBER = re.compile(r"\+?[0-9]{5,20}")
# What switches write for a caller who did not give their number (compared in lower case).
ANONYMOUS = frozenset({"anonymous", "withheld", "unknown", "private", "restricted", "unavailable", "none"})

# Results of judging an abandon (callback_calls.result).
CREATED, JOINED, OFFERED, MANUAL = "created", "joined", "offered", "manual"
SHORT, NO_NUMBER, NOT_A_NUMBER, IGNORED = "short", "anonymous", "not_a_number", "ignored"
SKIPPED = (SHORT, NO_NUMBER, NOT_A_NUMBER, IGNORED)

# The intake reads abandons again from this long before its checkpoint: a slower feed (a
# second site, a file read late) may write an abandon older than the newest one seen.
LOOKBACK_SECONDS = 600.0
INTAKE_BATCH = 500
INTAKE = "site"


def number_refusal(caller: str | None, ignore: Iterable[str] = ()) -> str | None:
    """Why this caller is not called back (a skip result), or None for a usable number."""
    if caller is None or not caller.strip() or caller.strip().lower() in ANONYMOUS:
        return NO_NUMBER
    if not PHONE_NUMBER.fullmatch(caller):
        return NOT_A_NUMBER
    if caller in set(ignore):
        return IGNORED
    return None


# -- the values handed out ----------------------------------------------------------------------


def callback_info(
    session: Session, cb: Callback, *, full: bool = False, max_attempts: int = 0, recent: int = 0
) -> CallbackInfo:
    """The request as handed out; `full`: with its attempts and audit trail; `recent`: with
    that many of the caller's latest calls."""
    names = user_names(session, (cb.owner_id,))
    attempts: tuple[AttemptInfo, ...] = ()
    events: tuple[EventInfo, ...] = ()
    calls: tuple[RecentCall, ...] = ()
    if full:
        rows = session.scalars(
            select(CallbackAttempt).where(col(CallbackAttempt.callback_id) == cb.id).order_by(col(CallbackAttempt.id))
        ).all()
        people = user_names(session, (a.by_id for a in rows))
        attempts = tuple(AttemptInfo(a.id or 0, a.at, people.get(a.by_id, ""), a.outcome, a.note) for a in rows)
        actor = aliased(User)
        events = tuple(
            EventInfo(e.id or 0, e.changeset, e.at, name, e.kind, e.field, e.old, e.new, e.note, e.follow_up_id)
            for e, name in session.execute(
                select(AuditEvent, col(actor.name))
                .outerjoin(actor, col(actor.id) == col(AuditEvent.actor_id))
                .where(col(AuditEvent.callback_id) == cb.id)
                .order_by(col(AuditEvent.id))
            )
        )
    if recent:
        calls = tuple(
            RecentCall(queue, enter_at, outcome, wait, agent)
            for queue, enter_at, outcome, wait, agent in session.execute(
                select(col(Call.queue), col(Call.enter_at), col(Call.outcome), col(Call.wait_seconds), col(Call.agent))
                .where(col(Call.caller) == cb.caller_number)
                .order_by(col(Call.enter_at).desc())
                .limit(recent)
            )
        )
    return CallbackInfo(
        id=stored_id(cb.id),
        ref=callback_ref_of(cb.id),
        caller_number=cb.caller_number,
        queue=cb.queue,
        callid=cb.callid,
        first_hung_up_at=cb.first_hung_up_at,
        hung_up_at=cb.hung_up_at,
        wait_seconds=cb.wait_seconds,
        abandons=cb.abandons,
        requested_at=cb.requested_at,
        due_at=cb.due_at,
        status=cb.status,
        owner=names.get(cb.owner_id) if cb.owner_id is not None else None,
        taken_at=cb.taken_at,
        attempts=cb.attempts,
        max_attempts=max_attempts,
        first_attempt_at=cb.first_attempt_at,
        last_attempt_at=cb.last_attempt_at,
        ended_at=cb.ended_at,
        end_note=cb.end_note,
        complaint_ref=ref_of(cb.complaint_id) if cb.complaint_id is not None else None,
        escalation_level=cb.escalation_level,
        version=cb.version,
        attempt_list=attempts,
        events=events,
        recent_calls=calls,
    )


@dataclass(frozen=True)
class AbandonInfo:
    """An abandoned call offered for a request by hand ([callbacks] auto = false)."""

    call_id: int
    caller_number: str
    queue: str
    hung_up_at: float
    wait_seconds: float | None


@dataclass
class IntakeResult:
    created: int = 0
    joined: int = 0
    offered: int = 0
    skipped: int = 0
    got_through: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.joined or self.offered or self.skipped or self.got_through)


class _Audit:
    """Audit rows of one call-back intent: one changeset, one time, one actor (None: the system)."""

    def __init__(self, session: Session, cb: Callback, actor: User | None, now: float) -> None:
        self.session, self.cb, self.actor, self.now = session, cb, actor, now
        self.changeset = uuid.uuid4().hex

    def __call__(
        self, kind: str, field: str | None = None, old: object = None, new: object = None, note: str | None = None
    ) -> None:
        self.session.add(
            AuditEvent(
                changeset=self.changeset,
                at=self.now,
                actor_id=self.actor.id if self.actor else None,
                callback_id=self.cb.id,
                kind=kind,
                field=field,
                old=None if old is None else str(old),
                new=None if new is None else str(new),
                note=note,
            )
        )


class _Base:
    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.calendar = BusinessCalendar.from_settings(settings)

    def _clock_text(self, at: float, now: float | None = None) -> str:
        """10:42 for today's times, the date too for others (the site's time zone)."""
        local = datetime.fromtimestamp(at, self.calendar.tz)
        today = datetime.fromtimestamp(self.clock() if now is None else now, self.calendar.tz).date()
        return local.strftime("%H:%M" if local.date() == today else "%Y-%m-%d %H:%M")

    def _due_for(self, queue: str, hung_up_at: float) -> float:
        return self.calendar.add(hung_up_at, self.settings.callbacks.target_minutes_for(queue) * 60)

    def _new_request(
        self, session: Session, call: _Abandon, now: float, creator: User | None, *, audit_kind: str
    ) -> Callback:
        cb = Callback(
            caller_number=call.caller,
            queue=call.queue,
            callid=call.callid,
            first_hung_up_at=call.end_at,
            hung_up_at=call.end_at,
            wait_seconds=call.wait,
            abandons=1,
            requested_at=now,
            due_at=self._due_for(call.queue, call.end_at),
            status=CALLBACK_OPEN,
            created_by_id=creator.id if creator else None,
            updated_at=now,
            updated_by_id=creator.id if creator else None,
        )
        session.add(cb)
        session.flush()
        waited = f" after {call.wait:.0f} s" if call.wait is not None else ""
        audit = _Audit(session, cb, creator, now)
        audit(audit_kind, "status", None, CALLBACK_OPEN, f"hung up in {call.queue}{waited}")
        audit(audit_kind, "due_at", None, self._clock_text(cb.due_at, now))
        return cb


@dataclass(frozen=True)
class _Abandon:
    call_id: int
    callid: str
    queue: str
    caller: str
    enter_at: float
    end_at: float
    wait: float | None


def _wait_of(enter_at: float, end_at: float, wait: float | None) -> float:
    return wait if wait is not None else max(0.0, end_at - enter_at)


class CallbackIntake(_Base):
    """Requests from the call data. `run()` after the feed has written: the new abandons
    since the checkpoint, then the open requests whose caller got through."""

    def run(self) -> IntakeResult:
        result = IntakeResult()
        try:
            while self._judge_batch(result):
                pass
            self._close_got_through(result)
        except IntegrityError:
            # Another intake (a `serve` beside an `ingest --follow`) judged the same abandon
            # at the same moment: its work stands, ours is rolled back; the next run goes on.
            log.info("call-back intake raced another; retrying at its next run")
        return result

    def run_logged(self) -> IntakeResult | None:
        """`run`, with a failure logged rather than raised (a locked database, a lost
        connection): a feed or the scheduler goes on, the next run catches up."""
        try:
            result = self.run()
        except Exception:
            log.exception("call-back intake failed")
            return None
        if result.changed:
            log.info("call-backs: %s", result)
        return result

    def _new_abandons(self, session: Session, now: float, *, limit: int) -> list[Any]:
        """Abandons not judged yet, from a little before the checkpoint, oldest first."""
        intake = session.get(IntakeCheckpoint, INTAKE)
        checkpoint = intake.checkpoint_at if intake is not None else 0.0
        since = max(checkpoint - LOOKBACK_SECONDS, now - self.settings.callbacks.max_age_hours * 3600)
        judged = select(col(CallbackCall.call_id)).where(col(CallbackCall.call_id) == col(Call.id))
        return list(
            session.execute(
                select(
                    col(Call.id),
                    col(Call.callid),
                    col(Call.queue),
                    col(Call.caller),
                    col(Call.enter_at),
                    col(Call.end_at),
                    col(Call.wait_seconds),
                )
                # A literal, so SQLite uses the partial index of abandons (db.models.Call).
                .where(text("calls.outcome = 'abandoned'"), col(Call.end_at) >= since, ~judged.exists())
                .order_by(col(Call.end_at), col(Call.id))
                .limit(limit)
            ).all()
        )

    def _judge_batch(self, result: IntakeResult) -> bool:
        """Judge up to a batch of new abandons; True when there may be more. Nothing new (the
        usual case, every second): one read, no write transaction to queue behind the feed."""
        now = self.clock()
        with read_session(self.engine) as session:
            if not self._new_abandons(session, now, limit=1):
                return False
        with write_session(self.engine) as session:
            intake = session.get(IntakeCheckpoint, INTAKE)
            if intake is None:
                intake = IntakeCheckpoint(name=INTAKE, checkpoint_at=0.0, run_at=now)
                session.add(intake)
            rows = self._new_abandons(session, now, limit=INTAKE_BATCH)
            for call_id, callid, queue, caller, enter_at, end_at, wait in rows:
                if end_at is None or call_id is None:
                    continue
                wait = _wait_of(enter_at, end_at, wait)
                outcome, callback_id = self._judge(
                    session, _Abandon(call_id, callid, queue, caller or "", enter_at, end_at, wait), now, result
                )
                session.add(
                    CallbackCall(
                        call_id=call_id,
                        callback_id=callback_id,
                        result=outcome,
                        queue=queue,
                        hung_up_at=end_at,
                        judged_at=now,
                    )
                )
                intake.checkpoint_at = max(intake.checkpoint_at, end_at)
            intake.run_at = now
            return len(rows) == INTAKE_BATCH

    def _judge(self, session: Session, call: _Abandon, now: float, result: IntakeResult) -> tuple[str, int | None]:
        config = self.settings.callbacks
        if call.wait is not None and call.wait <= self.settings.metrics_for(call.queue).short_abandon_seconds:
            result.skipped += 1
            return SHORT, None
        refusal = number_refusal(call.caller, config.ignore)
        if refusal is not None:
            result.skipped += 1
            return refusal, None
        if not config.auto:
            result.offered += 1
            return OFFERED, None
        cb = session.scalar(
            select(Callback)
            .where(col(Callback.caller_number) == call.caller, text("callbacks.status = 'open'"))
            .with_for_update()
        )
        if cb is None:
            cb = self._new_request(session, call, now, None, audit_kind="callback_request")
            reminders.arm_callback(session, cb, self.settings, now)
            result.created += 1
            return CREATED, cb.id
        _Audit(session, cb, None, now)(
            "callback_join", "abandons", cb.abandons, cb.abandons + 1, f"hung up again in {call.queue}"
        )
        cb.abandons += 1
        if call.end_at > cb.hung_up_at:
            cb.hung_up_at, cb.wait_seconds = call.end_at, call.wait
        cb.updated_at, cb.updated_by_id = now, None
        result.joined += 1
        return JOINED, cb.id

    @staticmethod
    def _got_through(session: Session) -> list[Any]:
        """(request id, first answer) of the open requests whose caller was answered since."""
        return list(
            session.execute(
                select(col(Callback.id), func.min(col(Call.answer_at)))
                .join(
                    Call,
                    and_(
                        col(Call.caller) == col(Callback.caller_number),
                        # By the caller index: a call that entered after the hang-up...
                        col(Call.enter_at) >= col(Callback.hung_up_at) - 1.0,
                        col(Call.answer_at) > col(Callback.hung_up_at),  # ...and was answered.
                    ),
                )
                .where(text("callbacks.status = 'open'"))
                .group_by(col(Callback.id))
            ).all()
        )

    def _close_got_through(self, result: IntakeResult) -> None:
        """Close the open requests whose caller has since been answered, in any queue."""
        now = self.clock()
        with read_session(self.engine) as session:
            if not self._got_through(session):
                return
        with write_session(self.engine) as session:
            answered = self._got_through(session)
            for callback_id, answer_at in answered:
                cb = session.scalar(select(Callback).where(col(Callback.id) == callback_id).with_for_update())
                if cb is None or cb.status != CALLBACK_OPEN or answer_at is None:
                    continue
                call = session.execute(
                    select(col(Call.queue), col(Call.agent))
                    .where(col(Call.caller) == cb.caller_number, col(Call.answer_at) == answer_at)
                    .limit(1)
                ).first()
                where = f" ({call.queue}, {call.agent})" if call is not None and call.agent else ""
                note = f"caller got through at {self._clock_text(answer_at, now)}{where}"
                _Audit(session, cb, None, now)("callback_got_through", "status", cb.status, "got_through", note)
                cb.status, cb.ended_at, cb.end_note = "got_through", answer_at, note
                cb.updated_at, cb.updated_by_id = now, None
                reminders.arm_callback(session, cb, self.settings, now)
                result.got_through += 1


# -- people's intents ---------------------------------------------------------------------------

# Change inside an intent's transaction: (session, the request locked, who acts, audit).
Change = Callable[[Session, Callback, User, _Audit], None]
# How many of the caller's latest calls a request is shown with.
RECENT_CALLS = 10
PAGE = 200


class Taken(TicketError):
    """Someone else has the request: "CB-000042 was taken by bob at 10:42"."""


class CallbackService(_Base):
    """Call-back intents and reads on one database. `complaints`: the complaint service a
    request is made a complaint with (default: one of its own)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        complaints: ComplaintService | None = None,
    ) -> None:
        super().__init__(engine, settings, clock)
        self._complaints = complaints

    @property
    def complaints(self) -> ComplaintService:
        if self._complaints is None:
            from tickets.service import ComplaintService

            self._complaints = ComplaintService(self.engine, self.settings, self.clock)
        return self._complaints

    @property
    def max_attempts(self) -> int:
        return self.settings.callbacks.max_attempts

    # -- reads ----------------------------------------------------------------------------

    def get(self, ref: str | int, *, recent: int = RECENT_CALLS) -> CallbackInfo:
        """One request with its attempts, history and the caller's recent calls."""
        with read_session(self.engine) as session:
            cb = session.get(Callback, parse_callback_ref(ref))
            if cb is None:
                raise NotFound(f"no call-back {callback_ref_of(parse_callback_ref(ref))}")
            return callback_info(session, cb, full=True, max_attempts=self.max_attempts, recent=recent)

    def list_callbacks(
        self,
        *,
        open_only: bool = True,
        queue: str | None = None,
        owner: str | None = None,
        limit: int = PAGE,
    ) -> list[CallbackInfo]:
        """Requests, the most urgent first (open ones by due time; else the newest first)."""
        with read_session(self.engine) as session:
            query = select(Callback)
            if open_only:
                query = query.where(text("callbacks.status = 'open'")).order_by(col(Callback.due_at), col(Callback.id))
            else:
                query = query.order_by(col(Callback.id).desc())
            if queue is not None:
                query = query.where(col(Callback.queue) == queue)
            if owner is not None:
                query = query.where(col(Callback.owner_id) == user_by_name(session, owner).id)
            rows = session.scalars(query.limit(limit)).all()
            return [callback_info(session, cb, max_attempts=self.max_attempts) for cb in rows]

    def abandons_to_request(self, *, limit: int = PAGE) -> list[AbandonInfo]:
        """Abandons that could be requests and are not yet ([callbacks] auto = false), newest first."""
        with read_session(self.engine) as session:
            rows = session.execute(
                select(
                    col(CallbackCall.call_id),
                    col(Call.caller),
                    col(CallbackCall.queue),
                    col(CallbackCall.hung_up_at),
                    col(Call.wait_seconds),
                )
                .join(Call, col(Call.id) == col(CallbackCall.call_id))
                .where(col(CallbackCall.result) == OFFERED)
                .order_by(col(CallbackCall.hung_up_at).desc())
                .limit(limit)
            ).all()
            return [AbandonInfo(call_id, caller or "", queue, at, wait) for call_id, caller, queue, at, wait in rows]

    def allowed_intents(self, ref: str | int, user: str) -> list[str]:
        """The call-back intents `user` may carry out on the request now, in the table's order."""
        from tickets.intents import CALLBACK_INTENTS

        with read_session(self.engine) as session:
            person = user_by_name(session, user)
            cb = session.get(Callback, parse_callback_ref(ref))
            if (
                cb is None
                or cb.status != CALLBACK_OPEN
                or permissions.actor_refusal(person.name, person.role, person.active)
            ):
                return []
            offered = []
            for it in CALLBACK_INTENTS:
                if it.name == "callback_request":
                    continue
                if it.name == "callback_take" and cb.owner_id is not None:
                    continue  # theirs already, or someone else's: taking refuses (Taken), a supervisor assigns
                if permissions.refusal(person, it.name, cb) is None:
                    offered.append(it.name)
            return offered

    # -- plumbing -------------------------------------------------------------------------

    def _actor(self, session: Session, name: str) -> User:
        user = user_by_name(session, name)
        permissions.check_actor(user)
        return user

    def _name(self, session: Session, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        return session.scalar(select(col(User.name)).where(col(User.id) == user_id))

    def _stale(self, cb: Callback, session: Session, expected: int | None) -> StaleVersion:
        who = self._name(session, cb.updated_by_id) or "the system"
        mine = f" (you have version {expected}, it is at {cb.version})" if expected is not None else ""
        when = datetime.fromtimestamp(cb.updated_at, self.calendar.tz).isoformat(timespec="seconds")
        return StaleVersion(
            f"{callback_ref_of(cb.id)} changed by {who} at {when}, reload{mine}", current_version=cb.version
        )

    def _taken(self, cb: Callback, session: Session, user: User) -> None:
        """Taken if someone else has the request (said before any version check: the one who
        lost the race is told who won)."""
        if cb.owner_id is not None and cb.owner_id != user.id:
            when = self._clock_text(cb.taken_at or cb.updated_at)
            raise Taken(f"{callback_ref_of(cb.id)} was taken by {self._name(session, cb.owner_id)} at {when}")

    def _mutate(
        self,
        ref: str | int,
        actor: str,
        intent: str,
        expect_version: int | None,
        change: Change,
        *,
        check_permission: bool = True,
    ) -> CallbackInfo:
        callback_id = parse_callback_ref(ref)
        ref_text = callback_ref_of(callback_id)
        now = self.clock()
        try:
            with write_session(self.engine) as session:
                user = self._actor(session, actor)
                cb = session.scalar(select(Callback).where(col(Callback.id) == callback_id).with_for_update())
                if cb is None:
                    raise NotFound(f"no call-back {ref_text}")
                if cb.status != CALLBACK_OPEN:
                    from tickets.intents import intent as intent_named

                    ended = f" ({cb.end_note})" if cb.end_note else ""
                    raise IllegalTransition(
                        f"cannot {intent_named(intent).words} {ref_text}: it is {callback_info(session, cb).status_label}{ended}"
                    )
                if intent == "callback_take":
                    self._taken(cb, session, user)
                if expect_version is not None and expect_version != cb.version:
                    raise self._stale(cb, session, expect_version)
                if check_permission:
                    permissions.check(user, intent, cb, ref=ref_text, owner_name=self._name(session, cb.owner_id))
                change(session, cb, user, _Audit(session, cb, user, now))
                cb.updated_at, cb.updated_by_id = now, user.id
                session.flush()
                reminders.arm_callback(session, cb, self.settings, now)
                return callback_info(session, cb, full=True, max_attempts=self.max_attempts)
        except StaleDataError:
            with read_session(self.engine) as session:
                stored = session.get(Callback, callback_id)
                if stored is None:
                    raise NotFound(f"no call-back {ref_text}") from None
                raise self._stale(stored, session, expect_version) from None

    # -- the intents ------------------------------------------------------------------------

    def request_callback(self, call_id: int, actor: str) -> CallbackInfo:
        """A request from an abandoned call, by hand ([callbacks] auto = false: a key on the
        board). A caller with an open request already: the abandon joins it."""
        now = self.clock()
        with write_session(self.engine) as session:
            user = self._actor(session, actor)
            permissions.check(user, "callback_request")
            row = session.execute(
                select(
                    col(Call.id),
                    col(Call.callid),
                    col(Call.queue),
                    col(Call.caller),
                    col(Call.enter_at),
                    col(Call.end_at),
                    col(Call.wait_seconds),
                    col(Call.outcome),
                ).where(col(Call.id) == call_id)
            ).first()
            if row is None or row.outcome != "abandoned" or row.end_at is None:
                raise NotFound(f"no abandoned call {call_id}")
            refusal = number_refusal(row.caller, self.settings.callbacks.ignore)
            if refusal is not None:
                raise InvalidInput(f"call {call_id} has no number to call back ({refusal.replace('_', ' ')})")
            call = _Abandon(
                row.id,
                row.callid,
                row.queue,
                row.caller,
                row.enter_at,
                row.end_at,
                _wait_of(row.enter_at, row.end_at, row.wait_seconds),
            )
            judged = session.get(CallbackCall, call_id)
            if judged is not None and judged.callback_id is not None:
                raise InvalidInput(f"call {call_id} is in {callback_ref_of(judged.callback_id)} already")
            cb = session.scalar(
                select(Callback)
                .where(col(Callback.caller_number) == call.caller, text("callbacks.status = 'open'"))
                .with_for_update()
            )
            if cb is None:
                cb = self._new_request(session, call, now, user, audit_kind="callback_request")
            else:
                _Audit(session, cb, user, now)(
                    "callback_join", "abandons", cb.abandons, cb.abandons + 1, f"hung up again in {call.queue}"
                )
                cb.abandons += 1
                if call.end_at > cb.hung_up_at:
                    cb.hung_up_at, cb.wait_seconds = call.end_at, call.wait
                cb.updated_at, cb.updated_by_id = now, user.id
            if judged is None:
                session.add(
                    CallbackCall(
                        call_id=call_id,
                        callback_id=cb.id,
                        result=MANUAL,
                        queue=call.queue,
                        hung_up_at=call.end_at,
                        judged_at=now,
                    )
                )
            else:
                judged.callback_id, judged.result, judged.judged_at = cb.id, MANUAL, now
            session.flush()
            reminders.arm_callback(session, cb, self.settings, now)
            return callback_info(session, cb, full=True, max_attempts=self.max_attempts)

    def take_callback(
        self, ref: str | int | None, actor: str, *, queue: str | None = None, expect_version: int | None = None
    ) -> CallbackInfo:
        """Take a request from the shared list: this one, or (ref None) the next one due
        that nobody has (in `queue`). Two taking the same: one wins, the other is told who."""

        def take(session: Session, cb: Callback, user: User, audit: _Audit) -> None:
            if cb.owner_id == user.id:
                raise InvalidInput(f"you have {callback_ref_of(cb.id)} already")
            permissions.check(user, "callback_take", cb, ref=callback_ref_of(cb.id))
            audit("callback_take", "owner", None, user.name)
            cb.owner_id, cb.taken_at = user.id, audit.now

        if ref is not None:
            return self._mutate(ref, actor, "callback_take", expect_version, take, check_permission=False)
        for _ in range(20):  # each loss of a race moves on to the next one
            candidate = self._next_free(queue)
            if candidate is None:
                where = f" in {queue}" if queue else ""
                raise NotFound(f"no open call-back{where} is waiting to be taken")
            try:
                return self._mutate(candidate, actor, "callback_take", None, take, check_permission=False)
            except (Taken, IllegalTransition):
                continue
        raise NotFound("every call-back was taken meanwhile: try again")

    def _next_free(self, queue: str | None) -> int | None:
        with read_session(self.engine) as session:
            query = (
                select(col(Callback.id))
                .where(text("callbacks.status = 'open'"), col(Callback.owner_id).is_(None))
                .order_by(col(Callback.due_at), col(Callback.id))
                .limit(1)
            )
            if queue is not None:
                query = query.where(col(Callback.queue) == queue)
            return session.scalar(query)

    def record_attempt(
        self,
        ref: str | int,
        actor: str,
        *,
        outcome: str,
        note: str | None = None,
        expect_version: int | None = None,
    ) -> CallbackInfo:
        """One try at calling back: reached ends it; a wrong number gives it up; no answer and
        voicemail leave it open until [callbacks] max_attempts tries are used."""
        outcome = choice(outcome, ATTEMPT_OUTCOMES, "outcome")
        what = clean(note, "note", multiline=True, required=False)

        def attempt(session: Session, cb: Callback, user: User, audit: _Audit) -> None:
            row = CallbackAttempt(
                callback_id=stored_id(cb.id), at=audit.now, by_id=stored_id(user.id), outcome=outcome, note=what
            )
            session.add(row)
            cb.attempts += 1
            cb.first_attempt_at = cb.first_attempt_at or audit.now
            cb.last_attempt_at = audit.now
            audit("callback_attempt", "outcome", None, outcome, what)
            ended: tuple[str, str] | None = None
            if outcome == "reached":
                ended = ("reached", f"reached by {user.name} at {self._clock_text(audit.now)}")
            elif outcome == "wrong_number":
                ended = ("gave_up", "wrong number")
            elif cb.attempts >= self.max_attempts:
                ended = ("gave_up", f"not reached in {cb.attempts} attempts")
            if ended is not None:
                audit("callback_attempt", "status", cb.status, ended[0], ended[1])
                cb.status, cb.end_note, cb.ended_at = ended[0], ended[1], audit.now

        return self._mutate(ref, actor, "callback_attempt", expect_version, attempt)

    def assign_callback(
        self, ref: str | int, actor: str, *, to: str, note: str | None = None, expect_version: int | None = None
    ) -> CallbackInfo:
        """Give the request to an agent (supervisors): they are told."""
        why = clean(note, "note", multiline=True, required=False)
        if not to:
            raise InvalidInput("assigning needs the user to give it to")

        def assign(session: Session, cb: Callback, user: User, audit: _Audit) -> None:
            target = user_by_name(session, to)
            if not target.active:
                raise InvalidInput(f"{to} has been removed: choose someone else")
            if target.role == permissions.Role.DISPLAY:
                raise InvalidInput(f"{to} is a display user and cannot own call-backs")
            if target.id == cb.owner_id:
                raise InvalidInput(f"{to} has {callback_ref_of(cb.id)} already")
            audit("callback_assign", "owner", self._name(session, cb.owner_id), target.name, why)
            cb.owner_id, cb.taken_at = target.id, audit.now
            if target.id != user.id:
                reminders.notify(
                    session,
                    self.settings,
                    [stored_id(target.id)],
                    "assigned_to_you",
                    None,
                    f"{callback_ref_of(cb.id)}: call back {cb.caller_number} ({cb.queue}), assigned to you by {user.name}"
                    + (f": {why}" if why else ""),
                    audit.now,
                )

        return self._mutate(ref, actor, "callback_assign", expect_version, assign)

    def close_callback(
        self, ref: str | int, actor: str, *, note: str | None, expect_version: int | None = None
    ) -> CallbackInfo:
        """End the request without calling, saying why (a duplicate, the customer wrote in)."""
        why = clean(note, "note", multiline=True) or ""

        def close(session: Session, cb: Callback, user: User, audit: _Audit) -> None:
            audit("callback_close", "status", cb.status, "closed", why)
            cb.status, cb.end_note, cb.ended_at = "closed", why, audit.now

        return self._mutate(ref, actor, "callback_close", expect_version, close)

    def callback_to_complaint(
        self,
        ref: str | int,
        actor: str,
        *,
        subject: str | None = None,
        description: str | None = None,
        customer: str | None = None,
        severity: str = "normal",
        expect_version: int | None = None,
    ) -> CallbackInfo:
        """Make the request a complaint in one step: the complaint (owned by the actor) is
        made in the same transaction, and its history shows the call-back's."""
        from tickets.records import SEVERITIES

        severity = choice(severity, SEVERITIES, "severity")
        texts = {
            "subject": clean(subject, "subject", required=False),
            "description": clean(description, "description", multiline=True, required=False),
            "customer": clean(customer, "customer", required=False),
        }

        def make(session: Session, cb: Callback, user: User, audit: _Audit) -> None:
            ref_text = callback_ref_of(cb.id)
            fields: dict[str, str | None] = {
                "customer_name": texts["customer"] or cb.caller_number,
                "customer_contact": cb.caller_number,
                "subject": texts["subject"] or f"Call-back {ref_text}: caller hung up in {cb.queue}",
                "description": texts["description"]
                or f"Hung up waiting in {cb.queue} ({cb.abandons} time{'s' if cb.abandons != 1 else ''}); made a complaint from {ref_text}.",
                "category": None,
                "callid": cb.callid,
                "call_queue": cb.queue,
                "call_agent": None,
                "caller_number": cb.caller_number,
            }
            complaint = self.complaints.create_in(
                session,
                user,
                fields,
                severity=severity,
                channel="phone",
                owner=user,
                now=audit.now,
                note=f"from call-back {ref_text}",
            )
            audit("callback_complaint", "status", cb.status, "complaint", ref_of(complaint.id))
            cb.status, cb.complaint_id, cb.ended_at = "complaint", complaint.id, audit.now
            cb.end_note = f"made complaint {ref_of(complaint.id)}"

        return self._mutate(ref, actor, "callback_complaint", expect_version, make)

    def complaint_of(self, info: CallbackInfo) -> ComplaintInfo:
        """The complaint a request was made into (NotFound when it was not)."""
        if info.complaint_ref is None:
            raise NotFound(f"{info.ref} was not made a complaint")
        return self.complaints.get(info.complaint_ref)


# -- the report -----------------------------------------------------------------------------


def callback_report(engine: Engine, settings: Settings, start: float | None, end: float | None) -> list[dict]:
    """Call-backs per day (the site's) and queue, by when the caller first hung up in
    [start, end), and a total row: requested; reached, and reached by the due time (% of
    requested: the promise kept); got through by themselves; given up; the median time
    from the hang-up to the first attempt (seconds, of those attempted)."""
    import statistics

    calendar = BusinessCalendar.from_settings(settings)
    with read_session(engine) as session:
        query = select(
            col(Callback.queue),
            col(Callback.first_hung_up_at),
            col(Callback.due_at),
            col(Callback.status),
            col(Callback.ended_at),
            col(Callback.first_attempt_at),
        )
        if start is not None:
            query = query.where(col(Callback.first_hung_up_at) >= start)
        if end is not None:
            query = query.where(col(Callback.first_hung_up_at) < end)
        rows = session.execute(query).all()
    groups: dict[tuple[str, str], list[tuple[float, float, str, float | None, float | None]]] = {}
    for queue, hung_up_at, due_at, status, ended_at, first_attempt_at in rows:
        day = calendar.local_date(hung_up_at).isoformat()
        groups.setdefault((day, queue), []).append((hung_up_at, due_at, status, ended_at, first_attempt_at))
        groups.setdefault(("", ""), []).append((hung_up_at, due_at, status, ended_at, first_attempt_at))
    report = []
    for (day, queue), items in sorted(groups.items(), key=lambda kv: (kv[0][0] == "", kv[0])):
        reached = [i for i in items if i[2] == "reached"]
        in_time = [i for i in reached if i[3] is not None and i[3] <= i[1]]
        to_first = [i[4] - i[0] for i in items if i[4] is not None]
        report.append(
            {
                "day": day or "total",
                "queue": queue or "All queues",
                "requested": len(items),
                "reached": len(reached),
                "reached_within_target_pct": round(100 * len(in_time) / len(items), 1),
                "got_through": sum(1 for i in items if i[2] == "got_through"),
                "given_up": sum(1 for i in items if i[2] == "gave_up"),
                "open": sum(1 for i in items if i[2] == CALLBACK_OPEN),
                "median_to_first_attempt_seconds": round(statistics.median(to_first), 1) if to_first else None,
            }
        )
    return report
