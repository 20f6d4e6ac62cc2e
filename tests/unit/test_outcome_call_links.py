"""The call each complaint was logged from, kept with its outcome facts (migration 0025): the
report counts a complaint under the queue and agent of its call's last answered entry (else
its last entry), or those typed on it while the call data does not know the call
(docs/OUTCOMES.md). Call entries written after the complaint (the call answered later, another
queue, retention deleting it) move it at once, through the triggers on `calls`; a complaint
linked to another call moves too; the migration fills the links of complaints already there.
On SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import delete, insert, select, text, update

from db import call_links
from db.engine import write_transaction, writer
from db.migrate import alembic_config, current_revision, head_revision
from db.tables import calls, complaint_outcomes, complaints
from tests.support import BACKENDS, Clock, settings_in_london, wait_for
from tickets import users
from tickets.outcome_facts import Link, read_links, refresh
from tickets.outcomes import outcome_report
from tickets.service import ComplaintService
from wallboard.feeds.files import QueueLogIngest

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 23, tzinfo=LONDON).timestamp()  # a Monday
END = START + 7 * 86400
NOW = END + 86400

settings = settings_in_london  # this module's `settings` fixture


@pytest.fixture
def svc(engine, settings) -> ComplaintService:
    users.add_user(engine, "ann", "agent")
    return ComplaintService(engine, settings, Clock(START + 10 * 3600))


def _complaint(svc: ComplaintService, callid: str | None, queue: str | None = None, agent: str | None = None) -> int:
    ref = svc.create(
        "ann",
        customer="Mrs Jones",
        contact="+44 20 7946 0000",
        subject="Refund",
        description="Late.",
        callid=callid,
        call_queue=queue,
        call_agent=agent,
    ).ref
    return int(ref.removeprefix("C-"))


def _entry(engine, callid: str, queue: str, minute: int, agent: str | None = None) -> int:
    """A call entry into `queue`, `minute`s into the week's first morning (answered if it
    has an agent); its id."""
    enter = START + 9 * 3600 + 60 * minute
    values = dict(callid=callid, queue=queue, agent=agent, enter_at=enter, outcome="waiting")
    if agent is not None:
        values.update(answer_at=enter + 20, outcome="connected")
    with write_transaction(engine) as connection:
        return int(connection.execute(insert(calls).values(values)).inserted_primary_key[0])


def _counted(engine, settings, by: str) -> dict[str, tuple[int, int]]:
    """(linked, unlinked) per group of the report by `by`."""
    report = outcome_report(engine, settings, START, END, NOW, by)
    return {g.group: (g.linked_to_call, g.unlinked) for g in report.groups}


def _kept(engine, complaint_id: int) -> Link | None:
    o = complaint_outcomes.c
    with engine.connect() as connection:
        row = connection.execute(select(o.linked, o.queue, o.agent).where(o.complaint_id == complaint_id)).first()
    return Link(bool(row[0]), row[1], row[2]) if row is not None else None


def _afresh(engine, complaint_id: int) -> Link:
    with engine.connect() as connection:
        return read_links(connection, [complaint_id])[complaint_id]


def test_call_entries_written_after_the_complaint_move_it_at_once(engine, settings, svc):
    complaint = _complaint(svc, "late-1", queue="billing", agent="Typed Agent")
    typed = Link(False, "billing", "Typed Agent")
    assert _kept(engine, complaint) == typed
    assert _counted(engine, settings, "queue") == {"billing": (0, 1)}

    # The call reaches the call data after the complaint: an entry not answered yet, ...
    sales = _entry(engine, "late-1", "sales", 0)
    assert _kept(engine, complaint) == Link(True, "sales", None) == _afresh(engine, complaint)
    assert _counted(engine, settings, "queue") == {"sales": (1, 0)}
    assert _counted(engine, settings, "agent") == {"(none)": (1, 0)}
    # ... then a later entry into another queue, answered there (as the ingest writes it: the
    # entry first, its answer by an update) ...
    support = _entry(engine, "late-1", "support", 5)
    with write_transaction(engine) as connection:
        connection.execute(
            update(calls).where(calls.c.id == support).values(agent="Carl Agent", answer_at=START + 9 * 3600 + 330)
        )
    assert _kept(engine, complaint) == Link(True, "support", "Carl Agent") == _afresh(engine, complaint)
    assert _counted(engine, settings, "queue") == {"support": (1, 0)}
    assert _counted(engine, settings, "agent") == {"Carl Agent": (1, 0)}
    # ... and a last entry not answered: the answered one still holds the call.
    _entry(engine, "late-1", "retention", 9)
    assert _kept(engine, complaint) == Link(True, "support", "Carl Agent")
    # Kept all along, never judged again: the facts are the service's, of its version.
    with engine.connect() as connection:
        versions = connection.execute(
            select(complaints.c.version, complaint_outcomes.c.version)
            .join_from(complaints, complaint_outcomes, complaint_outcomes.c.complaint_id == complaints.c.id)
            .where(complaints.c.id == complaint)
        ).one()
    assert versions[0] == versions[1]

    # Retention deletes entries: the last one left holds the call; with none, it is unlinked.
    with write_transaction(engine) as connection:
        connection.execute(delete(calls).where(calls.c.id == support))
    assert _kept(engine, complaint) == Link(True, "retention", None) == _afresh(engine, complaint)
    with write_transaction(engine) as connection:
        connection.execute(delete(calls).where(calls.c.callid == "late-1"))
    assert _kept(engine, complaint) == typed == _afresh(engine, complaint)
    assert _counted(engine, settings, "queue") == {"billing": (0, 1)}
    assert sales  # (its entry went with the rest)


def test_entries_of_other_calls_and_other_columns_leave_the_link_alone(engine, settings, svc):
    complaint = _complaint(svc, "call-1")
    entry = _entry(engine, "call-1", "sales", 0, agent="Ann Agent")
    other = _complaint(svc, None, queue="billing")
    _entry(engine, "call-2", "support", 1, agent="Carl Agent")
    with write_transaction(engine) as connection:
        connection.execute(update(calls).where(calls.c.id == entry).values(end_at=START + 10 * 3600, talk_seconds=60))
    assert _kept(engine, complaint) == Link(True, "sales", "Ann Agent")
    assert _kept(engine, other) == Link(False, "billing", None)
    assert _counted(engine, settings, "queue") == {"billing": (0, 1), "sales": (1, 0)}


def test_a_complaint_linked_to_another_call_moves(engine, settings, svc):
    _entry(engine, "first", "sales", 0, agent="Ann Agent")
    _entry(engine, "second", "support", 1, agent="Carl Agent")
    complaint = _complaint(svc, "first")
    assert _counted(engine, settings, "queue") == {"sales": (1, 0)}
    # Linked to another call by a write outside the service: the complaint's facts go (the
    # triggers of 0022), the report judges its link afresh, the next refresh keeps it again.
    with write_transaction(engine) as connection:
        connection.execute(update(complaints).where(complaints.c.id == complaint).values(callid="second"))
    assert _kept(engine, complaint) is None
    assert _counted(engine, settings, "queue") == {"support": (1, 0)}
    assert _counted(engine, settings, "agent") == {"Carl Agent": (1, 0)}
    assert refresh(engine, svc.calendar) == 1
    assert _kept(engine, complaint) == Link(True, "support", "Carl Agent")
    # Linked to a call the call data does not know: unlinked, under the queue typed on it.
    with write_transaction(engine) as connection:
        connection.execute(
            update(complaints).where(complaints.c.id == complaint).values(callid="unknown", call_queue="billing")
        )
    assert _counted(engine, settings, "queue") == {"billing": (0, 1)}


def test_the_migration_fills_the_links_of_the_complaints_already_kept(engine, settings, svc):
    _entry(engine, "answered", "sales", 0)
    _entry(engine, "answered", "support", 3, agent="Carl Agent")
    _entry(engine, "unanswered", "retention", 4)
    kept = {
        _complaint(svc, "answered", queue="billing"): Link(True, "support", "Carl Agent"),
        _complaint(svc, "unanswered"): Link(True, "retention", None),
        _complaint(svc, "unknown", queue="billing", agent="Typed Agent"): Link(False, "billing", "Typed Agent"),
        _complaint(svc, None): Link(False, None, None),
    }
    report = outcome_report(engine, settings, START, END, NOW, "queue")
    with writer(engine).begin() as connection:
        command.downgrade(alembic_config(connection), "0024")
    assert current_revision(engine) == "0024"
    with writer(engine).begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    assert current_revision(engine) == head_revision()
    assert {complaint: _kept(engine, complaint) for complaint in kept} == kept
    assert outcome_report(engine, settings, START, END, NOW, "queue") == report
    # The triggers are back too.
    _entry(engine, "unknown", "collections", 10, agent="Ann Agent")
    assert _kept(engine, next(c for c, link in kept.items() if link.agent == "Typed Agent")) == Link(
        True, "collections", "Ann Agent"
    )


def test_an_entry_moved_to_another_call_moves_both_complaints(engine, settings, svc):
    entry = _entry(engine, "call-1", "sales", 0, agent="Ann Agent")
    before = _complaint(svc, "call-1", queue="billing")
    after = _complaint(svc, "call-9", queue="support")
    with write_transaction(engine) as connection:
        connection.execute(update(calls).where(calls.c.id == entry).values(callid="call-9"))
    # Unlinked now: under what the complaint copied of the call when it was logged.
    assert _kept(engine, before) == Link(False, "billing", "Ann Agent") == _afresh(engine, before)
    assert _kept(engine, after) == Link(True, "sales", "Ann Agent") == _afresh(engine, after)


@pytest.mark.parametrize("settings", [BACKENDS[1]], indirect=True)
def test_a_complaint_logged_while_its_call_is_written_apart_waits_and_sees_it(engine, settings, svc):
    """On PostgreSQL a complaint logged while an entry of its call is written in another
    transaction, not yet committed, sees neither the other: the entry's trigger holds the link
    lock (migration 0025), so the complaint's facts wait for that commit and then read the
    entry. Without the lock the complaint would keep "unlinked" for good."""
    with writer(engine).connect() as apart:
        apart.begin()
        enter = START + 9 * 3600
        apart.execute(insert(calls).values(callid="race", queue="sales", enter_at=enter, outcome="waiting"))
        with ThreadPoolExecutor(1) as pool:
            logged = pool.submit(_complaint, svc, "race", "billing")

            def waiting_on_the_lock() -> bool:
                with engine.connect() as connection:
                    return bool(
                        connection.scalar(
                            text(
                                "SELECT count(*) FROM pg_stat_activity "
                                "WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
                            )
                        )
                    )

            wait_for(waiting_on_the_lock, what="the complaint's facts to wait for the entry's commit")
            assert not logged.done()
            apart.commit()
            complaint = logged.result(timeout=30)
    assert _kept(engine, complaint) == Link(True, "sales", None) == _afresh(engine, complaint)


def _triggers(engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'calls'")
        )
        return {name: sql for name, sql in rows}


def test_the_bulk_loads_triggers_are_the_migrations_word_for_word(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("a bulk load drops and restores them on SQLite only")
    assert _triggers(engine) == dict(zip(call_links.TRIGGERS, call_links.SQLITE_TRIGGERS, strict=True))


def test_a_bulk_load_writes_without_the_triggers_and_links_its_calls_complaints_at_its_end(
    engine, settings, svc, tmp_path
):
    if engine.dialect.name != "sqlite":
        pytest.skip("a bulk load drops and restores them on SQLite only")
    loaded = _complaint(svc, "bulk-1", queue="billing")  # logged before its call reaches the call data
    elsewhere = _complaint(svc, "not-in-the-file", queue="billing", agent="Typed Agent")
    at = START + 9 * 3600
    lines = [f"{at + i}|pad-{i}|sales|NONE|ENTERQUEUE||555{i:04d}|1" for i in range(6)]
    lines += [
        f"{at + 10}|bulk-1|sales|NONE|ENTERQUEUE||5551234|1",
        f"{at + 30}|bulk-1|sales|Ann Agent|CONNECT|20|bulk-1.2|3",
        f"{at + 90}|bulk-1|sales|Ann Agent|COMPLETECALLER|20|60|1",
    ]
    path = tmp_path / "queue_log"
    path.write_text("\n".join(lines) + "\n")
    during: list[set[str]] = []
    QueueLogIngest(engine, settings, path, batch_lines=2, bulk_min_bytes=0).run(
        progress=lambda _bytes, _lines: during.append(set(_triggers(engine)))
    )
    assert len(during) == 5 and not any(during), "the batches were written without the triggers"
    assert set(_triggers(engine)) == set(call_links.TRIGGERS)
    assert _kept(engine, loaded) == Link(True, "sales", "Ann Agent") == _afresh(engine, loaded)
    assert _kept(engine, elsewhere) == Link(False, "billing", "Typed Agent")


def test_a_load_stopped_without_its_triggers_is_mended_by_the_next_run(engine, settings, svc, tmp_path):
    if engine.dialect.name != "sqlite":
        pytest.skip("a bulk load drops and restores them on SQLite only")
    complaint = _complaint(svc, "cut-1", queue="billing")
    with write_transaction(engine) as connection:  # as a bulk load killed part way leaves them
        call_links.drop(connection)
    _entry(engine, "cut-1", "sales", 0, agent="Ann Agent")
    assert _kept(engine, complaint) == Link(False, "billing", None), "written without the triggers"
    path = tmp_path / "queue_log"
    path.write_text("")
    QueueLogIngest(engine, settings, path).run()
    assert set(_triggers(engine)) == set(call_links.TRIGGERS)
    assert _kept(engine, complaint) == Link(True, "sales", "Ann Agent") == _afresh(engine, complaint)
