"""Closing a complaint lapses its promises still open (docs/OUTCOMES.md, "lapsed"): they count
as missed in every report, leave the promises tile, the owner's "due" list and the
reminders, and stay lapsed when the complaint is reopened. Migration 0021 lapses those of
complaints closed before. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import func, select, text

from db import tables
from db.engine import writer
from db.migrate import alembic_config, current_revision, head_revision
from tests.support import Clock, settings_in_london
from tickets import users
from tickets.outcomes import outcome_complaint_ids, outcome_report
from tickets.queries import own_promises
from tickets.records import LAPSED
from tickets.service import ComplaintService
from wallboard.store.board_reader import read_promises

LONDON = ZoneInfo("Europe/London")
HOUR = 3600.0


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> float:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON).timestamp()


START, END = at(23, 0), at(30, 0)  # Monday 23 to Monday 30 November (ISO week 48)
NOW = at(2, 12, month=12)  # Wednesday 2 December, noon


settings = settings_in_london  # this module's `settings` fixture


@pytest.fixture
def people(engine):
    for name, role in (("ann", "agent"), ("sue", "supervisor")):
        users.add_user(engine, name, role)
    return engine


def _complaint(svc: ComplaintService, clock: Clock, when: float) -> str:
    clock.now = when
    return svc.create(
        "ann", customer="Mrs Jones", contact="+44 20 7946 0000", subject="Refund", description="Late.", channel="email"
    ).ref


def _promise(svc: ComplaintService, clock: Clock, when: float, ref: str, due_at: float, kind: str = "callback") -> int:
    clock.now = when
    return svc.add_follow_up(ref, "ann", due_at=due_at, note="Call back", kind=kind).follow_ups[-1].id


def _resolved(svc: ComplaintService, clock: Clock, ref: str, when: float) -> None:
    clock.now = when
    svc.acknowledge(ref, "ann")
    svc.start(ref, "ann")
    svc.resolve(ref, "ann", resolution="Refunded", root_cause="process")


def _pending_reminders(engine, follow_up_id: int) -> int:
    r = tables.reminders
    with engine.connect() as connection:
        return connection.scalar(
            select(func.count()).where(
                r.c.follow_up_id == follow_up_id, r.c.fired_at.is_(None), r.c.cancelled_at.is_(None)
            )
        )


def test_closing_lapses_the_open_promises_in_the_close_changeset(people, settings):
    engine = people
    clock = Clock(at(23, 9))
    svc = ComplaintService(engine, settings, clock)
    ref = _complaint(svc, clock, at(23, 9))
    kept = _promise(svc, clock, at(23, 9, 30), ref, at(24, 10))
    overdue = _promise(svc, clock, at(23, 9, 30), ref, at(24, 15))
    later = _promise(svc, clock, at(23, 9, 30), ref, at(27, 12), kind="action")
    coaching = _promise(svc, clock, at(23, 9, 30), ref, at(24, 12), kind="coaching")
    clock.now = at(24, 9)
    svc.record_outcome(ref, kept, "ann", outcome="done", note="Called")
    _resolved(svc, clock, ref, at(25, 10))
    clock.now = at(25, 11)
    before = svc.get(ref).version
    closed = svc.close(ref, "sue", confirmed=True)
    assert closed.version == before + 1  # one change of the complaint, lapses and all

    follow_ups = {f.id: f for f in closed.follow_ups}
    for lapsed in (overdue, later):
        f = follow_ups[lapsed]
        assert (f.outcome, f.outcome_at, f.outcome_by, f.outcome_note) == (LAPSED, at(25, 11), "sue", None)
    assert follow_ups[kept].outcome == "done"
    assert follow_ups[coaching].outcome is None  # a corrective action, not a promise to the customer
    assert closed.next_follow_up_at is None

    close_changeset = next(e.changeset for e in closed.events if e.kind == "close" and e.field == "status")
    in_close = [e for e in closed.events if e.changeset == close_changeset]
    lapse_rows = [(e.kind, e.field, e.old, e.new, e.follow_up_id, e.actor) for e in in_close if e.field == "outcome"]
    assert sorted(lapse_rows, key=lambda row: row[4] or 0) == [
        ("outcome", "outcome", None, LAPSED, overdue, "sue"),
        ("outcome", "outcome", None, LAPSED, later, "sue"),
    ]
    assert {e.at for e in in_close} == {at(25, 11)}

    # Out of the tile, the owner's "due" list and the reminders.
    with engine.connect() as connection:
        tile = read_promises(connection, settings, at(25, 12))
    assert (tile.overdue, tile.due_today) == (0, 0)
    assert own_promises(engine, "ann", at(25, 12), at(28, 0)) == (0, 0, ())
    assert _pending_reminders(engine, later) == 0


def test_reopening_does_not_revive_a_lapsed_promise(people, settings):
    engine = people
    clock = Clock(at(23, 9))
    svc = ComplaintService(engine, settings, clock)
    ref = _complaint(svc, clock, at(23, 9))
    promise = _promise(svc, clock, at(23, 9, 30), ref, at(27, 12))
    _resolved(svc, clock, ref, at(24, 10))
    clock.now = at(24, 11)
    svc.close(ref, "ann")
    clock.now = at(25, 9)
    reopened = svc.reopen(ref, "ann", note="Not refunded after all")

    (f,) = reopened.follow_ups
    assert (f.id, f.outcome, f.outcome_at) == (promise, LAPSED, at(24, 11))
    assert reopened.next_follow_up_at is None and reopened.due_at == reopened.sla_due_at
    assert _pending_reminders(engine, promise) == 0  # not armed again for its due time
    with engine.connect() as connection:
        assert read_promises(connection, settings, at(27, 9)).due_today == 0
    assert own_promises(engine, "ann", at(27, 9), at(28, 0)) == (0, 0, ())
    # A supervisor's new follow-up is the promise now.
    new = _promise(svc, clock, at(25, 9, 30), ref, at(27, 15))
    with engine.connect() as connection:
        assert read_promises(connection, settings, at(27, 9)).due_today == 1
    assert svc.get(ref).next_follow_up_at == at(27, 15)
    assert _pending_reminders(engine, new) > 0


def test_auto_close_lapses_the_open_promises_too(people, settings):
    engine = people
    clock = Clock(at(16, 9))
    svc = ComplaintService(engine, settings, clock)
    ref = _complaint(svc, clock, at(16, 9))
    promise = _promise(svc, clock, at(16, 9, 30), ref, at(17, 12))
    _resolved(svc, clock, ref, at(16, 10))
    auto_closed_at = at(16, 10) + (settings.complaints.auto_close_days + 1) * 86400
    assert svc.close_stale_resolved(auto_closed_at) == [ref]

    info = svc.get(ref)
    (f,) = info.follow_ups
    assert (f.id, f.outcome, f.outcome_at, f.outcome_by) == (promise, LAPSED, auto_closed_at, None)
    (row,) = [e for e in info.events if e.field == "outcome"]
    auto_close = next(e for e in info.events if e.kind == "auto_close")
    assert (row.kind, row.new, row.follow_up_id, row.actor, row.changeset) == (
        "outcome",
        LAPSED,
        promise,
        None,
        auto_close.changeset,
    )


@pytest.fixture
def week(people, settings):
    """One complaint by e-mail (no queue): four promises due in the week. p1 kept on time;
    p2 (due Tue 15:00) and p3 (due Fri 12:00, after the close) still open when it is closed
    on Wed 11:00: lapsed; reopened Thu 09:00, p4 (due Thu 15:00) kept late at 16:00. A
    coaching action stays open (not a promise)."""
    engine = people
    clock = Clock(at(23, 9))
    svc = ComplaintService(engine, settings, clock)
    ref = _complaint(svc, clock, at(23, 9))
    p1 = _promise(svc, clock, at(23, 9, 30), ref, at(24, 10))
    _promise(svc, clock, at(23, 9, 30), ref, at(24, 15))
    _promise(svc, clock, at(23, 9, 30), ref, at(27, 12), kind="action")
    _promise(svc, clock, at(23, 9, 30), ref, at(24, 12), kind="coaching")
    clock.now = at(24, 9)
    svc.record_outcome(ref, p1, "ann", outcome="done", note="Called")
    _resolved(svc, clock, ref, at(25, 10))
    clock.now = at(25, 11)
    svc.close(ref, "ann")
    clock.now = at(26, 9)
    svc.reopen(ref, "ann", note="Still waiting")
    p4 = _promise(svc, clock, at(26, 9), ref, at(26, 15))
    clock.now = at(26, 16)
    svc.record_outcome(ref, p4, "ann", outcome="done", note="Called, late")
    return engine, ref


# By hand: 4 promises due in the week by now (the coaching action is not one): p1 on time,
# p4 late, p2 and p3 lapsed: missed (p2 lapsed after its due time, p3 before it; without the
# rule they would read as kept late and kept on time).
PROMISES = dict(
    follow_ups_due=4,
    follow_ups_kept_on_time=1,
    follow_ups_kept_on_time_pct=25.0,
    follow_ups_kept_late=1,
    follow_ups_missed=2,
    follow_ups_moved=0,
)


@pytest.mark.parametrize("by", ["queue", "week"])  # the per-complaint counts in SQL; one by one in Python
def test_reports_count_lapsed_promises_as_missed(week, settings, by):
    engine, ref = week
    report = outcome_report(engine, settings, START, END, NOW, by)
    (group,) = report.groups
    figures = group.as_dict()
    assert {key: figures[key] for key in PROMISES} == PROMISES
    total = report.total.as_dict()
    assert {key: total[key] for key in PROMISES} == PROMISES
    (complaint_id,) = outcome_complaint_ids(engine, settings, START, END, NOW, by, "total", "promise_broken")
    assert complaint_id == int(ref.removeprefix("C-"))


def _downgrade_to_0020(engine) -> None:
    with writer(engine).begin() as connection:
        command.downgrade(alembic_config(connection), "0020")
    assert current_revision(engine) == "0020"


def _upgrade(engine) -> None:
    with writer(engine).begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    assert current_revision(engine) == head_revision()


def test_the_migration_lapses_the_open_promises_of_complaints_closed_before(people, settings):
    """As a site upgrades: complaints closed by the code before this rule kept their promises
    open (and their next follow-up); 0021 lapses them as of the close, each with its audit row.
    The complaints are made by today's service, closed as the code before closed them, then
    the database goes down to 0020 and up again, as a site's upgrade runs."""
    engine = people
    clock = Clock(at(23, 9))
    svc = ComplaintService(engine, settings, clock)
    closed = _complaint(svc, clock, at(23, 9))
    open_promise = _promise(svc, clock, at(23, 9, 30), closed, at(24, 15))
    kept = _promise(svc, clock, at(23, 9, 30), closed, at(24, 10))
    coaching = _promise(svc, clock, at(23, 9, 30), closed, at(24, 12), kind="coaching")
    clock.now = at(24, 9)
    svc.record_outcome(closed, kept, "ann", outcome="done", note="Called")
    _resolved(svc, clock, closed, at(25, 10))
    resolved = _complaint(svc, clock, at(23, 10))
    on_resolved = _promise(svc, clock, at(23, 10, 30), resolved, at(24, 16))
    _resolved(svc, clock, resolved, at(25, 10))
    still_open = _complaint(svc, clock, at(23, 11))
    on_open = _promise(svc, clock, at(23, 11, 30), still_open, at(24, 17))
    # The close as the code before this revision made it: status and time, promises untouched.
    closed_id = int(closed.removeprefix("C-"))
    with writer(engine).begin() as connection:
        connection.execute(
            text(
                "UPDATE complaints SET status = 'closed', closed_at = :at, status_changed_at = :at, "
                "next_follow_up_at = :next WHERE id = :id"
            ),
            {"at": at(25, 11), "next": at(24, 15), "id": closed_id},
        )
    _downgrade_to_0020(engine)
    audit_rows_before = _audit_ids(engine)

    _upgrade(engine)

    follow_ups = {f.id: f for f in svc.get(closed).follow_ups}
    assert (follow_ups[open_promise].outcome, follow_ups[open_promise].outcome_at) == (LAPSED, at(25, 11))
    assert follow_ups[open_promise].outcome_by is None
    assert follow_ups[kept].outcome == "done" and follow_ups[coaching].outcome is None
    assert svc.get(closed).next_follow_up_at is None
    assert [f.outcome for f in svc.get(resolved).follow_ups] == [None]
    assert [(f.id, f.outcome) for f in svc.get(still_open).follow_ups] == [(on_open, None)]
    assert svc.get(still_open).next_follow_up_at == at(24, 17)
    new_rows = [e for e in svc.get(closed).events if e.id not in audit_rows_before]
    assert [(e.kind, e.field, e.old, e.new, e.follow_up_id, e.actor) for e in new_rows] == [
        ("outcome", "outcome", None, LAPSED, open_promise, None)
    ]
    assert "0021" in (new_rows[0].note or "")
    assert _audit_ids(engine) - audit_rows_before == {new_rows[0].id}
    with engine.connect() as connection:
        tile = read_promises(connection, settings, at(24, 18))
    assert tile.overdue == 2  # the resolved and the open complaint's; not the closed one's
    assert on_resolved in {f.id for f in svc.get(resolved).follow_ups}

    # Down again: the code before knew no lapse, so the promise is open again (the audit
    # trail is append-only: its row stays); up again lapses it once more.
    _downgrade_to_0020(engine)
    assert {f.id: f.outcome for f in svc.get(closed).follow_ups}[open_promise] is None
    _upgrade(engine)
    assert {f.id: f.outcome for f in svc.get(closed).follow_ups}[open_promise] == LAPSED


def _audit_ids(engine) -> set[int]:
    with engine.connect() as connection:
        return set(connection.scalars(select(tables.audit_events.c.id)))
