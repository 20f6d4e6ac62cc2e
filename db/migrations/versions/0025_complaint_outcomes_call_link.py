"""complaint_outcomes: the call each complaint was logged from, kept with its facts

The outcome report (tickets/outcomes.py) groups complaints by the queue and agent of the call
each was logged from and counts those whose call is on record (docs/OUTCOMES.md: the last
answered entry of the call, else its last entry; without one, the queue and agent typed on
the complaint). It probed the call entries of every complaint of its window for that (a month
of a large floor: ~40k probes, ~100 ms on SQLite, ~170 ms of PostgreSQL's CPU). Now each
complaint's facts hold it: `linked` (the call data knows the call) and the `queue` and `agent`
the report counts it under (tickets.outcome_facts.Link).

The service judges it with the rest of the facts. A call entry written later (the call is
answered after the complaint was logged, enters another queue, is deleted by retention)
changes it without the complaint: triggers on `calls` judge it again on the facts of every
complaint logged from that call, whoever writes the entry. They run per entry inserted or
deleted, and per entry updated in a column the link reads (callid, queue, agent, enter_at,
answered or not): a trigger program and one probe of ix_complaints_callid each (~19,000
instructions, ~10 % of a bulk queue_log import's). A bulk load on SQLite drops them and judges its calls' complaints once at its end
(wallboard/feeds/files.py, with db/call_links.py: the same statements, kept in step by a test).

On PostgreSQL two transactions do not see each other's writes: a complaint judged while an
entry of its call is written in another transaction could keep a link that misses it. So the
calls' trigger takes a transaction-level advisory lock (LINK_LOCK below, the same in
tickets/outcome_facts.py) exclusive, and whatever judges a link (tickets/outcome_facts `record`
and `refresh`) takes it shared before it reads the call's entries: one waits for the other to
commit, then sees its write. Complaint writes share it, so they never wait for each other on
it. The trigger skips facts another transaction holds (FOR UPDATE SKIP LOCKED): only a
complaint's own writer holds them (0022's triggers delete them as it changes the complaint), and
it judges the link again in `record`, after the lock, so after this entry.

Existing facts are filled here, by the same rule, in SQL (no site settings needed).

ix_complaint_outcomes_promises also holds the queue and agent, so the report adds up the kept
promise counts of a month's complaints per queue (or agent) from the index alone, where it
read each complaint's counts (~50k rows) and then looked up its group.

ix_complaints_created_at (the report's cohort, a month's received complaints) also holds every
column the report reads of a complaint, so the range answers it without a table row each
(SQLite: ~45 ms less CPU a report at 1M complaints). Complaints are written at a person's pace.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

LINK_LOCK = 1_400_240_024  # tickets.outcome_facts.LINK_LOCK

# The link of the complaint `{complaint}`: (linked, queue, agent).
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
SQLITE = [
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
]

POSTGRESQL_LINK = f"""SELECT c.id AS complaint_id, e.id IS NOT NULL AS linked,
            CASE WHEN e.id IS NULL THEN c.call_queue ELSE e.queue END AS queue,
            CASE WHEN e.id IS NULL THEN c.call_agent ELSE e.agent END AS agent
        FROM complaints AS c LEFT JOIN LATERAL (
            SELECT id, queue, agent FROM calls WHERE callid = c.callid
            ORDER BY answer_at IS NULL, enter_at DESC, id DESC LIMIT 1
        ) AS e ON true"""
POSTGRESQL = [
    f"""CREATE FUNCTION complaint_outcomes_call_link() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        one varchar;
        target integer;
    BEGIN
        -- The lock first: a complaint judged meanwhile is seen once the lock is had.
        PERFORM pg_advisory_xact_lock({LINK_LOCK});
        -- The entry's call id (an update's old one, then its new one if another): one
        -- equality at a time (of `= ANY (array)` the plan kept after a few entries scanned
        -- every complaint).
        one := CASE WHEN TG_OP = 'INSERT' THEN NEW.callid ELSE OLD.callid END;
        LOOP
            IF EXISTS (SELECT 1 FROM complaints WHERE callid = one) THEN
                FOR target IN
                    SELECT o.complaint_id FROM complaint_outcomes AS o JOIN complaints AS c ON c.id = o.complaint_id
                    WHERE c.callid = one ORDER BY o.complaint_id FOR UPDATE OF o SKIP LOCKED
                LOOP
                    UPDATE complaint_outcomes AS o SET linked = l.linked, queue = l.queue, agent = l.agent
                    FROM ({POSTGRESQL_LINK} WHERE c.id = target) AS l
                    WHERE o.complaint_id = target;
                END LOOP;
            END IF;
            EXIT WHEN TG_OP <> 'UPDATE' OR one = NEW.callid;
            one := NEW.callid;
        END LOOP;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER complaint_outcomes_call_insert AFTER INSERT ON calls
        FOR EACH ROW EXECUTE FUNCTION complaint_outcomes_call_link()""",
    f"""CREATE TRIGGER complaint_outcomes_call_update AFTER UPDATE OF {LINKED_COLUMNS} ON calls
        FOR EACH ROW WHEN ({CHANGED.replace("old.", "OLD.").replace("new.", "NEW.").replace(" IS NOT ", " IS DISTINCT FROM ")})
        EXECUTE FUNCTION complaint_outcomes_call_link()""",
    """CREATE TRIGGER complaint_outcomes_call_delete AFTER DELETE ON calls
        FOR EACH ROW EXECUTE FUNCTION complaint_outcomes_call_link()""",
]


# ix_complaint_outcomes_promises: 0023's columns, then these.
PROMISES_INDEX = [
    "calendar",
    "promise_last_due",
    "promise_first_due",
    "complaint_id",
    "promises_missed",
    "promises_late",
    "promises_moved",
    "promises_kept",
]
GROUPS = ["queue", "agent"]
COHORT = [
    "acknowledged_at",
    "resolved_at",
    "sla_paused_seconds",
    "sla_paused_since",
    "escalation_level",
    "ack_due_at",
    "severity",
    "version",
    "root_cause",
    "category",
    "owner_id",
    "channel",
    "id",
]  # after created_at (db.complaints.COHORT_INDEX)


def _index(name: str, table: str, columns: list[str]) -> None:
    """Index `name` built again on these columns."""
    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns)
    bind = op.get_bind()
    if (
        bind.dialect.name == "sqlite"
        and bind.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first()
    ):
        # A database with statistics (ANALYZE ran) has none of the new index.
        op.execute(f"ANALYZE {name}")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("complaint_outcomes", sa.Column("linked", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("complaint_outcomes", sa.Column("queue", sa.String(length=80), nullable=True))
    op.add_column("complaint_outcomes", sa.Column("agent", sa.String(length=120), nullable=True))
    if sqlite:
        op.execute(SQLITE_SET_LINK)
    else:
        op.execute(
            "UPDATE complaint_outcomes AS o SET linked = l.linked, queue = l.queue, agent = l.agent "
            f"FROM ({POSTGRESQL_LINK}) AS l WHERE o.complaint_id = l.complaint_id"
        )
    for statement in SQLITE if sqlite else POSTGRESQL:
        op.execute(statement)
    _index("ix_complaint_outcomes_promises", "complaint_outcomes", PROMISES_INDEX + GROUPS)
    _index("ix_complaints_created_at", "complaints", ["created_at", *COHORT])


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(
            f"DROP TRIGGER complaint_outcomes_call_{event}"
            + ("" if op.get_bind().dialect.name == "sqlite" else " ON calls")
        )
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION complaint_outcomes_call_link()")
    _index("ix_complaints_created_at", "complaints", ["created_at"])
    _index("ix_complaint_outcomes_promises", "complaint_outcomes", PROMISES_INDEX)
    for column in ("agent", "queue", "linked"):
        op.drop_column("complaint_outcomes", column)
