"""ssh_sessions: the SSH front door's connection log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ssh_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('peer_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('peer_port', sa.Integer(), nullable=False),
    sa.Column('key_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('term', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('started_at', sa.Float(), nullable=False),
    sa.Column('ended_at', sa.Float(), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('exit_status', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ssh_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ssh_sessions'))
    )
    with op.batch_alter_table('ssh_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_ssh_sessions_started_at', ['started_at'], unique=False)
        batch_op.create_index('ix_ssh_sessions_user_id_started_at', ['user_id', 'started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ssh_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_ssh_sessions_user_id_started_at')
        batch_op.drop_index('ix_ssh_sessions_started_at')

    op.drop_table('ssh_sessions')
