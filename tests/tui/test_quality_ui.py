"""Quality evaluations on the board (key e): a supervisor's evaluation queue and the evaluation
screen (facts, written standards, score controls, running score, critical failures, draft,
submit, a stale draft refused, skip), the agent's side (own evaluations, trend, dispute), the
supervisor settling a dispute, coaching, display users refused; and the issue's story end to
end over a real session link. On the seeded floor (2026-11-23 14:00 UTC), its day drawn.
Snapshot: `pytest --snapshot-update` after looking."""

from __future__ import annotations

from datetime import date

import pytest
from textual.widgets import Input

from tests.support import Clock, run_async, screen_text, until
from tests.support.floor_seed import NOW, seed_floor
from tests.support.links import LinkServer
from tickets import users
from tickets.quality.report import quality_report
from tickets.quality.service import QualityService
from tickets.ui.quality_screen import CoachingForm, EvaluationScreen, QualityScreen
from wallboard.server.runtime import local_app
from wallboard.ui import WallboardApp

DAY = date(2026, 11, 23)
# Every criterion of the default card passing, with the comment the card wants.
ALL_GOOD = {
    "greeting": "yes",
    "listening": "5",
    "accuracy": "yes",
    "ownership": "4",
    "follow_up_logged": "na",
    "standard_phrases": "yes",
    "hold_transfer": "na",
    "closing": "3",
}
COMMENTS = {"accuracy": "checked the order history first"}


@pytest.fixture
def floor(engine, settings):
    """The seeded floor, its day drawn for sue (the only evaluator); maria is Maria Garcia."""
    seed_floor(engine, settings)
    for name, role in (("maria", "agent"), ("sue", "supervisor"), ("wall", "display")):
        users.add_user(engine, name, role, now=NOW - 86400)
    settings.complaints.agent_names = {"maria": "Maria Garcia"}
    settings.quality.recording_template = "/recordings/{callid}.wav"
    qa = QualityService(engine, settings, Clock(NOW))
    qa.ensure_default_card()
    qa.draw(DAY, "sue")
    return engine, settings, qa


def make_app(floor, user: str) -> WallboardApp:
    engine, settings, _qa = floor
    return local_app(engine, settings, clock=Clock(NOW), user=user)


async def on_quality(pilot) -> QualityScreen:
    app = pilot.app
    await until(pilot, lambda: app.reads >= 1 and app.desk.polls >= 1, "the board and the inbox")
    await pilot.press("e")
    await until(
        pilot,
        lambda: isinstance(app.screen, QualityScreen) and app.screen.loaded >= 1 and app.desk.pending == 0,
        "the quality screen",
    )
    return app.screen


async def evaluate_first(pilot, agent: str | None = None) -> EvaluationScreen:
    """Open the first call in the queue (of `agent`, if named) from the quality screen."""
    app = pilot.app
    screen = app.screen
    table = screen.query_one("#qa-queue")
    if agent is not None:
        row = next(key for key, s in screen.samples.items() if s.agent == agent)
        table.move_cursor(row=table.get_row_index(row))
    table.focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, EvaluationScreen) and app.desk.pending == 0, "the evaluation")
    return app.screen


async def score(pilot, screen: EvaluationScreen, answers: dict[str, str], comments: dict[str, str]) -> None:
    """Answers set on the criteria's rows; each comment written the way a person does: the
    criterion in focus, Enter, the text in the comment editor, Enter back to the criterion."""
    rows = screen.rows()
    for key, answer in answers.items():
        rows[key].value = answer
    editor = screen.query_one("#qa-comment", Input)
    for key, comment in comments.items():
        rows[key].focus()
        await until(pilot, lambda row=rows[key]: screen.commenting is row, f"the focus on {key}")
        await pilot.press("enter")
        await until(pilot, lambda: screen.focused is editor, "the comment editor")
        editor.value = comment
        await until(pilot, lambda row=rows[key], text=comment: row.comment == text, f"the comment on {key}")
        await pilot.press("enter")
        await until(pilot, lambda row=rows[key]: screen.focused is row, f"the focus back on {key}")
    await pilot.pause()


async def write(pilot, screen: EvaluationScreen, key: str) -> None:
    saves = screen.saves
    await pilot.press(key)
    await until(pilot, lambda: screen.saves > saves and pilot.app.desk.pending == 0, f"the {key} to finish")


def message(screen) -> str:
    return str(screen.query_one(".desk-message").render())


@run_async
async def test_a_supervisor_scores_a_call_sees_the_running_score_and_submits(floor):
    engine, settings, qa = floor
    app = make_app(floor, "sue")
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await on_quality(pilot)
        assert "to evaluate; 0 of 10 done on the newest day" in message(screen)
        evaluation = await evaluate_first(pilot)
        info = evaluation.info
        facts = str(evaluation.query_one("#qa-facts").render())
        assert info.queue in facts and info.agent in facts and f"/recordings/{info.callid}.wav" in facts
        assert "transfers 0" in facts and "complaints none" in facts
        text = screen_text(app)
        assert "good:" in text and "bad:" in text and "CRITICAL" in text

        rows = evaluation.rows()
        await pilot.press("n")  # the first criterion has the focus: n answers no
        assert rows["greeting"].value == "no"
        await pilot.press("down", "right", "right")  # the next criterion (1-5): right steps from 1
        assert (evaluation.focused, rows["listening"].value) == (rows["listening"], "2")
        await score(pilot, evaluation, {"listening": "5"}, {})
        bar = str(evaluation.query_one("#qa-score").render())
        assert "CRITICAL FAILURE: greeting" in bar and "scored 2 of 8" in bar

        await write(pilot, evaluation, "ctrl+s")  # a failed critical criterion needs its comment
        assert "greeting: a failed critical criterion needs a comment" in message(evaluation)
        assert qa.get(info.ref, "sue").version == info.version  # nothing saved

        await score(pilot, evaluation, ALL_GOOD, COMMENTS)
        assert "score 88.3" in str(evaluation.query_one("#qa-score").render())
        await write(pilot, evaluation, "ctrl+s")
        assert "draft saved: score 88.3" in message(evaluation)
        await write(pilot, evaluation, "ctrl+o")
        assert "submitted: score 88.3" in message(evaluation)
        rows["greeting"].focus()
        await until(pilot, lambda: evaluation.focused is rows["greeting"], "the focus on greeting")
        await pilot.press("n")  # submitted: the answers stay as they were
        assert rows["greeting"].value == "yes" and evaluation.query_one("#qa-comment", Input).disabled
        assert "comment: checked the order history first" in screen_text(app)
    stored = qa.get(info.ref, "sue")
    assert (stored.status, stored.score) == ("submitted", 88.33)


@run_async
async def test_a_stale_draft_is_refused_with_one_line_and_nothing_saved(floor):
    engine, settings, qa = floor
    app = make_app(floor, "sue")
    async with app.run_test(size=(140, 50)) as pilot:
        await on_quality(pilot)
        evaluation = await evaluate_first(pilot)
        ref = evaluation.info.ref
        qa.save(ref, "sue", {"closing": ("3", "")})  # elsewhere: another window of the same evaluator
        await score(pilot, evaluation, ALL_GOOD, COMMENTS)
        await write(pilot, evaluation, "ctrl+o")
        refused = message(evaluation)
        assert "changed since you read it" in refused and "\n" not in refused
    stored = qa.get(ref, "sue")
    assert stored.status == "draft" and [s.key for s in stored.scores if s.answer] == ["closing"]


@run_async
async def test_a_skip_needs_a_reason(floor):
    engine, settings, qa = floor
    app = make_app(floor, "sue")
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await on_quality(pilot)
        before = len(screen.samples)
        loads = screen.loaded
        await pilot.press("k", *"no recording", "enter")
        await until(pilot, lambda: screen.loaded > loads and app.desk.pending == 0, "the skip")
        assert "call skipped: no recording" in message(screen)
        assert len(screen.samples) == before - 1
    skipped = [s for s in qa.samples("sue", day=DAY.isoformat()) if s.status == "skipped"]
    assert [s.skip_reason for s in skipped] == ["no recording"]


def submitted_for_maria(qa) -> str:
    sample = next(s for s in qa.samples("sue") if s.agent == "Maria Garcia")
    ref = qa.begin(sample.id, "sue").ref
    scores = dict(ALL_GOOD, closing="1")
    qa.submit(ref, "sue", {k: (v, COMMENTS.get(k, "")) for k, v in scores.items()})
    return ref


@run_async
async def test_the_agent_sees_their_trend_and_disputes_then_a_supervisor_upholds(floor):
    engine, settings, qa = floor
    ref = submitted_for_maria(qa)
    app = make_app(floor, "maria")
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await on_quality(pilot)
        assert list(screen.evaluations) == [ref]
        assert "2026-11-23" in str(screen.query_one("#qa-trend").render())  # the floor's Monday
        loads = screen.loaded
        await pilot.press("d", *"I did close the call", "enter")
        await until(pilot, lambda: screen.loaded > loads and app.desk.pending == 0, "the dispute")
        assert f"{ref}: disputed" in message(screen)
    assert qa.get(ref, "maria").response == "disputed"

    app = make_app(floor, "sue")
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await on_quality(pilot)
        assert list(screen.evaluations) == [ref]
        screen.query_one("#qa-disputes").focus()
        loads = screen.loaded
        await pilot.press("u", *"the closing was missed", "enter")
        await until(pilot, lambda: screen.loaded > loads and app.desk.pending == 0, "the settling")
        assert f"{ref}: dispute upheld" in message(screen) and not screen.evaluations
    assert qa.get(ref, "sue").settlement == "upheld"


@run_async
async def test_a_supervisor_coaches_from_a_submitted_evaluation(floor):
    engine, settings, qa = floor
    ref = submitted_for_maria(qa)
    app = make_app(floor, "sue")
    async with app.run_test(size=(140, 50)) as pilot:
        await on_quality(pilot)
        app.push_screen(EvaluationScreen(app.desk, *app.desk.calls.qa_evaluation(ref)))
        await until(pilot, lambda: isinstance(app.screen, EvaluationScreen), "the evaluation")
        evaluation = app.screen
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, CoachingForm), "the coaching form")
        form = app.screen
        assert form.query_one("#coach-criteria", Input).value == "closing"  # the failed criteria
        assert form.query_one("#coach-due", Input).value == "2026-11-24"
        form.query_one("#coach-note", Input).value = "close with a summary"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: evaluation.info.coaching and app.desk.pending == 0, "the coaching action")
        assert "owned by sue" in message(evaluation)
    [coaching] = qa.coaching("sue")
    assert (coaching.evaluation, coaching.agent, coaching.criteria) == (ref, "Maria Garcia", ("closing",))


@run_async
async def test_a_display_user_is_told_why_e_shows_nothing(floor):
    app = make_app(floor, "wall")
    async with app.run_test(size=(140, 50)) as pilot:
        await until(pilot, lambda: app.reads >= 1 and app.desk.polls >= 1, "the board and the inbox")
        await pilot.press("e")
        await until(pilot, lambda: app._notifications, "the refusal")
        texts = [n.message for n in app._notifications]
        assert any("display user" in t and "no quality evaluations" in t for t in texts)
        assert not isinstance(app.screen, QualityScreen)


def test_snapshot_evaluation(floor, snap_compare):
    app = make_app(floor, "sue")

    async def run_before(pilot):
        await on_quality(pilot)
        evaluation = await evaluate_first(pilot, agent="James Smith")
        await score(pilot, evaluation, {"greeting": "yes", "listening": "4"}, {})

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


@run_async
async def test_the_story_over_a_session_link_draw_evaluate_three_coach_dispute_report(floor):
    """The issue's "Done when": a remote supervisor evaluates three calls in the TUI (one of
    Maria's), coaches her; Maria disputes it remotely; the quality report reads them beside
    the call KPIs."""
    engine, settings, qa = floor
    links = [LinkServer(engine, settings, "sue", Clock(NOW))]
    try:
        app = links[0].app()
        async with app.run_test(size=(140, 50)) as pilot:
            screen = await on_quality(pilot)
            refs = []
            for agent in ("Maria Garcia", "James Smith", "Aisha Khan"):
                evaluation = await evaluate_first(pilot, agent=agent)
                await score(pilot, evaluation, dict(ALL_GOOD, closing="2"), COMMENTS)
                await write(pilot, evaluation, "ctrl+o")
                assert "submitted" in message(evaluation)
                refs.append(evaluation.info.ref)
                if agent == "Maria Garcia":
                    await pilot.press("h")
                    await until(pilot, lambda: isinstance(app.screen, CoachingForm), "the coaching form")
                    app.screen.query_one("#coach-note", Input).value = "close with a summary"
                    await pilot.press("ctrl+s")
                    await until(pilot, lambda ev=evaluation: ev.info.coaching, "the coaching action")
                await pilot.press("escape")
                await until(pilot, lambda: app.screen is screen and app.desk.pending == 0, "the queue")
            assert "3 of 10 done on the newest day" in message(screen)

        links.append(LinkServer(engine, settings, "maria", Clock(NOW)))
        app = links[1].app()
        async with app.run_test(size=(140, 50)) as pilot:
            screen = await on_quality(pilot)
            assert list(screen.evaluations) == [refs[0]]  # her own only
            loads = screen.loaded
            await pilot.press("d", *"I did close the call", "enter")
            await until(pilot, lambda: screen.loaded > loads and app.desk.pending == 0, "the dispute")
    finally:
        for link in links:
            link.close()

    report = quality_report(engine, settings, NOW - 14 * 3600, NOW + 10 * 3600, "agent")
    by_agent = {row["group"]: row for row in report.rows}
    assert by_agent["Maria Garcia"]["evaluations"] == 1 and by_agent["Maria Garcia"]["disputes"] == 1
    assert by_agent["Maria Garcia"]["answered"] >= 3  # the call KPIs beside the quality
    assert report.total["evaluations"] == 3
