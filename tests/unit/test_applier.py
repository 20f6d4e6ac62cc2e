"""The engine's call and agent state machines, and the metric definitions, on a real SQLite file."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.engine import write_transaction
from db.models import Agent, AgentStateChange, Call
from tests.support import BACKENDS, on_backend
from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K
from wallboard.config import QueueOverrides
from wallboard.store.applier import EventApplier
from wallboard.store.metrics import agent_report, queue_report


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


T0 = 1_700_000_000.0


def apply(engine, events, **options):
    with write_transaction(engine) as connection:
        EventApplier(**options).apply(connection, events)


def calls(engine):
    with engine.connect() as connection:
        return {row.callid: row for row in connection.execute(select(Call.__table__))}


def agent(engine, name):
    with engine.connect() as connection:
        return connection.execute(select(Agent.__table__).where(Agent.__table__.c.name == name)).one()


def report(engine, settings):
    with engine.connect() as connection:
        return queue_report(connection, settings, None, None)


def answered_call(callid, queue="sales", agent="Ann", at=T0, wait=10, talk=100):
    return [
        Event(at, K.CALL_ENTERED, callid, queue, caller="555", position=1),
        Event(at + wait, K.CALL_ANSWERED, callid, queue, agent, wait_seconds=wait, ring_seconds=3),
        Event(
            at + wait + talk, K.CALL_ENDED, callid, queue, agent, wait_seconds=wait, talk_seconds=talk, reason="caller"
        ),
    ]


def test_answered_call_has_wait_talk_and_outcome(engine):
    apply(engine, answered_call("c1"))
    call = calls(engine)["c1"]
    assert (call.outcome, call.wait_seconds, call.talk_seconds, call.agent) == ("completed", 10, 100, "Ann")
    assert call.answer_at == T0 + 10 and call.end_at == T0 + 110
    assert call.end_reason == "caller"


def test_replaying_the_same_events_changes_nothing(engine, settings):
    events = answered_call("c1") + [
        Event(T0 + 5, K.CALL_ENTERED, "c2", "sales"),
        Event(T0 + 30, K.CALL_ABANDONED, "c2", "sales", wait_seconds=25),
    ]
    apply(engine, events)
    first = report(engine, settings).as_dict()
    apply(engine, events)
    apply(engine, events[::-1])
    assert report(engine, settings).as_dict() == first
    assert len(calls(engine)) == 2


def test_a_later_batch_writes_back_the_rows_it_changed_and_only_those(engine):
    """A batch loads the calls and agents its lines name: each is updated if the batch changed
    it (the call answered in one batch ends in the next, its agent is free again), and a
    replayed batch writes no row at all (on SQLite, which counts the rows each statement changed)."""
    entered, answered, ended = answered_call("c1")

    def rows_written(events):
        with write_transaction(engine) as connection:
            counted = connection.dialect.name == "sqlite"
            driver = connection.connection.driver_connection
            before = driver.total_changes if counted else 0
            EventApplier().apply(connection, events)
            return driver.total_changes - before if counted else None

    rows_written([entered, answered])
    assert calls(engine)["c1"].outcome == "answered" and agent(engine, "Ann").state == "on_call"
    # The call, the agent (twice: its version is set by a trigger, migration 0024), the agent's state change.
    assert rows_written([ended]) in (None, 4)
    call = calls(engine)["c1"]
    assert (call.outcome, call.talk_seconds, call.end_at) == ("completed", 100, T0 + 110)
    assert (agent(engine, "Ann").state, agent(engine, "Ann").current_callid) == ("available", None)
    assert rows_written([entered, answered, ended]) in (None, 0)
    assert calls(engine)["c1"] == call


def test_call_missing_its_first_lines_is_rebuilt_from_durations(engine):
    # A COMPLETECALLER whose ENTERQUEUE and CONNECT are before the file starts.
    apply(
        engine,
        [Event(T0 + 500, K.CALL_ENDED, "c1", "sales", "Ann", wait_seconds=12, talk_seconds=400, reason="caller")],
    )
    call = calls(engine)["c1"]
    assert call.enter_at == T0 + 500 - 400 - 12
    assert call.answer_at == T0 + 100
    assert (call.outcome, call.wait_seconds, call.talk_seconds) == ("completed", 12, 400)


def test_late_answer_after_abandon_is_ignored(engine):
    apply(engine, [Event(T0, K.CALL_ENTERED, "c1", "q"), Event(T0 + 8, K.CALL_ABANDONED, "c1", "q", wait_seconds=8)])
    apply(engine, [Event(T0 + 9, K.CALL_ANSWERED, "c1", "q", "Ann", wait_seconds=9)])
    assert calls(engine)["c1"].outcome == "abandoned"


def test_wait_is_derived_when_the_line_does_not_carry_it(engine):
    apply(engine, [Event(T0, K.CALL_ENTERED, "c1", "q"), Event(T0 + 42, K.CALL_EXITED, "c1", "q", reason="timeout")])
    call = calls(engine)["c1"]
    assert (call.outcome, call.wait_seconds) == ("timeout", 42)


def test_same_callid_in_two_queues_is_two_calls(engine, settings):
    apply(
        engine,
        [
            Event(T0, K.CALL_ENTERED, "c1", "first"),
            Event(T0 + 30, K.CALL_EXITED, "c1", "first", reason="timeout", wait_seconds=30),
        ],
    )
    apply(engine, answered_call("c1", queue="second", at=T0 + 31))
    figures = {q["queue"]: q for q in report(engine, settings).queues}
    assert figures["first"]["exited"] == 1 and figures["second"]["answered"] == 1


def test_metric_definitions(engine, settings):
    events = []
    events += answered_call("in-sl", wait=20, talk=100)  # exactly at the target: within
    events += answered_call("late", wait=21, talk=300, agent="Bob")
    events += [
        Event(T0, K.CALL_ENTERED, "short", "sales"),
        Event(T0 + 5, K.CALL_ABANDONED, "short", "sales", wait_seconds=5),
    ]
    events += [
        Event(T0, K.CALL_ENTERED, "long", "sales"),
        Event(T0 + 60, K.CALL_ABANDONED, "long", "sales", wait_seconds=60),
    ]
    events += [
        Event(T0, K.CALL_ENTERED, "key", "sales"),
        Event(T0 + 3, K.CALL_EXITED, "key", "sales", reason="key", wait_seconds=3),
    ]
    events += [Event(T0, K.CALL_ENTERED, "still-waiting", "sales")]
    apply(engine, events)
    q = report(engine, settings).queues[0]
    assert q["offered"] == 6
    assert q["answered"] == 2
    assert q["abandoned"] == 2 and q["short_abandoned"] == 1
    assert q["exited"] == 1
    assert q["answered_within_sl"] == 1
    assert q["service_level_pct"] == round(100 * 1 / (6 - 1), 2)
    assert q["abandon_rate_pct"] == round(100 * (2 - 1) / (6 - 1), 2)
    assert q["asa_seconds"] == 20.5
    assert q["aht_seconds"] == 200.0
    assert q["max_wait_seconds"] == 60


@pytest.mark.parametrize(
    ("formula", "expected"),
    [("offered", 100 * 1 / 3), ("answered", 100 * 1 / 2), ("abandons-met", 100 * 2 / 3)],
)
def test_service_level_formulas(engine, settings, formula, expected):
    settings.metrics.service_level_formula = formula
    events = answered_call("fast", wait=5) + answered_call("slow", wait=50)
    events += [
        Event(T0, K.CALL_ENTERED, "gone", "sales"),
        Event(T0 + 15, K.CALL_ABANDONED, "gone", "sales", wait_seconds=15),
    ]
    apply(engine, events)
    assert report(engine, settings).total["service_level_pct"] == round(expected, 2)


def test_per_queue_thresholds_and_total(engine, settings):
    settings.queues["vip"] = QueueOverrides(service_level_seconds=10)
    apply(engine, answered_call("a", queue="vip", wait=15) + answered_call("b", queue="sales", wait=15))
    result = report(engine, settings)
    by_queue = {q["queue"]: q for q in result.queues}
    assert by_queue["vip"]["answered_within_sl"] == 0
    assert by_queue["sales"]["answered_within_sl"] == 1
    assert result.total["queue"] == "*" and result.total["answered_within_sl"] == 1
    assert result.total["offered"] == 2


def test_undefined_figures_are_null(engine, settings):
    apply(engine, [Event(T0, K.CALL_ENTERED, "c", "q")])
    q = report(engine, settings).queues[0]
    assert q["service_level_pct"] == 0.0
    assert q["asa_seconds"] is None and q["aht_seconds"] is None and q["max_wait_seconds"] is None
    empty = queue_report(engine.connect(), settings, T0 + 10, T0 + 20)
    assert empty.queues == [] and empty.total["service_level_pct"] is None


def test_agent_states_follow_the_call_and_pauses(engine):
    apply(engine, [Event(T0, K.AGENT_JOINED_QUEUE, agent="Ann", queue="sales")])
    assert agent(engine, "Ann").state == "available"
    apply(engine, [Event(T0 + 1, K.CALL_ENTERED, "c1", "sales"), Event(T0 + 2, K.CALL_RINGING, "c1", "sales", "Ann")])
    assert agent(engine, "Ann").state == "ringing"
    apply(engine, [Event(T0 + 5, K.CALL_ANSWERED, "c1", "sales", "Ann", wait_seconds=4)])
    on_call = agent(engine, "Ann")
    assert (on_call.state, on_call.current_queue, on_call.state_since) == ("on_call", "sales", T0 + 5)
    # Paused mid-call: shows once the call is over.
    apply(engine, [Event(T0 + 50, K.AGENT_PAUSED, agent="Ann", reason="lunch")])
    assert agent(engine, "Ann").state == "on_call"
    apply(engine, [Event(T0 + 100, K.CALL_ENDED, "c1", "sales", "Ann", talk_seconds=95, reason="agent")])
    paused = agent(engine, "Ann")
    assert (paused.state, paused.pause_reason) == ("paused", "lunch")
    apply(engine, [Event(T0 + 200, K.AGENT_UNPAUSED, agent="Ann")])
    assert agent(engine, "Ann").state == "available"
    apply(engine, [Event(T0 + 300, K.AGENT_LEFT_QUEUE, agent="Ann", queue="sales")])
    assert agent(engine, "Ann").state == "logged_out"


def test_wrap_up_when_the_feed_reports_it(engine, settings):
    events = answered_call("c1", agent="Ann", talk=100) + [Event(T0 + 140, K.AGENT_WRAPUP_ENDED, "c1", "sales", "Ann")]
    apply(engine, events[:3], tracks_wrap_up=True)
    assert agent(engine, "Ann").state == "wrap_up"
    apply(engine, events[3:], tracks_wrap_up=True)
    assert agent(engine, "Ann").state == "available"
    assert calls(engine)["c1"].wrap_seconds == 30
    assert report(engine, settings).total["aht_seconds"] == 130


def test_agent_report_time_in_state_and_pause_reasons(engine):
    apply(
        engine,
        [
            Event(T0, K.AGENT_LOGGED_IN, agent="Ann"),
            Event(T0 + 100, K.AGENT_PAUSED, agent="Ann", reason="break"),
            Event(T0 + 400, K.AGENT_UNPAUSED, agent="Ann"),
            Event(T0 + 1000, K.AGENT_LOGGED_OUT, agent="Ann"),
        ],
    )
    with engine.connect() as connection:
        (row,) = agent_report(connection, T0, T0 + 2000, now=T0 + 5000)
    assert row["states"] == {"available": 700.0, "paused": 300.0, "logged_out": 1000.0}
    assert row["pause_reasons"] == {"break": 300.0}
    with engine.connect() as connection:
        (clipped,) = agent_report(connection, T0 + 200, T0 + 500, now=T0 + 5000)
    assert clipped["states"] == {"paused": 200.0, "available": 100.0}


def test_state_history_is_append_only_rows(engine):
    apply(
        engine, [Event(T0, K.AGENT_LOGGED_IN, agent="Ann"), Event(T0 + 10, K.AGENT_PAUSED, agent="Ann", reason="break")]
    )
    apply(engine, [Event(T0 + 20, K.AGENT_PAUSED, agent="Ann", reason="break")])  # repeated: no new row
    with engine.connect() as connection:
        rows = connection.execute(select(AgentStateChange.__table__).order_by("id")).all()
    assert [(r.state, r.pause_reason) for r in rows] == [("available", None), ("paused", "break")]


def test_every_kind_of_event_has_its_handler():
    from wallboard.calls.events import EventKind
    from wallboard.store.applier import _HANDLERS

    assert set(_HANDLERS) == set(EventKind)


def test_state_changes_are_stored_in_order_with_and_without_pause_reasons(engine, settings):
    # On SQLite a change without a pause reason is written without that column, in runs of
    # one width: the rows, their reasons and their order (the id breaks a tie of one time,
    # store/metrics.py) must come out as applied.
    apply(
        engine,
        [
            Event(T0, K.AGENT_JOINED_QUEUE, None, "sales", "Ann"),
            Event(T0, K.AGENT_JOINED_QUEUE, None, "sales", "Bob"),
            Event(T0 + 1, K.AGENT_PAUSED, agent="Ann", reason="break"),
            Event(T0 + 1, K.AGENT_UNPAUSED, agent="Ann"),
            Event(T0 + 1, K.AGENT_PAUSED, agent="Bob"),
            Event(T0 + 1, K.AGENT_PAUSED, agent="Ann", reason="lunch"),
            Event(T0 + 2, K.AGENT_PAUSED, agent="Ann"),
        ],
    )
    with engine.connect() as connection:
        rows = connection.execute(select(AgentStateChange.__table__).order_by(AgentStateChange.__table__.c.id)).all()
    assert [(r.agent, r.at - T0, r.state, r.pause_reason) for r in rows] == [
        ("Ann", 0, "available", None),
        ("Bob", 0, "available", None),
        ("Ann", 1, "paused", "break"),
        ("Ann", 1, "available", None),
        ("Bob", 1, "paused", None),
        ("Ann", 1, "paused", "lunch"),
        ("Ann", 2, "paused", None),
    ]
