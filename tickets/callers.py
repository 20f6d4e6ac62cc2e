"""Callers: the abusive/malicious flag on a caller number (an agent raises it with a reason,
a supervisor confirms or clears it, every step kept), what the floor should know about a
caller at a glance (repeat calls, open complaints, flags: the waiting list's markers), and
the agent's view of the caller they are connected to.

Permissions are checked here, so the command line and a session's link are refused alike.
Flags set on a complaint (`complaints.malicious`, tickets/service.py) predate caller flags
and are read alongside them: such a caller counts as flagged (confirmed), from that
complaint.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from db.callbacks import OPEN_SQL as CALLBACKS_OPEN_SQL
from db.callbacks import Callback
from db.callers import CallerFlag, CallerFlagEvent
from db.complaints import OPEN_SQL, Complaint, User
from db.engine import read_session, write_session
from db.models import Call
from tickets.caller_records import (
    ACTIVE,
    CLEARED,
    CONFIRMED,
    FLAGGED,
    CallerFlagInfo,
    CallerMarks,
    CallerView,
    FlagEventInfo,
    RecentCall,
    UrgentComplaint,
    usable_caller,
)
from tickets.errors import InvalidInput, NotFound, PermissionDenied
from tickets.permissions import Role, actor_refusal
from tickets.queries import complaint_info, current_or_last_call, open_callbacks_for, user_by_name, user_names
from tickets.records import SEVERITIES, CallInfo
from tickets.statuses import ref_of
from tickets.text import clean

if TYPE_CHECKING:
    from wallboard.config import Settings


def open_callbacks_of(session: Session, callers: Iterable[str]) -> dict[str, int]:
    """Open call-back requests per caller number (one read by the partial index of open
    requests by caller; several abandons of one caller join one request, so mostly 0 or 1)."""
    numbers = sorted(set(callers))
    if not numbers:
        return {}
    number = col(Callback.caller_number)
    rows = session.execute(
        select(number, func.count())
        .where(text(f"callbacks.{CALLBACKS_OPEN_SQL}"), number.in_(numbers))
        .group_by(number)
    ).all()
    return {caller: int(count) for caller, count in rows}


class CallerService:
    """Caller flags on one database, and the reads about callers. `clock` gives "now"."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock

    # -- the flag ---------------------------------------------------------------------------

    @staticmethod
    def _number(caller: str) -> str:
        number = clean(caller, "caller number") or ""
        if not usable_caller(number):
            raise InvalidInput(f"{number!r} names no caller: a caller number is needed")
        return number

    @staticmethod
    def _acting(session: Session, name: str, *, supervisor: bool, doing: str) -> User:
        user = user_by_name(session, name)
        reason = actor_refusal(user.name, user.role, user.active)
        if reason is None and supervisor and user.role != Role.SUPERVISOR:
            reason = f"{user.name} ({user.role}) may not {doing}: supervisors only"
        if reason:
            raise PermissionDenied(reason)
        return user

    def flag(self, caller: str, actor: str, *, reason: str) -> CallerFlagInfo:
        """Flag the caller abusive or malicious, saying why. An agent's flag awaits a
        supervisor's confirmation; a supervisor's is confirmed at once."""
        number = self._number(caller)
        why = clean(reason, "reason", multiline=True) or ""
        now = self.clock()
        try:
            with write_session(self.engine) as session:
                user = self._acting(session, actor, supervisor=False, doing="flag callers")
                status = CONFIRMED if user.role == Role.SUPERVISOR else FLAGGED
                row = session.scalar(
                    select(CallerFlag).where(col(CallerFlag.caller_number) == number).with_for_update()
                )
                if row is not None and row.status in ACTIVE:
                    by = self._name(session, row.flagged_by_id)
                    raise InvalidInput(f"{number} is already {row.status} (flagged by {by}): {row.reason}")
                if row is None:
                    row = CallerFlag(
                        caller_number=number,
                        status=status,
                        reason=why,
                        flagged_by_id=_id(user),
                        flagged_at=now,
                        updated_at=now,
                    )
                    session.add(row)
                else:
                    row.status, row.reason, row.flagged_by_id, row.flagged_at = status, why, _id(user), now
                    row.decided_by_id, row.decided_at, row.decision_note = None, None, None
                    row.updated_at = now
                if status == CONFIRMED:
                    row.decided_by_id, row.decided_at = user.id, now
                self._event(session, number, user, "flag", status, why, now)
                session.flush()
                return self._info(session, row, history=True)
        except IntegrityError:
            # Two people flagged a new caller at once: the other one's flag stands.
            existing = self.flag_of(number)
            by = existing.flagged_by if existing else "someone else"
            raise InvalidInput(f"{number} was flagged by {by} just now") from None

    def confirm(self, caller: str, actor: str, *, note: str | None = None) -> CallerFlagInfo:
        """A supervisor confirms an agent's flag."""
        return self._decide(caller, actor, "confirm", CONFIRMED, clean(note, "note", multiline=True, required=False))

    def clear(self, caller: str, actor: str, *, note: str) -> CallerFlagInfo:
        """A supervisor clears a flag (awaiting confirmation or confirmed), saying why."""
        return self._decide(caller, actor, "clear", CLEARED, clean(note, "note", multiline=True))

    def _decide(self, caller: str, actor: str, action: str, status: str, note: str | None) -> CallerFlagInfo:
        number = self._number(caller)
        now = self.clock()
        with write_session(self.engine) as session:
            user = self._acting(session, actor, supervisor=True, doing=f"{action} caller flags")
            row = session.scalar(select(CallerFlag).where(col(CallerFlag.caller_number) == number).with_for_update())
            if row is None or row.status not in ACTIVE:
                raise NotFound(f"{number} is not flagged")
            if action == "confirm" and row.status == CONFIRMED:
                raise InvalidInput(f"{number} is already confirmed")
            row.status, row.decided_by_id, row.decided_at, row.decision_note = status, user.id, now, note
            row.updated_at = now
            self._event(session, number, user, action, status, note or "", now)
            session.flush()
            return self._info(session, row, history=True)

    @staticmethod
    def _event(session: Session, number: str, user: User, action: str, status: str, note: str, now: float) -> None:
        session.add(
            CallerFlagEvent(caller_number=number, at=now, actor_id=_id(user), action=action, status=status, note=note)
        )

    @staticmethod
    def _name(session: Session, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        return session.scalar(select(col(User.name)).where(col(User.id) == user_id))

    def _info(
        self, session: Session, row: CallerFlag, *, history: bool, names: dict[int, str] | None = None
    ) -> CallerFlagInfo:
        if names is None:
            names = user_names(session, (row.flagged_by_id, row.decided_by_id))
        events: tuple[FlagEventInfo, ...] = ()
        if history:
            events = _history(session, [row.caller_number]).get(row.caller_number, ())
        return CallerFlagInfo(
            caller=row.caller_number,
            status=row.status,
            reason=row.reason,
            flagged_by=names.get(row.flagged_by_id),
            flagged_at=row.flagged_at,
            decided_by=names.get(row.decided_by_id) if row.decided_by_id is not None else None,
            decided_at=row.decided_at,
            decision_note=row.decision_note,
            history=events,
        )

    # -- reading flags ------------------------------------------------------------------------

    def flag_of(self, caller: str) -> CallerFlagInfo | None:
        """The caller's own flag (whatever its status) with its history; None: never flagged."""
        number = self._number(caller)
        with read_session(self.engine) as session:
            row = session.get(CallerFlag, number)
            return self._info(session, row, history=True) if row is not None else None

    def flags(self, *, include_cleared: bool = False, caller: str | None = None) -> list[CallerFlagInfo]:
        """Flagged callers with the history of their flags, newest flag first: caller flags
        (cleared ones too with `include_cleared`), then complaints flagged malicious."""
        number = self._number(caller) if caller is not None else None
        with read_session(self.engine) as session:
            query = select(CallerFlag).order_by(col(CallerFlag.flagged_at).desc())
            if not include_cleared:
                query = query.where(col(CallerFlag.status).in_(ACTIVE))
            if number is not None:
                query = query.where(col(CallerFlag.caller_number) == number)
            rows = session.scalars(query).all()
            names = user_names(session, (i for r in rows for i in (r.flagged_by_id, r.decided_by_id)))
            history = _history(session, [r.caller_number for r in rows])
            own = [self._info(session, r, history=False, names=names) for r in rows]
            found = [replace(f, history=history.get(f.caller, ())) for f in own]
            complaint_query = select(Complaint).where(text("malicious"), col(Complaint.caller_number).is_not(None))
            if number is not None:
                complaint_query = complaint_query.where(col(Complaint.caller_number) == number)
            for c in session.scalars(complaint_query.order_by(col(Complaint.id).desc())):
                found.append(_complaint_flag(session, c, history=True))
            return found

    # -- reads about callers --------------------------------------------------------------------

    def marks(self, callers: Iterable[str | None], now: float | None = None) -> dict[str, CallerMarks]:
        """Repeat calls, open complaints (and the most urgent one), open call-backs and the
        active flag of each usable caller number: a handful of indexed reads whatever the
        number of callers (the board's waiting list asks each second)."""
        with read_session(self.engine) as session:
            return caller_marks(session, self.settings, callers, self.clock() if now is None else now)

    def view_of_call(self, call: CallInfo, now: float | None = None) -> CallerView:
        """The agent's view of the caller on `call`."""
        now = self.clock() if now is None else now
        caller = call.caller or ""
        with read_session(self.engine) as session:
            marks = caller_marks(session, self.settings, [caller], now).get(caller, CallerMarks(caller))
            if not usable_caller(caller):
                return CallerView(call, (), (), (), (), 0)
            recent = session.execute(
                select(
                    col(Call.callid),
                    col(Call.queue),
                    col(Call.enter_at),
                    col(Call.outcome),
                    col(Call.agent),
                    col(Call.wait_seconds),
                    col(Call.talk_seconds),
                )
                .where(col(Call.caller) == caller, col(Call.callid) != call.callid, col(Call.enter_at) <= now)
                .order_by(col(Call.enter_at).desc())
                .limit(self.settings.callers.recent_calls)
            ).all()
            complaints = session.scalars(
                select(Complaint)
                .where(text(OPEN_SQL), col(Complaint.caller_number) == caller)
                .order_by(col(Complaint.due_at).is_(None), col(Complaint.due_at), col(Complaint.id))
            ).all()
            names = user_names(session, (i for c in complaints for i in (c.owner_id, c.created_by_id, c.updated_by_id)))
            flags: list[CallerFlagInfo] = []
            own = session.get(CallerFlag, caller)
            if own is not None and own.status in ACTIVE:
                flags.append(self._info(session, own, history=False))
            for c in session.scalars(
                select(Complaint)
                .where(text("malicious"), col(Complaint.caller_number) == caller)
                .order_by(col(Complaint.id).desc())
            ):
                flags.append(_complaint_flag(session, c, history=False))
            return CallerView(
                call=call,
                recent_calls=tuple(RecentCall(*row) for row in recent),
                open_complaints=tuple(complaint_info(session, c, names=names) for c in complaints),
                callbacks=tuple(open_callbacks_for(session, caller)),
                flags=tuple(flags),
                calls_in_window=marks.calls_in_window,
            )

    def caller_on_call(self, user: str) -> CallerView | None:
        """The view of the caller `user` (an agent in the call data) is connected to now;
        None when they are on no call, or its caller is withheld."""
        now = self.clock()
        call = current_or_last_call(self.engine, self.settings, user, now)
        if call is None or not call.current or not call.caller:
            return None
        return self.view_of_call(call, now)


def _id(user: User) -> int:
    if user.id is None:
        raise TypeError("a stored user has an id")
    return user.id


def _history(session: Session, callers: list[str]) -> dict[str, tuple[FlagEventInfo, ...]]:
    """The flag events of these callers, oldest first."""
    if not callers:
        return {}
    rows = session.execute(
        select(CallerFlagEvent, col(User.name))
        .outerjoin(User, col(User.id) == col(CallerFlagEvent.actor_id))
        .where(col(CallerFlagEvent.caller_number).in_(callers))
        .order_by(col(CallerFlagEvent.caller_number), col(CallerFlagEvent.id))
    ).all()
    history: dict[str, list[FlagEventInfo]] = {}
    for event, name in rows:
        history.setdefault(event.caller_number, []).append(
            FlagEventInfo(event.at, name, event.action, event.status, event.note)
        )
    return {caller: tuple(events) for caller, events in history.items()}


def _complaint_flag(session: Session, c: Complaint, *, history: bool) -> CallerFlagInfo:
    """A complaint's malicious flag as a caller flag (confirmed: only supervisors set it),
    its history the complaint's flag audit rows."""
    from db.complaints import AuditEvent

    events: tuple[FlagEventInfo, ...] = ()
    flagged_by, flagged_at = None, c.updated_at
    rows = session.execute(
        select(AuditEvent, col(User.name))
        .outerjoin(User, col(User.id) == col(AuditEvent.actor_id))
        .where(
            col(AuditEvent.complaint_id) == c.id,
            col(AuditEvent.kind).in_(("flag_malicious", "clear_malicious")),
        )
        .order_by(col(AuditEvent.id))
    ).all()
    for event, name in rows:
        if event.kind == "flag_malicious":
            flagged_by, flagged_at = name, event.at
    if history:
        events = tuple(
            FlagEventInfo(e.at, name, e.kind, CONFIRMED if e.kind == "flag_malicious" else CLEARED, e.note)
            for e, name in rows
        )
    return CallerFlagInfo(
        caller=c.caller_number or "",
        status=CONFIRMED,
        reason=c.malicious_reason,
        flagged_by=flagged_by,
        flagged_at=flagged_at,
        source=ref_of(c.id),
        history=events,
    )


def caller_marks(
    session: Session, settings: Settings, callers: Iterable[str | None], now: float
) -> dict[str, CallerMarks]:
    """The markers of each usable caller number in `callers` (see `CallerService.marks`):
    four indexed reads over the numbers at once (calls by caller and time, open complaints
    by caller, caller flags by number, flagged complaints by caller)."""
    numbers = sorted({c for c in callers if c is not None and usable_caller(c)})
    if not numbers:
        return {}
    window = settings.callers.repeat_window_hours * 3600.0
    repeat = dict(
        session.execute(
            select(col(Call.caller), func.count(func.distinct(col(Call.callid))))
            .where(col(Call.caller).in_(numbers), col(Call.enter_at) >= now - window, col(Call.enter_at) <= now)
            .group_by(col(Call.caller))
        ).all()
    )
    rank = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    complaints: dict[str, list[tuple[int, str, str, float | None]]] = {}
    for number, complaint_id, severity, status, due_at in session.execute(
        select(
            col(Complaint.caller_number),
            col(Complaint.id),
            col(Complaint.severity),
            col(Complaint.status),
            col(Complaint.due_at),
        ).where(text(OPEN_SQL), col(Complaint.caller_number).in_(numbers))
    ):
        if number is not None and complaint_id is not None:
            complaints.setdefault(number, []).append((complaint_id, severity, status, due_at))
    flags: dict[str, CallerFlagInfo] = {}
    for row in session.scalars(select(CallerFlag).where(col(CallerFlag.caller_number).in_(numbers))):
        if row.status not in ACTIVE:  # filtered here: by its key, not by the status index
            continue
        flags[row.caller_number] = CallerFlagInfo(
            caller=row.caller_number, status=row.status, reason=row.reason, flagged_by=None, flagged_at=row.flagged_at
        )
    for number, complaint_id, reason, at in session.execute(
        select(
            col(Complaint.caller_number), col(Complaint.id), col(Complaint.malicious_reason), col(Complaint.updated_at)
        )
        .where(text("malicious"), col(Complaint.caller_number).in_(numbers))
        .order_by(col(Complaint.id).desc())
    ):
        if number is not None and (number not in flags or flags[number].status != CONFIRMED):
            flags[number] = CallerFlagInfo(
                caller=number,
                status=CONFIRMED,
                reason=reason,
                flagged_by=None,
                flagged_at=at,
                source=ref_of(complaint_id),
            )
    callbacks = open_callbacks_of(session, numbers)
    marks: dict[str, CallerMarks] = {}
    for number in numbers:
        mine = complaints.get(number, [])
        urgent = min(
            mine, key=lambda c: (c[3] is None, c[3] if c[3] is not None else 0.0, rank.get(c[1], 9), c[0]), default=None
        )
        marks[number] = CallerMarks(
            caller=number,
            calls_in_window=int(repeat.get(number, 0)),
            open_complaints=len(mine),
            most_urgent=UrgentComplaint(ref_of(urgent[0]), urgent[1], urgent[2], urgent[3]) if urgent else None,
            open_callbacks=callbacks.get(number, 0),
            flag=flags.get(number),
        )
    return marks
