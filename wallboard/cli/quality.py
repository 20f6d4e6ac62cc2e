"""`wallboard qa ...`: quality evaluations (tickets/quality; docs/QUALITY.md).

Scorecards, the daily sample, evaluating a sampled call, the agent's answer, coaching and
calibration. Every command takes `--json`; those that act take `--as USER` (roles are the
service's: supervisors evaluate and manage cards, agents read and answer their own). Errors
are one line on stderr and exit status 1. Text from outside is printed literally.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tickets.quality.records import EvaluationInfo
from wallboard.cli.common import Failure, emit_rows, open_database_of, parse_when, settings_of
from wallboard.cli.tickets import _echo_json, _Group, as_option, json_option, parse_due
from wallboard.config import Settings
from wallboard.text import format_duration, printable

if TYPE_CHECKING:
    from tickets.quality.service import QualityService, Scores

version_option = click.option(
    "--expect-version",
    "expect_version",
    type=click.IntRange(min=1),
    metavar="N",
    help="Refuse the change unless the evaluation is still at this version (as last read).",
)
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


def _service(ctx: click.Context) -> QualityService:
    from tickets.quality.service import QualityService

    service = QualityService(open_database_of(ctx, migrate=True), settings_of(ctx))
    service.ensure_default_card()
    return service


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


def _done(info: EvaluationInfo, as_json: bool, settings: Settings) -> None:
    if as_json:
        _echo_json(info.as_dict())
    else:
        _print_evaluation(info, settings)


@click.group("qa", cls=_Group)
def qa() -> None:
    """Quality evaluations: scorecards, the daily sample, evaluations, disputes, coaching."""


# -- cards -------------------------------------------------------------------------------------


@qa.group("card", cls=_Group)
def card() -> None:
    """Scorecards: import (a new version), list, show."""


@card.command("import")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@as_option
@json_option
@click.pass_context
def card_import(ctx: click.Context, file: Path | None, actor: str, as_json: bool) -> None:
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
    info, added = _service(ctx).import_card(text, actor, source=source)
    if as_json:
        _echo_json({**info.as_dict(), "added": added})
        return
    verb = "imported as" if added else "unchanged at"
    click.echo(printable(f"{info.name} {verb} version {info.version} ({len(info.criteria)} criteria)"))


@card.command("list")
@json_option
@click.pass_context
def card_list(ctx: click.Context, as_json: bool) -> None:
    """Every scorecard's newest version."""
    cards = _service(ctx).list_cards()
    if as_json:
        _echo_json([c.as_dict() for c in cards])
        return
    settings = settings_of(ctx)
    emit_rows(
        [
            {"name": c.name, "version": c.version, "title": c.title, "created": _local(c.created_at, settings)}
            for c in cards
        ],
        "table",
        empty="no scorecards",
        text_columns=("name", "title", "created"),
    )


@card.command("show")
@click.argument("name")
@click.option("--version", "version", type=click.IntRange(min=1), help="This version (default: the newest).")
@click.option("--toml", "as_toml", is_flag=True, help="Print it as TOML (to edit and import again).")
@json_option
@click.pass_context
def card_show(ctx: click.Context, name: str, version: int | None, as_toml: bool, as_json: bool) -> None:
    """A scorecard with its criteria and their written standards."""
    info = _service(ctx).get_card(name, version)
    if as_json:
        _echo_json(info.as_dict())
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


@qa.command("sample")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="The day whose answered calls to draw (default: today).")
@click.option("--as", "actor", metavar="USER", help="The supervisor drawing (default: the system, as the server).")
@json_option
@click.pass_context
def qa_sample(ctx: click.Context, day: str | None, actor: str | None, as_json: bool) -> None:
    """Draw the day's sample of answered calls (once a day; the server draws yesterday's daily)."""
    settings = settings_of(ctx)
    summary = _service(ctx).draw(_day(day, settings), actor)
    if as_json:
        _echo_json(summary.as_dict())
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


@qa.command("queue")
@as_option
@click.option("--all", "everyone", is_flag=True, help="Every evaluator's (and the unassigned).")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="That day's samples, whatever their state.")
@json_option
@click.pass_context
def qa_queue(ctx: click.Context, actor: str, everyone: bool, day: str | None, as_json: bool) -> None:
    """The evaluator's queue of sampled calls."""
    settings = settings_of(ctx)
    label = _day(day, settings).isoformat() if day else None
    rows = _service(ctx).samples(actor, day=label, everyone=everyone)
    if as_json:
        _echo_json([r.as_dict() for r in rows])
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


@qa.command("skip")
@click.argument("sample", type=int)
@as_option
@click.option("--reason", required=True, help="Why this call is not evaluated (audited).")
@json_option
@click.pass_context
def qa_skip(ctx: click.Context, sample: int, actor: str, reason: str, as_json: bool) -> None:
    """Skip a sampled call, with a reason."""
    info = _service(ctx).skip(sample, actor, reason)
    if as_json:
        _echo_json(info.as_dict())
    else:
        click.echo(printable(f"sample {info.id} skipped: {info.skip_reason}"))


@qa.command("calibrate")
@click.argument("call_id", type=int)
@as_option
@click.option("--evaluator", "evaluators", multiple=True, required=True, help="An evaluator (two or more).")
@json_option
@click.pass_context
def qa_calibrate(ctx: click.Context, call_id: int, actor: str, evaluators: tuple[str, ...], as_json: bool) -> None:
    """The same call (its id in the call data) for several evaluators."""
    rows = _service(ctx).calibrate(call_id, actor, list(evaluators))
    if as_json:
        _echo_json([r.as_dict() for r in rows])
    else:
        for r in rows:
            click.echo(printable(f"sample {r.id}: call {r.callid} for {r.evaluator}"))


# -- evaluations -------------------------------------------------------------------------------


@qa.command("begin")
@click.argument("sample", type=int)
@as_option
@json_option
@click.pass_context
def qa_begin(ctx: click.Context, sample: int, actor: str, as_json: bool) -> None:
    """Begin evaluating a sampled call (a draft on the configured card's newest version)."""
    _done(_service(ctx).begin(sample, actor), as_json, settings_of(ctx))


@qa.command("score")
@click.argument("ref")
@as_option
@score_option
@comment_option
@click.option("--submit", is_flag=True, help="Submit it too (every criterion must be scored).")
@version_option
@json_option
@click.pass_context
def qa_score(
    ctx: click.Context,
    ref: str,
    actor: str,
    scores: tuple[str, ...],
    comments: tuple[str, ...],
    submit: bool,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Score criteria of a draft (saved as draft, or submitted with --submit)."""
    service = _service(ctx)
    given = _scores(scores, comments)
    if submit:
        info = service.submit(ref, actor, given, expect_version=expect_version)
    else:
        if not given:
            raise Failure("give at least one --score KEY=ANSWER")
        info = service.save(ref, actor, given, expect_version=expect_version)
    _done(info, as_json, settings_of(ctx))


@qa.command("correct")
@click.argument("ref")
@as_option
@score_option
@comment_option
@click.option("--reason", required=True, help="Why (audited with each change).")
@version_option
@json_option
@click.pass_context
def qa_correct(
    ctx: click.Context,
    ref: str,
    actor: str,
    scores: tuple[str, ...],
    comments: tuple[str, ...],
    reason: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Correct a submitted evaluation (supervisors; audited)."""
    info = _service(ctx).correct(ref, actor, _scores(scores, comments), reason=reason, expect_version=expect_version)
    _done(info, as_json, settings_of(ctx))


@qa.command("show")
@click.argument("ref")
@as_option
@json_option
@click.pass_context
def qa_show(ctx: click.Context, ref: str, actor: str, as_json: bool) -> None:
    """An evaluation: the call's facts, each criterion's score and comment."""
    _done(_service(ctx).get(ref, actor), as_json, settings_of(ctx))


@qa.command("list")
@as_option
@click.option("--agent", help="Only this agent's (as the call data names them).")
@click.option("--status", type=click.Choice(["draft", "submitted"]))
@json_option
@click.pass_context
def qa_list(ctx: click.Context, actor: str, agent: str | None, status: str | None, as_json: bool) -> None:
    """Evaluations, newest call first (an agent sees their own submitted ones)."""
    settings = settings_of(ctx)
    rows = _service(ctx).evaluations(actor, agent=agent, status=status)
    if as_json:
        _echo_json([r.as_dict() for r in rows])
        return
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


@qa.command("trend")
@as_option
@click.option("--agent", help="The agent (supervisors; an agent sees their own).")
@click.option("--weeks", type=click.IntRange(1, 520), default=8, show_default=True)
@json_option
@click.pass_context
def qa_trend(ctx: click.Context, actor: str, agent: str | None, weeks: int, as_json: bool) -> None:
    """An agent's weekly quality: evaluations, mean score, critical failures."""
    points = _service(ctx).trend(actor, agent=agent, weeks=weeks)
    if as_json:
        _echo_json([p.as_dict() for p in points])
    else:
        emit_rows([p.as_dict() for p in points], "table", text_columns=("week",))


@qa.command("respond")
@click.argument("ref")
@click.argument("response", type=click.Choice(["acknowledge", "dispute"]))
@as_option
@click.option("--note", default="", help="Your note (required for a dispute).")
@version_option
@json_option
@click.pass_context
def qa_respond(
    ctx: click.Context, ref: str, response: str, actor: str, note: str, expect_version: int | None, as_json: bool
) -> None:
    """The agent acknowledges or disputes their evaluation."""
    info = _service(ctx).respond(ref, actor, response, note, expect_version=expect_version)
    _done(info, as_json, settings_of(ctx))


@qa.command("settle")
@click.argument("ref")
@click.argument("outcome", type=click.Choice(["upheld", "overturned"]))
@as_option
@click.option("--note", required=True, help="Why (audited).")
@score_option
@comment_option
@version_option
@json_option
@click.pass_context
def qa_settle(
    ctx: click.Context,
    ref: str,
    outcome: str,
    actor: str,
    note: str,
    scores: tuple[str, ...],
    comments: tuple[str, ...],
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Settle a dispute (supervisors): upheld, or overturned with the corrected scores."""
    info = _service(ctx).settle(
        ref, actor, outcome, note, scores=_scores(scores, comments), expect_version=expect_version
    )
    _done(info, as_json, settings_of(ctx))


# -- coaching ----------------------------------------------------------------------------------


@qa.command("coach")
@click.argument("ref")
@as_option
@click.option("--owner", required=True, metavar="USER", help="Who coaches (a supervisor).")
@click.option("--due", required=True, help="+N[smhd] or an ISO 8601 time.")
@click.option("--criterion", "criteria", multiple=True, required=True, metavar="KEY", help="A coached criterion.")
@click.option("--note", required=True, help="What to work on.")
@json_option
@click.pass_context
def qa_coach(
    ctx: click.Context,
    ref: str,
    actor: str,
    owner: str,
    due: str,
    criteria: tuple[str, ...],
    note: str,
    as_json: bool,
) -> None:
    """A coaching action from an evaluation: reminded on its due date, then the agent's next
    calls are re-sampled on the coached criteria."""
    settings = settings_of(ctx)
    info = _service(ctx).coach(
        ref, actor, owner=owner, due_at=parse_due(due, settings), criteria=list(criteria), note=note
    )
    if as_json:
        _echo_json(info.as_dict())
    else:
        click.echo(
            printable(
                f"{info.ref}: {info.agent} on {', '.join(info.criteria)}, due {_local(info.due_at, settings)}, owner {info.owner}"
            )
        )


@qa.command("coaching")
@as_option
@click.option("--open", "open_only", is_flag=True, help="Only those not done.")
@click.option("--outcome", type=click.Choice(["improved", "not-improved"]), help="Record this outcome of --ref.")
@click.option("--ref", "ref", metavar="CO-N", help="The coaching action whose outcome to record.")
@click.option("--note", default="", help="With --outcome.")
@json_option
@click.pass_context
def qa_coaching(
    ctx: click.Context,
    actor: str,
    open_only: bool,
    outcome: str | None,
    ref: str | None,
    note: str,
    as_json: bool,
) -> None:
    """Coaching actions (an agent sees their own); with --ref and --outcome, record one's outcome."""
    service = _service(ctx)
    settings = settings_of(ctx)
    if (outcome is None) != (ref is None):
        raise Failure("--outcome and --ref go together")
    rows = (
        [service.record_coaching(ref, actor, outcome, note)]
        if ref and outcome
        else service.coaching(actor, open_only=open_only)
    )
    if as_json:
        _echo_json([r.as_dict() for r in rows])
        return
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


@qa.command("calibration")
@as_option
@click.option("--from", "since", help="Start, ISO 8601 date or time; default 30 days ago.")
@click.option("--to", "until", help="End (exclusive); default now.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def qa_calibration(ctx: click.Context, actor: str, since: str | None, until: str | None, fmt: str) -> None:
    """Calls scored by several evaluators: per criterion, the spread and who differs most."""
    settings = settings_of(ctx)
    now = time.time()
    start = parse_when(since, settings, "--from") if since else now - 30 * 86400
    end = parse_when(until, settings, "--to") if until else now
    rows = [r.as_dict() for r in _service(ctx).calibration(actor, start, end)]
    if fmt == "json":
        click.echo(json.dumps({"calibration": rows}, indent=2))
    else:
        emit_rows(rows, fmt, empty="no call scored by several evaluators", text_columns=("criterion", "differs_most"))
