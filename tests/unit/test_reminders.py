"""Reminders and escalation with an injectable clock, on SQLite and a real PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from db.complaints import AuditEvent
from db.reminders import HookDelivery, Reminder
from tests.support import Clock, settings_in_london
from tickets import users
from tickets.hooks import HookSender
from tickets.reminders import Sweeper, mark_read, notifications_for, unread_count
from tickets.service import ComplaintService

LONDON = ZoneInfo("Europe/London")
MINUTE, HOUR = 60.0, 3600.0
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON).timestamp()  # a Monday, 09:00


settings = settings_in_london  # this module's `settings` fixture


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def svc(engine, settings, clock):
    users.add_user(engine, "ann", "agent")
    users.add_user(engine, "bob", "agent")
    users.add_user(engine, "sue", "supervisor")
    return ComplaintService(engine, settings, clock)


def sweeper(engine, settings, svc, name="server-a"):
    return Sweeper(engine, settings, server=name, escalate=svc.escalate_in)


def complaint(svc, severity="low"):
    return svc.create(
        "ann",
        customer="Mrs Jones",
        contact="+44 20 7946 0000",
        subject="Refund",
        description="Promised last week.",
        severity=severity,
    )


def kinds(engine, user):
    return [n.kind for n in reversed(notifications_for(engine, user))]


def test_follow_up_reminds_before_and_when_due_then_escalates(engine, settings, svc, clock):
    c = complaint(svc)
    svc.acknowledge(c.ref, "ann")
    svc.add_follow_up(c.ref, "ann", due_at=T0 + 2 * HOUR, note="call her back")
    sweep = sweeper(engine, settings, svc)
    for at, expected_ann, expected_sue in [
        (T0 + 2 * HOUR - 16 * MINUTE, [], []),
        (T0 + 2 * HOUR - 15 * MINUTE, ["follow_up_upcoming"], []),
        (T0 + 2 * HOUR, ["follow_up_upcoming", "follow_up_due"], []),
        (T0 + 2 * HOUR + 29 * MINUTE, ["follow_up_upcoming", "follow_up_due"], []),
        (T0 + 2 * HOUR + 30 * MINUTE, ["follow_up_upcoming", "follow_up_due"], ["follow_up_overdue"]),
        (T0 + 5 * HOUR, ["follow_up_upcoming", "follow_up_due"], ["follow_up_overdue"]),
    ]:
        clock.now = at
        sweep.sweep(at)
        assert (kinds(engine, "ann"), kinds(engine, "sue")) == (expected_ann, expected_sue), at - T0
    shown = svc.get(c.ref)
    assert shown.escalation_level == 1
    overdue = notifications_for(engine, "sue")[0]
    assert overdue.complaint_ref == c.ref and "owned by ann overdue since 11:00: escalated" in overdue.text


def test_escalation_is_in_the_audit_trail(engine, settings, svc, clock):
    c = complaint(svc)
    svc.add_follow_up(c.ref, "ann", due_at=T0 + HOUR, note="call")
    clock.now = T0 + 3 * HOUR
    sweeper(engine, settings, svc).sweep(clock.now)
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditEvent.kind, AuditEvent.field, AuditEvent.old, AuditEvent.new, AuditEvent.actor_id).where(
                AuditEvent.kind == "escalate"
            )
        ).all()
    assert [tuple(r) for r in rows] == [("escalate", "escalation_level", "0", "1", None)]


def test_sla_at_risk_then_breach_in_business_hours(engine, settings, svc, clock):
    # normal: 4 business hours to acknowledge; 75 % used at 12:00, breached at 13:00.
    c = complaint(svc, severity="normal")
    sweep = sweeper(engine, settings, svc)
    clock.now = T0 + 3 * HOUR - 1
    sweep.sweep(clock.now)
    assert kinds(engine, "ann") == []
    clock.now = T0 + 3 * HOUR
    sweep.sweep(clock.now)
    assert kinds(engine, "ann") == ["sla_at_risk"]
    assert "75% of the acknowledge time used; due 13:00" in notifications_for(engine, "ann")[0].text
    clock.now = T0 + 4 * HOUR
    sweep.sweep(clock.now)
    assert kinds(engine, "sue") == ["sla_breached"]
    assert svc.get(c.ref).escalation_level == 1


def test_sla_clock_across_the_night_and_paused_while_waiting(engine, settings, svc, clock):
    # low: 80 business hours to resolve; acknowledged at once, so the resolve stage runs.
    c = complaint(svc, severity="low")
    svc.acknowledge(c.ref, "ann")
    svc.start(c.ref, "ann")
    with engine.connect() as connection:
        risk = connection.execute(select(Reminder.fire_at).where(Reminder.key.like("sla:%:resolve:risk:%"))).scalar()
    # 60 business hours = 6 working days of 10 h (08:00-18:00 by default): 09:00 seven working days on.
    assert risk == ComplaintService(engine, settings, clock).calendar.add(T0, 60 * HOUR)
    clock.now = T0 + HOUR
    svc.wait(c.ref, "ann")  # the clock stands still: nothing may fire while waiting
    with engine.connect() as connection:
        pending = connection.execute(
            select(func.count())
            .select_from(Reminder)
            .where(Reminder.kind.like("sla%"), Reminder.fired_at.is_(None), Reminder.cancelled_at.is_(None))
        ).scalar()
    assert pending == 0
    clock.now = T0 + 48 * HOUR  # two days later the customer answers
    svc.resume(c.ref, "ann")
    with engine.connect() as connection:
        moved = connection.execute(
            select(Reminder.fire_at).where(Reminder.key.like("sla:%:resolve:risk:%"), Reminder.cancelled_at.is_(None))
        ).scalar()
    assert moved > risk  # pushed out by the business time spent waiting


def test_each_reminder_fires_once_and_restart_catches_up(engine, settings, svc, clock):
    c = complaint(svc)
    svc.add_follow_up(c.ref, "ann", due_at=T0 + HOUR, note="call")
    # The server was down from before the early reminder until after the due time.
    clock.now = T0 + HOUR + 10 * MINUTE
    fired = sweeper(engine, settings, svc).sweep(clock.now)
    assert fired >= 2
    # The early warning is superseded by "due now": no stale "due in 15 min" after the fact.
    assert kinds(engine, "ann") == ["follow_up_due"]
    assert sweeper(engine, settings, svc).sweep(clock.now) == 0  # a second start fires nothing again
    assert kinds(engine, "ann") == ["follow_up_due"]


def test_two_sweepers_racing_fire_nothing_twice(engine, settings, svc, clock):
    for n in range(30):
        c = complaint(svc)
        svc.add_follow_up(c.ref, "ann", due_at=T0 + HOUR + n, note=f"call {n}")
    clock.now = T0 + 2 * HOUR
    counts = []
    sweepers = [sweeper(engine, settings, ComplaintService(engine, settings, clock), f"server-{i}") for i in range(2)]
    threads = [threading.Thread(target=lambda s=s: counts.append(s.sweep(clock.now))) for s in sweepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    due = [n for n in notifications_for(engine, "ann", limit=1000) if n.kind == "follow_up_due"]
    assert len(due) == 30
    assert len({n.text for n in due}) == 30
    with engine.connect() as connection:
        fired = connection.execute(
            select(func.count()).select_from(Reminder).where(Reminder.fired_at.is_not(None))
        ).scalar()
    assert sum(counts) == fired


def test_a_moved_promise_is_reminded_again_once(engine, settings, svc, clock):
    c = complaint(svc)
    info = svc.add_follow_up(c.ref, "ann", due_at=T0 + HOUR, note="call")
    follow_up_id = info.follow_ups[0].id
    sweep = sweeper(engine, settings, svc)
    for clock.now in (T0 + 45 * MINUTE, T0 + HOUR):
        sweep.sweep(clock.now)
    assert kinds(engine, "ann") == ["follow_up_upcoming", "follow_up_due"]
    # Rescheduled later: the old promise's overdue reminder is cancelled, the new one armed.
    svc.record_outcome(
        c.ref, follow_up_id, "ann", outcome="rescheduled", note="asked to call tomorrow", new_due_at=T0 + 24 * HOUR
    )
    clock.now = T0 + 2 * HOUR
    sweep.sweep(clock.now)
    assert "follow_up_overdue" not in kinds(engine, "sue")  # not overdue: the promise moved
    for clock.now in (T0 + 24 * HOUR - 15 * MINUTE, T0 + 24 * HOUR, T0 + 24 * HOUR):
        sweep.sweep(clock.now)
    promises = [k for k in kinds(engine, "ann") if k.startswith("follow_up")]
    assert promises == ["follow_up_upcoming", "follow_up_due", "follow_up_upcoming", "follow_up_due"]


def test_moved_earlier_fires_at_the_new_time(engine, settings, svc, clock):
    c = complaint(svc)
    info = svc.add_follow_up(c.ref, "ann", due_at=T0 + 5 * HOUR, note="call")
    svc.record_outcome(c.ref, info.follow_ups[0].id, "ann", outcome="rescheduled", note="sooner", new_due_at=T0 + HOUR)
    sweep = sweeper(engine, settings, svc)
    for clock.now in (T0 + 44 * MINUTE, T0 + 45 * MINUTE, T0 + HOUR):
        sweep.sweep(clock.now)
        if clock.now == T0 + 44 * MINUTE:
            assert kinds(engine, "ann") == []
    assert kinds(engine, "ann") == ["follow_up_upcoming", "follow_up_due"]


def test_done_follow_up_is_not_reminded(engine, settings, svc, clock):
    c = complaint(svc)
    info = svc.add_follow_up(c.ref, "ann", due_at=T0 + HOUR, note="call")
    svc.record_outcome(c.ref, info.follow_ups[0].id, "ann", outcome="done", note="she is happy")
    clock.now = T0 + 3 * HOUR
    sweeper(engine, settings, svc).sweep(clock.now)
    assert [k for k in kinds(engine, "ann") if k.startswith("follow_up")] == []


def test_assignment_notifies_the_new_owner_and_reading_marks(engine, settings, svc, clock):
    c = complaint(svc)
    svc.assign(c.ref, "sue", to="bob", note="you know this customer")
    (note,) = notifications_for(engine, "bob")
    assert note.kind == "assigned_to_you"
    assert note.text == f"{c.ref} assigned to you by sue: you know this customer"
    assert unread_count(engine, "bob") == 1
    assert mark_read(engine, "bob", None, clock.now) == 1
    assert unread_count(engine, "bob") == 0 and notifications_for(engine, "bob")[0].read


def test_failing_hook_is_retried_with_back_off_then_delivered(engine, settings, svc, clock, tmp_path):
    attempts, received = tmp_path / "attempts", tmp_path / "received.json"
    script = tmp_path / "hook.sh"
    # Fails twice, then keeps what it was given.
    script.write_text(
        f"n=$(cat {attempts} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {attempts}\n"
        f'if [ $n -lt 3 ]; then echo "mail server down" >&2; exit 1; fi\ncat > {received}\n'
    )
    settings.reminders.command = f"sh {script}"
    settings.reminders.retry_seconds = 30
    c = complaint(svc)
    svc.assign(c.ref, "sue", to="bob", note="yours")
    sender = HookSender(engine, settings, clock=clock)
    assert sender.deliver_due() == (0, 1)
    assert sender.deliver_due() == (0, 0)  # not due again before its pause
    clock.now += 30
    assert sender.deliver_due() == (0, 1)
    clock.now += 59
    assert sender.deliver_due() == (0, 0)  # the pause doubled
    clock.now += 1
    assert sender.deliver_due() == (1, 0)
    payload = json.loads(received.read_text())
    assert (payload["user"], payload["kind"], payload["complaint_ref"]) == ("bob", "assigned_to_you", c.ref)
    with engine.connect() as connection:
        delivery = connection.execute(select(HookDelivery)).one()
    assert (
        delivery.attempts == 3
        and delivery.delivered_at == clock.now
        and delivery.last_error == "command exited 1: mail server down"
    )


def test_hook_gives_up_after_max_attempts(engine, settings, svc, clock):
    settings.reminders.command = "false"
    settings.reminders.max_attempts = 2
    c = complaint(svc)
    svc.assign(c.ref, "sue", to="bob", note="yours")
    sender = HookSender(engine, settings, clock=clock)
    sender.deliver_due()
    clock.now += 10_000
    sender.deliver_due()
    clock.now += 10_000
    assert sender.deliver_due() == (0, 0)
    with engine.connect() as connection:
        delivery = connection.execute(select(HookDelivery)).one()
    assert delivery.gave_up_at is not None and delivery.attempts == 2
