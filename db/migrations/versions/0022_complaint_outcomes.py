"""complaint_outcomes: the outcome report's judged facts of each complaint

The report (`wallboard report complaints`, tickets/outcomes.py) judged every complaint of its
window on every run: its audit trail read for reopenings and escalations, the SLA calendar's
business-hours arithmetic for the time to acknowledge and to resolve, and every promise due
in the window grouped by complaint (a month of a large floor: ~40k complaints, ~45k audit
rows, ~165k promises; most of the report's time). What does not move with the report's `now`
is now judged once, when the complaint changes, in the same transaction
(tickets/service.py), and kept here keyed by complaint: those facts, its promises' first and
last due time with their counts by verdict, the complaint's version and a fingerprint of the
business hours they were judged under.

Triggers delete a complaint's row whenever the complaint or one of its follow-ups changes,
whoever writes it (the service keeps it again after its last change), so a row that is there
holds; the report judges a complaint without one itself (and counts every promise from the
follow-ups while any complaint has none): a figure is never stale, only slower.

The table starts empty here: judging needs the site's business hours, which the persistence
layer does not know (db imports nothing of tickets or wallboard). `wallboard db upgrade`
fills it right after migrating (tickets.outcome_facts.refresh, in batches); until then the
report judges the missing rows itself.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


# A complaint's facts go whenever its row or one of its follow-ups changes, whoever writes
# it: the service keeps them again after its last change (in the same transaction), and the
# report judges a complaint without them itself. So a row that is there is a row that holds.
SQLITE = [
    """CREATE TRIGGER complaint_outcomes_stale_complaint AFTER UPDATE ON complaints BEGIN
        DELETE FROM complaint_outcomes WHERE complaint_id = new.id;
    END""",
    """CREATE TRIGGER complaint_outcomes_stale_follow_up_insert AFTER INSERT ON follow_ups BEGIN
        DELETE FROM complaint_outcomes WHERE complaint_id = new.complaint_id;
    END""",
    """CREATE TRIGGER complaint_outcomes_stale_follow_up_update AFTER UPDATE ON follow_ups BEGIN
        DELETE FROM complaint_outcomes WHERE complaint_id IN (old.complaint_id, new.complaint_id);
    END""",
    """CREATE TRIGGER complaint_outcomes_stale_follow_up_delete AFTER DELETE ON follow_ups BEGIN
        DELETE FROM complaint_outcomes WHERE complaint_id = old.complaint_id;
    END""",
]
POSTGRESQL = [
    """CREATE FUNCTION complaint_outcomes_stale() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'complaints' THEN
            DELETE FROM complaint_outcomes WHERE complaint_id = NEW.id;
        ELSE
            IF TG_OP <> 'INSERT' THEN
                DELETE FROM complaint_outcomes WHERE complaint_id = OLD.complaint_id;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                DELETE FROM complaint_outcomes WHERE complaint_id = NEW.complaint_id;
            END IF;
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER complaint_outcomes_stale_complaint AFTER UPDATE ON complaints
        FOR EACH ROW EXECUTE FUNCTION complaint_outcomes_stale()""",
    """CREATE TRIGGER complaint_outcomes_stale_follow_up AFTER INSERT OR UPDATE OR DELETE ON follow_ups
        FOR EACH ROW EXECUTE FUNCTION complaint_outcomes_stale()""",
]


def upgrade() -> None:
    op.create_table(
        "complaint_outcomes",
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("calendar", sa.String(length=32), nullable=False),
        sa.Column("ack_seconds", sa.Float(), nullable=True),
        sa.Column("resolve_seconds", sa.Float(), nullable=True),
        sa.Column("resolved_ever", sa.Boolean(), nullable=False),
        sa.Column("reopened", sa.Boolean(), nullable=False),
        sa.Column("highest_level", sa.Integer(), nullable=False),
        sa.Column("promise_first_due", sa.Float(), nullable=True),
        sa.Column("promise_last_due", sa.Float(), nullable=True),
        sa.Column("promises_missed", sa.Integer(), nullable=False),
        sa.Column("promises_late", sa.Integer(), nullable=False),
        sa.Column("promises_moved", sa.Integer(), nullable=False),
        sa.Column("promises_kept", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name="fk_complaint_outcomes_complaint_id_complaints"
        ),
        sa.PrimaryKeyConstraint("complaint_id", name="pk_complaint_outcomes"),
    )
    op.create_index(
        "ix_complaint_outcomes_promises", "complaint_outcomes", ["calendar", "promise_last_due", "promise_first_due"]
    )
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("complaint", "follow_up_insert", "follow_up_update", "follow_up_delete"):
            op.execute(f"DROP TRIGGER complaint_outcomes_stale_{name}")
    else:
        op.execute("DROP TRIGGER complaint_outcomes_stale_complaint ON complaints")
        op.execute("DROP TRIGGER complaint_outcomes_stale_follow_up ON follow_ups")
        op.execute("DROP FUNCTION complaint_outcomes_stale()")
    op.drop_index("ix_complaint_outcomes_promises", table_name="complaint_outcomes")
    op.drop_table("complaint_outcomes")
