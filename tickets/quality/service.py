"""Quality evaluations on the database: one method per intent, roles enforced here.

supervisor  manages scorecards, draws and skips samples, evaluates, corrects a submitted
            evaluation (audited), settles disputes, coaches, reads everything
agent       reads their own submitted evaluations and coaching, acknowledges or disputes one
display     nothing
A removed user may do nothing.

Every write is one short transaction (`db.engine.write_session`); a refused intent raises a
TicketError with one line and writes nothing. An evaluation carries SQLAlchemy's version
column: a draft saved or submitted from an older read is refused as stale. An evaluation
keeps the card version it was begun on, whatever versions are imported after.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from importlib.resources import files
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col

from db.callbacks import Callback
from db.complaints import AuditEvent, Complaint, User
from db.engine import insert_many, read_session, write_session
from db.models import Call, table_of
from db.quality import QaCard, QaCoaching, QaCriterion, QaEvaluation, QaSample, QaScore
from tickets import reminders
from tickets.errors import InvalidInput, NotFound, PermissionDenied, StaleVersion
from tickets.lifecycle import ref_of
from tickets.permissions import Role, actor_refusal
from tickets.quality import figures, sampling
from tickets.quality.cards import (
    Answer,
    CardSpec,
    CriterionSpec,
    check_answer,
    parse_card,
    weighted_result,
)
from tickets.quality.records import (
    ACKNOWLEDGED,
    COACHING_OUTCOMES,
    DISPUTED,
    DRAFT,
    IMPROVED,
    NOT_IMPROVED,
    OVERTURNED,
    RESPONSES,
    SETTLEMENTS,
    SUBMITTED,
    CalibrationRow,
    CardInfo,
    CoachingInfo,
    CriterionInfo,
    DrawSummary,
    EvaluationInfo,
    SampleInfo,
    ScoreInfo,
    TrendPoint,
    coaching_ref,
    evaluation_ref,
)
from tickets.records import checked_due, choice, stored_id
from tickets.text import clean

if TYPE_CHECKING:
    from wallboard.config import Settings

DEFAULT_CARD = "inbound_service.toml"
ANSWERED_OUTCOMES = ("completed", "transferred")
# A call is answered at most this long after it entered the queue: the reads by answer time
# bound the entry time too, so they use the calls' index on it.
MAX_WAIT_SECONDS = 86400.0
# Scores given as {criterion key: (answer, comment)}.
Scores = Mapping[str, tuple[object, str]]


def default_card_text() -> str:
    return files("tickets.quality").joinpath(DEFAULT_CARD).read_text(encoding="utf-8")


def parse_evaluation_ref(ref: str | int) -> int:
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ref
    text = str(ref).strip().upper().removeprefix("QA-")
    if not text.isdigit() or len(text) > 12:
        raise InvalidInput(f"{ref!r} is not an evaluation (QA-000001 or 1)")
    return int(text)


def _parse_coaching_ref(ref: str | int) -> int:
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ref
    text = str(ref).strip().upper().removeprefix("CO-")
    if not text.isdigit() or len(text) > 12:
        raise InvalidInput(f"{ref!r} is not a coaching action (CO-1 or 1)")
    return int(text)


def _spec_of(card: QaCard, criteria: Iterable[QaCriterion]) -> CardSpec:
    return CardSpec(
        card.name,
        card.title,
        card.description,
        tuple(
            CriterionSpec(c.key, c.section, c.title, c.good, c.bad, c.weight, c.scale, c.critical, c.comment_required)
            for c in sorted(criteria, key=lambda c: c.position)
        ),
    )


SAMPLE_COLUMNS = (
    "day", "call_id", "callid", "queue", "agent", "caller", "answered_at", "wait_seconds", "talk_seconds",
    "wrap_seconds", "outcome", "reason", "evaluator_id", "status", "drawn_at",
)  # fmt: skip


def _sample_row(
    label: str, call: sampling.AnsweredCall, reason: str, evaluator_id: int | None, now: float
) -> tuple[object, ...]:
    """A drawn call as a row of SAMPLE_COLUMNS (the day's draw inserts thousands at once)."""
    return (
        label, call.id, call.callid, call.queue, call.agent, call.caller, call.answer_at, call.wait_seconds,
        call.talk_seconds, call.wrap_seconds, call.outcome, reason, evaluator_id, "open", now,
    )  # fmt: skip


class QualityService:
    """Quality intents and reads on one database. `clock` gives "now" (epoch seconds)."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock

    # -- plumbing -------------------------------------------------------------------------

    def _user(self, session: Session, name: str) -> User:
        user = session.scalar(select(User).where(col(User.name) == name))
        if user is None:
            raise NotFound(f"no user {name!r}")
        reason = actor_refusal(user.name, user.role, user.active)
        if reason is not None:
            raise PermissionDenied(reason.replace("no complaints", "no quality evaluations"))
        return user

    def _supervisor(self, session: Session, name: str, what: str) -> User:
        user = self._user(session, name)
        if user.role != Role.SUPERVISOR:
            raise PermissionDenied(f"{name} ({user.role}) may not {what}: supervisors only")
        return user

    def agent_name(self, user: str) -> str:
        """The agent's name in the call data ([complaints] agent_names, else the user's)."""
        return self.settings.complaints.agent_names.get(user, user)

    def _audit(
        self,
        session: Session,
        actor: User | None,
        now: float,
        kind: str,
        *,
        evaluation_id: int | None = None,
        field: str | None = None,
        old: object = None,
        new: object = None,
        note: str | None = None,
        changeset: str | None = None,
    ) -> None:
        session.add(
            AuditEvent(
                changeset=changeset or uuid.uuid4().hex,
                at=now,
                actor_id=actor.id if actor else None,
                evaluation_id=evaluation_id,
                kind=kind,
                field=field,
                old=None if old is None else str(old),
                new=None if new is None else str(new),
                note=note,
            )
        )

    def _names(self, session: Session, ids: Iterable[int | None]) -> dict[int, str]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        rows = session.execute(select(col(User.id), col(User.name)).where(col(User.id).in_(wanted)))
        return {stored_id(user_id): name for user_id, name in rows}

    # -- scorecards -----------------------------------------------------------------------

    def import_card(self, text: str, actor: str | None, *, source: str = "card") -> tuple[CardInfo, bool]:
        """A card from TOML: a new version of its name unless the newest is the same.
        Returns the card and whether a version was added. `actor` None: seeding."""
        spec = parse_card(text, source)
        now = self.clock()
        with write_session(self.engine) as session:
            user = self._supervisor(session, actor, "manage scorecards") if actor is not None else None
            newest = self._newest_card(session, spec.name)
            if newest is not None and _spec_of(newest, self._criteria(session, newest)) == spec:
                return self._card_info(session, newest), False
            card = QaCard(
                name=spec.name,
                version=(newest.version + 1) if newest else 1,
                title=spec.title,
                description=spec.description,
                created_at=now,
                created_by_id=user.id if user else None,
            )
            session.add(card)
            session.flush()
            for position, c in enumerate(spec.criteria):
                session.add(
                    QaCriterion(
                        card_id=stored_id(card.id),
                        position=position,
                        section=c.section,
                        key=c.key,
                        title=c.title,
                        good=c.good,
                        bad=c.bad,
                        weight=c.weight,
                        scale=c.scale,
                        critical=c.critical,
                        comment_required=c.comment_required,
                    )
                )
            self._audit(
                session,
                user,
                now,
                "qa_card",
                field=spec.name,
                old=newest.version if newest else None,
                new=card.version,
                note=f"{len(spec.criteria)} criteria",
            )
            session.flush()
            return self._card_info(session, card), True

    def ensure_default_card(self) -> None:
        """The shipped card, when no card of the configured name exists yet."""
        with read_session(self.engine) as session:
            if self._newest_card(session, self.settings.quality.card) is not None:
                return
        text = default_card_text()
        if parse_card(text).name == self.settings.quality.card:
            self.import_card(text, None, source=DEFAULT_CARD)

    def _newest_card(self, session: Session, name: str) -> QaCard | None:
        return session.scalar(select(QaCard).where(col(QaCard.name) == name).order_by(col(QaCard.version).desc()))

    def _criteria(self, session: Session, card: QaCard) -> list[QaCriterion]:
        return list(
            session.scalars(
                select(QaCriterion).where(col(QaCriterion.card_id) == card.id).order_by(col(QaCriterion.position))
            )
        )

    def _card_info(self, session: Session, card: QaCard, *, newest: bool = True) -> CardInfo:
        names = self._names(session, [card.created_by_id])
        return CardInfo(
            card.name,
            card.version,
            card.title,
            card.description,
            card.created_at,
            names.get(card.created_by_id) if card.created_by_id else None,
            tuple(
                CriterionInfo(
                    c.key, c.section, c.title, c.good, c.bad, c.weight, c.scale, c.critical, c.comment_required
                )
                for c in self._criteria(session, card)
            ),
            newest,
        )

    def list_cards(self) -> list[CardInfo]:
        """Every card's newest version (criteria left out)."""
        with read_session(self.engine) as session:
            newest = (
                select(col(QaCard.name), func.max(col(QaCard.version)).label("version"))
                .group_by(col(QaCard.name))
                .subquery()
            )
            cards = session.scalars(
                select(QaCard)
                .join(newest, (col(QaCard.name) == newest.c.name) & (col(QaCard.version) == newest.c.version))
                .order_by(col(QaCard.name))
            ).all()
            names = self._names(session, [c.created_by_id for c in cards])
            return [
                CardInfo(c.name, c.version, c.title, c.description, c.created_at, names.get(c.created_by_id or 0))
                for c in cards
            ]

    def get_card(self, name: str, version: int | None = None) -> CardInfo:
        with read_session(self.engine) as session:
            newest = self._newest_card(session, name)
            if newest is None:
                raise NotFound(f"no scorecard {name!r}")
            card: QaCard | None = newest
            if version is not None:
                card = session.scalar(select(QaCard).where(col(QaCard.name) == name, col(QaCard.version) == version))
            if card is None:
                raise NotFound(f"scorecard {name!r} has no version {version} (newest: {newest.version})")
            return self._card_info(session, card, newest=card.id == newest.id)

    # -- sampling -------------------------------------------------------------------------

    def _day_window(self, day: date) -> tuple[float, float]:
        tz = self.settings.site.tz
        start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        return start.timestamp(), end.timestamp()

    def answered_calls(self, session: Session, start: float, end: float) -> list[sampling.AnsweredCall]:
        """The calls answered in [start, end) by an agent. Straight to the driver: a day is
        tens of thousands of rows, and SQLAlchemy's per-row processing would cost more than
        the draw itself (tests/benchmarks/quality.py)."""
        mark = _mark(session)
        outcomes = ", ".join(f"'{o}'" for o in ANSWERED_OUTCOMES)
        rows = session.connection().exec_driver_sql(
            "SELECT id, callid, queue, agent, caller, enter_at, answer_at, wait_seconds, talk_seconds,"
            f" wrap_seconds, outcome FROM calls WHERE enter_at >= {mark} AND enter_at < {mark}"
            f" AND answer_at >= {mark} AND answer_at < {mark} AND outcome IN ({outcomes}) AND agent IS NOT NULL",
            (start - MAX_WAIT_SECONDS, end, start, end),
        )
        return [sampling.AnsweredCall(*row) for row in rows.fetchall()]

    def draw(self, day: date, actor: str | None = None) -> DrawSummary:
        """The day's sample (answered calls of that local date), drawn once: a second draw of
        the same day adds only coaching re-samples. `actor` None: the server's daily job."""
        label = day.isoformat()
        start, end = self._day_window(day)
        now = self.clock()
        with write_session(self.engine) as session:
            if actor is not None:
                self._supervisor(session, actor, "draw the quality sample")
            calls = self.answered_calls(session, start, end)
            already = session.scalar(
                select(func.count())
                .select_from(QaSample)
                .where(col(QaSample.day) == label, col(QaSample.reason).in_(sampling.TARGETED + (sampling.RANDOM,)))
            )
            counts: dict[str, int] = defaultdict(int)
            per_evaluator: dict[str, int] = defaultdict(int)
            unassigned = 0
            drawn_count = 0
            if not already:
                drawn, evaluator_ids = self._draw_rows(session, label, calls, start, end)
                names = self._names(session, [e for e in evaluator_ids if e is not None])
                insert_many(
                    session.connection(),
                    table_of(QaSample),
                    SAMPLE_COLUMNS,
                    [_sample_row(label, d.call, d.reason, e, now) for d, e in zip(drawn, evaluator_ids)],
                )
                for item, evaluator_id in zip(drawn, evaluator_ids):
                    counts[item.reason] += 1
                    if evaluator_id is None:
                        unassigned += 1
                    else:
                        per_evaluator[names[evaluator_id]] += 1
                drawn_count = len(drawn)
            coaching = self._coaching_samples(session, label, calls, now)
            return DrawSummary(
                label, len(calls), drawn_count, dict(counts), dict(per_evaluator), unassigned, coaching, bool(already)
            )

    def _draw_rows(
        self, session: Session, label: str, calls: list[sampling.AnsweredCall], start: float, end: float
    ) -> tuple[list[sampling.Drawn], list[int | None]]:
        config = self.settings.quality
        window = config.repeat_window_hours * 3600
        mark = _mark(session)
        earlier = (
            session.connection()
            .exec_driver_sql(
                f"SELECT caller, callid, enter_at FROM calls WHERE enter_at >= {mark} AND enter_at < {mark}"
                " AND caller IS NOT NULL",
                (start - window, end),
            )
            .fetchall()
        )
        complaint_callids = set(
            session.scalars(
                select(col(Complaint.callid)).where(
                    col(Complaint.created_at) >= start, col(Complaint.callid).is_not(None)
                )
            )
        )
        callback_callers = set(
            session.scalars(
                select(col(Callback.caller_number)).where(
                    col(Callback.requested_at) >= start - window, col(Callback.requested_at) < end
                )
            )
        )
        flagged = sampling.flags(
            calls,
            complaint_callids={x for x in complaint_callids if x},
            callback_callers=callback_callers,
            earlier_calls=earlier,
            config=config,
        )
        drawn = sampling.draw(label, calls, flagged, config)
        evaluators = list(
            session.execute(
                select(col(User.id), col(User.name)).where(
                    col(User.role) == Role.SUPERVISOR, col(User.active).is_(True)
                )
            )
        )
        people = [(stored_id(user_id), name) for user_id, name in evaluators]
        own: dict[int, str | None] = {user_id: self.agent_name(name) for user_id, name in people}
        return drawn, sampling.assign(drawn, people, config.evaluator_daily_quota, own)

    @staticmethod
    def _sample(
        label: str,
        call: sampling.AnsweredCall,
        reason: str,
        evaluator_id: int | None,
        now: float,
        coaching_id: int | None = None,
    ) -> QaSample:
        return QaSample(
            day=label,
            call_id=call.id,
            callid=call.callid,
            queue=call.queue,
            agent=call.agent,
            caller=call.caller,
            answered_at=call.answer_at,
            wait_seconds=call.wait_seconds,
            talk_seconds=call.talk_seconds,
            wrap_seconds=call.wrap_seconds,
            outcome=call.outcome,
            reason=reason,
            evaluator_id=evaluator_id,
            status="open",
            coaching_id=coaching_id,
            drawn_at=now,
        )

    def _coaching_samples(self, session: Session, label: str, calls: list[sampling.AnsweredCall], now: float) -> int:
        """For each coaching action that is due: the agent's next calls after its due time."""
        due = session.scalars(select(QaCoaching).where(col(QaCoaching.status) == "resampling")).all()
        added = 0
        for coaching in due:
            have = (
                session.scalar(
                    select(func.count()).select_from(QaSample).where(col(QaSample.coaching_id) == coaching.id)
                )
                or 0
            )
            wanted = self.settings.quality.coaching_calls - have
            if wanted <= 0:
                continue
            taken = set(session.scalars(select(col(QaSample.call_id)).where(col(QaSample.coaching_id) == coaching.id)))
            nexts = sorted(
                (
                    c
                    for c in calls
                    if c.agent == coaching.agent and c.answer_at >= coaching.due_at and c.id not in taken
                ),
                key=lambda c: (c.answer_at, c.id),
            )[:wanted]
            for call in nexts:
                session.add(self._sample(label, call, sampling.COACHING, coaching.owner_id, now, coaching.id))
                added += 1
        return added

    def calibrate(self, call_id: int, actor: str, evaluators: list[str]) -> list[SampleInfo]:
        """The same call for several evaluators (calibration): a sample each."""
        now = self.clock()
        if len(set(evaluators)) < 2:
            raise InvalidInput("calibration needs at least two different evaluators")
        with write_session(self.engine) as session:
            self._supervisor(session, actor, "set up a calibration")
            row = session.get(Call, call_id)
            if row is None or row.outcome not in ANSWERED_OUTCOMES or row.agent is None or row.answer_at is None:
                raise NotFound(f"no answered call with id {call_id}")
            call = sampling.AnsweredCall(
                stored_id(row.id),
                row.callid,
                row.queue,
                row.agent,
                row.caller,
                row.enter_at,
                row.answer_at,
                row.wait_seconds,
                row.talk_seconds,
                row.wrap_seconds,
                row.outcome,
            )
            label = datetime.fromtimestamp(row.answer_at, self.settings.site.tz).date().isoformat()
            samples = []
            for name in dict.fromkeys(evaluators):
                evaluator = self._supervisor(session, name, "evaluate calls")
                exists = session.scalar(
                    select(QaSample).where(
                        col(QaSample.call_id) == call_id,
                        col(QaSample.evaluator_id) == evaluator.id,
                        col(QaSample.reason) == sampling.CALIBRATION,
                    )
                )
                sample = exists or self._sample(label, call, sampling.CALIBRATION, evaluator.id, now)
                session.add(sample)
                samples.append(sample)
            session.flush()
            return [self._sample_info(session, s) for s in samples]

    def _sample_info(self, session: Session, s: QaSample) -> SampleInfo:
        names = self._names(session, [s.evaluator_id])
        evaluation = session.scalar(select(col(QaEvaluation.id)).where(col(QaEvaluation.sample_id) == s.id))
        return SampleInfo(
            stored_id(s.id),
            s.day,
            s.call_id,
            s.callid,
            s.queue,
            s.agent,
            s.caller,
            s.answered_at,
            s.wait_seconds,
            s.talk_seconds,
            s.wrap_seconds,
            s.outcome,
            s.reason,
            names.get(s.evaluator_id) if s.evaluator_id else None,
            s.status,
            evaluation_ref(evaluation) if evaluation else None,
            s.skip_reason,
        )

    def samples(self, actor: str, *, day: str | None = None, everyone: bool = False) -> list[SampleInfo]:
        """The evaluator's queue: their open samples (`everyone`: all evaluators', and the
        unassigned; `day`: that day's, whatever their state)."""
        with read_session(self.engine) as session:
            user = self._supervisor(session, actor, "read the evaluation queue")
            query = select(QaSample)
            if day is not None:
                query = query.where(col(QaSample.day) == day)
            else:
                query = query.where(col(QaSample.status).in_(("open", "evaluating")))
            if not everyone:
                query = query.where(col(QaSample.evaluator_id) == user.id)
            rows = session.scalars(query.order_by(col(QaSample.day), col(QaSample.agent), col(QaSample.id))).all()
            return [self._sample_info(session, s) for s in rows]

    def skip(self, sample_id: int, actor: str, reason: str) -> SampleInfo:
        """Skip a drawn call (no recording, wrong agent, ...): the reason is required and audited."""
        text = clean(reason, "a reason for skipping")
        now = self.clock()
        with write_session(self.engine) as session:
            user = self._supervisor(session, actor, "skip a sampled call")
            s = session.get(QaSample, sample_id, with_for_update=True)
            if s is None:
                raise NotFound(f"no sampled call {sample_id}")
            if s.status not in ("open",):
                raise InvalidInput(f"sampled call {sample_id} is {s.status}: only an open one can be skipped")
            s.status, s.skip_reason, s.skipped_by_id, s.skipped_at = "skipped", text, user.id, now
            self._audit(session, user, now, "qa_skip", field="sample", old=sample_id, new="skipped", note=text)
            session.flush()
            return self._sample_info(session, s)

    # -- evaluations ----------------------------------------------------------------------

    def begin(self, sample_id: int, actor: str) -> EvaluationInfo:
        """An evaluation of a sampled call (a draft on the configured card's newest version);
        the evaluator's own draft of it if begun already."""
        now = self.clock()
        self.ensure_default_card()
        with write_session(self.engine) as session:
            user = self._supervisor(session, actor, "evaluate calls")
            s = session.get(QaSample, sample_id, with_for_update=True)
            if s is None:
                raise NotFound(f"no sampled call {sample_id}")
            existing = session.scalar(
                select(QaEvaluation).where(
                    col(QaEvaluation.sample_id) == sample_id, col(QaEvaluation.evaluator_id) == user.id
                )
            )
            if existing is not None:
                return self._info(session, existing)
            if s.status == "skipped":
                raise InvalidInput(f"sampled call {sample_id} was skipped: {s.skip_reason}")
            if s.evaluator_id is not None and s.evaluator_id != user.id:
                other = self._names(session, [s.evaluator_id])[s.evaluator_id]
                raise PermissionDenied(f"sampled call {sample_id} is {other}'s to evaluate")
            if self.agent_name(user.name) == s.agent:
                raise PermissionDenied(f"{user.name} may not evaluate their own call")
            card = self._newest_card(session, self.settings.quality.card)
            if card is None:
                raise NotFound(f"no scorecard {self.settings.quality.card!r}: import one (wallboard qa card import)")
            e = QaEvaluation(
                sample_id=s.id,
                call_id=s.call_id,
                callid=s.callid,
                queue=s.queue,
                agent=s.agent,
                call_at=s.answered_at,
                card_id=stored_id(card.id),
                evaluator_id=stored_id(user.id),
                status=DRAFT,
                created_at=now,
                updated_at=now,
            )
            session.add(e)
            s.status, s.evaluator_id = "evaluating", user.id
            session.flush()
            self._audit(session, user, now, "qa_begin", evaluation_id=e.id, note=f"card {card.name} v{card.version}")
            return self._info(session, e)

    def _load(self, session: Session, ref: str | int, *, lock: bool = False) -> QaEvaluation:
        evaluation_id = parse_evaluation_ref(ref)
        e = session.get(QaEvaluation, evaluation_id, with_for_update=lock)
        if e is None:
            raise NotFound(f"no evaluation {evaluation_ref(evaluation_id)}")
        return e

    def _stale(self, session: Session, e: QaEvaluation, expected: int | None) -> StaleVersion:
        return StaleVersion(
            f"{evaluation_ref(stored_id(e.id))} changed since you read it (you have version {expected}, "
            f"it is at {e.version}), reload",
            current_version=e.version,
        )

    def _change(
        self,
        ref: str | int,
        actor: str,
        expect_version: int | None,
        change: Callable[[Session, QaEvaluation, User, float, str], None],
    ) -> EvaluationInfo:
        """Lock the evaluation, refuse a stale version, apply `change`, return it as it now is."""
        now = self.clock()
        try:
            with write_session(self.engine) as session:
                user = self._user(session, actor)
                e = self._load(session, ref, lock=True)
                if expect_version is not None and expect_version != e.version:
                    raise self._stale(session, e, expect_version)
                change(session, e, user, now, uuid.uuid4().hex)
                session.flush()
                if e.status == SUBMITTED:
                    figures.refresh(session, e, self.settings.site.tz)
                return self._info(session, e)
        except StaleDataError:
            with read_session(self.engine) as session:
                raise self._stale(session, self._load(session, ref), expect_version) from None

    def _apply_scores(
        self,
        session: Session,
        e: QaEvaluation,
        scores: Scores,
        user: User,
        now: float,
        changeset: str,
        *,
        audit: bool,
        reason: str | None = None,
    ) -> None:
        criteria = {c.key: c for c in self._criteria(session, self._card(session, e))}
        specs = {c.key: _spec_of_criterion(c) for c in criteria.values()}
        card = self._card(session, e)
        checked: dict[str, Answer] = {}
        comments: dict[str, str] = {}
        for key, given in scores.items():
            if key not in criteria:
                raise InvalidInput(
                    f"{key!r} is not a criterion of scorecard {card.name} v{card.version}, "
                    f"which {evaluation_ref(stored_id(e.id))} is scored on"
                )
            answer, comment = given
            text = clean(comment, f"{key}: comment", multiline=True, required=False) or ""
            checked[key] = check_answer(specs[key], answer, text)
            comments[key] = text
        stored = {s.criterion_id: s for s in session.scalars(select(QaScore).where(col(QaScore.evaluation_id) == e.id))}
        for key, a in checked.items():
            criterion_id = stored_id(criteria[key].id)
            row = stored.get(criterion_id)
            old = f"{row.answer} {row.comment}".strip() if row else None
            if row is None:
                row = QaScore(evaluation_id=stored_id(e.id), criterion_id=criterion_id, answer=a.answer)
                session.add(row)
                stored[criterion_id] = row
            row.answer, row.value, row.passed, row.comment = a.answer, a.value, a.passed, comments[key]
            if audit:
                self._audit(
                    session,
                    user,
                    now,
                    "qa_correct",
                    evaluation_id=e.id,
                    field=key,
                    old=old,
                    new=f"{a.answer} {comments[key]}".strip(),
                    note=reason,
                    changeset=changeset,
                )
        old_score = e.score
        self._rescore(session, e, criteria, stored)
        if audit and e.score != old_score:
            self._audit(
                session,
                user,
                now,
                "qa_correct",
                evaluation_id=e.id,
                field="score",
                old=old_score,
                new=e.score,
                note=reason,
                changeset=changeset,
            )

    def _rescore(
        self, session: Session, e: QaEvaluation, criteria: dict[str, QaCriterion], stored: dict[int, QaScore]
    ) -> None:
        answers = {
            key: Answer(row.answer, row.value, row.passed)
            for key, c in criteria.items()
            if (row := stored.get(stored_id(c.id))) is not None
        }
        result = weighted_result((_spec_of_criterion(c) for c in criteria.values()), answers)
        e.raw_score, e.score, e.critical_failed = result.raw_score, result.score, result.critical_failed

    def _card(self, session: Session, e: QaEvaluation) -> QaCard:
        card = session.get(QaCard, e.card_id)
        if card is None:
            raise NotFound(f"scorecard of {evaluation_ref(stored_id(e.id))} is missing")
        return card

    def _own_draft(self, e: QaEvaluation, user: User) -> None:
        if user.role != Role.SUPERVISOR:
            raise PermissionDenied(f"{user.name} ({user.role}) may not evaluate calls: supervisors only")
        if e.evaluator_id != user.id:
            raise PermissionDenied(f"{evaluation_ref(stored_id(e.id))} is another evaluator's")
        if e.status != DRAFT:
            raise InvalidInput(
                f"{evaluation_ref(stored_id(e.id))} is submitted and cannot change: a supervisor corrects it "
                "(wallboard qa correct), with a reason"
            )

    def save(self, ref: str | int, actor: str, scores: Scores, *, expect_version: int | None = None) -> EvaluationInfo:
        """Save scores on a draft (some or all criteria)."""

        def change(session: Session, e: QaEvaluation, user: User, now: float, changeset: str) -> None:
            self._own_draft(e, user)
            self._apply_scores(session, e, scores, user, now, changeset, audit=False)
            e.updated_at = now

        return self._change(ref, actor, expect_version, change)

    def submit(
        self, ref: str | int, actor: str, scores: Scores | None = None, *, expect_version: int | None = None
    ) -> EvaluationInfo:
        """Submit a draft (with these last scores): every criterion must be scored; it is
        immutable after (corrections only, audited)."""

        def change(session: Session, e: QaEvaluation, user: User, now: float, changeset: str) -> None:
            self._own_draft(e, user)
            if scores:
                self._apply_scores(session, e, scores, user, now, changeset, audit=False)
            session.flush()
            criteria = self._criteria(session, self._card(session, e))
            scored = set(session.scalars(select(col(QaScore.criterion_id)).where(col(QaScore.evaluation_id) == e.id)))
            missing = [c.key for c in criteria if c.id not in scored]
            if missing:
                raise InvalidInput(f"{evaluation_ref(stored_id(e.id))}: not scored yet: {', '.join(missing)}")
            e.status, e.submitted_at, e.updated_at = SUBMITTED, now, now
            sample = session.get(QaSample, e.sample_id) if e.sample_id else None
            if sample is not None:
                sample.status = "evaluated"
            self._audit(
                session,
                user,
                now,
                "qa_submit",
                evaluation_id=e.id,
                field="score",
                new=e.score,
                note="critical failure" if e.critical_failed else None,
                changeset=changeset,
            )
            if sample is not None and sample.coaching_id is not None:
                self._judge_coaching(session, sample.coaching_id, now)

        return self._change(ref, actor, expect_version, change)

    def correct(
        self, ref: str | int, actor: str, scores: Scores, *, reason: str, expect_version: int | None = None
    ) -> EvaluationInfo:
        """A supervisor's correction of a submitted evaluation: each changed score audited with the reason."""
        text = clean(reason, "a reason for the correction")

        def change(session: Session, e: QaEvaluation, user: User, now: float, changeset: str) -> None:
            if user.role != Role.SUPERVISOR:
                raise PermissionDenied(f"{user.name} ({user.role}) may not correct an evaluation: supervisors only")
            if e.status != SUBMITTED:
                raise InvalidInput(f"{evaluation_ref(stored_id(e.id))} is a draft: its evaluator saves it")
            if not scores:
                raise InvalidInput("a correction needs at least one score")
            self._apply_scores(session, e, scores, user, now, changeset, audit=True, reason=text)
            e.updated_at = now

        return self._change(ref, actor, expect_version, change)

    def respond(
        self, ref: str | int, actor: str, response: str, note: str, *, expect_version: int | None = None
    ) -> EvaluationInfo:
        """The agent acknowledges or disputes their evaluation, with a note (once)."""
        verbs = {"acknowledge": ACKNOWLEDGED, "dispute": DISPUTED}
        kind = choice(verbs.get(str(response).strip().lower(), response), RESPONSES, "response")
        text = clean(note, "a note", multiline=True, required=kind == DISPUTED) or ""

        def change(session: Session, e: QaEvaluation, user: User, now: float, changeset: str) -> None:
            self._visible(e, user)
            if self.agent_name(user.name) != e.agent:
                raise PermissionDenied(f"{user.name} may only answer their own evaluations")
            if e.response is not None:
                raise InvalidInput(f"{evaluation_ref(stored_id(e.id))} was {e.response} already")
            e.response, e.response_note, e.response_at = kind, text, now
            self._audit(
                session,
                user,
                now,
                "qa_dispute" if kind == DISPUTED else "qa_acknowledge",
                evaluation_id=e.id,
                field="response",
                new=kind,
                note=text,
                changeset=changeset,
            )

        return self._change(ref, actor, expect_version, change)

    def settle(
        self,
        ref: str | int,
        actor: str,
        outcome: str,
        note: str,
        *,
        scores: Scores | None = None,
        expect_version: int | None = None,
    ) -> EvaluationInfo:
        """A supervisor settles a dispute: upheld (it stands) or overturned (with the
        corrected scores, audited like a correction)."""
        kind = choice(outcome, SETTLEMENTS, "settlement")
        text = clean(note, "a note")

        def change(session: Session, e: QaEvaluation, user: User, now: float, changeset: str) -> None:
            if user.role != Role.SUPERVISOR:
                raise PermissionDenied(f"{user.name} ({user.role}) may not settle a dispute: supervisors only")
            if e.response != DISPUTED:
                raise InvalidInput(f"{evaluation_ref(stored_id(e.id))} is not disputed")
            if e.settlement is not None:
                raise InvalidInput(f"{evaluation_ref(stored_id(e.id))} was settled already ({e.settlement})")
            if kind == OVERTURNED and scores:
                self._apply_scores(session, e, scores, user, now, changeset, audit=True, reason=text)
            e.settlement, e.settlement_note, e.settled_by_id, e.settled_at = kind, text, user.id, now
            self._audit(
                session,
                user,
                now,
                "qa_settle",
                evaluation_id=e.id,
                field="settlement",
                new=kind,
                note=text,
                changeset=changeset,
            )

        return self._change(ref, actor, expect_version, change)

    def _visible(self, e: QaEvaluation, user: User) -> None:
        if user.role == Role.SUPERVISOR:
            return
        if self.agent_name(user.name) != e.agent or e.status != SUBMITTED:
            raise PermissionDenied(f"{user.name} (agent) may see only their own submitted evaluations")

    def get(self, ref: str | int, actor: str) -> EvaluationInfo:
        with read_session(self.engine) as session:
            user = self._user(session, actor)
            e = self._load(session, ref)
            self._visible(e, user)
            return self._info(session, e)

    def evaluations(
        self, actor: str, *, agent: str | None = None, status: str | None = None, limit: int = 200
    ) -> list[EvaluationInfo]:
        """Evaluations, newest call first: an agent's own submitted ones; a supervisor's choice."""
        with read_session(self.engine) as session:
            user = self._user(session, actor)
            query = select(QaEvaluation)
            if user.role != Role.SUPERVISOR:
                query = query.where(
                    col(QaEvaluation.agent) == self.agent_name(user.name), col(QaEvaluation.status) == SUBMITTED
                )
            else:
                if agent is not None:
                    query = query.where(col(QaEvaluation.agent) == agent)
                if status is not None:
                    query = query.where(col(QaEvaluation.status) == choice(status, (DRAFT, SUBMITTED), "status"))
            rows = session.scalars(query.order_by(col(QaEvaluation.call_at).desc()).limit(limit)).all()
            return [self._info(session, e) for e in rows]

    def trend(self, actor: str, *, agent: str | None = None, weeks: int = 8) -> list[TrendPoint]:
        """An agent's weekly quality over the last `weeks` weeks (Monday to Sunday, the site's),
        oldest first: evaluations, mean score, critical failures. An agent sees their own;
        a supervisor names the agent."""
        if not 1 <= weeks <= 520:
            raise InvalidInput("weeks: 1 to 520")
        now = self.clock()
        with read_session(self.engine) as session:
            user = self._user(session, actor)
            if user.role != Role.SUPERVISOR:
                if agent is not None and agent != self.agent_name(user.name):
                    raise PermissionDenied(f"{user.name} (agent) may see only their own quality")
                agent = self.agent_name(user.name)
            elif agent is None:
                raise InvalidInput("name the agent")
            today = datetime.fromtimestamp(now, self.settings.site.tz).date()
            monday = today - timedelta(days=today.weekday())
            starts = [monday - timedelta(weeks=weeks - 1 - n) for n in range(weeks)]
            bounds = [self._day_window(day)[0] for day in starts] + [self._day_window(monday + timedelta(days=7))[0]]
            rows = session.execute(
                select(col(QaEvaluation.call_at), col(QaEvaluation.score), col(QaEvaluation.critical_failed)).where(
                    col(QaEvaluation.agent) == agent,
                    col(QaEvaluation.status) == SUBMITTED,
                    col(QaEvaluation.call_at) >= bounds[0],
                    col(QaEvaluation.call_at) < bounds[-1],
                )
            ).all()
        points = []
        for n, day in enumerate(starts):
            inside = [(score, critical) for at, score, critical in rows if bounds[n] <= at < bounds[n + 1]]
            scored = [score for score, _ in inside if score is not None]
            points.append(
                TrendPoint(
                    day.isoformat(),
                    len(inside),
                    round(sum(scored) / len(scored), 1) if scored else None,
                    sum(1 for _, critical in inside if critical),
                )
            )
        return points

    def _info(self, session: Session, e: QaEvaluation) -> EvaluationInfo:
        card = self._card(session, e)
        criteria = self._criteria(session, card)
        stored = {s.criterion_id: s for s in session.scalars(select(QaScore).where(col(QaScore.evaluation_id) == e.id))}
        scores = tuple(
            ScoreInfo(
                c.key,
                c.title,
                c.section,
                c.scale,
                c.weight,
                c.critical,
                c.comment_required,
                stored[c.id].answer if c.id in stored else None,
                stored[c.id].passed if c.id in stored else None,
                stored[c.id].comment if c.id in stored else "",
            )
            for c in criteria
        )
        names = self._names(session, [e.evaluator_id])
        sample = session.get(QaSample, e.sample_id) if e.sample_id else None
        complaints = session.scalars(
            select(col(Complaint.id)).where(col(Complaint.callid) == e.callid).order_by(col(Complaint.id))
        ).all()
        transfers = (
            session.scalar(
                select(func.count())
                .select_from(Call)
                .where(col(Call.callid) == e.callid, col(Call.outcome) == "transferred")
            )
            or 0
        )
        template = self.settings.quality.recording_template
        coaching = session.scalars(
            select(col(QaCoaching.id)).where(col(QaCoaching.evaluation_id) == e.id).order_by(col(QaCoaching.id))
        ).all()
        failed = tuple(s.key for s in scores if s.critical and s.passed is False)
        return EvaluationInfo(
            ref=evaluation_ref(stored_id(e.id)),
            id=stored_id(e.id),
            status=e.status,
            version=e.version,
            card=card.name,
            card_version=card.version,
            evaluator=names.get(e.evaluator_id, "?"),
            agent=e.agent,
            queue=e.queue,
            callid=e.callid,
            call_at=e.call_at,
            wait_seconds=sample.wait_seconds if sample else None,
            talk_seconds=sample.talk_seconds if sample else None,
            wrap_seconds=sample.wrap_seconds if sample else None,
            transfers=transfers,
            complaints=tuple(ref_of(c) for c in complaints),
            recording=template.replace("{callid}", e.callid) if template else None,
            sample_reason=sample.reason if sample else None,
            raw_score=e.raw_score,
            score=e.score,
            critical_failed=e.critical_failed,
            failed_critical=failed,
            scores=scores,
            created_at=e.created_at,
            submitted_at=e.submitted_at,
            response=e.response,
            response_note=e.response_note,
            settlement=e.settlement,
            settlement_note=e.settlement_note,
            coaching=tuple(coaching_ref(stored_id(c)) for c in coaching),
        )

    # -- coaching -------------------------------------------------------------------------

    def coach(
        self, ref: str | int, actor: str, *, owner: str, due_at: float, criteria: list[str], note: str
    ) -> CoachingInfo:
        """A coaching action from a submitted evaluation, reminded to its owner on its due
        date like a complaint's follow-up; then the agent's next calls are re-sampled."""
        now = self.clock()
        due = checked_due(due_at, now)
        text = clean(note, "a note", multiline=True) or ""
        with write_session(self.engine) as session:
            user = self._supervisor(session, actor, "coach")
            e = self._load(session, ref)
            if e.status != SUBMITTED:
                raise InvalidInput(f"{evaluation_ref(stored_id(e.id))} is a draft: submit it before coaching on it")
            owner_user = self._supervisor(session, owner, "own a coaching action")
            keys = {c.key for c in self._criteria(session, self._card(session, e))}
            wanted = list(dict.fromkeys(k.strip() for k in criteria if k.strip()))
            if not wanted:
                raise InvalidInput("name the criteria to coach on")
            unknown = [k for k in wanted if k not in keys]
            if unknown:
                raise InvalidInput(f"{unknown[0]!r} is not a criterion of this evaluation's scorecard")
            coaching = QaCoaching(
                evaluation_id=stored_id(e.id),
                agent=e.agent,
                owner_id=stored_id(owner_user.id),
                due_at=due,
                criteria=",".join(wanted),
                note=text,
                status="open",
                created_by_id=stored_id(user.id),
                created_at=now,
            )
            session.add(coaching)
            session.flush()
            self._audit(
                session,
                user,
                now,
                "qa_coaching",
                evaluation_id=e.id,
                field="coaching",
                new=coaching_ref(stored_id(coaching.id)),
                note=text,
            )
            reminders.arm_coaching(session, coaching, now)
            return self._coaching_info(session, coaching)

    def _judge_coaching(self, session: Session, coaching_id: int, now: float) -> None:
        """Once every re-sampled call is evaluated (or skipped): did the coached criteria pass?"""
        coaching = session.get(QaCoaching, coaching_id)
        if coaching is None or coaching.status == "done":
            return
        samples = session.scalars(select(QaSample).where(col(QaSample.coaching_id) == coaching_id)).all()
        if len(samples) < self.settings.quality.coaching_calls or any(
            s.status not in ("evaluated", "skipped") for s in samples
        ):
            return
        keys = coaching.criteria.split(",")
        passed = (
            session.execute(
                select(col(QaScore.passed))
                .join(QaCriterion, col(QaCriterion.id) == col(QaScore.criterion_id))
                .join(QaEvaluation, col(QaEvaluation.id) == col(QaScore.evaluation_id))
                .where(
                    col(QaEvaluation.sample_id).in_([s.id for s in samples]),
                    col(QaEvaluation.status) == SUBMITTED,
                    col(QaCriterion.key).in_(keys),
                )
            )
            .scalars()
            .all()
        )
        judged = [p for p in passed if p is not None]
        if not judged:
            return
        improved = all(judged)
        coaching.status, coaching.outcome, coaching.outcome_at = "done", IMPROVED if improved else NOT_IMPROVED, now
        coaching.outcome_note = f"{sum(judged)} of {len(judged)} coached criteria passed on the re-sampled calls"
        self._audit(
            session,
            None,
            now,
            "qa_coaching_outcome",
            evaluation_id=coaching.evaluation_id,
            field="coaching",
            old=coaching_ref(coaching_id),
            new=coaching.outcome,
            note=coaching.outcome_note,
        )

    def record_coaching(self, ref: str | int, actor: str, outcome: str, note: str) -> CoachingInfo:
        """A supervisor records the outcome by hand (no calls to re-sample, say)."""
        kind = choice(outcome, COACHING_OUTCOMES, "outcome")
        text = clean(note, "a note") or ""
        now = self.clock()
        with write_session(self.engine) as session:
            user = self._supervisor(session, actor, "record a coaching outcome")
            coaching = session.get(QaCoaching, _parse_coaching_ref(ref), with_for_update=True)
            if coaching is None:
                raise NotFound(f"no coaching action {ref}")
            if coaching.status == "done":
                raise InvalidInput(f"{coaching_ref(stored_id(coaching.id))} is done already ({coaching.outcome})")
            coaching.status, coaching.outcome, coaching.outcome_note, coaching.outcome_at = "done", kind, text, now
            self._audit(
                session,
                user,
                now,
                "qa_coaching_outcome",
                evaluation_id=coaching.evaluation_id,
                field="coaching",
                old=coaching_ref(stored_id(coaching.id)),
                new=kind,
                note=text,
            )
            reminders.arm_coaching(session, coaching, now)
            return self._coaching_info(session, coaching)

    def coaching(self, actor: str, *, open_only: bool = False) -> list[CoachingInfo]:
        with read_session(self.engine) as session:
            user = self._user(session, actor)
            query = select(QaCoaching)
            if user.role != Role.SUPERVISOR:
                query = query.where(col(QaCoaching.agent) == self.agent_name(user.name))
            if open_only:
                query = query.where(col(QaCoaching.status) != "done")
            rows = session.scalars(query.order_by(col(QaCoaching.due_at))).all()
            return [self._coaching_info(session, c) for c in rows]

    def _coaching_info(self, session: Session, c: QaCoaching) -> CoachingInfo:
        names = self._names(session, [c.owner_id])
        return CoachingInfo(
            coaching_ref(stored_id(c.id)),
            stored_id(c.id),
            evaluation_ref(c.evaluation_id),
            c.agent,
            names.get(c.owner_id, "?"),
            c.due_at,
            tuple(c.criteria.split(",")),
            c.note,
            c.status,
            c.outcome,
            c.outcome_note,
        )

    # -- calibration ----------------------------------------------------------------------

    def calibration(self, actor: str, start: float, end: float) -> list[CalibrationRow]:
        """Per criterion, over the calls answered in [start, end) that two or more evaluators
        scored (submitted): the spread of their scores and who differs most."""
        with read_session(self.engine) as session:
            self._supervisor(session, actor, "read the calibration report")
            several = (
                select(col(QaEvaluation.call_id))
                .where(
                    col(QaEvaluation.status) == SUBMITTED,
                    col(QaEvaluation.call_at) >= start,
                    col(QaEvaluation.call_at) < end,
                )
                .group_by(col(QaEvaluation.call_id))
                .having(func.count(func.distinct(col(QaEvaluation.evaluator_id))) > 1)
            )
            rows = session.execute(
                select(col(QaEvaluation.call_id), col(User.name), col(QaCriterion.key), col(QaScore.value))
                .join(QaScore, col(QaScore.evaluation_id) == col(QaEvaluation.id))
                .join(QaCriterion, col(QaCriterion.id) == col(QaScore.criterion_id))
                .join(User, col(User.id) == col(QaEvaluation.evaluator_id))
                .where(col(QaEvaluation.status) == SUBMITTED, col(QaEvaluation.call_id).in_(several))
            )
            return calibration_rows(rows)


def _mark(session: Session) -> str:
    """The driver's parameter placeholder (sqlite3: ?, psycopg: %s)."""
    return "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"


def _spec_of_criterion(c: QaCriterion) -> CriterionSpec:
    return CriterionSpec(c.key, c.section, c.title, c.good, c.bad, c.weight, c.scale, c.critical, c.comment_required)


def calibration_rows(rows: Iterable[tuple[int, str, str, float | None]]) -> list[CalibrationRow]:
    """(call, evaluator, criterion, value 0..1 or None for n/a) -> a row per criterion."""
    by: dict[str, dict[int, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for call_id, evaluator, key, value in rows:
        if value is not None:
            by[key][call_id][evaluator] = value
    result = []
    for key in sorted(by):
        spreads: list[float] = []
        distance: dict[str, list[float]] = defaultdict(list)
        evaluations = 0
        for values in by[key].values():
            if len(values) < 2:
                continue
            evaluations += len(values)
            spreads.append(max(values.values()) - min(values.values()))
            mean = sum(values.values()) / len(values)
            for evaluator, value in values.items():
                distance[evaluator].append(abs(value - mean))
        if not spreads:
            continue
        means = {e: sum(d) / len(d) for e, d in distance.items()}
        worst = max(sorted(means), key=lambda e: means[e])
        result.append(
            CalibrationRow(
                key,
                len(spreads),
                evaluations,
                round(100 * sum(spreads) / len(spreads), 1),
                round(100 * max(spreads), 1),
                worst if means[worst] > 0 else None,
                round(100 * means[worst], 1) if means[worst] > 0 else None,
            )
        )
    return result
