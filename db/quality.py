"""Tables for quality evaluations: scorecards (versioned), the daily sample of calls, the
evaluations and their scores, and coaching actions. Persistence only: the rules live in
`tickets/quality/`.

Times are epoch seconds (float, UTC), as in `db.models`. Call facts an evaluation needs
(queue, agent, times) are copied from the call row when the call is sampled: retention may
prune the call, the evaluation stays readable and its report needs no join to the calls.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class QaCard(SQLModel, table=True):
    """One version of a scorecard: an edit is a new row (version + 1); an evaluation keeps the
    row it was scored on. The newest version of a name is the one new evaluations use."""

    __tablename__ = "qa_cards"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_qa_cards_name_version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    version: int
    title: str = Field(sa_type=Text)
    description: str = Field(default="", sa_type=Text)
    created_at: float
    created_by_id: int | None = Field(default=None, foreign_key="users.id")  # None: seeded
    retired: bool = False


class QaCriterion(SQLModel, table=True):
    """A criterion of one card version, with its written standard (what good and bad look like)."""

    __tablename__ = "qa_criteria"
    __table_args__ = (UniqueConstraint("card_id", "key", name="uq_qa_criteria_card_id"),)

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="qa_cards.id")
    position: int
    section: str = Field(sa_type=Text)
    key: str = Field(max_length=64)
    title: str = Field(sa_type=Text)
    good: str = Field(sa_type=Text)
    bad: str = Field(sa_type=Text)
    weight: float
    scale: str = Field(max_length=8)  # yes_no | 1-5
    critical: bool = False
    comment_required: bool = False


class QaSample(SQLModel, table=True):
    """A call drawn for evaluation: by the day's draw (targeted or random), a coaching
    re-sample, or a calibration (the same call for several evaluators)."""

    __tablename__ = "qa_samples"
    __table_args__ = (
        UniqueConstraint("day", "call_id", "evaluator_id", "reason", name="uq_qa_samples_day"),
        Index("ix_qa_samples_evaluator_status", "evaluator_id", "status"),
        Index("ix_qa_samples_agent_day", "agent", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: str = Field(max_length=10)  # the site's local date the call was answered, YYYY-MM-DD
    call_id: int  # calls.id (no foreign key: retention prunes calls)
    callid: str = Field(max_length=64)
    queue: str = Field(max_length=80)
    agent: str = Field(max_length=120)
    caller: str | None = Field(default=None, max_length=80)
    answered_at: float
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    wrap_seconds: float | None = None
    outcome: str = Field(max_length=16)
    # random | aht_outlier | complaint | callback | repeat_caller | transfer | coaching | calibration
    reason: str = Field(max_length=16)
    evaluator_id: int | None = Field(default=None, foreign_key="users.id")  # None: over every quota
    status: str = Field(max_length=12)  # open | evaluating | evaluated | skipped
    coaching_id: int | None = None
    drawn_at: float
    skip_reason: str | None = Field(default=None, sa_type=Text)
    skipped_by_id: int | None = Field(default=None, foreign_key="users.id")
    skipped_at: float | None = None


_version = Column("version", Integer, nullable=False)


class QaEvaluation(SQLModel, table=True):
    """One evaluator's evaluation of one call on one card version. `version` is SQLAlchemy's
    optimistic lock: a draft saved over a newer one is refused."""

    __tablename__ = "qa_evaluations"
    __table_args__ = (
        Index("ix_qa_evaluations_submitted_call_at", "status", "call_at"),
        Index("ix_qa_evaluations_call_id", "call_id"),
        Index("ix_qa_evaluations_agent", "agent", "call_at"),
        Index("ix_qa_evaluations_sample_id", "sample_id"),
    )
    __mapper_args__ = {"version_id_col": _version}

    id: int | None = Field(default=None, primary_key=True)
    sample_id: int | None = Field(default=None, foreign_key="qa_samples.id")
    call_id: int
    callid: str = Field(max_length=64)
    queue: str = Field(max_length=80)
    agent: str = Field(max_length=120)
    call_at: float  # when the call was answered
    card_id: int = Field(foreign_key="qa_cards.id")
    evaluator_id: int = Field(foreign_key="users.id")
    status: str = Field(max_length=12)  # draft | submitted
    raw_score: float | None = None  # weighted, 0-100, over the criteria not n/a
    score: float | None = None  # raw_score, or 0 when a critical criterion failed
    critical_failed: bool = False
    created_at: float
    updated_at: float
    submitted_at: float | None = None
    # The agent's answer to a submitted evaluation, and the supervisor's settling of a dispute.
    response: str | None = Field(default=None, max_length=12)  # acknowledged | disputed
    response_note: str | None = Field(default=None, sa_type=Text)
    response_at: float | None = None
    settlement: str | None = Field(default=None, max_length=12)  # upheld | overturned
    settlement_note: str | None = Field(default=None, sa_type=Text)
    settled_by_id: int | None = Field(default=None, foreign_key="users.id")
    settled_at: float | None = None
    version: int = Field(default=None, sa_column=_version)


class QaScore(SQLModel, table=True):
    """A criterion's score in an evaluation: `answer` as given (yes, no, na, 1..5), `value`
    its share of the criterion's weight (0..1; None for n/a)."""

    __tablename__ = "qa_scores"

    evaluation_id: int = Field(primary_key=True, foreign_key="qa_evaluations.id")
    criterion_id: int = Field(primary_key=True, foreign_key="qa_criteria.id")
    answer: str = Field(max_length=4)
    value: float | None = None
    passed: bool | None = None  # None for n/a
    comment: str = Field(default="", sa_type=Text)


class QaCoaching(SQLModel, table=True):
    """A coaching action from an evaluation: owner and due date (reminded like a complaint's
    follow-up); from its due date the agent's next calls are re-sampled on the coached
    criteria, and their evaluation records whether the behaviour changed."""

    __tablename__ = "qa_coaching"
    __table_args__ = (
        Index(
            "ix_qa_coaching_resampling",
            "agent",
            sqlite_where=text("status = 'resampling'"),
            postgresql_where=text("status = 'resampling'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="qa_evaluations.id")
    agent: str = Field(max_length=120)
    owner_id: int = Field(foreign_key="users.id")
    due_at: float
    criteria: str = Field(sa_type=Text)  # the coached criteria's keys, comma-separated
    note: str = Field(sa_type=Text)
    # open (until due) | resampling (due: the agent's next calls are drawn) | done
    status: str = Field(max_length=12)
    created_by_id: int = Field(foreign_key="users.id")
    created_at: float
    outcome: str | None = Field(default=None, max_length=12)  # improved | not_improved
    outcome_note: str | None = Field(default=None, sa_type=Text)
    outcome_at: float | None = None


class QaDayFigures(SQLModel, table=True):
    """The submitted evaluations of one site day, agent, queue and evaluator, summed: what the
    quality report reads (a month at 1M evaluations in well under a second). Rewritten in the
    transaction of every change to a submitted evaluation of that key. `criterion` "": the
    evaluation figures; a criterion's key: its scored (not n/a) and passed counts."""

    __tablename__ = "qa_day_figures"

    day: int = Field(primary_key=True)  # the site's date of the call, days since 1970-01-01
    agent: str = Field(primary_key=True, max_length=120)
    queue: str = Field(primary_key=True, max_length=80)
    evaluator_id: int = Field(primary_key=True)
    criterion: str = Field(primary_key=True, max_length=64)
    evaluations: int = 0
    score_sum: float = 0.0
    scored: int = 0
    critical: int = 0
    disputes: int = 0
    overturned: int = 0
    passed: int = 0
