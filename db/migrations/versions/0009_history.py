"""history: agent_state_changes indexed by time; per-day roll-ups of pruned detail; history_marks

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The agent report reads the state changes inside its window by time, whoever the agent.
    op.create_index("ix_agent_state_changes_at", "agent_state_changes", ["at"], unique=False)
    op.create_table(
        "queue_day_rollups",
        sa.Column("day", sa.Float(), nullable=False),
        sa.Column("queue", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("short_abandoned", sa.Integer(), nullable=False),
        sa.Column("exited", sa.Integer(), nullable=False),
        sa.Column("answered_within_sl", sa.Integer(), nullable=False),
        sa.Column("abandoned_within_sl", sa.Integer(), nullable=False),
        sa.Column("wait_sum", sa.Float(), nullable=False),
        sa.Column("handle_sum", sa.Float(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("max_wait", sa.Float(), nullable=True),
        sa.Column("blocked", sa.Integer(), nullable=False),
        sa.Column("blocked_reasons", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("day", "queue", name=op.f("pk_queue_day_rollups")),
    )
    op.create_table(
        "agent_day_rollups",
        sa.Column("day", sa.Float(), nullable=False),
        sa.Column("agent", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("talk_seconds", sa.Float(), nullable=False),
        sa.Column("handle_seconds", sa.Float(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("states", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("pause_reasons", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.PrimaryKeyConstraint("day", "agent", name=op.f("pk_agent_day_rollups")),
    )
    op.create_table(
        "history_marks",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_history_marks")),
    )


def downgrade() -> None:
    op.drop_table("history_marks")
    op.drop_table("agent_day_rollups")
    op.drop_table("queue_day_rollups")
    op.drop_index("ix_agent_state_changes_at", table_name="agent_state_changes")
