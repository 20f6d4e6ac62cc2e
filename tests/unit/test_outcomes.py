"""The complaint outcome report (tickets/outcomes.py) against figures worked out by hand for
a small fixed week of complaints, follow-ups and calls, on SQLite and PostgreSQL.

Business hours are the defaults (Monday to Friday 08:00-18:00, Europe/London); SLA targets
the defaults (normal: acknowledge in 4 h, resolve in 40 h; high 2 h / 16 h; low 8 h / 80 h;
critical 1 h / 8 h). docs/OUTCOMES.md defines every figure.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from db.engine import write_transaction
from db.models import Call
from tests.support import BACKENDS, Clock, on_backend
from tickets import users
from tickets.outcomes import OutcomeReport, outcome_report, percentile
from tickets.service import ComplaintService

LONDON = ZoneInfo("Europe/London")
HOUR = 3600.0


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> float:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON).timestamp()


START, END = at(23, 0), at(30, 0)  # Monday 23 to Monday 30 November (ISO week 48)
NOW = at(2, 12, month=12)  # judged on Wednesday 2 December, noon


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    settings = on_backend(request, settings)
    settings.site.timezone = "Europe/London"
    return settings


def _calls(engine) -> None:
    def call(callid, queue, agent, enter_at, answered=True):
        return dict(
            callid=callid,
            queue=queue,
            agent=agent,
            enter_at=enter_at,
            answer_at=enter_at + 30 if answered else None,
            outcome="completed" if answered else "abandoned",
        )

    with write_transaction(engine) as connection:
        connection.execute(
            Call.__table__.insert(),
            [
                call("b1", "billing", "Ann Agent", at(23, 8, 55)),
                call("b2", "billing", "Ann Agent", at(23, 10, 55)),
                call("b3", "billing", "Carl Agent", at(29, 11, 55)),
                call("b4", "billing", "Carl Agent", at(24, 10)),
                call("b5", "billing", None, at(24, 11), answered=False),
                # t1 timed out in billing, then was answered in sales: its complaint is sales'.
                call("t1", "billing", None, at(25, 8, 50), answered=False),
                call("t1", "sales", "Carl Agent", at(25, 8, 52)),
                call("s2", "sales", "Ann Agent", at(26, 10)),
                call("s1", "sales", "Ann Agent", at(20, 9, 55)),  # before the window
            ],
        )


def _complaint(svc, clock, when, actor, **fields):
    clock.now = when
    values = dict(customer="Mrs Jones", contact="+44 20 7946 0000", subject="Refund", description="Late.")
    values.update(fields)
    return svc.create(actor, **values).ref


def _do(svc, clock, when, method, ref, actor, **options):
    clock.now = when
    return getattr(svc, method)(ref, actor, **options)


def _follow_up(svc, clock, when, ref, due_at):
    return _do(svc, clock, when, "add_follow_up", ref, "sue", due_at=due_at, note="Call back").follow_ups[-1].id


def _outcome(svc, clock, when, ref, follow_up_id, outcome="done", **options):
    clock.now = when
    return svc.record_outcome(ref, follow_up_id, "sue", outcome=outcome, note="x", **options)


@pytest.fixture
def seeded(engine, settings):
    """The week: complaints A to F received in it, G before it (its promise falls due in it),
    H at the window's end (outside it)."""
    for name, role in (("ann", "agent"), ("carl", "agent"), ("sue", "supervisor")):
        users.add_user(engine, name, role)
    _calls(engine)
    clock = Clock(START)
    svc = ComplaintService(engine, settings, clock)
    resolve = dict(resolution="Refunded")

    # A: billing (b1), acknowledged in 1 h; resolved Tue 10:00, reopened a day later, resolved
    # again Thu 10:00: 31 business hours less 10 resolved = 21 h, on time. Promise kept on time.
    a = _complaint(svc, clock, at(23, 9), "ann", severity="normal", callid="b1", category="refund")
    _do(svc, clock, at(23, 10), "acknowledge", a, "ann")
    _do(svc, clock, at(23, 10), "start", a, "ann")
    promise = _follow_up(svc, clock, at(23, 10), a, at(23, 15))
    _outcome(svc, clock, at(23, 14), a, promise)
    _do(svc, clock, at(24, 10), "resolve", a, "ann", root_cause="process", **resolve)
    _do(svc, clock, at(25, 10), "reopen", a, "ann", note="Short by 5 pounds")
    _do(svc, clock, at(25, 10), "start", a, "ann")
    _do(svc, clock, at(26, 10), "resolve", a, "ann", root_cause="process", **resolve)

    # B: billing (b2), high: acknowledged 3 h after (due in 2: late); waiting from Mon 16:00 and
    # resolved from waiting Wed 10:00: 5 business hours used, on time. Escalated to manager,
    # then back to supervisor. Promise kept an hour late.
    b = _complaint(svc, clock, at(23, 11), "ann", severity="high", callid="b2", category="billing error")
    _do(svc, clock, at(23, 14), "acknowledge", b, "ann")
    _do(svc, clock, at(23, 14), "start", b, "ann")
    promise = _follow_up(svc, clock, at(23, 14), b, at(24, 10))
    _do(svc, clock, at(23, 16), "wait", b, "ann")
    clock.now = at(23, 16, 30)
    svc.escalate(b, 2, actor="sue", note="Customer went to the press")
    svc.escalate(b, 1, actor="sue", note="Calmer now")
    _outcome(svc, clock, at(24, 11), b, promise)
    _do(svc, clock, at(25, 10), "resolve", b, "ann", root_cause="system", **resolve)

    # C: by e-mail, no call; never acknowledged, never resolved (73 business hours by now),
    # escalated to supervisor; its promise never kept.
    c = _complaint(svc, clock, at(24, 9), "sue", severity="normal", channel="email", category="refund", owner="carl")
    _follow_up(svc, clock, at(24, 9, 30), c, at(24, 16))
    clock.now = at(24, 15)
    svc.escalate(c, 1, actor="sue", note="No answer from Carl")

    # D: sales (t1, after billing), acknowledged in 30 min, resolved in 3 h, closed. Its promise
    # moved before it was due (not judged), the new one kept on time.
    d = _complaint(svc, clock, at(25, 9), "carl", severity="normal", callid="t1", category="rude agent")
    _do(svc, clock, at(25, 9, 30), "acknowledge", d, "carl")
    _do(svc, clock, at(25, 9, 30), "start", d, "carl")
    promise = _follow_up(svc, clock, at(25, 9, 30), d, at(25, 11))
    moved = _outcome(svc, clock, at(25, 10), d, promise, outcome="rescheduled", new_due_at=at(26, 11))
    _outcome(svc, clock, at(25, 11, 30), d, moved.follow_ups[-1].id)
    _do(svc, clock, at(25, 12), "resolve", d, "carl", root_cause="agent", **resolve)
    _do(svc, clock, at(27, 10), "close", d, "carl", confirmed=True)

    # E: the call "gone" is not in the call data (unlinked); typed in as billing. Low: not
    # acknowledged by Fri 15:00 (late); 35 of 80 h used by now (not judged yet).
    _complaint(svc, clock, at(26, 17), "ann", severity="low", callid="gone", call_queue="billing")

    # F: billing (b3), critical, on a Sunday: acknowledged Mon 08:30 (30 business minutes, on
    # time), resolved Mon 17:00 after 9 h of 8: late.
    f = _complaint(svc, clock, at(29, 12), "carl", severity="critical", callid="b3", category="refund")
    _do(svc, clock, at(30, 8, 30), "acknowledge", f, "carl")
    _do(svc, clock, at(30, 8, 30), "start", f, "carl")
    _do(svc, clock, at(30, 17), "resolve", f, "carl", root_cause="process", **resolve)

    # G: received before the window (sales, s1); its promise, due Mon 12:00, kept at 11:00.
    g = _complaint(svc, clock, at(20, 10), "ann", severity="normal", callid="s1")
    promise = _follow_up(svc, clock, at(20, 10, 30), g, at(23, 12))
    _outcome(svc, clock, at(23, 11), g, promise)

    # H: received at the window's end: outside it.
    _complaint(svc, clock, END, "ann", severity="normal", callid="b1")
    return engine


def _report(seeded, settings, by) -> OutcomeReport:
    return outcome_report(seeded, settings, START, END, NOW, by)


def _figures(report: OutcomeReport) -> dict[str, dict]:
    return {g.group: g.as_dict() for g in (*report.groups, report.total)}


# The week has no call-backs (test_callback_promises has them).
NO_CALLBACKS = dict(
    callbacks_due=0,
    callbacks_kept_on_time=0,
    callbacks_kept_on_time_pct=None,
    callbacks_kept_late=0,
    callbacks_missed=0,
    callbacks_settled=0,
)
BILLING = dict(
    received=4,
    ack_judged=4,
    ack_on_time=2,
    ack_on_time_pct=50.0,
    ack_median_seconds=1 * HOUR,
    ack_p90_seconds=3 * HOUR,
    resolve_judged=3,
    resolved_on_time=2,
    resolved_on_time_pct=66.67,
    resolve_median_seconds=9 * HOUR,
    resolve_p90_seconds=21 * HOUR,
    follow_ups_due=2,
    follow_ups_kept_on_time=1,
    follow_ups_kept_on_time_pct=50.0,
    follow_ups_kept_late=1,
    follow_ups_missed=0,
    follow_ups_moved=0,
    **NO_CALLBACKS,
    resolved_ever=3,
    reopened=1,
    reopened_pct=33.33,
    escalated_supervisor=0,
    escalated_manager=1,
    linked_to_call=3,
    unlinked=1,
    answered_calls=4,
    per_1000_answered=750.0,
)
SALES = dict(
    received=1,
    ack_judged=1,
    ack_on_time=1,
    ack_on_time_pct=100.0,
    ack_median_seconds=0.5 * HOUR,
    ack_p90_seconds=0.5 * HOUR,
    resolve_judged=1,
    resolved_on_time=1,
    resolved_on_time_pct=100.0,
    resolve_median_seconds=3 * HOUR,
    resolve_p90_seconds=3 * HOUR,
    follow_ups_due=2,
    follow_ups_kept_on_time=2,
    follow_ups_kept_on_time_pct=100.0,
    follow_ups_kept_late=0,
    follow_ups_missed=0,
    follow_ups_moved=1,
    **NO_CALLBACKS,
    resolved_ever=1,
    reopened=0,
    reopened_pct=0.0,
    escalated_supervisor=0,
    escalated_manager=0,
    linked_to_call=1,
    unlinked=0,
    answered_calls=2,
    per_1000_answered=500.0,
)
NO_QUEUE = dict(
    received=1,
    ack_judged=1,
    ack_on_time=0,
    ack_on_time_pct=0.0,
    ack_median_seconds=None,
    ack_p90_seconds=None,
    resolve_judged=1,
    resolved_on_time=0,
    resolved_on_time_pct=0.0,
    resolve_median_seconds=None,
    resolve_p90_seconds=None,
    follow_ups_due=1,
    follow_ups_kept_on_time=0,
    follow_ups_kept_on_time_pct=0.0,
    follow_ups_kept_late=0,
    follow_ups_missed=1,
    follow_ups_moved=0,
    **NO_CALLBACKS,
    resolved_ever=0,
    reopened=0,
    reopened_pct=None,
    escalated_supervisor=1,
    escalated_manager=0,
    linked_to_call=0,
    unlinked=1,
    answered_calls=0,
    per_1000_answered=None,
)
TOTAL = dict(
    received=6,
    ack_judged=6,
    ack_on_time=3,
    ack_on_time_pct=50.0,
    ack_median_seconds=0.5 * HOUR,  # of 0.5, 0.5, 1 and 3 h: the 2nd
    ack_p90_seconds=3 * HOUR,
    resolve_judged=5,
    resolved_on_time=3,
    resolved_on_time_pct=60.0,
    resolve_median_seconds=5 * HOUR,  # of 3, 5, 9 and 21 h
    resolve_p90_seconds=21 * HOUR,
    follow_ups_due=5,
    follow_ups_kept_on_time=3,
    follow_ups_kept_on_time_pct=60.0,
    follow_ups_kept_late=1,
    follow_ups_missed=1,
    follow_ups_moved=1,
    **NO_CALLBACKS,
    resolved_ever=4,
    reopened=1,
    reopened_pct=25.0,
    escalated_supervisor=1,
    escalated_manager=1,
    linked_to_call=4,
    unlinked=2,
    answered_calls=6,
    per_1000_answered=666.67,
)


def test_figures_by_queue_match_the_hand_computed_ones(seeded, settings):
    report = _report(seeded, settings, "queue")
    assert [g.group for g in report.groups] == ["billing", "sales", "(none)"]
    figures = _figures(report)
    assert figures["billing"] == {"group": "billing", **BILLING}
    assert figures["sales"] == {"group": "sales", **SALES}
    assert figures["(none)"] == {"group": "(none)", **NO_QUEUE}
    assert figures["total"] == {"group": "total", **TOTAL}


def test_complaints_per_thousand_answered_calls_by_agent(seeded, settings):
    figures = _figures(_report(seeded, settings, "agent"))
    assert {
        name: (f["received"], f["linked_to_call"], f["unlinked"], f["answered_calls"], f["per_1000_answered"])
        for name, f in figures.items()
    } == {
        "Ann Agent": (2, 2, 0, 3, 666.67),  # A (b1), B (b2); answered b1, b2, s2
        "Carl Agent": (2, 2, 0, 3, 666.67),  # D (t1 in sales), F (b3); answered b3, b4, t1
        "(none)": (2, 0, 2, 0, None),  # C (no call), E (a call the data does not know)
        "total": (6, 4, 2, 6, 666.67),
    }


def test_other_groupings(seeded, settings):
    by_owner = _figures(_report(seeded, settings, "owner"))
    assert {name: f["received"] for name, f in by_owner.items()} == {"ann": 3, "carl": 3, "total": 6}
    # Promises by the owner of their complaint: ann's A, B and G; carl's C and D.
    assert {name: f["follow_ups_due"] for name, f in by_owner.items()} == {"ann": 3, "carl": 2, "total": 5}
    # Calls are not counted for groups that answer none.
    assert by_owner["ann"]["answered_calls"] is None and by_owner["total"]["per_1000_answered"] == 666.67
    by_cause = _figures(_report(seeded, settings, "root-cause"))
    assert {name: f["received"] for name, f in by_cause.items()} == {
        "agent": 1,
        "process": 2,
        "system": 1,
        "(none)": 2,
        "total": 6,
    }
    by_severity = _figures(_report(seeded, settings, "severity"))
    assert by_severity["high"]["ack_on_time_pct"] == 0.0 and by_severity["critical"]["resolved_on_time"] == 0
    assert {name: f["received"] for name, f in _figures(_report(seeded, settings, "channel")).items()} == {
        "email": 1,
        "phone": 5,
        "total": 6,
    }
    # The whole window is ISO week 48: one group with the total's figures.
    by_week = _report(seeded, settings, "week")
    assert [g.group for g in by_week.groups] == ["2026-W48"]
    week = {**by_week.groups[0].as_dict(), "group": "total", "answered_calls": 6, "per_1000_answered": 666.67}
    assert week == {"group": "total", **TOTAL}


def _callbacks(engine) -> None:
    """Call-backs owed in the week: due times against first attempts and endings."""
    from sqlalchemy import select

    from db.callbacks import Callback
    from db.complaints import User

    with engine.connect() as connection:
        ann = connection.scalar(select(User.__table__.c.id).where(User.__table__.c.name == "ann"))

    def owed(queue, due_at, status="open", first_attempt_at=None, ended_at=None, owner_id=None):
        return dict(
            caller_number=f"0700{int(due_at) % 100000:06d}",
            queue=queue,
            first_hung_up_at=due_at - HOUR,
            hung_up_at=due_at - HOUR,
            requested_at=due_at - HOUR,
            due_at=due_at,
            status=status,
            owner_id=owner_id,
            first_attempt_at=first_attempt_at,
            ended_at=ended_at,
            updated_at=due_at - HOUR,
            version=1,
        )

    with write_transaction(engine) as connection:
        connection.execute(
            Callback.__table__.insert(),
            [
                # Called 10 minutes before the due time (not reached: the promise is the call).
                owed("billing", at(23, 10), "open", at(23, 9, 50), owner_id=ann),
                # Called at the due time exactly, reached: on time.
                owed("billing", at(24, 10), "reached", at(24, 10), at(24, 10), owner_id=ann),
                # Called an hour late.
                owed("billing", at(25, 10), "reached", at(25, 11), at(25, 11), owner_id=ann),
                # Never called, still open: missed.
                owed("sales", at(25, 12)),
                # The caller got through by themselves before the due time: settled, not judged.
                owed("sales", at(26, 12), "got_through", ended_at=at(26, 11)),
                # Got through only after the due time, never called: missed.
                owed("sales", at(26, 14), "got_through", ended_at=at(26, 15)),
                # Due after the window; due in it but not yet by "now" is shown by the window test.
                owed("billing", at(30, 10), "open"),
            ],
        )


def test_callback_promises_match_the_hand_computed_ones(seeded, settings):
    _callbacks(seeded)
    figures = _figures(_report(seeded, settings, "queue"))

    def owed(group):
        return {name: value for name, value in figures[group].items() if name.startswith("callbacks_")}

    assert owed("billing") == dict(
        callbacks_due=3,
        callbacks_kept_on_time=2,
        callbacks_kept_on_time_pct=66.67,
        callbacks_kept_late=1,
        callbacks_missed=0,
        callbacks_settled=0,
    )
    assert owed("sales") == dict(
        callbacks_due=2,
        callbacks_kept_on_time=0,
        callbacks_kept_on_time_pct=0.0,
        callbacks_kept_late=0,
        callbacks_missed=2,
        callbacks_settled=1,
    )
    assert owed("total") == dict(
        callbacks_due=5,
        callbacks_kept_on_time=2,
        callbacks_kept_on_time_pct=40.0,
        callbacks_kept_late=1,
        callbacks_missed=2,
        callbacks_settled=1,
    )
    # The complaints' figures are unchanged by call-backs in their groups.
    assert figures["billing"]["received"] == 4 and figures["billing"]["follow_ups_due"] == 2
    # By owner: ann took billing's three; the others have none.
    by_owner = _figures(_report(seeded, settings, "owner"))
    assert by_owner["ann"]["callbacks_due"] == 3 and by_owner["(none)"]["callbacks_due"] == 2
    # A grouping call-backs have no value of counts them in the total only.
    by_category = _figures(_report(seeded, settings, "category"))
    assert by_category["total"]["callbacks_due"] == 5
    assert all(f["callbacks_due"] == 0 for name, f in by_category.items() if name != "total")
    # Judged on Tuesday 24 at noon, only Monday's and Tuesday's are due yet.
    early = outcome_report(seeded, settings, START, END, at(24, 12), "queue").total
    assert (early.callbacks_due, early.callbacks_kept_on_time) == (2, 2)


def test_root_cause_pareto(seeded, settings):
    pareto = [p.as_dict() for p in _report(seeded, settings, "queue").pareto]
    assert pareto == [
        dict(
            root_cause="process",
            count=2,
            share_pct=50.0,
            cumulative_pct=50.0,
            categories=(dict(category="refund", count=2, share_pct=100.0),),
        ),
        dict(
            root_cause="agent",
            count=1,
            share_pct=25.0,
            cumulative_pct=75.0,
            categories=(dict(category="rude agent", count=1, share_pct=100.0),),
        ),
        dict(
            root_cause="system",
            count=1,
            share_pct=25.0,
            cumulative_pct=100.0,
            categories=(dict(category="billing error", count=1, share_pct=100.0),),
        ),
    ]


def test_an_empty_window_has_a_total_of_nothing(seeded, settings):
    report = outcome_report(seeded, settings, at(1, 0, month=11), at(2, 0, month=11), NOW, "queue")
    assert report.groups == () and report.pareto == ()
    assert report.total.received == 0 and report.total.ack_on_time_pct is None


def test_percentile_is_the_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 90) == 4.0
    assert percentile([7.0], 90) == 7.0
    assert percentile([float(i) for i in range(1, 11)], 90) == 9.0


def test_export_rows_judge_each_complaint_as_the_report_does(seeded, settings):
    from tickets.export import COLUMNS, export_rows
    from tickets.queries import ComplaintQueries
    from tickets.sla import BusinessCalendar

    queries = ComplaintQueries(seeded, BusinessCalendar.from_settings(settings), lambda: NOW)
    rows = list(export_rows(queries, settings, queries.matching_query(every_status=True), NOW))
    assert all(tuple(row) == COLUMNS for row in rows)
    flags = {row["ref"]: (row["ack_on_time"], row["resolved_on_time"], row["queue"], row["owner"]) for row in rows}
    assert flags == {
        "C-000001": (True, True, "billing", "ann"),  # A
        "C-000002": (False, True, "billing", "ann"),  # B: resolved from waiting, on time
        "C-000003": (False, False, None, "carl"),  # C
        "C-000004": (True, True, "sales", "carl"),  # D
        "C-000005": (False, None, "billing", "ann"),  # E: pending
        "C-000006": (True, False, "billing", "carl"),  # F
        "C-000007": (False, False, "sales", "ann"),  # G
        "C-000008": (False, None, "billing", "ann"),  # H: not acknowledged by Mon 12:00; 24 of 40 h used
    }
    first = rows[0]
    assert first["created_at"].isoformat() == "2026-11-23T09:00:00+00:00" and first["root_cause"] == "process"
    # The filters of the list apply; the export goes by reference whatever the list's order.
    resolved = queries.matching_query(statuses=["resolved", "closed"], owner="carl")
    assert [row["ref"] for row in export_rows(queries, settings, resolved, NOW)] == ["C-000004", "C-000006"]


def test_csv_cell_makes_formula_like_text_literal():
    from wallboard.text import csv_cell

    for formula in ('=HYPERLINK("http://x","y")', "+44 20 7946 0000", "-2+3", "@SUM(A1)"):
        assert csv_cell(formula) == "'" + formula
    for plain in ("refund", "", "a=b", -5, 3.5, None, True):
        assert csv_cell(plain) == plain


@hypothesis_settings(max_examples=400, deadline=None)
@given(
    zone=st.sampled_from(("Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")),
    instants=st.lists(
        st.floats(min_value=1_735_689_600.0, max_value=1_830_297_600.0, allow_nan=False), min_size=1, max_size=20
    ),
    near_change=st.floats(min_value=-7200, max_value=7200),
)
def test_export_local_times_equal_a_conversion_per_value(zone, instants, near_change):
    """The export's local times (the zone's offset looked up once an hour) are what
    converting each value gives, DST changes included (Lord Howe's is half an hour)."""
    from tickets.export import LocalTimes

    tz = ZoneInfo(zone)
    local = LocalTimes(tz)
    # Around this zone's changes of 2026 too, where an hour holds two offsets.
    changes = [
        datetime(2026, month, day, 2, 0, tzinfo=tz).timestamp()
        for month, day in ((3, 29), (4, 5), (10, 4), (10, 25), (3, 8), (11, 1))
    ]
    # A hair below a whole second: rounded to the microsecond first, as datetime does.
    edges = [1_795_420_800.9999995, 1_795_420_800.9999996, 1_795_420_859.9999999, 1_795_420_800.4999995]
    # Half a microsecond before a change: datetime rounds it to the change, then converts.
    edges += [change - delta for change in changes for delta in (5e-7, 4e-7, 1e-6)]
    for at in instants + edges + [change + near_change for change in changes]:
        assert local.text(at) == datetime.fromtimestamp(at, tz).replace(tzinfo=None).isoformat(" ", "seconds")


def test_export_cells_are_the_rows_made_ready_for_a_spreadsheet(seeded, settings):
    from tickets.export import COLUMNS, export_cells, export_rows
    from tickets.queries import ComplaintQueries
    from tickets.sla import BusinessCalendar
    from wallboard.text import csv_cell

    queries = ComplaintQueries(seeded, BusinessCalendar.from_settings(settings), lambda: NOW)
    query = queries.matching_query(every_status=True)
    rows = list(export_rows(queries, settings, query, NOW))
    cells = list(export_cells(queries, settings, query, NOW))
    assert len(cells) == len(rows) == 8
    for row, line in zip(rows, cells, strict=True):
        for name, value, cell in zip(COLUMNS, row.values(), line, strict=True):
            if isinstance(value, datetime):
                assert cell == value.replace(tzinfo=None).isoformat(" ", "seconds"), name
            elif isinstance(value, bool) and name != "escalation_level":
                assert cell == ("yes" if value else "no"), name
            elif isinstance(value, str):
                assert cell == csv_cell(value), name
            else:
                assert cell == value, name
