"""alert_log: each alert's life (raised, cleared, acknowledged by whom)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0017"
branch_labels = None
depends_on = None

OPEN = "cleared_at IS NULL"  # db.alerts.OPEN_ALERT_SQL as of this revision


def upgrade() -> None:
    op.create_table(
        "alert_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("queue", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("agent", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("raised_at", sa.Float(), nullable=False),
        sa.Column("cleared_at", sa.Float(), nullable=True),
        sa.Column("acknowledged_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("acknowledged_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_log")),
    )
    with op.batch_alter_table("alert_log", schema=None) as batch_op:
        batch_op.create_index("ix_alert_log_raised_at", ["raised_at"], unique=False)
        batch_op.create_index("ix_alert_log_cleared_at", ["cleared_at"], unique=False)
        batch_op.create_index(
            "ix_alert_log_open", ["alert_key"], unique=True, sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN)
        )


def downgrade() -> None:
    with op.batch_alter_table("alert_log", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_log_open", sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
        batch_op.drop_index("ix_alert_log_cleared_at")
        batch_op.drop_index("ix_alert_log_raised_at")
    op.drop_table("alert_log")
