"""Scorecards and scoring, pure: a card read from TOML and checked, a criterion's answer
checked against its scale, an evaluation's weighted score and critical failure.

A card has sections; a section has criteria. Each criterion carries its written standard
(what good and bad look like: the QSDD behind the card), a weight, a scale and two flags:

scale "yes_no"  answers yes, no, na (n/a: not counted; the weight leaves the total)
scale "1-5"     answers 1..5; 3 and above pass; the criterion's share of its weight is (n-1)/4
critical        failing it (no, or 1-2) fails the whole evaluation: its score is 0
comment_required  a comment is needed whenever it is answered (a failed critical criterion
                  always needs one)

The weighted score is 100 * sum(weight * share) / sum(weight) over the criteria not n/a.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tickets.errors import InvalidInput

YES_NO = "yes_no"
ONE_TO_FIVE = "1-5"
SCALES = (YES_NO, ONE_TO_FIVE)
ANSWERS = {YES_NO: ("yes", "no", "na"), ONE_TO_FIVE: ("1", "2", "3", "4", "5")}
PASS_MARK = 3  # on the 1-5 scale
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_CRITERIA = 200


@dataclass(frozen=True)
class CriterionSpec:
    key: str
    section: str
    title: str
    good: str
    bad: str
    weight: float
    scale: str
    critical: bool = False
    comment_required: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "section": self.section,
            "title": self.title,
            "good": self.good,
            "bad": self.bad,
            "weight": self.weight,
            "scale": self.scale,
            "critical": self.critical,
            "comment_required": self.comment_required,
        }


@dataclass(frozen=True)
class CardSpec:
    name: str
    title: str
    description: str
    criteria: tuple[CriterionSpec, ...]

    def criterion(self, key: str) -> CriterionSpec | None:
        return next((c for c in self.criteria if c.key == key), None)


def _text(table: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise InvalidInput(f"{where}: {key} must be text")
    value = " ".join(value.split())
    if required and not value:
        raise InvalidInput(f"{where}: {key} is required")
    return value


def _flag(table: Mapping[str, Any], key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"{where}: {key} must be true or false")
    return value


_CARD_KEYS = {"name", "title", "description", "sections"}
_SECTION_KEYS = {"title", "criteria"}
_CRITERION_KEYS = {"key", "title", "good", "bad", "weight", "scale", "critical", "comment_required"}


def _unknown(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise InvalidInput(f"{where}: unknown key {extra[0]!r} (known: {', '.join(sorted(allowed))})")


def parse_card(text: str, source: str = "card") -> CardSpec:
    """A card from its TOML text, checked; InvalidInput (one line, naming where) otherwise.

    name = "inbound-service"; title = "..."; description = "..."
    [[sections]] title = "..."
    [[sections.criteria]] key, title, good, bad, weight, scale, critical, comment_required
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{source}: not valid TOML: {exc}") from None
    return card_from_mapping(data, source)


def card_from_mapping(data: Mapping[str, Any], source: str = "card") -> CardSpec:
    _unknown(data, _CARD_KEYS, source)
    name = _text(data, "name", source)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", name):
        raise InvalidInput(f"{source}: name {name!r} must be 1-64 lower-case letters, digits, '-', '_' or '.'")
    title = _text(data, "title", source)
    description = _text(data, "description", source, required=False)
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        raise InvalidInput(f"{source}: a card needs at least one [[sections]]")
    criteria: list[CriterionSpec] = []
    seen: set[str] = set()
    for number, section in enumerate(sections, 1):
        where = f"{source}: section {number}"
        if not isinstance(section, dict):
            raise InvalidInput(f"{where}: must be a table")
        _unknown(section, _SECTION_KEYS, where)
        section_title = _text(section, "title", where)
        items = section.get("criteria")
        if not isinstance(items, list) or not items:
            raise InvalidInput(f"{where} ({section_title}): needs at least one [[sections.criteria]]")
        for item in items:
            if not isinstance(item, dict):
                raise InvalidInput(f"{where}: a criterion must be a table")
            criterion = _criterion(item, section_title, where)
            if criterion.key in seen:
                raise InvalidInput(f"{where}: criterion key {criterion.key!r} used twice")
            seen.add(criterion.key)
            criteria.append(criterion)
    if len(criteria) > MAX_CRITERIA:
        raise InvalidInput(f"{source}: at most {MAX_CRITERIA} criteria")
    return CardSpec(name, title, description, tuple(criteria))


def _criterion(item: Mapping[str, Any], section: str, where: str) -> CriterionSpec:
    key = item.get("key")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidInput(f"{where}: criterion key {key!r} must be a-z, 0-9 and _, starting with a letter")
    where = f"{where}, criterion {key}"
    _unknown(item, _CRITERION_KEYS, where)
    weight = item.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 1000:
        raise InvalidInput(f"{where}: weight must be a number above 0 and at most 1000")
    scale = item.get("scale", YES_NO)
    if scale not in SCALES:
        raise InvalidInput(f"{where}: scale must be one of {', '.join(SCALES)}")
    return CriterionSpec(
        key=key,
        section=section,
        title=_text(item, "title", where),
        good=_text(item, "good", where),
        bad=_text(item, "bad", where),
        weight=float(weight),
        scale=str(scale),
        critical=_flag(item, "critical", where),
        comment_required=_flag(item, "comment_required", where),
    )


def card_toml(card: CardSpec) -> str:
    """The card as TOML `parse_card` reads back (what `qa card show --toml` prints)."""

    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"name = {quoted(card.name)}", f"title = {quoted(card.title)}"]
    if card.description:
        lines.append(f"description = {quoted(card.description)}")
    section: str | None = None
    for c in card.criteria:
        if c.section != section:
            section = c.section
            lines += ["", "[[sections]]", f"title = {quoted(section)}"]
        lines += [
            "",
            "[[sections.criteria]]",
            f"key = {quoted(c.key)}",
            f"title = {quoted(c.title)}",
            f"good = {quoted(c.good)}",
            f"bad = {quoted(c.bad)}",
            f"weight = {c.weight:g}",
            f"scale = {quoted(c.scale)}",
        ]
        if c.critical:
            lines.append("critical = true")
        if c.comment_required:
            lines.append("comment_required = true")
    return "\n".join(lines) + "\n"


# -- scoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A criterion's answer checked: its share of the weight (None: n/a) and whether it passed."""

    answer: str
    value: float | None
    passed: bool | None


def check_answer(criterion: CriterionSpec, answer: object, comment: str) -> Answer:
    """The answer to `criterion`, or InvalidInput: outside the scale, or a comment missing."""
    given = str(answer).strip().lower() if isinstance(answer, str | int) and not isinstance(answer, bool) else None
    allowed = ANSWERS[criterion.scale]
    if given not in allowed:
        raise InvalidInput(f"{criterion.key}: {answer!r} is not on its scale ({', '.join(allowed)})")
    if criterion.scale == YES_NO:
        value = None if given == "na" else (1.0 if given == "yes" else 0.0)
        passed = None if given == "na" else given == "yes"
    else:
        points = int(given)
        value, passed = (points - 1) / 4, points >= PASS_MARK
    if not comment and given != "na":
        if criterion.comment_required:
            raise InvalidInput(f"{criterion.key}: a comment is required ({criterion.title})")
        if criterion.critical and passed is False:
            raise InvalidInput(f"{criterion.key}: a failed critical criterion needs a comment saying why")
    return Answer(given, value, passed)


@dataclass(frozen=True)
class Result:
    raw_score: float | None  # None: every criterion n/a (or none scored)
    score: float | None
    critical_failed: bool
    failed_critical: tuple[str, ...]


def weighted_result(criteria: Iterable[CriterionSpec], answers: Mapping[str, Answer]) -> Result:
    """The weighted score over the answered criteria not n/a, and the critical failures."""
    total = earned = 0.0
    failed: list[str] = []
    for c in criteria:
        a = answers.get(c.key)
        if a is None or a.value is None:
            continue
        total += c.weight
        earned += c.weight * a.value
        if c.critical and a.passed is False:
            failed.append(c.key)
    raw = round(100 * earned / total, 2) if total > 0 else None
    score = 0.0 if failed and raw is not None else raw
    return Result(raw, score, bool(failed), tuple(failed))
