"""`wallboard qa ...`: quality evaluations (tickets/quality; docs/QUALITY.md).

Scorecards, the daily sample, evaluating a sampled call, the agent's answer, coaching and
calibration. Every command takes `--json`; those that act take `--as USER` (roles are the
service's: supervisors evaluate and manage cards, agents read and answer their own). Errors
are one line on stderr and exit status 1. Text from outside is printed literally.

The commands are declared with `qa_command`, which adds the options they share (`--as`,
`--expect-version`, `--json`) and hands the command a `QaCall`: those options' values, the
settings and the quality service.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from tickets.quality.records import EvaluationInfo
from wallboard.cli.common import Failure, emit_rows, open_database_of, parse_when, settings_of
from wallboard.cli.tickets import _echo_json, _Group, parse_due
from wallboard.config import Settings
from wallboard.text import format_duration, printable

if TYPE_CHECKING:
    from tickets.quality.service import QualityService, Scores

score_option = click.option(
    "--score",
    "scores",
    multiple=True,
    metavar="KEY=ANSWER",
    help="A criterion's answer: yes, no, na, or 1-5 (repeat for each criterion).",
)
comment_option = click.option(
    "--comment", "comments", multiple=True, metavar="KEY=TEXT", help="A criterion's comment (repeat)."
)


# -- what the commands share -------------------------------------------------------------------


@dataclass
class QaCall:
    """One `qa` command's run: the shared options' values, the settings, the service."""

    ctx: click.Context
    actor: str | None  # --as (None: the command has no --as, or it was left out where optional)
    as_json: bool  # --json
    expect_version: int | None  # --expect-version

    @property
    def user(self) -> str:
        """The acting user of a command whose --as is required (click has refused it missing)."""
        if self.actor is None:
            raise Failure("--as USER is required")
        return self.actor

    @property
    def settings(self) -> Settings:
        return settings_of(self.ctx)

    @functools.cached_property
    def service(self) -> QualityService:
        from tickets.quality.service import QualityService

        service = QualityService(open_database_of(self.ctx, migrate=True), self.settings)
        service.ensure_default_card()
        return service

    def printed_json(self, data: object) -> bool:
        """With --json, `data` printed as JSON (True: nothing more to print)."""
        if self.as_json:
            _echo_json(data)
        return self.as_json

    def show(self, info: EvaluationInfo) -> None:
        """An evaluation, as JSON or for people."""
        if not self.printed_json(info.as_dict()):
            _print_evaluation(info, self.settings)


ActorOption = Literal["required", "optional", "none"]
ACTOR_HELP = "The user acting (recorded in the audit trail)."


def _shared_options(
    actor: ActorOption, actor_help: str, versioned: bool, as_json: bool
) -> tuple[list[click.Parameter], list[click.Parameter]]:
    """The shared options: those before a command's own (--as) and those after (--expect-version,
    --json), in the order its help lists them."""
    before: list[click.Parameter] = []
    if actor != "none":
        before.append(click.Option(["--as", "actor"], required=actor == "required", metavar="USER", help=actor_help))
    after: list[click.Parameter] = []
    if versioned:
        after.append(
            click.Option(
                ["--expect-version", "expect_version"],
                type=click.IntRange(min=1),
                metavar="N",
                help="Refuse the change unless the evaluation is still at this version (as last read).",
            )
        )
    if as_json:
        after.append(click.Option(["--json", "as_json"], is_flag=True, help="Print JSON for scripts."))
    return before, after


def qa_command(
    group: click.Group,
    name: str,
    *,
    actor: ActorOption = "required",
    actor_help: str = ACTOR_HELP,
    versioned: bool = False,
    as_json: bool = True,
) -> Callable[[Callable[..., None]], click.Command]:
    """A command of `group` whose function takes a QaCall, then its own arguments and options
    (declared with click's decorators under this one, as usual). The shared options are added:
    `--as` (required, optional or none) after the arguments, `--expect-version` (versioned) and
    `--json` after the command's own options."""

    def decorate(function: Callable[..., None]) -> click.Command:
        own: list[click.Parameter] = list(reversed(getattr(function, "__click_params__", [])))
        before, after = _shared_options(actor, actor_help, versioned, as_json)
        arguments = [p for p in own if isinstance(p, click.Argument)]
        options = [p for p in own if not isinstance(p, click.Argument)]

        @functools.wraps(function)
        def run(**values: Any) -> None:
            call = QaCall(
                click.get_current_context(),
                values.pop("actor", None),
                values.pop("as_json", False),
                values.pop("expect_version", None),
            )
            function(call, **values)

        run.__dict__.pop("__click_params__", None)  # copied by wraps: the params are given below, in order
        return group.command(name, params=[*arguments, *before, *options, *after])(run)

    return decorate


def _local(at: float | None, settings: Settings) -> str:
    if at is None:
        return "-"
    return datetime.fromtimestamp(at, settings.site.tz).strftime("%Y-%m-%d %H:%M")


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise Failure(f"{option}: {value!r} is not KEY=VALUE")
        found[key.strip()] = rest.strip()
    return found


def _scores(scores: Sequence[str], comments: Sequence[str]) -> Scores:
    answers = _pairs(scores, "--score")
    notes = _pairs(comments, "--comment")
    stray = sorted(set(notes) - set(answers))
    if stray:
        raise Failure(f"--comment {stray[0]}: give its --score {stray[0]}=... too")
    return {key: (answer, notes.get(key, "")) for key, answer in answers.items()}


def _print_evaluation(info: EvaluationInfo, settings: Settings) -> None:
    score = "-" if info.score is None else f"{info.score:g}"
    if info.critical_failed:
        score += f" (critical failure: {', '.join(info.failed_critical)}; weighted {info.raw_score:g})"
    lines = [
        f"{info.ref}  {info.status}  version {info.version}  card {info.card} v{info.card_version}",
        f"call {info.callid}  queue {info.queue}  agent {info.agent}  answered {_local(info.call_at, settings)}",
        f"wait {format_duration(info.wait_seconds)}  talk {format_duration(info.talk_seconds)}  "
        f"wrap {format_duration(info.wrap_seconds)}  transfers {info.transfers}  "
        f"complaints {', '.join(info.complaints) or '-'}",
        f"evaluator {info.evaluator}  drawn as {info.sample_reason or '-'}  recording {info.recording or '-'}",
        f"score {score}",
    ]
    if info.response:
        lines.append(f"agent {info.response}: {info.response_note or ''}")
    if info.settlement:
        lines.append(f"settled: {info.settlement}: {info.settlement_note or ''}")
    if info.coaching:
        lines.append(f"coaching {', '.join(info.coaching)}")
    for line in lines:
        click.echo(printable(line))
    rows = [
        {
            "criterion": s.key,
            "scale": s.scale,
            "weight": s.weight,
            "critical": "yes" if s.critical else "",
            "answer": s.answer or "",
            "comment": s.comment,
        }
        for s in info.scores
    ]
    emit_rows(rows, "table", text_columns=("criterion", "scale", "critical", "answer", "comment"))


@click.group("qa", cls=_Group)
def qa() -> None:
    """Quality evaluations: scorecards, the daily sample, evaluations, disputes, coaching."""


# -- cards -------------------------------------------------------------------------------------


@qa.group("card", cls=_Group)
def card() -> None:
    """Scorecards: import (a new version), list, show."""


@qa_command(card, "import")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def card_import(call: QaCall, file: Path | None) -> None:
    """Import a scorecard from a TOML FILE (default: the shipped inbound-service card): a new
    version of its name unless the newest is the same."""
    from tickets.quality.service import default_card_text

    if file is None:
        text, source = default_card_text(), "inbound_service.toml"
    else:
        try:
            text, source = file.read_text(encoding="utf-8"), str(file)
        except (OSError, UnicodeDecodeError) as exc:
            raise Failure(f"{file}: cannot read: {exc}") from None
    info, added = call.service.import_card(text, call.user, source=source)
    if not call.printed_json({**info.as_dict(), "added": added}):
        verb = "imported as" if added else "unchanged at"
        click.echo(printable(f"{info.name} {verb} version {info.version} ({len(info.criteria)} criteria)"))


@qa_command(card, "list", actor="none")
def card_list(call: QaCall) -> None:
    """Every scorecard's newest version."""
    cards = call.service.list_cards()
    if call.printed_json([c.as_dict() for c in cards]):
        return
    settings = call.settings
    emit_rows(
        [
            {"name": c.name, "version": c.version, "title": c.title, "created": _local(c.created_at, settings)}
            for c in cards
        ],
        "table",
        empty="no scorecards",
        text_columns=("name", "title", "created"),
    )


@qa_command(card, "show", actor="none")
@click.argument("name")
@click.option("--version", "version", type=click.IntRange(min=1), help="This version (default: the newest).")
@click.option("--toml", "as_toml", is_flag=True, help="Print it as TOML (to edit and import again).")
def card_show(call: QaCall, name: str, version: int | None, as_toml: bool) -> None:
    """A scorecard with its criteria and their written standards."""
    info = call.service.get_card(name, version)
    if call.printed_json(info.as_dict()):
        return
    if as_toml:
        from tickets.quality.cards import CardSpec, CriterionSpec, card_toml

        spec = CardSpec(
            info.name,
            info.title,
            info.description,
            tuple(
                CriterionSpec(
                    c.key, c.section, c.title, c.good, c.bad, c.weight, c.scale, c.critical, c.comment_required
                )
                for c in info.criteria
            ),
        )
        click.echo(card_toml(spec), nl=False)
        return
    click.echo(printable(f"{info.name} version {info.version}: {info.title}"))
    section = None
    for c in info.criteria:
        if c.section != section:
            section = c.section
            click.echo()
            click.echo(printable(section))
        flags = ", ".join(x for x, on in (("critical", c.critical), ("comment required", c.comment_required)) if on)
        click.echo(printable(f"  {c.key}: {c.title} (weight {c.weight:g}, {c.scale}{', ' + flags if flags else ''})"))
        click.echo(printable(f"    good: {c.good}"))
        click.echo(printable(f"    bad:  {c.bad}"))


# -- sampling ----------------------------------------------------------------------------------


def _day(value: str | None, settings: Settings) -> date:
    if value is None:
        return datetime.fromtimestamp(time.time(), settings.site.tz).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Failure(f"--date: {value!r} is not a date YYYY-MM-DD") from None


@qa_command(qa, "sample", actor="optional", actor_help="The supervisor drawing (default: the system, as the server).")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="The day whose answered calls to draw (default: today).")
def qa_sample(call: QaCall, day: str | None) -> None:
    """Draw the day's sample of answered calls (once a day; the server draws yesterday's daily)."""
    summary = call.service.draw(_day(day, call.settings), call.actor)
    if call.printed_json(summary.as_dict()):
        return
    if summary.already_drawn:
        click.echo(f"{summary.day}: drawn already (coaching re-samples added: {summary.coaching})")
        return
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_reason.items())) or "none"
    evaluators = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_evaluator.items())) or "none"
    click.echo(
        printable(
            f"{summary.day}: {summary.drawn} of {summary.answered} answered calls drawn ({reasons}); "
            f"evaluators: {evaluators}; over quota: {summary.unassigned}; coaching re-samples: {summary.coaching}"
        )
    )


@qa_command(qa, "queue")
@click.option("--all", "everyone", is_flag=True, help="Every evaluator's (and the unassigned).")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="That day's samples, whatever their state.")
def qa_queue(call: QaCall, everyone: bool, day: str | None) -> None:
    """The evaluator's queue of sampled calls."""
    settings = call.settings
    label = _day(day, settings).isoformat() if day else None
    rows = call.service.samples(call.user, day=label, everyone=everyone)
    if call.printed_json([r.as_dict() for r in rows]):
        return
    emit_rows(
        [
            {
                "sample": r.id,
                "day": r.day,
                "agent": r.agent,
                "queue": r.queue,
                "callid": r.callid,
                "answered": _local(r.answered_at, settings),
                "talk_seconds": r.talk_seconds,
                "reason": r.reason,
                "evaluator": r.evaluator or "-",
                "status": r.status,
                "evaluation": r.evaluation or "-",
            }
            for r in rows
        ],
        "table",
        empty="no sampled calls",
        text_columns=("day", "agent", "queue", "callid", "answered", "reason", "evaluator", "status", "evaluation"),
    )


@qa_command(qa, "skip")
@click.argument("sample", type=int)
@click.option("--reason", required=True, help="Why this call is not evaluated (audited).")
def qa_skip(call: QaCall, sample: int, reason: str) -> None:
    """Skip a sampled call, with a reason."""
    info = call.service.skip(sample, call.user, reason)
    if not call.printed_json(info.as_dict()):
        click.echo(printable(f"sample {info.id} skipped: {info.skip_reason}"))


@qa_command(qa, "calibrate")
@click.argument("call_id", type=int)
@click.option("--evaluator", "evaluators", multiple=True, required=True, help="An evaluator (two or more).")
def qa_calibrate(call: QaCall, call_id: int, evaluators: tuple[str, ...]) -> None:
    """The same call (its id in the call data) for several evaluators."""
    rows = call.service.calibrate(call_id, call.user, list(evaluators))
    if not call.printed_json([r.as_dict() for r in rows]):
        for r in rows:
            click.echo(printable(f"sample {r.id}: call {r.callid} for {r.evaluator}"))


# -- evaluations -------------------------------------------------------------------------------


@qa_command(qa, "begin")
@click.argument("sample", type=int)
def qa_begin(call: QaCall, sample: int) -> None:
    """Begin evaluating a sampled call (a draft on the configured card's newest version)."""
    call.show(call.service.begin(sample, call.user))


@qa_command(qa, "score", versioned=True)
@click.argument("ref")
@score_option
@comment_option
@click.option("--submit", is_flag=True, help="Submit it too (every criterion must be scored).")
def qa_score(call: QaCall, ref: str, scores: tuple[str, ...], comments: tuple[str, ...], submit: bool) -> None:
    """Score criteria of a draft (saved as draft, or submitted with --submit)."""
    given = _scores(scores, comments)
    if submit:
        info = call.service.submit(ref, call.user, given, expect_version=call.expect_version)
    else:
        if not given:
            raise Failure("give at least one --score KEY=ANSWER")
        info = call.service.save(ref, call.user, given, expect_version=call.expect_version)
    call.show(info)


@qa_command(qa, "correct", versioned=True)
@click.argument("ref")
@score_option
@comment_option
@click.option("--reason", required=True, help="Why (audited with each change).")
def qa_correct(call: QaCall, ref: str, scores: tuple[str, ...], comments: tuple[str, ...], reason: str) -> None:
    """Correct a submitted evaluation (supervisors; audited)."""
    given = _scores(scores, comments)
    call.show(call.service.correct(ref, call.user, given, reason=reason, expect_version=call.expect_version))


@qa_command(qa, "show")
@click.argument("ref")
def qa_show(call: QaCall, ref: str) -> None:
    """An evaluation: the call's facts, each criterion's score and comment."""
    call.show(call.service.get(ref, call.user))


@qa_command(qa, "list")
@click.option("--agent", help="Only this agent's (as the call data names them).")
@click.option("--status", type=click.Choice(["draft", "submitted"]))
def qa_list(call: QaCall, agent: str | None, status: str | None) -> None:
    """Evaluations, newest call first (an agent sees their own submitted ones)."""
    rows = call.service.evaluations(call.user, agent=agent, status=status)
    if call.printed_json([r.as_dict() for r in rows]):
        return
    settings = call.settings
    emit_rows(
        [
            {
                "ref": r.ref,
                "agent": r.agent,
                "queue": r.queue,
                "call": _local(r.call_at, settings),
                "evaluator": r.evaluator,
                "status": r.status,
                "score": r.score,
                "critical": "FAIL" if r.critical_failed else "",
                "response": r.response or "",
                "settled": r.settlement or "",
            }
            for r in rows
        ],
        "table",
        empty="no evaluations",
        text_columns=("ref", "agent", "queue", "call", "evaluator", "status", "critical", "response", "settled"),
    )


@qa_command(qa, "trend")
@click.option("--agent", help="The agent (supervisors; an agent sees their own).")
@click.option("--weeks", type=click.IntRange(1, 520), default=8, show_default=True)
def qa_trend(call: QaCall, agent: str | None, weeks: int) -> None:
    """An agent's weekly quality: evaluations, mean score, critical failures."""
    points = [p.as_dict() for p in call.service.trend(call.user, agent=agent, weeks=weeks)]
    if not call.printed_json(points):
        emit_rows(points, "table", text_columns=("week",))


@qa_command(qa, "respond", versioned=True)
@click.argument("ref")
@click.argument("response", type=click.Choice(["acknowledge", "dispute"]))
@click.option("--note", default="", help="Your note (required for a dispute).")
def qa_respond(call: QaCall, ref: str, response: str, note: str) -> None:
    """The agent acknowledges or disputes their evaluation."""
    call.show(call.service.respond(ref, call.user, response, note, expect_version=call.expect_version))


@qa_command(qa, "settle", versioned=True)
@click.argument("ref")
@click.argument("outcome", type=click.Choice(["upheld", "overturned"]))
@click.option("--note", required=True, help="Why (audited).")
@score_option
@comment_option
def qa_settle(
    call: QaCall, ref: str, outcome: str, note: str, scores: tuple[str, ...], comments: tuple[str, ...]
) -> None:
    """Settle a dispute (supervisors): upheld, or overturned with the corrected scores."""
    given = _scores(scores, comments)
    call.show(call.service.settle(ref, call.user, outcome, note, scores=given, expect_version=call.expect_version))


# -- coaching ----------------------------------------------------------------------------------


@qa_command(qa, "coach")
@click.argument("ref")
@click.option("--owner", required=True, metavar="USER", help="Who coaches (a supervisor).")
@click.option("--due", required=True, help="+N[smhd] or an ISO 8601 time.")
@click.option("--criterion", "criteria", multiple=True, required=True, metavar="KEY", help="A coached criterion.")
@click.option("--note", required=True, help="What to work on.")
def qa_coach(call: QaCall, ref: str, owner: str, due: str, criteria: tuple[str, ...], note: str) -> None:
    """A coaching action from an evaluation: reminded on its due date, then the agent's next
    calls are re-sampled on the coached criteria."""
    settings = call.settings
    info = call.service.coach(
        ref, call.user, owner=owner, due_at=parse_due(due, settings), criteria=list(criteria), note=note
    )
    if not call.printed_json(info.as_dict()):
        click.echo(
            printable(
                f"{info.ref}: {info.agent} on {', '.join(info.criteria)}, due {_local(info.due_at, settings)}, owner {info.owner}"
            )
        )


@qa_command(qa, "coaching")
@click.option("--open", "open_only", is_flag=True, help="Only those not done.")
@click.option("--outcome", type=click.Choice(["improved", "not-improved"]), help="Record this outcome of --ref.")
@click.option("--ref", "ref", metavar="CO-N", help="The coaching action whose outcome to record.")
@click.option("--note", default="", help="With --outcome.")
def qa_coaching(call: QaCall, open_only: bool, outcome: str | None, ref: str | None, note: str) -> None:
    """Coaching actions (an agent sees their own); with --ref and --outcome, record one's outcome."""
    if (outcome is None) != (ref is None):
        raise Failure("--outcome and --ref go together")
    service = call.service
    rows = (
        [service.record_coaching(ref, call.user, outcome, note)]
        if ref and outcome
        else service.coaching(call.user, open_only=open_only)
    )
    if call.printed_json([r.as_dict() for r in rows]):
        return
    settings = call.settings
    emit_rows(
        [
            {
                "ref": r.ref,
                "evaluation": r.evaluation,
                "agent": r.agent,
                "owner": r.owner,
                "due": _local(r.due_at, settings),
                "criteria": ", ".join(r.criteria),
                "status": r.status,
                "outcome": r.outcome or "",
            }
            for r in rows
        ],
        "table",
        empty="no coaching actions",
        text_columns=("ref", "evaluation", "agent", "owner", "due", "criteria", "status", "outcome"),
    )


@qa_command(qa, "calibration", as_json=False)
@click.option("--from", "since", help="Start, ISO 8601 date or time; default 30 days ago.")
@click.option("--to", "until", help="End (exclusive); default now.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
def qa_calibration(call: QaCall, since: str | None, until: str | None, fmt: str) -> None:
    """Calls scored by several evaluators: per criterion, the spread and who differs most."""
    settings = call.settings
    now = time.time()
    start = parse_when(since, settings, "--from") if since else now - 30 * 86400
    end = parse_when(until, settings, "--to") if until else now
    rows = [r.as_dict() for r in call.service.calibration(call.user, start, end)]
    if fmt == "json":
        click.echo(json.dumps({"calibration": rows}, indent=2))
    else:
        emit_rows(rows, fmt, empty="no call scored by several evaluators", text_columns=("criterion", "differs_most"))
