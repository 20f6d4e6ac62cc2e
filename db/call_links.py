"""The triggers on `calls` that judge a complaint's call link again (migration 0025), on SQLite.

A complaint's kept outcome facts hold the queue and agent of the call it was logged from
(db.complaints.ComplaintOutcome; tickets.outcome_facts.Link). A call entry written later
changes that link, so triggers on `calls` judge it again. Each costs a trigger program per
entry written (~19,000 instructions, ~10 % of a bulk queue_log import), so a bulk load
(wallboard.feeds.files) drops them with its deferred indexes and, at its end, creates them
again and judges once the links of every complaint whose call it wrote: `restore(after)`.

These statements are the migration's, word for word (the migration keeps its own copy, as
migrations do; tests/unit/test_outcome_call_links.py checks that they agree).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

TRIGGERS = ("complaint_outcomes_call_insert", "complaint_outcomes_call_update", "complaint_outcomes_call_delete")

# The link of the complaint of the outcome row being set: (linked, queue, agent).
_ENTRY = "SELECT id FROM calls WHERE callid = c.callid ORDER BY answer_at IS NULL, enter_at DESC, id DESC LIMIT 1"
SQLITE_LINK = f"""(SELECT e.id IS NOT NULL,
            CASE WHEN e.id IS NULL THEN c.call_queue ELSE e.queue END,
            CASE WHEN e.id IS NULL THEN c.call_agent ELSE e.agent END
        FROM complaints AS c LEFT JOIN calls AS e ON e.id = ({_ENTRY})
        WHERE c.id = complaint_outcomes.complaint_id)"""
SQLITE_SET_LINK = "UPDATE complaint_outcomes SET (linked, queue, agent) = " + SQLITE_LINK
# An update of an entry matters only where it can change a link (the ingest rewrites every
# column of an entry it changes).
CHANGED = (
    "old.callid IS NOT new.callid OR old.queue IS NOT new.queue OR old.agent IS NOT new.agent "
    "OR old.enter_at IS NOT new.enter_at OR (old.answer_at IS NULL) <> (new.answer_at IS NULL)"
)
LINKED_COLUMNS = "callid, queue, agent, enter_at, answer_at"
# Each trigger first asks whether any complaint names the call (one probe of
# ix_complaints_callid, ~0.8 us an entry): the ingest's entries nearly all come before any
# complaint of theirs, and running the UPDATE for nothing cost ~3.6 us an entry.
LOGGED = "EXISTS (SELECT 1 FROM complaints WHERE callid = {})"
SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER complaint_outcomes_call_insert AFTER INSERT ON calls
    WHEN {LOGGED.format("new.callid")} BEGIN
        {SQLITE_SET_LINK}
        WHERE complaint_id IN (SELECT id FROM complaints WHERE callid = new.callid);
    END""",
    f"""CREATE TRIGGER complaint_outcomes_call_update AFTER UPDATE OF {LINKED_COLUMNS} ON calls
    WHEN ({CHANGED}) AND ({LOGGED.format("new.callid")}
        OR old.callid IS NOT new.callid AND {LOGGED.format("old.callid")}) BEGIN
        {SQLITE_SET_LINK}
        WHERE complaint_id IN (SELECT id FROM complaints WHERE callid IN (old.callid, new.callid));
    END""",
    f"""CREATE TRIGGER complaint_outcomes_call_delete AFTER DELETE ON calls
    WHEN {LOGGED.format("old.callid")} BEGIN
        {SQLITE_SET_LINK}
        WHERE complaint_id IN (SELECT id FROM complaints WHERE callid = old.callid);
    END""",
)


def drop(connection: Connection) -> None:
    """SQLite: the triggers gone until `restore` (a bulk load writes without them)."""
    for name in TRIGGERS:
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def restore(connection: Connection, after: int = 0) -> bool:
    """SQLite: the triggers back if any is missing, and the links of the complaints whose call
    has an entry with an id above `after` (the entries written without them) judged again;
    whether they were missing. A load stopped before its end knows no `after`: 0 judges
    every complaint logged from a call."""
    present = set(
        connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'calls'")
        ).scalars()
    )
    if present >= set(TRIGGERS):
        return False
    drop(connection)
    for statement in SQLITE_TRIGGERS:
        connection.execute(text(statement))
    connection.execute(
        text(
            SQLITE_SET_LINK + " WHERE complaint_id IN (SELECT id FROM complaints WHERE callid IN"
            " (SELECT callid FROM calls WHERE id > :after))"
        ),
        {"after": after},
    )
    return True
