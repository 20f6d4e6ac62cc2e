"""Alerts with a life: raised, cleared, acknowledged; kept by one writer, read by every board.

The pure rules (`reconcile`, `with_life`) with a controlled clock, then the alert log on a
real migrated SQLite file (wallboard/store/alert_log.py, tickets/alert_acks.py).
"""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from db.engine import write_transaction
from tests.support.floor_seed import NOW, at, seed_floor
from tickets import users
from tickets.alert_acks import acknowledge_alerts
from tickets.errors import PermissionDenied
from wallboard.calls.alerts import Alert, AlertRecord, format_minutes, reconcile, with_life
from wallboard.calls.board import format_clock
from wallboard.calls.levels import ALERT, WARN
from wallboard.store.alert_log import ALERT_LOG, AlertKeeper, alerts_of_day
from wallboard.store.board_reader import read_board


def alert(kind: str, queue: str, level: str = ALERT, began: float | None = None) -> Alert:
    return Alert((kind, queue), kind, level, queue, None, f"{queue}: {kind}", began)


def record(id: int, kind: str, queue: str, raised: float, **life: object) -> AlertRecord:
    return AlertRecord(id, f"{kind}|{queue}", kind, ALERT, queue, None, f"{queue}: {kind}", raised, **life)  # type: ignore[arg-type]


# -- the rules, with a controlled clock ----------------------------------------------


def test_reconcile_raises_the_new_clears_the_gone_and_keeps_the_rest():
    open_records = [record(1, "no_agent", "sales", 100.0), record(2, "sl_below", "billing", 50.0)]
    now = [alert("no_agent", "sales"), alert("sl_below", "billing", WARN), alert("long_wait", "vip", began=180.0)]
    changes = reconcile(open_records[:1], now)
    assert [a.key_text for a in changes.raised] == ["sl_below|billing", "long_wait|vip"]
    assert changes.cleared == () and changes.relevelled == ()
    changes = reconcile(open_records, now[:2])
    assert not changes.raised and changes.relevelled == ((2, WARN, "billing: sl_below"),)
    assert reconcile(open_records, now[1:2]).cleared == (1,)
    assert not reconcile(open_records, [alert("no_agent", "sales"), alert("sl_below", "billing")])


def test_with_life_dates_from_the_log_and_keeps_the_cleared_a_while():
    records = [
        record(1, "no_agent", "sales", 1000.0, acknowledged_by="maria", acknowledged_at=1100.0),
        record(2, "sl_below", "billing", 400.0, cleared_at=1150.0),
        record(3, "long_wait", "vip", 100.0, cleared_at=200.0),  # cleared long ago
    ]
    live, cleared = with_life([alert("no_agent", "sales"), alert("long_call", "x", began=900.0)], records, 1200.0, 120)
    sales = live[0]
    assert (sales.began, sales.record_id, sales.acknowledged_by) == (1000.0, 1, "maria")
    assert live[1].began == 900.0 and live[1].record_id is None  # not logged yet: the data's own date
    assert [(a.key_text, a.cleared_at) for a in cleared] == [("sl_below|billing", 1150.0)]
    assert cleared[0].duration_label(1200.0) == "lasted 12 min"
    assert sales.duration_label(1000.0 + 12 * 60 + 5) == "for 12 min"
    # Past the linger time the cleared alert leaves the strip; one that is on again is not "cleared".
    assert with_life([], records, 1150.0 + 121, 120)[1] == ()
    assert with_life([alert("sl_below", "billing")], records, 1200.0, 120)[1] == ()


def test_since_and_for_read_as_words(settings):
    on = alert("no_agent", "sales", began=at(19, 41))
    clock = lambda ts: format_clock(ts, settings, seconds=False)  # noqa: E731
    assert on.since_label(clock) == "since 19:41"
    assert [format_minutes(s) for s in (40, 12 * 60 + 59, 65 * 60)] == ["<1 min", "12 min", "1 h 05 min"]


# -- the log on the database ----------------------------------------------------------


@pytest.fixture
def floor(engine, settings):
    seed_floor(engine, settings)
    return engine


def test_the_keeper_raises_each_alert_once_and_every_board_reads_its_life(floor, settings):
    keeper = AlertKeeper(floor, settings)
    raised = keeper.keep(NOW)
    assert len(raised.raised) == 5
    assert not keeper.keep(NOW + 1)  # nothing new: nothing written
    assert not AlertKeeper(floor, settings).keep(NOW + 2)  # a second writer raises nothing twice
    with floor.connect() as connection:
        board = read_board(connection, settings, NOW + 30)
    began = {a.key_text: a.began for a in board.alerts}
    assert began["long_wait|sales"] == at(13, 59, 30)  # when the wait crossed the limit
    assert began["no_agent|support"] == NOW  # when the writer first saw it
    assert all(a.record_id is not None for a in board.alerts)
    # Two writers racing: the database itself refuses a second open row for one condition.
    with pytest.raises(IntegrityError), write_transaction(floor) as connection:
        row = {"alert_key": "no_agent|support", "kind": "no_agent", "level": ALERT, "text": "x", "raised_at": NOW}
        connection.execute(insert(ALERT_LOG), [row])


def test_a_cleared_alert_stays_a_while_then_only_the_history_has_it(floor, settings):
    AlertKeeper(floor, settings).keep(NOW)
    patient = copy.deepcopy(settings)
    patient.thresholds.long_call_minutes = 600  # Maria's call is no longer too long
    assert len(AlertKeeper(floor, patient).keep(NOW + 30).cleared) == 1
    with floor.connect() as connection:
        soon = read_board(connection, patient, NOW + 40)
        later = read_board(connection, patient, NOW + 30 + settings.board.cleared_alert_seconds + 1)
        history = alerts_of_day(connection, settings, NOW + 600)
    assert [(a.kind, a.cleared_at) for a in soon.cleared_alerts] == [("long_call", NOW + 30)]
    assert "long_call" not in {a.kind for a in soon.alerts}
    assert later.cleared_alerts == ()
    assert len(history) == 5 and {r.kind for r in history if r.cleared_at} == {"long_call"}


def test_only_a_supervisor_acknowledges_and_every_board_says_who(floor, settings):
    users.add_user(floor, "maria", "supervisor")
    users.add_user(floor, "ann", "agent")
    AlertKeeper(floor, settings).keep(NOW)
    with floor.connect() as connection:
        ids = [a.record_id for a in read_board(connection, settings, NOW).alerts]
    with pytest.raises(PermissionDenied, match="supervisors only"):
        acknowledge_alerts(floor, "ann", ids, NOW + 5)
    assert acknowledge_alerts(floor, "maria", ids[:2], NOW + 10) == 2
    assert acknowledge_alerts(floor, "maria", ids[:2], NOW + 11) == 0  # already acknowledged
    with floor.connect() as connection:
        board = read_board(connection, settings, NOW + 20)
    acknowledged = [(a.acknowledged_by, a.acknowledged_at) for a in board.alerts]
    assert acknowledged == [("maria", NOW + 10)] * 2 + [(None, None)] * 3


def test_retention_prunes_the_cleared_alerts_with_the_detail_and_keeps_those_still_on(floor, settings):
    from wallboard.store.retention import roll_up_and_prune

    AlertKeeper(floor, settings).keep(NOW)
    patient = copy.deepcopy(settings)
    patient.thresholds.long_call_minutes = 600
    AlertKeeper(floor, patient).keep(NOW + 30)
    settings.retention.detail_days = 1
    assert roll_up_and_prune(floor, settings, NOW + 3 * 86400) >= 1
    with floor.connect() as connection:
        left = alerts_of_day(connection, settings, NOW + 3 * 86400)
    assert len(left) == 4 and all(r.cleared_at is None for r in left)
