"""callers: caller flags and their history; indexes for a caller's calls and open complaints

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OPEN_SQL = "status NOT IN ('resolved', 'closed')"


def upgrade() -> None:
    op.create_table(
        "caller_flags",
        sa.Column("caller_number", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("flagged_by_id", sa.Integer(), nullable=False),
        sa.Column("flagged_at", sa.Float(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.Float(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["flagged_by_id"], ["users.id"], name=op.f("fk_caller_flags_flagged_by_id_users")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_caller_flags_decided_by_id_users")),
        sa.PrimaryKeyConstraint("caller_number", name=op.f("pk_caller_flags")),
    )
    with op.batch_alter_table("caller_flags", schema=None) as batch_op:
        batch_op.create_index("ix_caller_flags_status", ["status"], unique=False)

    op.create_table(
        "caller_flag_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caller_number", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_caller_flag_events_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caller_flag_events")),
    )
    with op.batch_alter_table("caller_flag_events", schema=None) as batch_op:
        batch_op.create_index("ix_caller_flag_events_caller_number_id", ["caller_number", "id"], unique=False)

    # calls(caller, enter_at), which the markers read, came with the call-backs (0010).
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_complaints_open_caller",
            ["caller_number"],
            unique=False,
            sqlite_where=sa.text(OPEN_SQL),
            postgresql_where=sa.text(OPEN_SQL),
        )


def downgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_open_caller", sqlite_where=sa.text(OPEN_SQL), postgresql_where=sa.text(OPEN_SQL))
    with op.batch_alter_table("caller_flag_events", schema=None) as batch_op:
        batch_op.drop_index("ix_caller_flag_events_caller_number_id")
    op.drop_table("caller_flag_events")
    with op.batch_alter_table("caller_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_caller_flags_status")
    op.drop_table("caller_flags")
