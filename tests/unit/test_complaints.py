"""The complaint domain on a real SQLite file and a real PostgreSQL: lifecycle, permissions,
follow-ups, SLA with waiting on customer, auto-close, audit trail, optimistic locking,
literal text, search and saved views."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db import open_database
from db.complaints import AuditEvent, Complaint
from tests.support import BACKENDS, Clock, on_backend
from tickets import users
from tickets.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied, StaleVersion
from tickets.lifecycle import TRANSITIONS, Status
from tickets.service import ComplaintService

LONDON = ZoneInfo("Europe/London")
HOUR = 3600.0
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON).timestamp()  # a Monday, 09:00


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    settings = on_backend(request, settings)
    settings.site.timezone = "Europe/London"
    settings.business_hours.holidays = [date(2026, 12, 25)]
    return settings


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def svc(engine, settings, clock) -> ComplaintService:
    users.add_user(engine, "ann", "agent")
    users.add_user(engine, "carl", "agent")
    users.add_user(engine, "sue", "supervisor")
    users.add_user(engine, "dee", "display")
    return ComplaintService(engine, settings, clock)


def new(svc, actor="ann", **fields):
    values = dict(
        customer="Mrs Jones",
        contact="+44 20 7946 0000",
        subject="Refund not received",
        description="Promised last week.",
        severity="normal",
    )
    values.update(fields)
    return svc.create(actor, **values)


PATHS = {
    Status.NEW: [],
    Status.ACKNOWLEDGED: ["acknowledge"],
    Status.IN_PROGRESS: ["acknowledge", "start"],
    Status.WAITING: ["acknowledge", "start", "wait"],
    Status.RESOLVED: ["acknowledge", "start", "resolve"],
    Status.CLOSED: ["acknowledge", "start", "resolve", "close"],
    Status.REOPENED: ["acknowledge", "start", "resolve", "close", "reopen"],
}


def act(svc, intent, ref, actor="ann", **options):
    if intent == "resolve":
        options.setdefault("resolution", "Refunded in full")
        options.setdefault("root_cause", "process")
    if intent == "reopen":
        options.setdefault("note", "Customer says the refund is short")
    return getattr(svc, intent)(ref, actor, **options)


def in_status(svc, status, **fields):
    info = new(svc, **fields)
    for intent in PATHS[status]:
        info = act(svc, intent, info.ref)
    assert info.status == status
    return info


def audit_count(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(AuditEvent))


# -- lifecycle --------------------------------------------------------------------------------


def test_every_transition_legal_and_illegal(svc, engine):
    for status in Status:
        complaint = in_status(svc, status)
        for intent, (sources, to) in TRANSITIONS.items():
            if status in sources:
                fresh = in_status(svc, status)
                after = act(svc, intent, fresh.ref)
                assert after.status == to, (status, intent)
                assert after.version == fresh.version + 1
                assert after.events[-1].kind == intent and (after.events[-1].old, after.events[-1].new) == (status, to)
            else:
                before = audit_count(engine)
                with pytest.raises(IllegalTransition, match=f"cannot {intent} {complaint.ref}: it is "):
                    act(svc, intent, complaint.ref)
                assert audit_count(engine) == before  # nothing half-written
                assert svc.get(complaint.ref).version == complaint.version


@pytest.mark.parametrize(
    ("status", "intent", "reason"),
    [
        (Status.NEW, "resolve", "it is new; acknowledge it and start work on it first"),
        (Status.NEW, "start", "it is new; acknowledge it first"),
        (
            Status.IN_PROGRESS,
            "close",
            "it is in progress; resolve it first: closing needs a resolution and a root cause",
        ),
        (Status.CLOSED, "wait", "it is closed; reopen it first"),
        (Status.ACKNOWLEDGED, "acknowledge", "it is already acknowledged"),
        (Status.NEW, "reopen", "it is new; only a complaint that is resolved or closed can be reopened"),
    ],
)
def test_illegal_transitions_say_why(svc, status, intent, reason):
    complaint = in_status(svc, status)
    with pytest.raises(IllegalTransition) as refused:
        act(svc, intent, complaint.ref)
    assert str(refused.value) == f"cannot {intent} {complaint.ref}: {reason}"


def test_resolve_close_reopen_keep_what_matters(svc):
    complaint = in_status(svc, Status.IN_PROGRESS)
    with pytest.raises(InvalidInput, match="root cause 'weather'"):
        svc.resolve(complaint.ref, "ann", resolution="x", root_cause="weather")
    with pytest.raises(InvalidInput, match="resolution is empty"):
        svc.resolve(complaint.ref, "ann", resolution=" \x07 ", root_cause="agent")
    resolved = svc.resolve(complaint.ref, "ann", resolution="Apologised, refunded", root_cause="agent")
    assert (resolved.resolution, resolved.root_cause, resolved.sla_paused) == ("Apologised, refunded", "agent", True)
    closed = svc.close(resolved.ref, "sue", confirmed=True)
    assert closed.customer_confirmed is True and closed.closed_at is not None
    reopened = svc.reopen(closed.ref, "ann", note="Customer called again")
    assert (reopened.status, reopened.owner, reopened.customer_confirmed) == ("reopened", "ann", None)
    with pytest.raises(InvalidInput, match="note is required"):
        svc.reopen(closed.ref, "ann", note=None)
    assert svc.start(reopened.ref, "ann").status == "in_progress"


# -- permissions --------------------------------------------------------------------------------


def test_agents_act_on_their_own_complaints_only(svc):
    mine = in_status(svc, Status.IN_PROGRESS)
    for intent, options in [
        ("wait", {}),
        ("resolve", {}),
        ("assign", {"to": "carl", "note": "x"}),
        ("add_follow_up", {"due_at": T0 + HOUR, "note": "x"}),
        ("update_details", {"subject": "x"}),
    ]:
        with pytest.raises(PermissionDenied, match=f"carl \\(agent\\) may not .* {mine.ref}: it is owned by ann"):
            act(svc, intent, mine.ref, "carl", **options)
    for intent, options in [("flag_malicious", {"reason": "abuse"}), ("escalate", None)]:
        with pytest.raises(PermissionDenied, match="ann \\(agent\\) may not .*: supervisors only"):
            if options is None:
                svc.escalate(mine.ref, 1, actor="ann", note="late")
            else:
                act(svc, intent, mine.ref, "ann", **options)
    with pytest.raises(PermissionDenied, match="supervisors only"):
        new(svc, "ann", owner="carl")
    with pytest.raises(
        PermissionDenied, match="ann \\(agent\\) may not create a complaint owned by someone else or by nobody"
    ):
        new(svc, "ann", unassigned=True)  # nobody's complaint: a supervisor's decision
    # The owner may do all of it, including handing over; then it is no longer theirs.
    assert svc.wait(mine.ref, "ann").status == "waiting"
    handed = svc.assign(mine.ref, "ann", to="carl", note="Carl knows this customer")
    assert handed.owner == "carl" and handed.events[-1].note == "Carl knows this customer"
    with pytest.raises(PermissionDenied, match="it is owned by carl"):
        svc.resume(mine.ref, "ann")
    assert svc.resume(mine.ref, "carl").status == "in_progress"


def test_supervisors_may_do_anything(svc):
    complaint = in_status(svc, Status.IN_PROGRESS)
    svc.add_follow_up(complaint.ref, "sue", due_at=T0 + HOUR, note="QA call", kind="coaching", owner="sue")
    svc.assign(complaint.ref, "sue", to="carl", note="Ann is on leave")
    svc.flag_malicious(complaint.ref, "sue", reason="Threatened the agent")
    svc.escalate(complaint.ref, 2, actor="sue", note="to the manager")
    svc.resolve(complaint.ref, "sue", resolution="Done", root_cause="business")
    closed = svc.close(complaint.ref, "sue")
    assert (closed.status, closed.owner, closed.malicious, closed.escalation_level) == ("closed", "carl", True, 2)
    assert new(svc, "sue", owner="ann").owner == "ann"
    assert new(svc, "sue", unassigned=True).owner is None


def test_display_and_removed_users_may_do_nothing(svc, engine):
    complaint = new(svc)
    with pytest.raises(PermissionDenied, match="dee is a display user"):
        new(svc, "dee")
    with pytest.raises(PermissionDenied, match="dee is a display user"):
        svc.acknowledge(complaint.ref, "dee")
    with pytest.raises(InvalidInput, match="dee is a display user and cannot own"):
        svc.assign(complaint.ref, "ann", to="dee", note="x")
    with pytest.raises(InvalidInput, match="owns 1 open complaint: reassign them first"):
        users.remove_user(engine, "ann")
    svc.assign(complaint.ref, "ann", to="carl", note="leaving")
    users.remove_user(engine, "ann")
    with pytest.raises(PermissionDenied, match="ann has been removed"):
        new(svc, "ann")
    with pytest.raises(InvalidInput, match="ann has been removed: choose someone else"):
        svc.assign(complaint.ref, "carl", to="ann", note="x")
    with pytest.raises(NotFound, match="no user 'zed'"):
        new(svc, "zed")


def test_an_agent_takes_an_unassigned_complaint_by_acknowledging_it(svc):
    pool = new(svc, "sue", unassigned=True)
    assert [c.ref for c in svc.view("unassigned")] == [pool.ref]
    with pytest.raises(PermissionDenied, match="it is unassigned"):
        svc.add_follow_up(pool.ref, "carl", due_at=T0 + HOUR, note="x")
    taken = svc.acknowledge(pool.ref, "carl")
    assert taken.owner == "carl" and svc.view("unassigned") == []
    assert [(e.field, e.new) for e in taken.events if e.kind == "acknowledge"] == [
        ("owner", "carl"),
        ("status", "acknowledged"),
    ]


# -- follow-ups -------------------------------------------------------------------------------------


def test_follow_ups_promises_and_corrective_actions(svc, clock):
    complaint = in_status(svc, Status.IN_PROGRESS)
    with pytest.raises(InvalidInput, match="is in the past"):
        svc.add_follow_up(complaint.ref, "ann", due_at=T0 - HOUR, note="x")
    with pytest.raises(InvalidInput, match="kind 'lunch'"):
        svc.add_follow_up(complaint.ref, "ann", due_at=T0 + HOUR, note="x", kind="lunch")
    promised = svc.add_follow_up(complaint.ref, "ann", due_at=T0 + 2 * HOUR, note="Call back after the bank replies")
    assert promised.next_follow_up_at == T0 + 2 * HOUR == promised.due_at
    # A corrective action owned by someone else does not make the complaint more urgent.
    coached = svc.add_follow_up(
        complaint.ref, "ann", due_at=T0 + HOUR, note="Coach on refunds", kind="coaching", owner="sue"
    )
    assert coached.next_follow_up_at == T0 + 2 * HOUR
    callback, coaching = coached.follow_ups
    assert (coaching.kind, coaching.owner, coaching.outcome) == ("coaching", "sue", None)
    # The follow-up's owner records its outcome, though the complaint is Ann's; Carl may not.
    with pytest.raises(PermissionDenied):
        svc.record_outcome(complaint.ref, coaching.id, "carl", outcome="done", note="x")
    done = svc.record_outcome(complaint.ref, coaching.id, "sue", outcome="done", note="Coached on 24 Nov")
    assert done.follow_ups[1].outcome == "done" and done.follow_ups[1].outcome_by == "sue"
    with pytest.raises(InvalidInput, match="already has an outcome"):
        svc.record_outcome(complaint.ref, coaching.id, "sue", outcome="done", note="again")
    clock.now += 3 * HOUR
    moved = svc.record_outcome(
        complaint.ref,
        callback.id,
        "ann",
        outcome="rescheduled",
        note="Bank still checking",
        new_due_at=clock.now + 24 * HOUR,
    )
    assert [f.outcome for f in moved.follow_ups] == ["rescheduled", "done", None]
    assert moved.next_follow_up_at == clock.now + 24 * HOUR
    final = svc.record_outcome(complaint.ref, moved.follow_ups[2].id, "ann", outcome="no-answer", note="Voicemail")
    assert final.next_follow_up_at is None and final.follow_ups[2].outcome == "no_answer"
    with pytest.raises(NotFound, match="has no follow-up 999"):
        svc.record_outcome(complaint.ref, 999, "ann", outcome="done", note="x")


# -- SLA --------------------------------------------------------------------------------------------


def test_sla_due_times_per_severity_in_business_hours(svc, clock):
    clock.now = datetime(2026, 11, 27, 17, 0, tzinfo=LONDON).timestamp()  # Friday 17:00
    critical = new(svc, severity="critical")  # 1 h to acknowledge, 8 h to resolve
    assert critical.ack_due_at == datetime(2026, 11, 27, 18, 0, tzinfo=LONDON).timestamp()
    # 1 business hour left on Friday, then 7 on Monday: 08:00 + 7 h = 15:00 Monday.
    assert critical.resolve_due_at == datetime(2026, 11, 30, 15, 0, tzinfo=LONDON).timestamp()
    # Christmas is a holiday: Thu 24 Dec 17:00 + 2 h (high) -> Mon 28 Dec 09:00.
    clock.now = datetime(2026, 12, 24, 17, 0, tzinfo=LONDON).timestamp()
    assert new(svc, severity="high").ack_due_at == datetime(2026, 12, 28, 9, 0, tzinfo=LONDON).timestamp()
    # A new severity moves the targets.
    raised = svc.update_details(critical.ref, "ann", severity="low")
    assert raised.ack_due_at == datetime(2026, 11, 30, 15, 0, tzinfo=LONDON).timestamp()  # 8 h


def test_waiting_on_customer_stops_the_clock(svc, clock):
    complaint = in_status(svc, Status.IN_PROGRESS)  # normal: 40 business hours from Mon 09:00
    assert complaint.resolve_due_at == datetime(2026, 11, 27, 9, 0, tzinfo=LONDON).timestamp()  # Friday 09:00
    clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON).timestamp()
    waiting = svc.wait(complaint.ref, "ann", note="Asked for the bank statement")
    assert waiting.sla_paused and waiting.sla_due_at is None and waiting.due_at is None
    assert svc.view("overdue", now=datetime(2026, 12, 10, 12, tzinfo=LONDON).timestamp()) == []
    # Back on Tuesday 10:00: ten business hours passed while waiting; the target moves by ten.
    clock.now = datetime(2026, 11, 24, 10, 0, tzinfo=LONDON).timestamp()
    resumed = svc.resume(complaint.ref, "ann", note="Statement received")
    assert not resumed.sla_paused
    assert resumed.resolve_due_at == datetime(2026, 11, 30, 9, 0, tzinfo=LONDON).timestamp()  # next Monday 09:00
    # Waiting over a weekend: Friday 17:00 to Monday 09:00 is two business hours (17-18, 08-09).
    clock.now = datetime(2026, 11, 27, 17, 0, tzinfo=LONDON).timestamp()
    svc.wait(complaint.ref, "ann")
    clock.now = datetime(2026, 11, 30, 9, 0, tzinfo=LONDON).timestamp()
    again = svc.resume(complaint.ref, "ann")
    assert again.resolve_due_at == datetime(2026, 11, 30, 11, 0, tzinfo=LONDON).timestamp()


def test_resolved_complaints_close_themselves_after_n_days_without_an_answer(svc, clock, settings, engine):
    quiet = in_status(svc, Status.RESOLVED)
    answered = in_status(svc, Status.RESOLVED)
    svc.close(answered.ref, "ann", confirmed=True)
    clock.now += 6 * 86400
    late = in_status(svc, Status.RESOLVED)
    assert svc.close_stale_resolved(T0 + 7 * 86400 - 1) == []
    assert svc.close_stale_resolved(T0 + 7 * 86400 + 1) == [quiet.ref]
    closed = svc.get(quiet.ref)
    assert (closed.status, closed.customer_confirmed, closed.updated_by) == ("closed", False, None)
    assert [(e.actor, e.kind, e.field) for e in closed.events[-2:]] == [
        (None, "auto_close", "status"),
        (None, "auto_close", "customer_confirmed"),
    ]
    assert svc.get(late.ref).status == "resolved"
    assert svc.close_stale_resolved(T0 + 7 * 86400 + 1) == []


# -- audit trail and optimistic locking ------------------------------------------------------------


def test_audit_rows_cannot_be_changed_or_deleted(svc, engine):
    complaint = in_status(svc, Status.ACKNOWLEDGED)
    statements = ["UPDATE audit_events SET note = 'rewritten'", "DELETE FROM audit_events"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_events")
    before = audit_count(engine)
    for statement in statements:
        with pytest.raises(DBAPIError, match="audit_events is append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement))
    assert audit_count(engine) == before
    events = svc.get(complaint.ref).events
    assert [e.note for e in events] == [None] * len(events)
    assert len({e.changeset for e in events}) == 2  # one per intent


def test_a_save_over_a_newer_version_is_refused_and_loses_nothing(svc, settings, clock):
    complaint = in_status(svc, Status.IN_PROGRESS)
    # Two sessions (two engines, as two processes would have) read the same version.
    other = ComplaintService(open_database(settings.database_url(), migrate=False), settings, clock)
    try:
        seen_by_ann = svc.get(complaint.ref).version
        seen_by_sue = other.get(complaint.ref).version
        clock.now += 60
        svc.update_details(complaint.ref, "ann", subject="Refund short by 20 GBP", expect_version=seen_by_ann)
        with pytest.raises(StaleVersion) as refused:
            other.update_details(complaint.ref, "sue", subject="Refund missing", expect_version=seen_by_sue)
    finally:
        other.engine.dispose()
    when = datetime.fromtimestamp(clock.now, LONDON).isoformat(timespec="seconds")
    assert f"{complaint.ref} changed by ann at {when}, reload" in str(refused.value)
    assert refused.value.current_version == seen_by_ann + 1
    after = svc.get(complaint.ref)
    assert after.subject == "Refund short by 20 GBP"
    assert [(e.actor, e.old, e.new) for e in after.events if e.field == "subject"] == [
        ("ann", "Refund not received", "Refund short by 20 GBP")
    ]


def test_the_version_column_refuses_a_write_based_on_an_old_read(svc, engine):
    complaint = in_status(svc, Status.NEW)
    with Session(engine, expire_on_commit=False) as reader:
        stale = reader.get(Complaint, complaint.id)
    svc.acknowledge(complaint.ref, "ann")
    stale.subject = "overwritten"
    with Session(engine) as writer, pytest.raises(StaleDataError):
        writer.add(stale)
        writer.commit()
    assert svc.get(complaint.ref).subject == "Refund not received"


# -- customer text -------------------------------------------------------------------------------


def test_markup_and_escape_sequences_are_stored_literally_without_control_characters(svc):
    hostile = (
        "[bold red]Refund[/] \x1b[31mred\x1b[0m \x1b]0;owned\x07 \x1b]52;c;ZXZpbA==\x1b\\ \x9b2J"
        "\x00\x08 退款没有到账 مرحبا 👩‍💻 $(rm -rf) <script>"
    )
    complaint = new(
        svc, subject=hostile, description="line one\r\nline\ttwo\x1b[2J\x07\n\n  ", customer="O'Brien [link]"
    )
    assert complaint.subject == "[bold red]Refund[/] red    退款没有到账 مرحبا 👩‍💻 $(rm -rf) <script>"
    assert complaint.description == "line one\nline\ttwo"
    assert complaint.customer == "O'Brien [link]"
    stored = svc.get(complaint.ref)
    assert stored.subject == complaint.subject
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in stored.subject)
    long_text = "长" * 100_000
    assert len(new(svc, description=long_text).description) == 100_000


# -- search and saved views ------------------------------------------------------------------------


def test_full_text_search(svc, clock):
    refund = new(svc, subject="Refund not received", customer="Zoë Café")
    rude = new(svc, subject="Agent was rude", description="Hung up on the customer twice", contact="zoe@example.com")
    chinese = new(svc, subject="退款没有到账", customer="张伟")
    svc.add_follow_up(rude.ref, "ann", due_at=T0 + HOUR, note="Promised a callback about the voucher")
    svc.assign(refund.ref, "ann", to="carl", note="Carl speaks to the bank")

    def found(query):
        return [c.ref for c in svc.search(query)]

    assert found("refund") == [refund.ref]
    assert found("RECEIVED refund") == [refund.ref]
    assert found("cafe") == [refund.ref]  # accents folded
    assert found("voucher") == [rude.ref]  # follow-up notes
    assert found("bank") == [refund.ref]  # handover notes
    assert found("hung up") == [rude.ref]
    assert found('"up hung"') == []  # a phrase keeps its order
    assert found("zoe") == [rude.ref, refund.ref]  # Zoë and the e-mail address, newest first
    assert found("zoe@example.com") == [rude.ref]
    assert found("refu*") == [refund.ref]
    assert found("没有") == [chinese.ref]  # inside a run of Chinese
    assert found("张伟") == [chinese.ref]
    assert found("customer") == [rude.ref]
    assert found("nothing-like-this") == []
    assert found(chinese.ref) == [chinese.ref]
    assert [c.ref for c in svc.list(search="refund", statuses=["new"])] == [refund.ref]
    with pytest.raises(InvalidInput, match="no words"):
        svc.search("  ?! ")
    # A new description is found, the old one no longer.
    svc.update_details(rude.ref, "ann", description="Kept the customer on hold")
    assert found("hung") == [] and found("hold") == [rude.ref]


def test_saved_views(svc, clock):
    day = 86400
    # Ann's: an overdue promise, a critical one, a normal one; Carl's; an unassigned one.
    promise = new(svc, subject="promise", severity="low")
    svc.add_follow_up(promise.ref, "ann", due_at=T0 + 60, note="Call at 09:01")
    new(svc, subject="critical", severity="critical")
    normal = new(svc, subject="normal", severity="normal")
    carls = new(svc, "carl", subject="carl's")
    new(svc, "sue", subject="pool", unassigned=True)
    in_status(svc, Status.WAITING, subject="waiting long")
    clock.now += 600
    in_status(svc, Status.WAITING, subject="waiting short")
    done = in_status(svc, Status.RESOLVED, subject="resolved")
    svc.escalate(normal.ref, 1, note="ack overdue")
    svc.escalate(carls.ref, 2, note="breach")

    def refs(view, user=None, now=None):
        return [c.subject for c in svc.view(view, user, now=now)]

    now = T0 + 120  # the promise at 09:01 is overdue
    assert refs("mine", "ann", now) == ["promise", "critical", "normal", "waiting long", "waiting short"]
    assert refs("mine", "carl", now) == ["carl's"]
    assert refs("overdue", now=now) == ["promise"]
    assert refs("overdue", now=T0 + 5 * HOUR) == ["promise", "critical", "normal", "carl's", "pool"]
    assert refs("due-today", now=now) == ["promise", "critical", "normal", "carl's", "pool"]
    assert refs("due_today", now=T0 + day) == []
    assert refs("unassigned", now=now) == ["pool"]
    assert refs("waiting", now=now) == ["waiting long", "waiting short"]
    assert refs("escalated", now=now) == ["carl's", "normal"]
    assert refs("all_open", now=now) == [
        "waiting short",
        "waiting long",
        "pool",
        "carl's",
        "normal",
        "critical",
        "promise",
    ]
    assert done.subject not in refs("all_open", now=now)
    assert [c.subject for c in svc.list(owner="ann", overdue=True, now=now)] == ["promise"]
    assert [c.subject for c in svc.list(statuses=["resolved"])] == ["resolved"]
    with pytest.raises(InvalidInput, match="no view 'later'"):
        svc.view("later")
    with pytest.raises(InvalidInput, match="needs a user"):
        svc.view("mine")


def test_a_flagged_caller_is_recognised_and_the_call_fills_in_the_complaint(svc, engine):
    from db.engine import write_transaction
    from db.models import Call

    with write_transaction(engine) as connection:
        connection.execute(
            Call.__table__.insert(),
            [
                dict(
                    callid="1700000000.42",
                    queue="billing",
                    caller="07700900123",
                    agent="Ann Agent",
                    enter_at=T0 - 600,
                    outcome="completed",
                )
            ],
        )
    complaint = new(svc, callid="1700000000.42")
    assert (complaint.call_queue, complaint.call_agent, complaint.caller_number) == (
        "billing",
        "Ann Agent",
        "07700900123",
    )
    assert svc.caller_flags("07700900123") == []
    svc.flag_malicious(complaint.ref, "sue", reason="Abusive to three agents")
    assert [(c.ref, c.malicious_reason) for c in svc.caller_flags("07700900123")] == [
        (complaint.ref, "Abusive to three agents")
    ]
    svc.clear_malicious(complaint.ref, "sue", note="Apologised")
    assert svc.caller_flags("07700900123") == []
