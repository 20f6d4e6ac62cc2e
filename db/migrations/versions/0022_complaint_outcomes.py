"""complaint_outcomes: the outcome report's judged facts of each complaint

The report (`wallboard report complaints`, tickets/outcomes.py) judged every complaint of its
window on every run: its audit trail read for reopenings and escalations, and the SLA
calendar's business-hours arithmetic for the time to acknowledge and to resolve (a month of
a large floor: ~40k complaints and ~45k audit rows, most of the report's time). The facts
that do not move with the report's `now` are now judged once, when the complaint changes,
in the same transaction (tickets/service.py), and kept here keyed by complaint, with the
complaint's version and a fingerprint of the business hours they were judged under: the
report judges a complaint itself whenever its row is missing or stale, so a figure is never
stale, only slower.

The table starts empty here: judging needs the site's business hours, which the persistence
layer does not know (db imports nothing of tickets or wallboard). `wallboard db upgrade`
fills it right after migrating (tickets.outcome_facts.refresh, in batches), and until then
the report judges the missing rows itself.

Revision ID: 0022
Revises: 0020
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None


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
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name="fk_complaint_outcomes_complaint_id_complaints"
        ),
        sa.PrimaryKeyConstraint("complaint_id", name="pk_complaint_outcomes"),
    )


def downgrade() -> None:
    op.drop_table("complaint_outcomes")
