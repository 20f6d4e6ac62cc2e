"""call data

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_queues',
    sa.Column('agent', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.PrimaryKeyConstraint('agent', 'queue', name=op.f('pk_agent_queues'))
    )
    op.create_table('agent_state_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('pause_reason', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_state_changes'))
    )
    with op.batch_alter_table('agent_state_changes', schema=None) as batch_op:
        batch_op.create_index('ix_agent_state_changes_agent_at', ['agent', 'at'], unique=False)

    op.create_table('agents',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('pause_reason', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('state_since', sa.Float(), nullable=False),
    sa.Column('current_callid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('current_queue', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('calls_today', sa.Integer(), nullable=False),
    sa.Column('talk_seconds_today', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_agents'))
    )
    op.create_table('calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('callid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('caller', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('agent', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('enter_at', sa.Float(), nullable=False),
    sa.Column('answer_at', sa.Float(), nullable=True),
    sa.Column('end_at', sa.Float(), nullable=True),
    sa.Column('wait_seconds', sa.Float(), nullable=True),
    sa.Column('talk_seconds', sa.Float(), nullable=True),
    sa.Column('ring_seconds', sa.Float(), nullable=True),
    sa.Column('wrap_seconds', sa.Float(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls')),
    sa.UniqueConstraint('callid', 'queue', name='uq_calls_callid_queue')
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_enter_at', ['enter_at'], unique=False)
        batch_op.create_index('ix_calls_open', ['queue', 'enter_at'], unique=False, sqlite_where=sa.text("outcome = 'waiting'"), postgresql_where=sa.text("outcome = 'waiting'"))
        batch_op.create_index('ix_calls_queue_enter_at', ['queue', 'enter_at'], unique=False)

    op.create_table('feeds',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('inode', sa.BigInteger(), nullable=True),
    sa.Column('byte_offset', sa.BigInteger(), nullable=False),
    sa.Column('lines_read', sa.Integer(), nullable=False),
    sa.Column('events_applied', sa.Integer(), nullable=False),
    sa.Column('lines_skipped', sa.Integer(), nullable=False),
    sa.Column('last_event_at', sa.Float(), nullable=True),
    sa.Column('heartbeat_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_feeds'))
    )
    op.create_table('queue_snapshots',
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('waiting', sa.Integer(), nullable=False),
    sa.Column('oldest_waiting_since', sa.Float(), nullable=True),
    sa.Column('offered', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('abandoned', sa.Integer(), nullable=False),
    sa.Column('short_abandoned', sa.Integer(), nullable=False),
    sa.Column('exited', sa.Integer(), nullable=False),
    sa.Column('answered_within_sl', sa.Integer(), nullable=False),
    sa.Column('service_level_pct', sa.Float(), nullable=True),
    sa.Column('abandon_rate_pct', sa.Float(), nullable=True),
    sa.Column('asa_seconds', sa.Float(), nullable=True),
    sa.Column('aht_seconds', sa.Float(), nullable=True),
    sa.Column('max_wait_seconds', sa.Float(), nullable=True),
    sa.Column('agents_logged_in', sa.Integer(), nullable=False),
    sa.Column('agents_available', sa.Integer(), nullable=False),
    sa.Column('agents_on_call', sa.Integer(), nullable=False),
    sa.Column('agents_wrap_up', sa.Integer(), nullable=False),
    sa.Column('agents_paused', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('queue', name=op.f('pk_queue_snapshots'))
    )


def downgrade() -> None:
    op.drop_table('queue_snapshots')
    op.drop_table('feeds')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_queue_enter_at')
        batch_op.drop_index('ix_calls_open', sqlite_where=sa.text("outcome = 'waiting'"), postgresql_where=sa.text("outcome = 'waiting'"))
        batch_op.drop_index('ix_calls_enter_at')

    op.drop_table('calls')
    op.drop_table('agents')
    with op.batch_alter_table('agent_state_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_agent_state_changes_agent_at')

    op.drop_table('agent_state_changes')
    op.drop_table('agent_queues')
