"""calls: one row per entry into a queue (callid, queue no longer unique); enter_known, answer_known;
queue_snapshots.blocked

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint("uq_calls_callid_queue", type_="unique")
        batch_op.add_column(sa.Column("enter_known", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("answer_known", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.create_index("ix_calls_callid_queue", ["callid", "queue"], unique=False)
    with op.batch_alter_table("queue_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blocked", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    # Going back keeps the first entry of each (callid, queue): the old schema has room for one.
    op.execute(
        "DELETE FROM calls WHERE id NOT IN (SELECT MIN(id) FROM calls GROUP BY callid, queue)"
    )
    with op.batch_alter_table("queue_snapshots", schema=None) as batch_op:
        batch_op.drop_column("blocked")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_callid_queue")
        batch_op.drop_column("answer_known")
        batch_op.drop_column("enter_known")
        batch_op.create_unique_constraint("uq_calls_callid_queue", ["callid", "queue"])
