"""Call-backs for abandoned callers: made from queue_log lines, joined, closed by the caller
getting through, taken (one of two takers wins), attempted, assigned, made a complaint; bad
numbers never become one; their reminders fire and escalate."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.callbacks import CallbackCall
from tests.support import BACKENDS, Clock, on_backend
from tickets import users
from tickets.callbacks import CallbackIntake, CallbackService, Taken, number_refusal
from tickets.errors import IllegalTransition, PermissionDenied, StaleVersion
from tickets.queries import open_callbacks_for
from tickets.reminders import Sweeper, notifications_for
from tickets.service import ComplaintService
from tickets.user_desk import UserDesk
from wallboard.feeds.files import QueueLogIngest

# Tuesday 24 November 2026, 10:00 UTC: inside the default business hours (08:00-18:00).
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC).timestamp()


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + 3600)


@pytest.fixture
def people(engine, settings):
    for name, role in (("ann", "agent"), ("bob", "agent"), ("sue", "supervisor")):
        users.add_user(engine, name, role, now=T0 - 86400)
    return engine, settings


def line(at: float, callid: str, queue: str, verb: str, *fields: str, agent: str = "NONE") -> str:
    return "|".join([f"{at:.0f}", callid, queue, agent, verb, *fields]) + "\n"


def abandon(at: float, callid: str, caller: str, *, queue: str = "support", waited: int = 40) -> list[str]:
    """A caller entering `queue` and hanging up `waited` seconds later, at `at`."""
    return [
        line(at - waited, callid, queue, "ENTERQUEUE", "", caller, "1"),
        line(at, callid, queue, "ABANDON", "1", "1", str(waited)),
    ]


def answered(at: float, callid: str, caller: str, *, queue: str = "support", agent: str = "Agent/ann") -> list[str]:
    """A caller entering `queue`, answered by `agent` at `at` after 10 s."""
    return [
        line(at - 10, callid, queue, "ENTERQUEUE", "", caller, "1"),
        line(at, callid, queue, "CONNECT", "10", f"{callid}.2", "2", agent=agent),
    ]


def ingest(engine, settings, path: Path, lines: list[str]) -> None:
    with path.open("a") as fh:
        fh.writelines(lines)
    QueueLogIngest(engine, settings, path).run()


def test_an_abandon_becomes_one_request_due_by_the_queue_target(people, settings, clock, tmp_path):
    engine, _ = people
    settings.callbacks.queues = {"sales": _queue(15)}
    log = tmp_path / "queue_log"
    ingest(
        engine, settings, log, abandon(T0, "c1", "+441234567890") + abandon(T0 + 60, "c2", "07700900123", queue="sales")
    )
    result = CallbackIntake(engine, settings, clock).run()
    assert (result.created, result.skipped) == (2, 0)
    service = CallbackService(engine, settings, clock)
    by_caller = {cb.caller_number: cb for cb in service.list_callbacks()}
    support, sales = by_caller["+441234567890"], by_caller["07700900123"]
    assert (support.queue, support.status, support.owner, support.abandons) == ("support", "open", None, 1)
    assert support.hung_up_at == T0 and support.wait_seconds == 40
    assert support.due_at == T0 + 30 * 60  # [callbacks] target_minutes, in business hours
    assert sales.due_at == T0 + 60 + 15 * 60  # the queue's own target
    assert CallbackIntake(engine, settings, clock).run().changed is False  # each abandon judged once


def _queue(minutes: float):
    from wallboard.config import CallbackQueue

    return CallbackQueue(target_minutes=minutes)


def test_the_due_time_counts_business_hours_only(people, settings, clock, tmp_path):
    engine, _ = people
    evening = T0 + 7 * 3600 + 50 * 60  # 17:50: ten minutes before closing
    ingest(engine, settings, tmp_path / "queue_log", abandon(evening, "c1", "0123456789"))
    CallbackIntake(engine, settings, Clock(evening + 60)).run()
    (cb,) = CallbackService(engine, settings, clock).list_callbacks()
    next_morning = datetime(2026, 11, 25, 8, 20, tzinfo=UTC).timestamp()
    assert cb.due_at == next_morning


def test_several_abandons_of_one_caller_make_one_request(people, settings, clock, tmp_path):
    engine, _ = people
    lines = abandon(T0, "c1", "0123456789") + abandon(T0 + 120, "c2", "0123456789", queue="sales")
    ingest(engine, settings, tmp_path / "queue_log", lines)
    result = CallbackIntake(engine, settings, clock).run()
    assert (result.created, result.joined) == (1, 1)
    (cb,) = CallbackService(engine, settings, clock).list_callbacks()
    assert (cb.abandons, cb.queue, cb.hung_up_at, cb.due_at) == (2, "support", T0 + 120, T0 + 1800)
    with engine.connect() as connection:
        assert [c.caller_number for c in open_callbacks_for_connection(connection, "0123456789")] == ["0123456789"]


def open_callbacks_for_connection(connection, number):
    from sqlalchemy.orm import Session

    with Session(connection) as session:
        return open_callbacks_for(session, number)


def test_short_abandons_and_unusable_numbers_are_skipped_and_counted(people, settings, clock, tmp_path):
    engine, _ = people
    settings.callbacks.ignore = ["+15550000000"]
    hostile = ["ABC123456", "\x1b[31m0123456789", "9" * 5000, "12345678901234567890123", "1234"]
    lines = abandon(T0, "short", "0123456789", waited=3)  # [metrics] short_abandon_seconds = 5
    lines += abandon(T0 + 1, "anon", "anonymous") + abandon(T0 + 2, "withheld", "Withheld")
    lines += abandon(T0 + 3, "ignored", "+15550000000")
    lines += [x for i, number in enumerate(hostile) for x in abandon(T0 + 10 + i, f"bad{i}", number)]
    ingest(engine, settings, tmp_path / "queue_log", lines)
    result = CallbackIntake(engine, settings, clock).run()
    assert (result.created, result.skipped) == (0, 4 + len(hostile))
    assert CallbackService(engine, settings, clock).list_callbacks(open_only=False) == []
    with engine.connect() as connection:
        results = dict(
            connection.execute(
                select(CallbackCall.result, func.count()).group_by(CallbackCall.result)  # type: ignore[call-overload]
            ).all()
        )
    assert results == {"short": 1, "anonymous": 2, "ignored": 1, "not_a_number": len(hostile)}


@pytest.mark.parametrize(
    "number",
    ["ABC123456", "\x1b[2J0123456", "9" * 5000, "+", "++441234567", "0123 456 789", "１２３４５６７", "1234"],
)
def test_a_caller_number_that_is_no_phone_number_is_refused(number):
    assert number_refusal(number) == "not_a_number"


def test_the_caller_getting_through_closes_the_request_by_itself(people, settings, clock, tmp_path):
    engine, _ = people
    log = tmp_path / "queue_log"
    ingest(engine, settings, log, abandon(T0, "c1", "0123456789"))
    intake = CallbackIntake(engine, settings, clock)
    intake.run()
    ingest(engine, settings, log, answered(T0 + 600, "c2", "0123456789", queue="sales"))
    assert intake.run().got_through == 1
    service = CallbackService(engine, settings, clock)
    assert service.list_callbacks() == []
    (cb,) = service.list_callbacks(open_only=False)
    assert cb.status == "got_through" and cb.ended_at == T0 + 600
    assert cb.end_note == "caller got through at 10:10 (sales, Agent/ann)"
    assert [e.kind for e in service.get(cb.ref).events][-1] == "callback_got_through"


def test_an_answered_call_before_the_abandon_does_not_close_it(people, settings, clock, tmp_path):
    engine, _ = people
    log = tmp_path / "queue_log"
    ingest(engine, settings, log, answered(T0 - 600, "c0", "0123456789") + abandon(T0, "c1", "0123456789"))
    result = CallbackIntake(engine, settings, clock).run()
    assert (result.created, result.got_through) == (1, 0)


def test_auto_off_offers_abandons_and_a_person_requests_one(people, settings, clock, tmp_path):
    engine, _ = people
    settings.callbacks.auto = False
    ingest(engine, settings, tmp_path / "queue_log", abandon(T0, "c1", "0123456789"))
    assert CallbackIntake(engine, settings, clock).run().offered == 1
    ann = UserDesk(engine, settings, "ann", clock)
    assert ann.callbacks() == []
    (offered,) = ann.abandons_to_request()
    cb = ann.request_callback(offered.call_id)
    assert (cb.caller_number, cb.status, cb.abandons) == ("0123456789", "open", 1)
    assert ann.abandons_to_request() == []
    assert cb.events[0].actor == "ann"


@pytest.fixture
def request_open(people, settings, clock, tmp_path):
    engine, _ = people
    ingest(engine, settings, tmp_path / "queue_log", abandon(T0, "c1", "0123456789"))
    CallbackIntake(engine, settings, clock).run()
    (cb,) = CallbackService(engine, settings, clock).list_callbacks()
    return cb


def test_two_agents_taking_the_same_one_wins_the_other_is_told_who(people, settings, clock, request_open):
    engine, _ = people
    ann, bob = UserDesk(engine, settings, "ann", clock), UserDesk(engine, settings, "bob", clock)
    outcomes: dict[str, object] = {}
    start = threading.Barrier(2)

    def take(desk: UserDesk) -> None:
        start.wait()
        try:
            outcomes[desk.user] = desk.take_callback(request_open.ref, expect_version=request_open.version)
        except Exception as exc:  # the loser's refusal is the point
            outcomes[desk.user] = exc

    threads = [threading.Thread(target=take, args=(d,)) for d in (ann, bob)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winner = next(name for name, o in outcomes.items() if not isinstance(o, Exception))
    loser = "bob" if winner == "ann" else "ann"
    assert isinstance(outcomes[loser], Taken)
    assert str(outcomes[loser]) == f"{request_open.ref} was taken by {winner} at 11:00"
    assert CallbackService(engine, settings, clock).get(request_open.ref).owner == winner


def test_take_next_attempts_and_the_end_when_reached(people, settings, clock, request_open):
    engine, _ = people
    ann, bob = UserDesk(engine, settings, "ann", clock), UserDesk(engine, settings, "bob", clock)
    taken = ann.take_callback(None)
    assert taken.ref == request_open.ref and taken.owner == "ann"
    with pytest.raises(PermissionDenied, match="bob \\(agent\\) may not record attempts on"):
        bob.record_attempt(taken.ref, outcome="no_answer")
    after = ann.record_attempt(taken.ref, outcome="voicemail", note="left a message")
    assert (after.status, after.attempts, after.first_attempt_at) == ("open", 1, clock.now)
    with pytest.raises(StaleVersion, match="changed by ann"):
        ann.record_attempt(taken.ref, outcome="no_answer", expect_version=taken.version)
    done = ann.record_attempt(taken.ref, outcome="reached", expect_version=after.version)
    assert done.status == "reached" and done.end_note == "reached by ann at 11:00"
    assert [a.outcome for a in done.attempt_list] == ["voicemail", "reached"]
    with pytest.raises(IllegalTransition, match="it is reached"):
        ann.record_attempt(taken.ref, outcome="no_answer")


def test_attempts_run_out(people, settings, clock, request_open):
    engine, _ = people
    ann = UserDesk(engine, settings, "ann", clock)
    ann.take_callback(request_open.ref)
    for _ in range(settings.callbacks.max_attempts):
        cb = ann.record_attempt(request_open.ref, outcome="no_answer")
    assert cb.status == "gave_up" and cb.end_note == "not reached in 3 attempts"


def test_a_supervisor_assigns_and_the_agent_is_told(people, settings, clock, request_open):
    engine, _ = people
    with pytest.raises(PermissionDenied, match="supervisors only"):
        UserDesk(engine, settings, "ann", clock).assign_callback(request_open.ref, to="bob")
    cb = UserDesk(engine, settings, "sue", clock).assign_callback(request_open.ref, to="bob", note="you speak Welsh")
    assert cb.owner == "bob"
    (note,) = notifications_for(engine, "bob")
    assert note.text.startswith(f"{request_open.ref}: call back 0123456789 (support), assigned to you by sue")


def test_made_a_complaint_in_one_step_keeping_its_history(people, settings, clock, request_open):
    engine, _ = people
    ann = UserDesk(engine, settings, "ann", clock)
    ann.take_callback(request_open.ref)
    ann.record_attempt(request_open.ref, outcome="no_answer")
    cb = ann.callback_to_complaint(request_open.ref, subject="Billed twice")
    assert cb.status == "complaint" and cb.complaint_ref is not None
    complaint = ComplaintService(engine, settings, clock).get(cb.complaint_ref)
    assert (complaint.subject, complaint.caller_number, complaint.owner) == ("Billed twice", "0123456789", "ann")
    kinds = [e.kind for e in complaint.events]
    assert kinds[:4] == ["callback_request", "callback_request", "callback_take", "callback_attempt"]
    assert kinds[4:] == ["create", "create", "callback_complaint"]


def test_due_and_overdue_reminders_notify_and_escalate(people, settings, clock, request_open):
    engine, _ = people
    sweeper = Sweeper(engine, settings, server="test", escalate=ComplaintService(engine, settings, clock).escalate_in)
    assert sweeper.sweep(request_open.due_at + 1) == 1
    (due,) = notifications_for(engine, "sue")  # nobody has it: the supervisors are told
    assert due.kind == "callback_due" and "nobody has taken it" in due.text
    grace = settings.reminders.overdue_grace_minutes * 60
    assert sweeper.sweep(request_open.due_at + grace + 1) == 1
    cb = CallbackService(engine, settings, clock).get(request_open.ref)
    assert cb.escalation_level == 1 and cb.events[-1].kind == "escalate"
    # An ended request's reminders are cancelled with the change that ended it.
    assert sweeper.sweep(request_open.due_at + 10 * grace) == 0


def test_the_simulators_callers_who_hung_up_call_again_and_close_their_requests(people, settings):
    from db.engine import write_transaction
    from wallboard.feeds.simulator import FloorSimulator, SimulatorSettings
    from wallboard.store.applier import EventApplier

    engine, _ = people
    start = T0 - 2 * 3600  # 08:00: the floor opens
    sim = FloorSimulator(SimulatorSettings(seed=5, agents=8, calls_per_hour=240), start)
    events = sim.advance(start + 3 * 3600)
    again = FloorSimulator(SimulatorSettings(seed=5, agents=8, calls_per_hour=240), start).advance(start + 3 * 3600)
    assert [(e.ts, e.kind, e.callid, e.caller) for e in events] == [(e.ts, e.kind, e.callid, e.caller) for e in again]
    with write_transaction(engine) as connection:
        EventApplier().apply(connection, events)
    result = CallbackIntake(engine, settings, Clock(start + 3 * 3600)).run()
    assert result.created > 5
    assert result.got_through > 0  # callers who called again and were answered
    closed = CallbackService(engine, settings, Clock(start + 3 * 3600)).list_callbacks(open_only=False)
    assert any(cb.status == "got_through" and cb.end_note.startswith("caller got through at ") for cb in closed)


def test_the_active_servers_scheduler_runs_the_intake(people, settings, clock, tmp_path):
    from wallboard.server.scheduler import ReminderScheduler

    engine, _ = people
    ingest(engine, settings, tmp_path / "queue_log", abandon(T0, "c1", "0123456789"))
    scheduler = ReminderScheduler(engine, settings, server="test", clock=clock)
    scheduler.take_callbacks()
    assert [cb.caller_number for cb in CallbackService(engine, settings, clock).list_callbacks()] == ["0123456789"]
    assert "callback-intake" not in [job.id for job in scheduler.scheduler.get_jobs()]  # not started
    scheduler.start()
    try:
        assert "callback-intake" in [job.id for job in scheduler.scheduler.get_jobs()]
    finally:
        scheduler.stop()
