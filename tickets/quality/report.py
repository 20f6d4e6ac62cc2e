"""The quality report (`wallboard report quality`), read beside the call KPIs.

Over the calls answered in [start, end) and the evaluations of those calls, per group (agent,
team, queue, evaluator, week, or criterion) and in total:

answered             calls answered (completed or transferred) by an agent
aht_seconds          mean handle time (talk + wrap-up) of those calls
complaints_per_1000  complaints logged from those calls (by the call's agent and queue,
                     received in the window) per 1,000 answered calls
target               the sample the [quality] settings ask for: per agent, queue and day
                     max(calls_per_agent, share_pct of the answered), at most the answered
sampled              calls drawn (any reason)
evaluations          submitted evaluations
coverage_pct         evaluations per answered call, in %
target_done_pct      evaluations per target, in %
mean_score           mean score (0-100; a critical failure counts 0)
critical_fail_pct    evaluations with a critical failure, in %
disputes, overturned evaluations the agent disputed; of those, overturned by a supervisor
coaching_open, coaching_done, coaching_improved   coaching actions from these evaluations
By criterion: evaluations scoring it (not n/a), pass_rate_pct.

Days and weeks are the site's; a week starts on Monday. The evaluation figures are read from
the day figures (db.quality.QaDayFigures, kept by every change of a submitted evaluation), by
the site days the window touches; so a month reads in well under a second at 1M evaluations
(tests/benchmarks/quality.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, Integer, case, cast, func, select

from db.complaints import Complaint, User
from db.engine import read_session
from db.models import Call, table_of
from db.quality import QaCoaching, QaCriterion, QaDayFigures, QaEvaluation, QaSample
from tickets.errors import InvalidInput
from tickets.quality.figures import EPOCH, day_range
from tickets.quality.records import IMPROVED

if TYPE_CHECKING:
    from wallboard.config import Settings

GROUPINGS = ("agent", "team", "queue", "criterion", "evaluator", "week")
NO_TEAM = "(no team)"
TOTAL = "total"
ANSWERED = ("completed", "transferred")
MAX_WAIT_SECONDS = 86400.0  # a call is answered within a day of entering: bounds the entry time too


@dataclass
class QualityFigures:
    group: str
    answered: int = 0
    handle_sum: float = 0.0
    handled: int = 0
    complaints: int = 0
    target: int = 0
    sampled: int = 0
    evaluations: int = 0
    score_sum: float = 0.0
    scored: int = 0
    critical: int = 0
    disputes: int = 0
    overturned: int = 0
    coaching_open: int = 0
    coaching_done: int = 0
    coaching_improved: int = 0

    def add(self, other: QualityFigures) -> None:
        for name in (
            "answered", "handle_sum", "handled", "complaints", "target", "sampled", "evaluations", "score_sum",
            "scored", "critical", "disputes", "overturned", "coaching_open", "coaching_done", "coaching_improved",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self, *, calls: bool = True) -> dict[str, Any]:
        def pct(part: float, whole: float) -> float | None:
            return round(100 * part / whole, 1) if whole else None

        row: dict[str, Any] = {"group": self.group}
        if calls:
            row |= {
                "answered": self.answered,
                "aht_seconds": round(self.handle_sum / self.handled, 1) if self.handled else None,
                "complaints_per_1000": round(1000 * self.complaints / self.answered, 1) if self.answered else None,
                "target": self.target,
                "sampled": self.sampled,
            }
        row |= {"evaluations": self.evaluations}
        if calls:
            row |= {
                "coverage_pct": pct(self.evaluations, self.answered),
                "target_done_pct": pct(self.evaluations, self.target),
            }
        row |= {
            "mean_score": round(self.score_sum / self.scored, 1) if self.scored else None,
            "critical_fail_pct": pct(self.critical, self.evaluations),
            "disputes": self.disputes,
            "overturned": self.overturned,
            "coaching_open": self.coaching_open,
            "coaching_done": self.coaching_done,
            "coaching_improved": self.coaching_improved,
        }
        return row


@dataclass(frozen=True)
class CriterionFigures:
    criterion: str
    title: str
    evaluations: int
    passed: int
    pass_rate_pct: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QualityReport:
    by: str
    start: float
    end: float
    rows: list[dict[str, Any]]
    total: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"by": self.by, "from": self.start, "to": self.end, "groups": self.rows, "total": self.total}


def quality_report(engine: Engine, settings: Settings, start: float, end: float, by: str) -> QualityReport:
    if by not in GROUPINGS:
        raise InvalidInput(f"--by {by!r}: one of {', '.join(GROUPINGS)}")
    if by == "criterion":
        rows = [c.as_dict() for c in criterion_figures(engine, settings, start, end)]
        evaluations = _total_evaluations(engine, settings, start, end)
        passed = sum(r["passed"] for r in rows)
        scored = sum(r["evaluations"] for r in rows)
        criterion_total = {
            "criterion": TOTAL,
            "title": f"{evaluations} evaluations",
            "evaluations": scored,
            "passed": passed,
            "pass_rate_pct": round(100 * passed / scored, 1) if scored else None,
        }
        return QualityReport(by, start, end, rows, criterion_total)
    groups = _figures(engine, settings, start, end, by)
    total = QualityFigures(TOTAL)
    for figures in groups.values():
        total.add(figures)
    calls = by != "evaluator"  # an evaluator has no calls of their own to read quality beside
    return QualityReport(
        by,
        start,
        end,
        [groups[key].as_dict(calls=calls) for key in sorted(groups)],
        total.as_dict(calls=calls),
    )


def _total_evaluations(engine: Engine, settings: Settings, start: float, end: float) -> int:
    fig = table_of(QaDayFigures).c
    first_day, end_day = day_range(start, end, settings.site.tz)
    with read_session(engine) as session:
        total = session.scalar(
            select(func.sum(fig.evaluations)).where(fig.criterion == "", fig.day >= first_day, fig.day < end_day)
        )
        return int(total or 0)


def _offset(settings: Settings, at: float) -> float:
    offset = datetime.fromtimestamp(at, settings.site.tz).utcoffset()
    return offset.total_seconds() if offset else 0.0


def _day_number(column: ColumnElement[float], offset: float) -> ColumnElement[int]:
    """The site's day of an epoch time, as days since 1970 (the offset of the window's start:
    a daylight-saving change inside the window moves that night's calls by an hour)."""
    return cast(func.floor((column + offset) / 86400), Integer)


def _figures(engine: Engine, settings: Settings, start: float, end: float, by: str) -> dict[str, QualityFigures]:
    offset = _offset(settings, start)
    groups: dict[str, QualityFigures] = {}
    teams = {agent: team for team, agents in settings.quality.teams.items() for agent in agents}

    def week_label(day_number: int) -> str:
        day = EPOCH + timedelta(days=int(day_number))
        return (day - timedelta(days=day.weekday())).isoformat()

    def label(key: Any) -> str:
        if by == "team":
            return teams.get(str(key), NO_TEAM)
        if by == "week":
            return week_label(int(key))
        return str(key) if key is not None else "-"

    def figures(key: Any) -> QualityFigures:
        name = label(key)
        if name not in groups:
            groups[name] = QualityFigures(name)
        return groups[name]

    c = table_of(Call).c
    e = table_of(QaEvaluation).c
    s = table_of(QaSample).c
    k = table_of(Complaint).c
    co = table_of(QaCoaching).c
    users = table_of(User).c
    call_key: ColumnElement[Any]
    with read_session(engine) as session:
        if by != "evaluator":
            call_key = {"agent": c.agent, "team": c.agent, "queue": c.queue, "week": _day_number(c.answer_at, offset)}[
                by
            ]
            answered = (
                (c.enter_at >= start - MAX_WAIT_SECONDS)  # the index on enter_at
                & (c.enter_at < end)
                & (c.answer_at >= start)
                & (c.answer_at < end)
                & c.outcome.in_(ANSWERED)
                & c.agent.is_not(None)
            )
            handle = c.talk_seconds + func.coalesce(c.wrap_seconds, 0.0)
            for key, count, handle_sum, handled in session.execute(
                select(call_key, func.count(), func.sum(handle), func.count(c.talk_seconds))
                .where(answered)
                .group_by(call_key)
            ):
                f = figures(key)
                f.answered += count
                f.handle_sum += handle_sum or 0.0
                f.handled += handled
            # The target: per agent, queue and day.
            day = _day_number(c.answer_at, offset)
            for agent, queue, day_number, count in session.execute(
                select(c.agent, c.queue, day, func.count()).where(answered).group_by(c.agent, c.queue, day)
            ):
                key = {"agent": agent, "team": agent, "queue": queue, "week": day_number}[by]
                figures(key).target += settings.quality.target_for(queue, count)
            complaint_key = {
                "agent": k.call_agent,
                "team": k.call_agent,
                "queue": k.call_queue,
                "week": _day_number(k.created_at, offset),
            }[by]
            for key, count in session.execute(
                select(complaint_key, func.count())
                .where(k.created_at >= start, k.created_at < end, k.call_agent.is_not(None))
                .group_by(complaint_key)
            ):
                figures(key).complaints += count
            sample_key = {
                "agent": s.agent,
                "team": s.agent,
                "queue": s.queue,
                "week": _day_number(s.answered_at, offset),
            }[by]
            for key, count in session.execute(
                select(sample_key, func.count()).where(s.answered_at >= start, s.answered_at < end).group_by(sample_key)
            ):
                figures(key).sampled += count
        fig = table_of(QaDayFigures).c
        first_day, end_day = day_range(start, end, settings.site.tz)
        figure_key = {
            "agent": fig.agent,
            "team": fig.agent,
            "queue": fig.queue,
            "week": fig.day,
            "evaluator": users.name,
        }[by]
        query = (
            select(
                figure_key,
                func.sum(fig.evaluations),
                func.sum(fig.score_sum),
                func.sum(fig.scored),
                func.sum(fig.critical),
                func.sum(fig.disputes),
                func.sum(fig.overturned),
            )
            .where(fig.criterion == "", fig.day >= first_day, fig.day < end_day)
            .group_by(figure_key)
        )
        if by == "evaluator":
            query = query.join_from(table_of(QaDayFigures), table_of(User), users.id == fig.evaluator_id)
        for key, count, score_sum, scored, critical, disputes, overturned in session.execute(query):
            f = figures(key)
            f.evaluations += count or 0
            f.score_sum += score_sum or 0.0
            f.scored += scored or 0
            f.critical += critical or 0
            f.disputes += disputes or 0
            f.overturned += overturned or 0
        evaluation_key = {
            "agent": e.agent,
            "team": e.agent,
            "queue": e.queue,
            "week": _day_number(e.call_at, offset),
            "evaluator": users.name,
        }[by]
        one = 1
        coaching = (
            select(
                evaluation_key,
                func.sum(case((co.status != "done", one), else_=0)),
                func.sum(case((co.status == "done", one), else_=0)),
                func.sum(case((co.outcome == IMPROVED, one), else_=0)),
            )
            .select_from(table_of(QaCoaching))
            .join(table_of(QaEvaluation), e.id == co.evaluation_id)
            .where(e.call_at >= start, e.call_at < end)
            .group_by(evaluation_key)
        )
        if by == "evaluator":
            coaching = coaching.join(table_of(User), users.id == e.evaluator_id)
        for key, open_, done, improved in session.execute(coaching):
            f = figures(key)
            f.coaching_open += open_ or 0
            f.coaching_done += done or 0
            f.coaching_improved += improved or 0
    return groups


def criterion_figures(engine: Engine, settings: Settings, start: float, end: float) -> list[CriterionFigures]:
    """Per criterion key (over every card version), the evaluations scoring it (not n/a) and
    how many passed, over the site days the window touches."""
    fig = table_of(QaDayFigures).c
    cr = table_of(QaCriterion).c
    first_day, end_day = day_range(start, end, settings.site.tz)
    with read_session(engine) as session:
        rows = session.execute(
            select(fig.criterion, func.sum(fig.evaluations), func.sum(fig.passed))
            .where(fig.criterion != "", fig.day >= first_day, fig.day < end_day)
            .group_by(fig.criterion)
            .order_by(fig.criterion)
        ).all()
        titles = dict(session.execute(select(cr.key, func.max(cr.title)).group_by(cr.key)).all())
    return [
        CriterionFigures(
            key, titles.get(key, key), count, passed or 0, round(100 * (passed or 0) / count, 1) if count else None
        )
        for key, count, passed in rows
    ]
