"""What the quality service returns: plain frozen records (picklable over the session link,
`as_dict` for JSON). No database, no Textual."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

DRAFT = "draft"
SUBMITTED = "submitted"
ACKNOWLEDGED = "acknowledged"
DISPUTED = "disputed"
RESPONSES = (ACKNOWLEDGED, DISPUTED)
UPHELD = "upheld"  # the evaluation stands
OVERTURNED = "overturned"  # the dispute was right: corrected by the supervisor
SETTLEMENTS = (UPHELD, OVERTURNED)
IMPROVED = "improved"
NOT_IMPROVED = "not_improved"
COACHING_OUTCOMES = (IMPROVED, NOT_IMPROVED)


def evaluation_ref(evaluation_id: int) -> str:
    return f"QA-{evaluation_id:06d}"


def coaching_ref(coaching_id: int) -> str:
    return f"CO-{coaching_id}"


@dataclass(frozen=True)
class CriterionInfo:
    key: str
    section: str
    title: str
    good: str
    bad: str
    weight: float
    scale: str
    critical: bool
    comment_required: bool


@dataclass(frozen=True)
class CardInfo:
    name: str
    version: int
    title: str
    description: str
    created_at: float
    created_by: str | None
    criteria: tuple[CriterionInfo, ...] = ()
    newest: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SampleInfo:
    id: int
    day: str
    call_id: int
    callid: str
    queue: str
    agent: str
    caller: str | None
    answered_at: float
    wait_seconds: float | None
    talk_seconds: float | None
    wrap_seconds: float | None
    outcome: str
    reason: str
    evaluator: str | None
    status: str
    evaluation: str | None = None  # QA-... once begun
    skip_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DrawSummary:
    day: str
    answered: int
    drawn: int
    by_reason: dict[str, int]
    by_evaluator: dict[str, int]
    unassigned: int
    coaching: int
    already_drawn: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ScoreInfo:
    key: str
    title: str
    section: str
    scale: str
    weight: float
    critical: bool
    comment_required: bool
    answer: str | None  # None: not scored yet
    passed: bool | None
    comment: str


@dataclass(frozen=True)
class EvaluationInfo:
    ref: str
    id: int
    status: str
    version: int
    card: str
    card_version: int
    evaluator: str
    agent: str
    queue: str
    callid: str
    call_at: float
    wait_seconds: float | None
    talk_seconds: float | None
    wrap_seconds: float | None
    transfers: int
    complaints: tuple[str, ...]
    recording: str | None
    sample_reason: str | None
    raw_score: float | None
    score: float | None
    critical_failed: bool
    failed_critical: tuple[str, ...]
    scores: tuple[ScoreInfo, ...]
    created_at: float
    submitted_at: float | None
    response: str | None
    response_note: str | None
    settlement: str | None
    settlement_note: str | None
    coaching: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CoachingInfo:
    ref: str
    id: int
    evaluation: str
    agent: str
    owner: str
    due_at: float
    criteria: tuple[str, ...]
    note: str
    status: str
    outcome: str | None
    outcome_note: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrendPoint:
    """One week of an agent's quality (the week's Monday, the site's date)."""

    week: str
    evaluations: int
    mean_score: float | None
    critical_failures: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CalibrationRow:
    """One criterion over the calls evaluated by several evaluators: the spread of their
    scores (mean of each call's max - min, in % of the criterion's weight) and who differs
    most from the others (mean absolute distance from the call's mean)."""

    criterion: str
    calls: int
    evaluations: int
    mean_spread_pct: float
    max_spread_pct: float
    differs_most: str | None
    differs_most_by_pct: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
