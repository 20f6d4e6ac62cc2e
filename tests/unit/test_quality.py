"""Quality evaluations (issue 15): scorecards and their versions, the reproducible daily sample,
evaluations (drafts, stale drafts, submit, corrections), the agent's answer and the dispute,
coaching on the reminder machinery, calibration. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from db.complaints import AuditEvent
from db.engine import write_session
from db.models import Call
from db.quality import QaEvaluation, QaSample, QaScore
from tests.support import BACKENDS, Clock, on_backend
from tickets import users
from tickets.errors import InvalidInput, NotFound, PermissionDenied, StaleVersion
from tickets.quality.cards import parse_card
from tickets.quality.service import QualityService, default_card_text
from tickets.reminders import Sweeper, notifications_for
from tickets.service import ComplaintService

DAY = date(2026, 11, 24)
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC).timestamp()  # a Tuesday, 10:00 UTC (site time zone: UTC)

# Every criterion of the default card passing, with a comment where the card wants one.
ALL_GOOD = {
    "greeting": ("yes", ""),
    "listening": ("5", ""),
    "accuracy": ("yes", "checked the order history before answering"),
    "ownership": ("4", ""),
    "follow_up_logged": ("na", ""),
    "standard_phrases": ("yes", ""),
    "hold_transfer": ("na", ""),
    "closing": ("3", ""),
}


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + 12 * 3600)


@pytest.fixture
def qa(engine, settings, clock) -> QualityService:
    for name, role in (("ann", "agent"), ("bob", "agent"), ("sue", "supervisor"), ("tom", "supervisor")):
        users.add_user(engine, name, role, now=T0 - 86400)
    users.add_user(engine, "wall", "display", now=T0 - 86400)
    settings.complaints.agent_names = {"ann": "Agent/ann", "bob": "Agent/bob"}
    service = QualityService(engine, settings, clock=clock)
    service.ensure_default_card()
    return service


def add_calls(engine, rows: list[dict]) -> None:
    with write_session(engine) as session:
        for row in rows:
            session.add(Call(**row))


def answered(n: int, *, agent: str = "Agent/ann", queue: str = "support", start: float = T0, **extra) -> dict:
    row = {
        "callid": f"{agent}-{queue}-{n}",
        "queue": queue,
        "caller": f"+4411100{n:05d}",
        "agent": agent,
        "enter_at": start + n * 60,
        "answer_at": start + n * 60 + 10,
        "end_at": start + n * 60 + 190,
        "wait_seconds": 10.0,
        "talk_seconds": 180.0,
        "wrap_seconds": 20.0,
        "outcome": "completed",
    }
    row.update(extra)
    return row


# -- scorecards ------------------------------------------------------------------------------


def test_the_default_card_has_the_issues_criteria_with_written_standards():
    card = parse_card(default_card_text())
    assert [c.key for c in card.criteria] == [
        "greeting",
        "listening",
        "accuracy",
        "ownership",
        "follow_up_logged",
        "standard_phrases",
        "hold_transfer",
        "closing",
    ]
    assert all(c.good and c.bad and c.weight > 0 for c in card.criteria)
    assert {c.key for c in card.criteria if c.critical} == {"greeting", "accuracy"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = 'x'\ntitle = 'X'\n", "at least one [[sections]]"),
        (
            "name = 'x'\ntitle='X'\n[[sections]]\ntitle='S'\n[[sections.criteria]]\nkey='a'\ntitle='A'\ngood='g'\nbad='b'\nscale='1-10'\n",
            "scale must be one of",
        ),
        (
            "name = 'x'\ntitle='X'\n[[sections]]\ntitle='S'\n[[sections.criteria]]\nkey='a'\ntitle='A'\ngood='g'\nweight=0\nbad='b'\n",
            "weight must be",
        ),
        (
            "name = 'x'\ntitle='X'\n[[sections]]\ntitle='S'\n[[sections.criteria]]\nkey='a'\ntitle='A'\nbad='b'\n",
            "good is required",
        ),
        ("name = 'x'\ntitle='X'\nsurprise=1\n", "unknown key 'surprise'"),
        ("name = \n", "not valid TOML"),
    ],
)
def test_a_bad_card_is_refused_with_one_line(text, message):
    with pytest.raises(InvalidInput, match=re.escape(message)) as refused:
        parse_card(text)
    assert "\n" not in str(refused.value)


def test_an_edited_card_is_a_new_version_and_an_open_evaluation_keeps_its_own(qa, engine):
    add_calls(engine, [answered(1)])
    qa.draw(DAY, "sue")
    sample = qa.samples("sue", day=DAY.isoformat(), everyone=True)[0]
    evaluator = sample.evaluator
    draft = qa.begin(sample.id, evaluator)
    assert (draft.card, draft.card_version) == ("inbound-service", 1)

    edited = default_card_text().replace('key = "closing"', 'key = "wrap_up"')
    card, added = qa.import_card(edited, "sue")
    assert added and card.version == 2
    assert qa.import_card(edited, "sue") == (card, False)  # the same text again: no new version

    with pytest.raises(InvalidInput, match="'wrap_up' is not a criterion of scorecard inbound-service v1"):
        qa.save(draft.ref, evaluator, {"wrap_up": ("3", "")})
    done = qa.submit(draft.ref, evaluator, ALL_GOOD)
    assert done.card_version == 1 and [s.key for s in done.scores][-1] == "closing"
    assert [c.key for c in qa.get_card("inbound-service").criteria][-1] == "wrap_up"
    assert qa.get_card("inbound-service", 1).newest is False


def test_only_supervisors_manage_cards(qa):
    with pytest.raises(PermissionDenied, match="supervisors only"):
        qa.import_card(default_card_text(), "ann")
    with pytest.raises(PermissionDenied, match="display user"):
        qa.import_card(default_card_text(), "wall")


# -- sampling --------------------------------------------------------------------------------


def test_the_sample_is_reproducible_targeted_first_and_spread_over_the_evaluators(qa, engine, settings):
    settings.quality.calls_per_agent = 4
    settings.quality.targeted_pct = 50
    rows = [answered(n) for n in range(20)] + [answered(n, agent="Agent/bob") for n in range(20)]
    rows[3]["outcome"] = "transferred"  # a transfer
    rows[5]["talk_seconds"] = 1800.0  # far outside the AHT band
    rows[7]["caller"] = rows[6]["caller"]  # a repeat caller
    add_calls(engine, rows)
    summary = qa.draw(DAY, "sue")
    assert summary.answered == 40 and summary.drawn == 8
    ann = sorted(
        (s.callid, s.reason) for s in qa.samples("sue", day="2026-11-24", everyone=True) if s.agent == "Agent/ann"
    )
    assert [reason for _, reason in ann].count("random") == 2
    assert {callid for callid, reason in ann if reason != "random"} <= {
        "Agent/ann-support-3",
        "Agent/ann-support-5",
        "Agent/ann-support-7",
    }
    assert {r for _, r in ann if r != "random"} <= {"transfer", "aht_outlier", "repeat_caller"}
    assert summary.by_evaluator == {"sue": 4, "tom": 4}

    # Drawn again: nothing more; drawn afresh on another database with the same calls: the same calls.
    assert qa.draw(DAY, "sue").already_drawn
    from tickets.quality import sampling

    with write_session(engine) as session:
        calls = qa.answered_calls(session, T0 - 36000, T0 + 86400)
    flagged = sampling.flags(
        calls,
        complaint_callids=set(),
        callback_callers=set(),
        earlier_calls=[(c.caller, c.callid, c.enter_at) for c in calls if c.caller],
        config=settings.quality,
    )
    again = sampling.draw("2026-11-24", calls, flagged, settings.quality)
    assert sorted((d.call.callid, d.reason) for d in again if d.call.agent == "Agent/ann") == ann


def test_the_share_target_and_the_evaluator_quota(qa, engine, settings):
    settings.quality.calls_per_agent = 1
    settings.quality.share_pct = 10  # of 30 calls: 3
    settings.quality.evaluator_daily_quota = 2
    add_calls(engine, [answered(n) for n in range(30)])
    summary = qa.draw(DAY, "sue")
    assert summary.drawn == 3
    assert summary.by_evaluator == {"sue": 1, "tom": 1} or sum(summary.by_evaluator.values()) == 3 - summary.unassigned
    assert sum(summary.by_evaluator.values()) <= 4 and summary.unassigned == 3 - sum(summary.by_evaluator.values())


def test_a_skip_needs_a_reason_and_is_audited(qa, engine):
    add_calls(engine, [answered(1)])
    qa.draw(DAY, "sue")
    sample = qa.samples("sue", day="2026-11-24", everyone=True)[0]
    with pytest.raises(InvalidInput, match="a reason for skipping is empty"):
        qa.skip(sample.id, "sue", "  ")
    with pytest.raises(PermissionDenied):
        qa.skip(sample.id, "ann", "no recording")
    skipped = qa.skip(sample.id, "sue", "no recording")
    assert skipped.status == "skipped" and skipped.skip_reason == "no recording"
    with write_session(engine) as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.kind == "qa_skip")).one()
    assert (audit.old, audit.note) == (str(sample.id), "no recording")


# -- evaluating ------------------------------------------------------------------------------


@pytest.fixture
def draft(qa, engine):
    add_calls(engine, [answered(1)])
    qa.draw(DAY, "sue")
    sample = qa.samples("sue", day="2026-11-24", everyone=True)[0]
    return qa.begin(sample.id, sample.evaluator)


def test_the_weighted_score_and_a_critical_failure(qa, draft):
    who = draft.evaluator
    # weights: greeting 10, listening 15, accuracy 20, ownership 15, standard 5, closing 10 (two n/a)
    # 10*1 + 15*(4/4) + 20*1 + 15*(3/4) + 5*0 + 10*(2/4) = 61.25 of 75
    scores = dict(ALL_GOOD, ownership=("4", ""), closing=("3", ""), standard_phrases=("no", ""))
    done = qa.submit(draft.ref, who, scores)
    assert done.raw_score == done.score == pytest.approx(100 * 61.25 / 75, abs=0.01)
    assert not done.critical_failed

    failed = qa.correct(done.ref, "sue", {"greeting": ("no", "did not identify the caller")}, reason="heard again")
    assert failed.critical_failed and failed.score == 0 and failed.failed_critical == ("greeting",)
    assert failed.raw_score == pytest.approx(100 * 51.25 / 75, abs=0.01)


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({"listening": ("6", "")}, r"listening: '6' is not on its scale \(1, 2, 3, 4, 5\)"),
        ({"greeting": ("maybe", "")}, "greeting: 'maybe' is not on its scale"),
        ({"accuracy": ("yes", "")}, "accuracy: a comment is required"),
        ({"greeting": ("no", "")}, "greeting: a failed critical criterion needs a comment"),
        ({"nonsense": ("yes", "")}, "'nonsense' is not a criterion"),
    ],
)
def test_bad_scores_are_refused_with_one_line_and_nothing_saved(qa, draft, engine, scores, message):
    qa.save(draft.ref, draft.evaluator, {"closing": ("4", "")})
    with pytest.raises(InvalidInput, match=message) as refused:
        qa.save(draft.ref, draft.evaluator, {"ownership": ("5", ""), **scores})
    assert "\n" not in str(refused.value)
    with write_session(engine) as session:
        assert len(session.scalars(select(QaScore)).all()) == 1  # the ownership score was not half-saved


def test_a_stale_draft_is_refused_and_a_submitted_one_is_immutable(qa, draft):
    who = draft.evaluator
    saved = qa.save(draft.ref, who, {"closing": ("4", "")}, expect_version=draft.version)
    with pytest.raises(StaleVersion, match=r"QA-000001 changed since you read it \(you have version 1, it is at 2\)"):
        qa.submit(draft.ref, who, ALL_GOOD, expect_version=draft.version)
    with pytest.raises(InvalidInput, match="not scored yet: greeting, listening"):
        qa.submit(draft.ref, who, expect_version=saved.version)
    done = qa.submit(draft.ref, who, ALL_GOOD, expect_version=saved.version)
    assert done.status == "submitted"
    with pytest.raises(InvalidInput, match="is submitted and cannot change"):
        qa.save(done.ref, who, {"closing": ("1", "")})
    with pytest.raises(InvalidInput, match="a reason for the correction is empty"):
        qa.correct(done.ref, "sue", {"closing": ("2", "")}, reason="")


def test_roles_agents_see_their_own_submitted_evaluations_display_users_nothing(qa, draft):
    with pytest.raises(PermissionDenied, match="own submitted"):
        qa.get(draft.ref, "ann")  # a draft
    with pytest.raises(PermissionDenied, match="supervisors only"):
        qa.save(draft.ref, "ann", {"closing": ("4", "")})
    qa.submit(draft.ref, draft.evaluator, ALL_GOOD)
    assert qa.get(draft.ref, "ann").agent == "Agent/ann"
    assert [e.ref for e in qa.evaluations("ann")] == [draft.ref]
    assert qa.evaluations("bob") == []
    with pytest.raises(PermissionDenied, match="own submitted"):
        qa.get(draft.ref, "bob")
    with pytest.raises(PermissionDenied, match="display user"):
        qa.evaluations("wall")


def test_the_agents_weekly_trend(qa, draft, clock):
    qa.submit(draft.ref, draft.evaluator, dict(ALL_GOOD, greeting=("no", "no name given")))
    clock.now = T0 + 8 * 86400  # the next week
    points = qa.trend("ann", weeks=2)
    assert [(p.week, p.evaluations, p.mean_score, p.critical_failures) for p in points] == [
        ("2026-11-23", 1, 0.0, 1),
        ("2026-11-30", 0, None, 0),
    ]
    assert qa.trend("sue", agent="Agent/ann", weeks=2) == points
    with pytest.raises(PermissionDenied, match="only their own"):
        qa.trend("bob", agent="Agent/ann")


def test_the_agent_disputes_and_a_supervisor_settles(qa, draft, engine):
    qa.submit(draft.ref, draft.evaluator, dict(ALL_GOOD, closing=("1", "")))
    with pytest.raises(InvalidInput, match="a note is empty"):
        qa.respond(draft.ref, "ann", "dispute", "")
    with pytest.raises(PermissionDenied, match="own"):
        qa.respond(draft.ref, "bob", "acknowledged", "ok")
    disputed = qa.respond(draft.ref, "ann", "disputed", "the caller hung up on me")
    assert disputed.response == "disputed"
    with pytest.raises(InvalidInput, match="disputed already"):
        qa.respond(draft.ref, "ann", "acknowledged", "")
    with pytest.raises(PermissionDenied, match="supervisors only"):
        qa.settle(draft.ref, "ann", "overturned", "me")
    settled = qa.settle(draft.ref, "tom", "overturned", "caller hung up: n/a", scores={"closing": ("3", "")})
    assert settled.settlement == "overturned" and settled.scores[-1].answer == "3"
    with write_session(engine) as session:
        kinds = [a.kind for a in session.scalars(select(AuditEvent).where(AuditEvent.evaluation_id == draft.id))]
    assert kinds == ["qa_begin", "qa_submit", "qa_dispute", "qa_correct", "qa_correct", "qa_settle"]


# -- coaching --------------------------------------------------------------------------------


def test_coaching_is_reminded_then_the_next_calls_are_resampled_and_judged(qa, draft, engine, settings, clock):
    settings.quality.coaching_calls = 1
    qa.submit(draft.ref, draft.evaluator, dict(ALL_GOOD, listening=("1", "talked over the caller")))
    due = T0 + 86400  # tomorrow 10:00
    with pytest.raises(InvalidInput, match="not a criterion"):
        qa.coach(draft.ref, "sue", owner="tom", due_at=due, criteria=["empathy"], note="x")
    coaching = qa.coach(draft.ref, "sue", owner="tom", due_at=due, criteria=["listening"], note="let them finish")
    assert coaching.status == "open" and qa.get(draft.ref, "ann").coaching == (coaching.ref,)

    sweeper = Sweeper(engine, settings, server="test", escalate=ComplaintService(engine, settings).escalate_in)
    assert sweeper.sweep(due - 1) == 0
    assert sweeper.sweep(due + 1) == 1
    assert "coaching Agent/ann on listening is due now" in notifications_for(engine, "tom")[0].text
    assert qa.coaching("ann")[0].status == "resampling"

    add_calls(engine, [answered(1, start=due - 3600, callid="before"), answered(2, start=due, callid="after")])
    clock.now = due + 86400
    summary = qa.draw(date(2026, 11, 25), "sue")
    assert summary.coaching == 1
    resample = next(s for s in qa.samples("tom") if s.reason == "coaching")
    assert resample.callid == "after" and resample.evaluator == "tom"
    evaluation = qa.begin(resample.id, "tom")
    qa.submit(evaluation.ref, "tom", dict(ALL_GOOD, listening=("4", "")))
    judged = qa.coaching("sue")[0]
    assert (judged.status, judged.outcome) == ("done", "improved")


# -- calibration -----------------------------------------------------------------------------


def test_calibration_shows_the_spread_per_criterion_and_who_differs_most(qa, engine, settings):
    settings.quality.calls_per_agent = 0
    add_calls(engine, [answered(1), answered(2)])
    users.add_user(engine, "una", "supervisor", now=T0)
    with write_session(engine) as session:
        call_ids = [c.id for c in session.scalars(select(Call).order_by(Call.id))]
    for call_id, (sue, tom, una) in zip(call_ids, (("5", "5", "1"), ("4", "4", "2"))):
        samples = qa.calibrate(call_id, "sue", ["sue", "tom", "una"])
        for sample, listening in zip(samples, (sue, tom, una)):
            e = qa.begin(sample.id, sample.evaluator)
            qa.submit(e.ref, sample.evaluator, dict(ALL_GOOD, listening=(listening, "")))
    rows = {row.criterion: row for row in qa.calibration("sue", T0 - 3600, T0 + 86400)}
    listening = rows["listening"]
    # spreads: (5-1)/4 = 100 %, (4-2)/4 = 50 %
    assert (listening.calls, listening.evaluations) == (2, 6)
    assert listening.mean_spread_pct == 75.0 and listening.max_spread_pct == 100.0
    assert listening.differs_most == "una"
    assert rows["greeting"].mean_spread_pct == 0 and rows["greeting"].differs_most is None
    with pytest.raises(PermissionDenied):
        qa.calibration("ann", 0, T0)


def test_unknown_things_are_named(qa):
    with pytest.raises(NotFound, match="no evaluation QA-000042"):
        qa.get("QA-42", "sue")
    with pytest.raises(NotFound, match="no user 'zed'"):
        qa.evaluations("zed")
    with pytest.raises(NotFound, match="no scorecard 'other'"):
        qa.get_card("other")


def test_evaluations_table_has_the_facts(qa, draft, engine):
    with write_session(engine) as session:
        e = session.scalars(select(QaEvaluation)).one()
        s = session.scalars(select(QaSample)).one()
    assert (e.agent, e.queue, e.callid) == ("Agent/ann", "support", s.callid)
