"""follow_ups: partial index over open promises by due time (the wallboard's promises tile);
complaints: index by time received (the outcome report's cohort)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# db.complaints.OPEN_PROMISE_SQL, as it was when this migration was written.
OPEN_PROMISE_SQL = "outcome IS NULL AND kind IN ('callback', 'action')"


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index("ix_complaints_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_follow_ups_open_promise_due",
            ["due_at", "kind", "outcome"],
            unique=False,
            sqlite_where=sa.text(OPEN_PROMISE_SQL),
            postgresql_where=sa.text(OPEN_PROMISE_SQL),
        )


def downgrade() -> None:
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_follow_ups_open_promise_due",
            sqlite_where=sa.text(OPEN_PROMISE_SQL),
            postgresql_where=sa.text(OPEN_PROMISE_SQL),
        )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_created_at")
