"""A call is one entry into one queue: re-entries counted, lines placed in their entry
whatever their order (docs/ARCHITECTURE.md, Metrics)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from db.engine import write_transaction
from db.models import Call
from tests.support import BACKENDS, on_backend
from wallboard.calls.board import evaluate
from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K
from wallboard.feeds.files import QueueLogIngest
from wallboard.feeds.queue_log import QueueLogParser
from wallboard.store.applier import EventApplier
from wallboard.store.board_reader import BoardReader
from wallboard.store.metrics import queue_report, refresh_snapshots


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


# The five lines: answered, then the same caller back in the same queue, abandoned.
TWICE_IN_ONE_QUEUE = [
    "1700000000|c1|q1|NONE|ENTERQUEUE||555|1",
    "1700000010|c1|q1|A/1|CONNECT|10|c1.2|2",
    "1700000100|c1|q1|A/1|COMPLETECALLER|10|90|1",
    "1700000200|c1|q1|NONE|ENTERQUEUE||555|1",
    "1700000230|c1|q1|NONE|ABANDON|1|1|30",
]
# The same day as a layout whose lines carry no durations: only the order of times tells.
WITHOUT_DURATIONS = [
    "1700000000|c1|q1|NONE|ENTERQUEUE||555|1",
    "1700000010|c1|q1|A/1|CONNECT||c1.2|",
    "1700000100|c1|q1|A/1|COMPLETECALLER|||1",
    "1700000200|c1|q1|NONE|ENTERQUEUE||555|1",
    "1700000230|c1|q1|NONE|ABANDON|1|1|",
]


def apply_lines(engine, lines, *, batch_size=None):
    parser = QueueLogParser()
    events = [event for line in lines if (event := parser.parse(line)) is not None]
    batches = (
        [events] if batch_size is None else [events[i : i + batch_size] for i in range(0, len(events), batch_size)]
    )
    for batch in batches:
        with write_transaction(engine) as connection:
            EventApplier().apply(connection, batch)


def q1(engine, settings) -> dict:
    with engine.connect() as connection:
        (row,) = queue_report(connection, settings, None, None).queues
    return row


def entries(engine):
    with engine.connect() as connection:
        rows = connection.execute(select(Call.__table__).order_by(Call.__table__.c.enter_at)).all()
    return [(r.enter_at, r.outcome, r.wait_seconds, r.talk_seconds) for r in rows]


T = 1_700_000_000.0
TRUTH = [(T, "completed", 10.0, 90.0), (T + 200, "abandoned", 30.0, None)]


def test_a_second_entry_into_the_same_queue_is_a_second_call(engine, settings, tmp_path):
    log = tmp_path / "queue_log"
    log.write_text("\n".join(TWICE_IN_ONE_QUEUE) + "\n")
    summary = QueueLogIngest(engine, settings, str(log)).run()
    assert summary.events_applied == 5
    figures = q1(engine, settings)
    assert (figures["offered"], figures["answered"], figures["abandoned"]) == (2, 1, 1)
    assert figures["service_level_pct"] == 50.0 and figures["asa_seconds"] == 10.0
    assert entries(engine) == TRUTH


def test_repeated_lines_and_a_re_run_change_nothing(engine, settings):
    apply_lines(engine, TWICE_IN_ONE_QUEUE + TWICE_IN_ONE_QUEUE)
    apply_lines(engine, TWICE_IN_ONE_QUEUE, batch_size=1)
    assert entries(engine) == TRUTH


@pytest.mark.parametrize("lines", [TWICE_IN_ONE_QUEUE, WITHOUT_DURATIONS], ids=["durations", "no-durations"])
@pytest.mark.parametrize("batch_size", [None, 1, 2])
def test_every_order_of_the_lines_gives_the_same_calls(engine, settings, lines, batch_size):
    """All 120 orders, in one batch and spread over batches (as a shuffled file or a late
    line in a followed file arrives)."""
    for order in itertools.permutations(lines):
        with write_transaction(engine) as connection:
            connection.execute(Call.__table__.delete())
        apply_lines(engine, order, batch_size=batch_size)
        assert entries(engine) == TRUTH, order


def test_a_call_transferred_to_another_queue_is_answered_in_the_first_and_new_in_the_second(engine, settings):
    apply_lines(
        engine,
        [
            "1700000000|c1|sales|NONE|ENTERQUEUE||555|1",
            "1700000005|c1|sales|A/1|CONNECT|5|c1.2|1",
            "1700000065|c1|sales|A/1|BLINDTRANSFER|700|from-internal|5|60",
            "1700000066|c1|support|NONE|ENTERQUEUE||555|1",
            "1700000080|c1|support|B/2|CONNECT|14|c1.9|1",
            "1700000200|c1|support|B/2|COMPLETEAGENT|14|120|1",
        ],
    )
    with engine.connect() as connection:
        report = {row["queue"]: row for row in queue_report(connection, settings, None, None).queues}
    assert (report["sales"]["offered"], report["sales"]["answered"]) == (1, 1)
    assert (report["support"]["offered"], report["support"]["answered"]) == (1, 1)
    assert [e[1] for e in entries(engine)] == ["transferred", "completed"]


def test_a_dialplan_loop_back_into_the_queue_after_a_timeout_is_counted_each_time(engine, settings):
    apply_lines(
        engine,
        [
            "1700000000|c1|q1|NONE|ENTERQUEUE||555|1",
            "1700000060|c1|q1|NONE|EXITWITHTIMEOUT|1|1|60",
            "1700000065|c1|q1|NONE|ENTERQUEUE||555|1",
            "1700000125|c1|q1|NONE|EXITWITHTIMEOUT|1|1|60",
            "1700000130|c1|q1|NONE|ENTERQUEUE||555|1",
            "1700000140|c1|q1|A/1|CONNECT|10|c1.2|2",
            "1700000200|c1|q1|A/1|COMPLETECALLER|10|60|1",
        ],
    )
    figures = q1(engine, settings)
    assert (figures["offered"], figures["answered"], figures["exited"]) == (3, 1, 2)
    assert [e[1] for e in entries(engine)] == ["timeout", "timeout", "completed"]


def blocked_day():
    return [
        Event(T, K.CALL_BLOCKED, "b1", "q1", caller="555", reason="full"),
        Event(T + 5, K.CALL_BLOCKED, "b2", "q1", caller="556", reason="joinempty"),
        Event(T + 6, K.CALL_BLOCKED, "b3", "q1", caller="557", reason="full"),
        Event(T + 10, K.CALL_ENTERED, "c1", "q1", caller="558", position=1),
        Event(T + 20, K.CALL_ANSWERED, "c1", "q1", "Ann", wait_seconds=10),
    ]


def test_callers_a_queue_refused_are_counted_blocked_apart_from_offered(engine, settings):
    for _ in range(2):  # the same lines twice: nothing doubles
        with write_transaction(engine) as connection:
            EventApplier().apply(connection, blocked_day())
    with engine.connect() as connection:
        report = queue_report(connection, settings, None, None)
    (figures,) = report.queues
    assert (figures["offered"], figures["answered"], figures["blocked"]) == (1, 1, 3)
    assert figures["service_level_pct"] == 100.0 and figures["abandon_rate_pct"] == 0.0
    assert report.blocked_by_reason == {"q1": {"full": 2, "joinempty": 1}}
    assert report.total["blocked"] == 3


def test_a_site_may_count_blocked_callers_as_offered(engine, settings):
    settings.metrics.blocked_in_offered = True
    with write_transaction(engine) as connection:
        EventApplier().apply(connection, blocked_day())
    (figures,) = q1_report(engine, settings)
    assert (figures["offered"], figures["answered"], figures["blocked"], figures["service_level_pct"]) == (
        4,
        1,
        3,
        25.0,
    )


def test_the_board_shows_todays_blocked_callers(engine, settings):
    with write_transaction(engine) as connection:
        EventApplier().apply(connection, blocked_day())
        refresh_snapshots(connection, settings, T + 30)
    rows, _ = BoardReader(engine, settings).read(T + 30, False)
    state = evaluate(rows, settings, T + 30)
    assert [(tile.queue, tile.blocked, tile.offered) for tile in state.tiles] == [("q1", 3, 1)]
    assert state.total.blocked == 3


def q1_report(engine, settings):
    with engine.connect() as connection:
        return queue_report(connection, settings, None, None).queues
