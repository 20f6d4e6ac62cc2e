"""callbacks: call-back requests, their attempts, the abandons judged, the intake's checkpoint;
audit rows and reminders of call-backs; calls by caller and new abandons by end time

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OPEN = "status = 'open'"
ABANDONED = "outcome = 'abandoned'"


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caller_number", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("queue", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("callid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("first_hung_up_at", sa.Float(), nullable=False),
        sa.Column("hung_up_at", sa.Float(), nullable=False),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("abandons", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.Float(), nullable=False),
        sa.Column("due_at", sa.Float(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("taken_at", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_attempt_at", sa.Float(), nullable=True),
        sa.Column("last_attempt_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("end_note", sa.Text(), nullable=True),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_callbacks_owner_id_users")),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"], name=op.f("fk_callbacks_complaint_id_complaints")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_callbacks_created_by_id_users")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_callbacks_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_callbacks_open_caller",
            ["caller_number"],
            unique=True,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )
        batch_op.create_index(
            "ix_callbacks_open_due", ["due_at"], unique=False, sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN)
        )
        batch_op.create_index("ix_callbacks_queue_requested_at", ["queue", "requested_at"], unique=False)
        batch_op.create_index("ix_callbacks_caller_number", ["caller_number"], unique=False)

    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"], name=op.f("fk_callback_attempts_callback_id_callbacks")),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_callback_attempts_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
    )
    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_callback_attempts_callback_id", ["callback_id"], unique=False)

    op.create_table(
        "callback_calls",
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=True),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("queue", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("hung_up_at", sa.Float(), nullable=False),
        sa.Column("judged_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_callback_calls_call_id_calls")),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"], name=op.f("fk_callback_calls_callback_id_callbacks")),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_callback_calls")),
    )
    with op.batch_alter_table("callback_calls", schema=None) as batch_op:
        batch_op.create_index("ix_callback_calls_callback_id", ["callback_id"], unique=False)
        batch_op.create_index("ix_callback_calls_hung_up_at", ["hung_up_at"], unique=False)

    op.create_table(
        "callback_intake",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("checkpoint_at", sa.Float(), nullable=False),
        sa.Column("run_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_callback_intake")),
    )

    # Audit rows of call-backs. A plain ADD COLUMN (no constraint): on SQLite anything more
    # rebuilds the table, and with it would go the triggers that keep it append-only.
    op.add_column("audit_events", sa.Column("callback_id", sa.Integer(), nullable=True))
    op.create_index("ix_audit_events_callback_id_id", "audit_events", ["callback_id", "id"], unique=False)

    # Reminders of call-backs: a reminder belongs to a complaint or to a call-back.
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.alter_column("complaint_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("callback_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_reminders_callback_id_callbacks"), "callbacks", ["callback_id"], ["id"]
        )
        batch_op.create_index("ix_reminders_callback_id", ["callback_id"], unique=False)

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_caller_enter_at", ["caller", "enter_at"], unique=False)
        batch_op.create_index(
            "ix_calls_abandoned_end_at",
            ["end_at"],
            unique=False,
            sqlite_where=sa.text(ABANDONED),
            postgresql_where=sa.text(ABANDONED),
        )


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_abandoned_end_at")
        batch_op.drop_index("ix_calls_caller_enter_at")
    op.execute("DELETE FROM reminders WHERE callback_id IS NOT NULL")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_callback_id")
        batch_op.drop_constraint(batch_op.f("fk_reminders_callback_id_callbacks"), type_="foreignkey")
        batch_op.drop_column("callback_id")
        batch_op.alter_column("complaint_id", existing_type=sa.Integer(), nullable=False)
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): no rebuild, the triggers stay.
    op.drop_index("ix_audit_events_callback_id_id", table_name="audit_events")
    op.drop_column("audit_events", "callback_id")
    op.drop_table("callback_intake")
    op.drop_table("callback_calls")
    op.drop_table("callback_attempts")
    op.drop_table("callbacks")
