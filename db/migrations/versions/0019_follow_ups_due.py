"""follow_ups, callbacks: every one by due time, for the outcome report's window of promises

The report (tickets/outcomes.py) counts the promises due in its window, kept or not; the
partial indexes over open follow-ups hold none of the kept ones, so without this index
the window was a scan of every follow-up ever set (5M in the benchmark). With kind,
complaint, outcome and outcome time after the due time SQLite answers from the index
alone. The call-backs due in the window were a scan of every call-back too.

Revision ID: 0019
Revises: 0016
Create Date: 2026-11-30
"""

from alembic import op

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_follow_ups_due", "follow_ups", ["due_at", "kind", "complaint_id", "outcome", "outcome_at"])
    op.create_index("ix_callbacks_due", "callbacks", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_callbacks_due", table_name="callbacks")
    op.drop_index("ix_follow_ups_due", table_name="follow_ups")
