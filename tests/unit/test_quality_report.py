"""The quality report against figures computed by hand, and the server's daily draw."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from db.engine import write_session
from db.models import Call
from tests.support import BACKENDS, Clock, on_backend
from tickets import users
from tickets.quality.report import quality_report
from tickets.quality.service import QualityService
from tickets.service import ComplaintService

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC).timestamp()  # Tuesday; the site's time zone is UTC
DAY_START = datetime(2026, 11, 24, tzinfo=UTC).timestamp()
GOOD = {
    "greeting": ("yes", ""),
    "listening": ("5", ""),
    "accuracy": ("yes", "right"),
    "ownership": ("5", ""),
    "follow_up_logged": ("yes", "logged"),
    "standard_phrases": ("yes", ""),
    "hold_transfer": ("yes", ""),
    "closing": ("5", ""),
}


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


def call(n: int, agent: str, queue: str, talk: float, wrap: float) -> Call:
    return Call(
        callid=f"c{n}",
        queue=queue,
        caller=f"+4420000{n:04d}",
        agent=agent,
        enter_at=T0 + n * 60,
        answer_at=T0 + n * 60 + 5,
        end_at=T0 + n * 60 + 5 + talk,
        wait_seconds=5.0,
        talk_seconds=talk,
        wrap_seconds=wrap,
        outcome="completed",
    )


@pytest.fixture
def floor(engine, settings):
    """ann answers 4 support calls (handle 100, 200, 300, 400 s), bob 2 sales calls (handle 60, 60 s);
    one complaint from ann's first call. Two evaluations of ann (100, and a critical failure),
    one of bob (scored 50), bob disputes his; a coaching action on ann's second."""
    for name, role in (("ann", "agent"), ("bob", "agent"), ("sue", "supervisor"), ("tom", "supervisor")):
        users.add_user(engine, name, role, now=T0 - 86400)
    settings.quality.calls_per_agent = 2
    settings.quality.teams = {"north": ["ann"]}
    with write_session(engine) as session:
        for n, (agent, queue, talk, wrap) in enumerate(
            [
                ("ann", "support", 90, 10),
                ("ann", "support", 180, 20),
                ("ann", "support", 270, 30),
                ("ann", "support", 360, 40),
                ("bob", "sales", 50, 10),
                ("bob", "sales", 60, 0),
            ]
        ):
            session.add(call(n, agent, queue, talk, wrap))
    clock = Clock(T0 + 6 * 3600)
    ComplaintService(engine, settings, clock=clock).create(
        "sue",
        customer="C",
        contact="c@example.com",
        subject="s",
        description="d",
        callid="c0",
    )
    qa = QualityService(engine, settings, clock=clock)
    qa.ensure_default_card()
    summary = qa.draw(date(2026, 11, 24), "sue")
    assert summary.drawn == 4
    samples = qa.samples("sue", day="2026-11-24", everyone=True)
    ann = [s for s in samples if s.agent == "ann"]
    bob = [s for s in samples if s.agent == "bob"]
    e1 = qa.begin(ann[0].id, ann[0].evaluator)
    qa.submit(e1.ref, e1.evaluator, GOOD)
    e2 = qa.begin(ann[1].id, ann[1].evaluator)
    qa.submit(e2.ref, e2.evaluator, dict(GOOD, greeting=("no", "no greeting")))
    e3 = qa.begin(bob[0].id, bob[0].evaluator)
    # bob: the 1-5 criteria at 3 (half their weight), follow-up, phrases and hold/transfer no.
    bob_scores = dict(
        GOOD,
        listening=("3", ""),
        ownership=("3", ""),
        closing=("3", ""),
        follow_up_logged=("no", "not logged"),
        standard_phrases=("no", ""),
        hold_transfer=("no", ""),
    )
    qa.submit(e3.ref, e3.evaluator, bob_scores)
    qa.respond(e3.ref, "bob", "dispute", "it was logged")
    qa.coach(e2.ref, "sue", owner="tom", due_at=T0 + 86400, criteria=["greeting"], note="greet")
    return engine, settings


def test_by_agent_with_hand_computed_figures(floor):
    engine, settings = floor
    report = quality_report(engine, settings, DAY_START, DAY_START + 86400, "agent")
    ann, bob = report.rows
    assert ann == {
        "group": "ann",
        "answered": 4,
        "aht_seconds": 250.0,  # (100 + 200 + 300 + 400) / 4
        "complaints_per_1000": 250.0,  # 1 of 4
        "target": 2,
        "sampled": 2,
        "evaluations": 2,
        "coverage_pct": 50.0,
        "target_done_pct": 100.0,
        "mean_score": 50.0,  # (100 + 0) / 2: the critical failure counts 0
        "critical_fail_pct": 50.0,
        "disputes": 0,
        "overturned": 0,
        "coaching_open": 1,
        "coaching_done": 0,
        "coaching_improved": 0,
    }
    # bob: 10 + 15*0.5 + 20 + 15*0.5 + 0 + 0 + 0 + 10*0.5 = 50 of 100
    assert (bob["answered"], bob["aht_seconds"], bob["mean_score"], bob["disputes"]) == (2, 60.0, 50.0, 1)
    assert bob["complaints_per_1000"] == 0.0 and bob["coverage_pct"] == 50.0
    total = report.total
    assert (total["answered"], total["evaluations"], total["target"]) == (6, 3, 4)
    assert total["mean_score"] == 50.0 and total["critical_fail_pct"] == 33.3
    assert total["aht_seconds"] == round(1120 / 6, 1)


def test_by_team_queue_week_evaluator_and_criterion(floor):
    engine, settings = floor
    window = (DAY_START, DAY_START + 86400)
    teams = {r["group"]: r for r in quality_report(engine, settings, *window, "team").rows}
    assert set(teams) == {"north", "(no team)"} and teams["north"]["evaluations"] == 2
    queues = {r["group"]: r["answered"] for r in quality_report(engine, settings, *window, "queue").rows}
    assert queues == {"support": 4, "sales": 2}
    weeks = quality_report(engine, settings, *window, "week").rows
    assert [w["group"] for w in weeks] == ["2026-11-23"]  # the Monday
    evaluators = quality_report(engine, settings, *window, "evaluator")
    assert sum(r["evaluations"] for r in evaluators.rows) == 3 and "answered" not in evaluators.total
    criteria = {r["criterion"]: r for r in quality_report(engine, settings, *window, "criterion").rows}
    assert criteria["greeting"]["pass_rate_pct"] == round(100 * 2 / 3, 1)
    assert criteria["follow_up_logged"]["pass_rate_pct"] == round(100 * 2 / 3, 1)
    assert criteria["accuracy"]["pass_rate_pct"] == 100.0


def test_the_server_draws_yesterdays_sample_daily(engine, settings):
    from wallboard.server.scheduler import ReminderScheduler

    users.add_user(engine, "sue", "supervisor", now=T0 - 86400)
    with write_session(engine) as session:
        session.add(call(1, "ann", "support", 100, 0))
    scheduler = ReminderScheduler(engine, settings, server="test", clock=lambda: T0 + 86400)
    scheduler.start()
    try:
        job = scheduler.scheduler.get_job("quality-draw")
        assert (job.next_run_time.hour, job.next_run_time.minute) == (6, 0)
    finally:
        scheduler.stop()
    scheduler.draw_quality_sample()
    qa = QualityService(engine, settings)
    assert [s.callid for s in qa.samples("sue", day="2026-11-24", everyone=True)] == ["c1"]
