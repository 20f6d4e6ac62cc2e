"""ssh_sessions.server: the host whose server ran the session

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ssh_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('server', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ssh_sessions', schema=None) as batch_op:
        batch_op.drop_column('server')
