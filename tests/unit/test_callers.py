"""Callers: the flag (agent raises, supervisor confirms or clears, history kept, permissions
in the service), the waiting list's markers from queue_log lines, masking, and the agent's
view of the caller they are on."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from sqlalchemy import event

from tests.support import BACKENDS, on_backend
from tests.support.callers_seed import AGENT, COMPLAINER, FLAGGED, LONG, REPEAT, write_callers_queue_log
from tickets import users
from tickets.callbacks import CallbackIntake
from tickets.caller_records import CLEARED, CONFIRMED
from tickets.caller_records import FLAGGED as FLAG_STATUS
from tickets.callers import CallerService
from tickets.errors import InvalidInput, NotFound, PermissionDenied
from tickets.service import ComplaintService
from tickets.user_desk import UserDesk
from wallboard.calls.levels import ALERT, WARN
from wallboard.calls.waiting import mask_caller, ordinal
from wallboard.config import Settings
from wallboard.feeds.files import QueueLogIngest
from wallboard.store.board_reader import read_board
from wallboard.store.waiting import MarksCache, read_waiting


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


@pytest.fixture
def people(engine):
    users.add_user(engine, "ann", "agent")
    users.add_user(engine, "bob", "agent")
    users.add_user(engine, "sue", "supervisor")
    users.add_user(engine, "wall", "display")


@pytest.fixture
def floor(engine, settings, people, tmp_path):
    """The callers' queue_log ingested; returns the moment it was written for."""
    now = time.time()
    QueueLogIngest(engine, settings, write_callers_queue_log(tmp_path / "queue_log", now)).run()
    return now


def test_agent_flags_supervisor_confirms_then_clears_with_history(engine, settings, people):
    callers = CallerService(engine, settings)
    flagged = callers.flag(FLAGGED, "ann", reason="Shouted and threatened the agent")
    assert (flagged.status, flagged.flagged_by, flagged.decided_by) == (FLAG_STATUS, "ann", None)
    with pytest.raises(InvalidInput, match="already flagged"):
        callers.flag(FLAGGED, "bob", reason="again")
    with pytest.raises(PermissionDenied, match=r"ann \(agent\) may not confirm caller flags: supervisors only"):
        callers.confirm(FLAGGED, "ann")
    with pytest.raises(PermissionDenied, match="supervisors only"):
        callers.clear(FLAGGED, "bob", note="nah")
    confirmed = callers.confirm(FLAGGED, "sue", note="heard the recording")
    assert (confirmed.status, confirmed.decided_by) == (CONFIRMED, "sue")
    cleared = callers.clear(FLAGGED, "sue", note="apologised in writing")
    assert cleared.status == CLEARED and not cleared.active
    assert [(e.action, e.actor, e.status) for e in cleared.history] == [
        ("flag", "ann", FLAG_STATUS),
        ("confirm", "sue", CONFIRMED),
        ("clear", "sue", CLEARED),
    ]
    assert callers.flags() == []
    (listed,) = callers.flags(include_cleared=True)
    assert [e.note for e in listed.history] == [
        "Shouted and threatened the agent",
        "heard the recording",
        "apologised in writing",
    ]
    # Cleared, it may be flagged again; a supervisor's flag stands confirmed at once.
    again = callers.flag(FLAGGED, "sue", reason="Abusive again")
    assert (again.status, len(again.history)) == (CONFIRMED, 4)


def test_flag_refusals(engine, settings, people):
    callers = CallerService(engine, settings)
    with pytest.raises(PermissionDenied, match="display user"):
        callers.flag(FLAGGED, "wall", reason="no")
    with pytest.raises(InvalidInput, match="names no caller"):
        callers.flag("anonymous", "ann", reason="x")
    with pytest.raises(InvalidInput, match="reason is empty"):
        callers.flag(FLAGGED, "ann", reason="  \x1b[2J ")
    with pytest.raises(NotFound, match="is not flagged"):
        callers.confirm(FLAGGED, "sue")
    callers.flag(FLAGGED, "sue", reason="r")
    with pytest.raises(InvalidInput, match="already confirmed"):
        callers.confirm(FLAGGED, "sue")


def test_waiting_callers_from_queue_log_lines(engine, settings, floor):
    complaints = ComplaintService(engine, settings)
    complaint = complaints.create(
        "ann",
        customer="Li Na",
        contact=COMPLAINER,
        subject="Charged twice",
        description="d",
        severity="high",
        caller_number=COMPLAINER,
    )
    CallerService(engine, settings).flag(REPEAT, "bob", reason="Swore at bob")
    with engine.connect() as connection:
        board = read_board(connection, settings, floor)
    rows = {w.callid: w for w in board.waiting}
    assert list(rows) == ["2.1", "2.2", "2.3", "2.4", "2.5"]  # longest wait first
    assert [(w.queue, w.position) for w in board.waiting] == [
        ("support", 1),
        ("sales", 1),
        ("support", 2),
        ("support", 3),
        ("sales", 2),
    ]
    assert rows["2.1"].wait_seconds == pytest.approx(75, abs=1.5)
    repeat = rows["2.1"]
    assert (repeat.caller, repeat.calls_in_window, repeat.repeat) == ("138****5678", 2, True)
    assert (repeat.flag_status, repeat.flag_reason, repeat.level) == (FLAG_STATUS, "Swore at bob", ALERT)
    assert repeat.markers() == ["flagged?", "2nd call"]
    complainer = rows["2.2"]
    assert (complainer.urgent_ref, complainer.urgent_state, complainer.open_complaints) == (complaint.ref, "open", 1)
    assert complainer.markers() == ["2nd call", f"{complaint.ref} open"]
    assert complainer.level == WARN
    # A 5,000-digit caller ID (cut by the feed) is masked to a short cell; withheld stays withheld.
    assert rows["2.4"].caller == "999" + "*" * 8 + "9999"
    assert rows["2.5"].caller == "withheld" and rows["2.5"].markers() == []
    assert "\x1b" not in rows["2.3"].caller
    # The filter keeps the waiting callers of the queues it selects.
    assert {w.queue for w in board.filtered("sales").waiting} == {"sales"}


def test_an_overdue_complaint_and_a_complaint_flag_mark_the_caller(engine, settings, floor):
    complaints = ComplaintService(engine, settings, clock=lambda: floor - 30 * 86400)
    old = complaints.create(
        "ann", customer="Li", contact="x", subject="s", description="d", severity="critical", caller_number=COMPLAINER
    )
    ComplaintService(engine, settings).flag_malicious(old.ref, "sue", reason="Fraud attempt")
    (marks,) = CallerService(engine, settings).marks([COMPLAINER], now=floor).values()
    assert marks.most_urgent is not None and marks.most_urgent.due_state(floor) == "overdue"
    assert (marks.flag.status, marks.flag.reason, marks.flag.source) == (CONFIRMED, "Fraud attempt", old.ref)
    (listed,) = CallerService(engine, settings).flags()
    assert listed.source == old.ref and [e.action for e in listed.history] == ["flag_malicious"]


def test_repeat_threshold_and_window_are_configurable(engine, settings, floor):
    strict = replace(settings, callers=replace(settings.callers, repeat_calls=3))
    with engine.connect() as connection:
        assert not any(w.repeat for w in read_board(connection, strict, floor).waiting)
    short = replace(settings, callers=replace(settings.callers, repeat_window_hours=1))
    with engine.connect() as connection:
        assert not any(w.repeat for w in read_board(connection, short, floor).waiting)


def test_masking():
    settings = Settings()
    assert mask_caller("13800135678", settings) == "138****5678"
    assert mask_caller(None, settings) == "withheld"
    assert mask_caller("Anonymous", settings) == "withheld"
    assert mask_caller("1234", settings) == "***4"
    assert mask_caller(LONG[:80], settings) == "999********9999"
    whole = replace(settings, callers=replace(settings.callers, mask_keep_first=0, mask_keep_last=0))
    assert mask_caller("13800135678", whole) == "13800135678"
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "111th"
    ]  # fmt: skip


def test_the_agent_sees_the_caller_they_are_on(engine, settings, floor):
    CallerService(engine, settings).flag(FLAGGED, "bob", reason="Threatened bob last week")
    complaints = ComplaintService(engine, settings)
    open_one = complaints.create(
        "bob", customer="X", contact=FLAGGED, subject="Late refund", description="d", caller_number=FLAGGED
    )
    view = UserDesk(engine, settings, AGENT).caller_on_call()
    assert view is not None and view.call.caller == FLAGGED and view.call.current
    assert view.flagged and view.flags[0].reason == "Threatened bob last week"
    assert [c.callid for c in view.recent_calls] == ["1.3"]
    assert [c.ref for c in view.open_complaints] == [open_one.ref]
    assert view.callbacks == () and view.calls_in_window == 2
    # The new-complaint form of that call names the caller's flag too (not only complaint flags).
    call, flags = UserDesk(engine, settings, AGENT).call_for_new_complaint()
    assert call.callid == "2.0" and [(f.status, f.reason) for f in flags] == [(FLAG_STATUS, "Threatened bob last week")]
    # bob is on no call; a display user may not ask.
    assert UserDesk(engine, settings, "bob").caller_on_call() is None
    with pytest.raises(PermissionDenied):
        UserDesk(engine, settings, "wall").caller_on_call()


def test_the_boards_reader_keeps_markers_a_while(engine, settings, floor):
    cache = MarksCache(max_age=15)
    with engine.connect() as connection:
        first = {w.caller: w for w in read_waiting(connection, settings, floor, cache)}
    assert first[COMPLAINER].marks.flag is None
    CallerService(engine, settings).flag(COMPLAINER, "sue", reason="Abusive to bob")
    selects = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().lower().startswith("select"):
            selects.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as connection:
            kept = {w.caller: w for w in read_waiting(connection, settings, floor + 5, cache)}
        assert len(selects) == 1, "only the open calls: every caller's markers are kept"
        assert kept[COMPLAINER].marks.flag is None
        with engine.connect() as connection:
            aged = {w.caller: w for w in read_waiting(connection, settings, floor + 16, cache)}
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert aged[COMPLAINER].marks.flag.reason == "Abusive to bob"
    assert aged[REPEAT].marks.calls_in_window == 2


def test_a_waiting_caller_with_an_open_call_back_is_marked(engine, settings, people, tmp_path):
    # They hung up after two minutes this morning (a call-back is owed), and are waiting again.
    t = int(time.time())
    caller = "+15550003333"
    lines = [
        f"{t - 3000}|3.1|support|NONE|ENTERQUEUE||{caller}|1",
        f"{t - 2880}|3.1|support|NONE|ABANDON|1|1|120",
        f"{t - 20}|3.2|support|NONE|ENTERQUEUE||{caller}|1",
    ]
    (tmp_path / "queue_log").write_text("".join(line + "\n" for line in lines))
    QueueLogIngest(engine, settings, tmp_path / "queue_log").run()
    CallbackIntake(engine, settings).run()
    with engine.connect() as connection:
        (waiting,) = read_board(connection, settings, t).waiting
    assert waiting.open_callbacks == 1
    assert "1 call-back" in waiting.markers()


def test_the_agent_sees_the_callers_open_call_back(engine, settings, people, tmp_path):
    # They hung up waiting this morning (a call-back is owed); ann answers their next call
    # before the intake has seen it (it closes the request as "got through" then).
    t = int(time.time())
    caller = "+15550004444"
    log = tmp_path / "queue_log"
    log.write_text(
        f"{t - 7200}|NONE|support|{AGENT}|ADDMEMBER|\n"
        f"{t - 3000}|4.1|support|NONE|ENTERQUEUE||{caller}|1\n"
        f"{t - 2880}|4.1|support|NONE|ABANDON|1|1|120\n"
    )
    QueueLogIngest(engine, settings, log).run()
    CallbackIntake(engine, settings).run()
    with log.open("a") as more:
        more.write(
            f"{t - 40}|4.2|support|NONE|ENTERQUEUE||{caller}|1\n{t - 30}|4.2|support|{AGENT}|CONNECT|10|4.2a|3\n"
        )
    QueueLogIngest(engine, settings, log).run()
    view = UserDesk(engine, settings, AGENT).caller_on_call()
    assert view is not None and view.call.caller == caller
    (callback,) = view.callbacks
    assert (callback.caller_number, callback.status, callback.owner) == (caller, "open", None)
