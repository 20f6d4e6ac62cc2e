"""The outcome report's kept facts (tickets/outcome_facts.py, table complaint_outcomes): the
report from them gives the same figures as judging every complaint afresh, for every
grouping, window and `now`, on SQLite and PostgreSQL; stale or missing facts are judged
again, never read.

A seeded random floor: complaints through the service (some from calls on record, one call
through two queues, some typed in), moved through their statuses, escalated, with promises
kept, late, moved or missed, at whole minutes (so business seconds are exact on both sides).
"""

from __future__ import annotations

import copy
import random
import re
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, event, func, select, update

from db.engine import make_engine, write_transaction
from db.models import Call
from db.tables import complaint_outcomes, complaints, follow_ups
from tests.support import BACKENDS, Clock, settings_in_london
from tickets import users
from tickets.errors import TicketError
from tickets.outcome_facts import refresh
from tickets.outcomes import DRILLS, GROUPINGS, OutcomeReport, outcome_complaint_ids, outcome_report
from tickets.service import ComplaintService
from tickets.sla import BusinessCalendar

LONDON = ZoneInfo("Europe/London")
MINUTE = 60.0
FIRST = datetime(2026, 10, 19, 8, tzinfo=LONDON).timestamp()  # a Monday, three weeks of complaints
LAST = FIRST + 21 * 86400
QUEUES = ("billing", "sales", "support")


settings = settings_in_london  # this module's `settings` fixture


def _minute(rng: random.Random, start: float, end: float) -> float:
    return start + MINUTE * rng.randrange(int((end - start) / MINUTE))


def _script(rng: random.Random) -> list[str]:
    """One complaint's intents in a plausible order, with promises and escalations between,
    cut short at random (complaints still open)."""
    script = ["acknowledge", "start"]
    if rng.random() < 0.3:
        script += ["wait", "resume"]
    script += ["resolve"]
    if rng.random() < 0.3:
        script += ["reopen", "start", "resolve"]
    if rng.random() < 0.5:
        script += ["close"]
    for extra in ("follow_up", "follow_up", "outcome", "outcome", "escalate"):
        if rng.random() < 0.6:
            script.insert(rng.randrange(1, len(script) + 1), extra)
    return script[: rng.randrange(1, len(script) + 1)] if rng.random() < 0.3 else script


def _floor(engine, settings, seed: int) -> ComplaintService:
    """Sixty complaints over three weeks, each moved through its `_script` (intents the life
    cycle or the permissions refuse are skipped)."""
    rng = random.Random(seed)
    for name, role in (("ann", "agent"), ("carl", "agent"), ("sue", "supervisor")):
        users.add_user(engine, name, role)
    calls = []
    for n in range(40):
        enter = _minute(rng, FIRST - 86400, LAST)
        answered = rng.random() < 0.8
        calls.append(
            dict(
                callid=f"c{n}",
                queue=rng.choice(QUEUES),
                agent=rng.choice(("Ann Agent", "Carl Agent", None)) if answered else None,
                enter_at=enter,
                answer_at=enter + 30 if answered else None,
                outcome="completed" if answered else "abandoned",
            )
        )
    # One call through two queues: its complaint belongs to the one that answered it.
    calls.append(dict(callid="c0", queue="sales", agent="Carl Agent", enter_at=calls[0]["enter_at"] + 60))
    calls[-1].update(answer_at=calls[-1]["enter_at"] + 10, outcome="completed")
    with write_transaction(engine) as connection:
        connection.execute(Call.__table__.insert(), calls)
    clock = Clock(FIRST)
    svc = ComplaintService(engine, settings, clock)
    events = []
    for n in range(60):
        created = _minute(rng, FIRST - 5 * 86400, LAST)
        callid = rng.choice((f"c{rng.randrange(45)}", None))  # c40-c44 are not on record
        events.append((created, "create", n, callid))
        at = created
        for intent in _script(rng):
            at += MINUTE * rng.randrange(1, 6 * 60 if intent == "acknowledge" else 2 * 24 * 60)
            events.append((at, intent, n, None))
    refs: dict[int, str] = {}
    for when, intent, n, callid in sorted(events, key=lambda e: (e[0], e[2])):
        clock.now = when
        actor = rng.choice(("ann", "carl", "sue"))
        try:
            if intent == "create":
                refs[n] = svc.create(
                    actor,
                    customer="Mrs Jones",
                    contact="+44 20 7946 0000",
                    subject="Refund",
                    description="Late.",
                    severity=rng.choice(("low", "normal", "high", "critical")),
                    channel="phone" if callid else rng.choice(("email", "chat")),
                    callid=callid,
                    call_queue=rng.choice(QUEUES) if callid else None,
                    category=rng.choice(("refund", "billing error", None)),
                    owner=rng.choice(("ann", "carl", None)),
                ).ref
            elif n not in refs:
                continue
            elif intent == "resolve":
                svc.resolve(refs[n], actor, resolution="Done", root_cause=rng.choice(("agent", "process")))
            elif intent == "reopen":
                svc.reopen(refs[n], actor, note="Not fixed")
            elif intent == "close":
                svc.close(refs[n], actor, confirmed=rng.random() < 0.5)
            elif intent == "escalate":
                svc.escalate(refs[n], rng.choice((1, 2)), actor="sue", note="Slow")
            elif intent == "follow_up":
                svc.add_follow_up(refs[n], actor, due_at=when + MINUTE * rng.randrange(30, 5000), note="Call")
            elif intent == "outcome":
                info = svc.get(refs[n])
                open_ones = [f for f in info.follow_ups if f.outcome is None]
                if open_ones:
                    outcome = rng.choice(("done", "no_answer", "rescheduled"))
                    new_due = when + MINUTE * rng.randrange(30, 3000) if outcome == "rescheduled" else None
                    svc.record_outcome(refs[n], open_ones[0].id, "sue", outcome=outcome, note="x", new_due_at=new_due)
            else:
                getattr(svc, intent)(refs[n], actor)
        except TicketError:
            continue  # refused by the life cycle or the permissions: as on a real floor
    return svc


def _windows(rng: random.Random) -> list[tuple[float, float, float]]:
    """(start, end, now): the whole span judged after it, random windows judged after them,
    and a window judged before its end (promises not yet due, complaints still open)."""
    windows = [(FIRST - 6 * 86400, LAST + 86400, LAST + 20 * 86400)]
    for _ in range(3):
        start = _minute(rng, FIRST - 6 * 86400, LAST)
        end = _minute(rng, start + MINUTE, LAST + 86400)
        windows.append((start, end, _minute(rng, end, LAST + 30 * 86400)))
    start = FIRST + 7 * 86400
    windows.append((start, start + 7 * 86400, start + 3 * 86400))
    return windows


def _everything(engine, settings, windows):
    return [
        (outcome_report(engine, settings, start, end, now, by), by) for start, end, now in windows for by in GROUPINGS
    ]


def _drills(engine, settings, windows):
    start, end, now = windows[0]
    return {
        (by, drill): outcome_complaint_ids(engine, settings, start, end, now, by, "total", drill)
        for by in GROUPINGS
        for drill in DRILLS
    }


def test_the_report_from_kept_facts_equals_judging_every_complaint_afresh(engine, settings):
    svc = _floor(engine, settings, seed=14)
    windows = _windows(random.Random(14))
    with engine.connect() as connection:
        kept = connection.scalar(select(func.count()).select_from(complaint_outcomes))
        received = connection.scalar(select(func.count()).select_from(complaints))
    assert kept == received > 40  # the service kept facts for every complaint it wrote
    from_facts = _everything(engine, settings, windows)
    drills = _drills(engine, settings, windows)
    assert from_facts[0][0].total.received == received
    assert from_facts[0][0].total.reopened > 0 and from_facts[0][0].total.escalated_supervisor > 0
    with write_transaction(engine) as connection:
        connection.execute(delete(complaint_outcomes))
    assert _everything(engine, settings, windows) == from_facts  # every complaint judged afresh
    assert _drills(engine, settings, windows) == drills
    assert refresh(engine, svc.calendar) == received
    assert _everything(engine, settings, windows) == from_facts


def test_stale_facts_are_judged_again_never_read(engine, settings):
    svc = _floor(engine, settings, seed=7)
    windows = _windows(random.Random(7))[:1]
    honest = _everything(engine, settings, windows)
    # Facts that lie, on every complaint: a change the service did not make (its version moved
    # on) and facts judged under other business hours are both judged again.
    with write_transaction(engine) as connection:
        connection.execute(
            update(complaint_outcomes).values(ack_seconds=1.0, resolve_seconds=1.0, reopened=True, highest_level=2)
        )
        connection.execute(update(complaints).values(version=complaints.c.version + 1).where(complaints.c.id % 2 == 0))
        connection.execute(
            update(complaint_outcomes).values(calendar="other hours").where(complaint_outcomes.c.complaint_id % 2 == 1)
        )
    assert _everything(engine, settings, windows) == honest
    # Other business hours: the report judges under the hours it is given, as before.
    before = copy.deepcopy(settings)
    settings.business_hours.saturday = "09:00-13:00"
    assert BusinessCalendar.from_settings(settings).fingerprint != svc.calendar.fingerprint
    fresh = _everything(engine, settings, windows)
    assert fresh != honest
    assert refresh(engine, BusinessCalendar.from_settings(settings)) > 0
    assert _everything(engine, settings, windows) == fresh
    # Every complaint has facts again, all of the new hours: under the old ones none is read.
    assert _everything(engine, before, windows) == honest


def test_the_servers_daily_maintenance_judges_missing_facts_again(engine, settings):
    """Facts deleted by a write outside the service (the triggers' doing) are judged again by
    the server's daily maintenance, as `db upgrade` judges them: the report reads them again."""
    from wallboard.server.scheduler import ReminderScheduler

    _floor(engine, settings, seed=3)
    windows = _windows(random.Random(3))[:1]
    honest = _everything(engine, settings, windows)
    with write_transaction(engine) as connection:
        connection.execute(update(complaints).values(subject=complaints.c.subject + " (edited)"))
        assert connection.execute(select(func.count()).select_from(complaint_outcomes)).scalar_one() == 0
    ReminderScheduler(engine, settings, server="test", clock=lambda: LAST + 86400).maintain_history()
    with engine.connect() as connection:
        kept = connection.execute(select(func.count()).select_from(complaint_outcomes)).scalar_one()
        total = connection.execute(select(func.count()).select_from(complaints)).scalar_one()
    assert kept == total > 0
    assert _everything(engine, settings, windows) == honest


def test_the_drill_downs_list_the_complaints_the_report_counts(engine, settings):
    """The report counts a month's complaints in one loop of its own; the drill-downs judge
    each one as a verdict: both give the same figures, for every group of every grouping."""
    _floor(engine, settings, seed=14)
    for start, end, now in _windows(random.Random(14))[:3]:
        for by in GROUPINGS:
            report = outcome_report(engine, settings, start, end, now, by)
            for figures in (*report.groups, report.total):
                listed = {
                    drill: len(outcome_complaint_ids(engine, settings, start, end, now, by, figures.group, drill))
                    for drill in DRILLS
                }
                assert listed["received"] == figures.received
                assert listed["ack_late"] == figures.ack_judged - figures.ack_on_time
                assert listed["resolve_late"] == figures.resolve_judged - figures.resolved_on_time
                assert listed["reopened"] == figures.reopened
                assert listed["escalated"] == figures.escalated_supervisor + figures.escalated_manager


def test_missing_facts_outside_the_window_cost_the_report_nothing(engine, settings):
    """Whether the kept promise facts are complete is checked within the window (the
    promises counted add up to those due in it), not by counting both whole tables: a
    complaint without facts whose promises all fell due before the window neither slows the
    report (no recount of every promise from the follow-ups) nor changes it."""
    _floor(engine, settings, seed=14)
    start, end, now = FIRST + 14 * 86400, LAST + 86400, LAST + 20 * 86400
    honest = outcome_report(engine, settings, start, end, now)
    with engine.connect() as connection:
        before_window = connection.scalar(
            select(follow_ups.c.complaint_id)
            .group_by(follow_ups.c.complaint_id)
            .having(func.max(follow_ups.c.due_at) < start)
            .limit(1)
        )
    assert before_window is not None
    with write_transaction(engine) as connection:
        connection.execute(delete(complaint_outcomes).where(complaint_outcomes.c.complaint_id == before_window))
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert outcome_report(engine, settings, start, end, now) == honest
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert not [s for s in statements if re.search(r"count\(\*\) AS \w+ FROM (complaints|complaint_outcomes)$", s)]
    # A count of the straddling complaints' promises names them (an IN list on SQLite, an
    # array on PostgreSQL); a recount of every promise does not.
    among = ("complaint_id IN", "complaint_id = ANY")
    recounts = [s for s in statements if "GROUP BY follow_ups.complaint_id" in s and not any(a in s for a in among)]
    assert not recounts  # the facts were read, only promises straddling the window counted afresh


@pytest.mark.parametrize("settings", [BACKENDS[1]], indirect=True)
def test_reports_side_by_side_on_a_small_pool_all_finish_with_the_right_figures(engine, settings):
    """On PostgreSQL a report reads on two connections at once (tickets/outcomes.py, `run`),
    taken together under one lock: reports side by side on a pool of two connections never
    each hold one and wait for a second until the pool gives up (30 s). Six reports at once,
    from threads, all finish well within that with the figures of a report run alone."""
    _floor(engine, settings, seed=5)
    start, end, now = _windows(random.Random(5))[0]
    alone = outcome_report(engine, settings, start, end, now)
    small = make_engine(settings.database_url(), pool_size=1)  # one connection, one more at most
    try:
        assert small.pool.size() == 1
        ready = threading.Barrier(6)

        def report() -> OutcomeReport:
            ready.wait(timeout=20)
            return outcome_report(small, settings, start, end, now)

        with ThreadPoolExecutor(6) as threads:
            running = [threads.submit(report) for _ in range(6)]
            finished, late = wait(running, timeout=25)  # under the pool's 30 s checkout timeout
            assert not late, f"{len(late)} of 6 reports unfinished after 25 s"
            assert [future.result() for future in running] == [alone] * 6
    finally:
        small.dispose()
