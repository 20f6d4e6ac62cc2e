"""The day figures of submitted evaluations (db.quality.QaDayFigures), which the quality report
reads instead of every evaluation and score: rewritten for one key (day, agent, queue,
evaluator) in the transaction of each change to a submitted evaluation, or for a whole
window at once (`rebuild`, after a bulk load)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, case, cast, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from db.models import table_of
from db.quality import QaCriterion, QaDayFigures, QaEvaluation, QaScore

EPOCH = date(1970, 1, 1)
_SUBMITTED = "submitted"


def day_number(at: float, tz: ZoneInfo) -> int:
    """The site's date of an epoch time, as days since 1970-01-01."""
    return (datetime.fromtimestamp(at, tz).date() - EPOCH).days


def day_start(day: int, tz: ZoneInfo) -> float:
    return datetime.combine(EPOCH + timedelta(days=day), datetime.min.time(), tzinfo=tz).timestamp()


def _offset(at: float, tz: ZoneInfo) -> float:
    offset = datetime.fromtimestamp(at, tz).utcoffset()
    return offset.total_seconds() if offset else 0.0


def _write(session: Session, offset: float, conditions: list[ColumnElement[bool]]) -> None:
    """Insert the figures of the submitted evaluations matching `conditions` (their old rows
    deleted by the caller), days by `offset` (the site's UTC offset over those days)."""
    e = table_of(QaEvaluation).c
    s = table_of(QaScore).c
    cr = table_of(QaCriterion).c
    figures = table_of(QaDayFigures)
    day = cast(func.floor((e.call_at + offset) / 86400), Integer)
    one = 1
    where = [e.status == _SUBMITTED, *conditions]
    columns = ["day", "agent", "queue", "evaluator_id", "criterion", "evaluations", "score_sum", "scored",
               "critical", "disputes", "overturned", "passed"]  # fmt: skip
    evaluations = (
        select(
            day,
            e.agent,
            e.queue,
            e.evaluator_id,
            literal(""),
            func.count(),
            func.coalesce(func.sum(e.score), 0.0),
            func.count(e.score),
            func.sum(case((e.critical_failed, one), else_=0)),
            func.sum(case((e.response == "disputed", one), else_=0)),
            func.sum(case((e.settlement == "overturned", one), else_=0)),
            literal(0),
        )
        .where(*where)
        .group_by(day, e.agent, e.queue, e.evaluator_id)
    )
    session.execute(insert(figures).from_select(columns, evaluations))
    criteria = (
        select(
            day,
            e.agent,
            e.queue,
            e.evaluator_id,
            cr.key,
            func.count(),
            literal(0.0),
            literal(0),
            literal(0),
            literal(0),
            literal(0),
            func.sum(case((s.passed, one), else_=0)),
        )
        .select_from(table_of(QaScore))
        .join(table_of(QaEvaluation), e.id == s.evaluation_id)
        .join(table_of(QaCriterion), cr.id == s.criterion_id)
        .where(*where, s.passed.is_not(None))
        .group_by(day, e.agent, e.queue, e.evaluator_id, cr.key)
    )
    session.execute(insert(figures).from_select(columns, criteria))


def refresh(session: Session, evaluation: QaEvaluation, tz: ZoneInfo) -> None:
    """Rewrite the figures of the evaluation's key (its call's day, agent, queue, evaluator)."""
    session.flush()
    f = table_of(QaDayFigures).c
    e = table_of(QaEvaluation).c
    day = day_number(evaluation.call_at, tz)
    start, end = day_start(day, tz), day_start(day + 1, tz)
    session.execute(
        delete(table_of(QaDayFigures)).where(
            f.day == day, f.agent == evaluation.agent, f.queue == evaluation.queue,
            f.evaluator_id == evaluation.evaluator_id,
        )
    )  # fmt: skip
    _write(
        session,
        _offset(start, tz),
        [e.agent == evaluation.agent, e.queue == evaluation.queue, e.evaluator_id == evaluation.evaluator_id,
         e.call_at >= start, e.call_at < end],
    )  # fmt: skip


def rebuild(session: Session, tz: ZoneInfo, start: float, end: float) -> None:
    """Rewrite every day's figures in [start, end) (whole site days; one UTC offset: that of
    `start`)."""
    first, last = day_number(start, tz), day_number(end, tz)
    f = table_of(QaDayFigures).c
    e = table_of(QaEvaluation).c
    session.execute(delete(table_of(QaDayFigures)).where(f.day >= first, f.day <= last))
    _write(session, _offset(start, tz), [e.call_at >= day_start(first, tz), e.call_at < day_start(last + 1, tz)])


def day_range(start: float, end: float, tz: ZoneInfo) -> tuple[int, int]:
    """The site days a window [start, end) touches: first, and one past the last."""
    return day_number(start, tz), day_number(end - 0.001, tz) + 1
