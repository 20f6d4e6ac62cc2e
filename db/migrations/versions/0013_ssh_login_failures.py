"""ssh_login_failures: failed SSH log-ins and the shut-outs they caused

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ssh_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("peer_address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
        sa.Column("until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ssh_login_failures")),
    )
    with op.batch_alter_table("ssh_login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_ssh_login_failures_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ssh_login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_ssh_login_failures_at")
    op.drop_table("ssh_login_failures")
