"""quality evaluations: scorecards, samples, evaluations and scores, coaching

Revision ID: 0017
Revises: 0013
Create Date: 2026-11-30 02:29:26.901259
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0017'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('qa_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_qa_cards_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_cards')),
    sa.UniqueConstraint('name', 'version', name='uq_qa_cards_name_version')
    )
    op.create_table('qa_day_figures',
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('agent', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('evaluator_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('evaluations', sa.Integer(), nullable=False),
    sa.Column('score_sum', sa.Float(), nullable=False),
    sa.Column('scored', sa.Integer(), nullable=False),
    sa.Column('critical', sa.Integer(), nullable=False),
    sa.Column('disputes', sa.Integer(), nullable=False),
    sa.Column('overturned', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'agent', 'queue', 'evaluator_id', 'criterion', name=op.f('pk_qa_day_figures'))
    )
    op.create_table('qa_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('callid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('agent', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('caller', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('answered_at', sa.Float(), nullable=False),
    sa.Column('wait_seconds', sa.Float(), nullable=True),
    sa.Column('talk_seconds', sa.Float(), nullable=True),
    sa.Column('wrap_seconds', sa.Float(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('evaluator_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('coaching_id', sa.Integer(), nullable=True),
    sa.Column('drawn_at', sa.Float(), nullable=False),
    sa.Column('skip_reason', sa.Text(), nullable=True),
    sa.Column('skipped_by_id', sa.Integer(), nullable=True),
    sa.Column('skipped_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['evaluator_id'], ['users.id'], name=op.f('fk_qa_samples_evaluator_id_users')),
    sa.ForeignKeyConstraint(['skipped_by_id'], ['users.id'], name=op.f('fk_qa_samples_skipped_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_samples')),
    sa.UniqueConstraint('day', 'call_id', 'evaluator_id', 'reason', name='uq_qa_samples_day')
    )
    with op.batch_alter_table('qa_samples', schema=None) as batch_op:
        batch_op.create_index('ix_qa_samples_agent_day', ['agent', 'day'], unique=False)
        batch_op.create_index('ix_qa_samples_evaluator_status', ['evaluator_id', 'status'], unique=False)

    op.create_table('qa_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('section', sa.Text(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('good', sa.Text(), nullable=False),
    sa.Column('bad', sa.Text(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('scale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.Column('comment_required', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['qa_cards.id'], name=op.f('fk_qa_criteria_card_id_qa_cards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_criteria')),
    sa.UniqueConstraint('card_id', 'key', name='uq_qa_criteria_card_id')
    )
    op.create_table('qa_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=True),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('callid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('agent', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('call_at', sa.Float(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('evaluator_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('raw_score', sa.Float(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('critical_failed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.Column('submitted_at', sa.Float(), nullable=True),
    sa.Column('response', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('response_note', sa.Text(), nullable=True),
    sa.Column('response_at', sa.Float(), nullable=True),
    sa.Column('settlement', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('settlement_note', sa.Text(), nullable=True),
    sa.Column('settled_by_id', sa.Integer(), nullable=True),
    sa.Column('settled_at', sa.Float(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['qa_cards.id'], name=op.f('fk_qa_evaluations_card_id_qa_cards')),
    sa.ForeignKeyConstraint(['evaluator_id'], ['users.id'], name=op.f('fk_qa_evaluations_evaluator_id_users')),
    sa.ForeignKeyConstraint(['sample_id'], ['qa_samples.id'], name=op.f('fk_qa_evaluations_sample_id_qa_samples')),
    sa.ForeignKeyConstraint(['settled_by_id'], ['users.id'], name=op.f('fk_qa_evaluations_settled_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_evaluations'))
    )
    with op.batch_alter_table('qa_evaluations', schema=None) as batch_op:
        batch_op.create_index('ix_qa_evaluations_agent', ['agent', 'call_at'], unique=False)
        batch_op.create_index('ix_qa_evaluations_call_id', ['call_id'], unique=False)
        batch_op.create_index('ix_qa_evaluations_sample_id', ['sample_id'], unique=False)
        batch_op.create_index('ix_qa_evaluations_submitted_call_at', ['status', 'call_at'], unique=False)

    op.create_table('qa_coaching',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('agent', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.Float(), nullable=False),
    sa.Column('criteria', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('outcome_note', sa.Text(), nullable=True),
    sa.Column('outcome_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_qa_coaching_created_by_id_users')),
    sa.ForeignKeyConstraint(['evaluation_id'], ['qa_evaluations.id'], name=op.f('fk_qa_coaching_evaluation_id_qa_evaluations')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_qa_coaching_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_coaching'))
    )
    with op.batch_alter_table('qa_coaching', schema=None) as batch_op:
        batch_op.create_index('ix_qa_coaching_resampling', ['agent'], unique=False, sqlite_where=sa.text("status = 'resampling'"), postgresql_where=sa.text("status = 'resampling'"))

    op.create_table('qa_scores',
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['qa_criteria.id'], name=op.f('fk_qa_scores_criterion_id_qa_criteria')),
    sa.ForeignKeyConstraint(['evaluation_id'], ['qa_evaluations.id'], name=op.f('fk_qa_scores_evaluation_id_qa_evaluations')),
    sa.PrimaryKeyConstraint('evaluation_id', 'criterion_id', name=op.f('pk_qa_scores'))
    )
    # Audit rows of evaluations. A plain ADD COLUMN (no constraint): on SQLite anything more
    # rebuilds the table, and with it would go the triggers that keep it append-only.
    op.add_column('audit_events', sa.Column('evaluation_id', sa.Integer(), nullable=True))
    op.create_index('ix_audit_events_evaluation_id_id', 'audit_events', ['evaluation_id', 'id'], unique=False)

    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coaching_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_reminders_coaching_id', ['coaching_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_reminders_coaching_id_qa_coaching'), 'qa_coaching', ['coaching_id'], ['id'])



def downgrade() -> None:
    op.execute("DELETE FROM reminders WHERE coaching_id IS NOT NULL")
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reminders_coaching_id_qa_coaching'), type_='foreignkey')
        batch_op.drop_index('ix_reminders_coaching_id')
        batch_op.drop_column('coaching_id')

    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): no rebuild, the triggers stay.
    op.drop_index('ix_audit_events_evaluation_id_id', table_name='audit_events')
    op.drop_column('audit_events', 'evaluation_id')

    op.drop_table('qa_scores')
    with op.batch_alter_table('qa_coaching', schema=None) as batch_op:
        batch_op.drop_index('ix_qa_coaching_resampling', sqlite_where=sa.text("status = 'resampling'"), postgresql_where=sa.text("status = 'resampling'"))

    op.drop_table('qa_coaching')
    with op.batch_alter_table('qa_evaluations', schema=None) as batch_op:
        batch_op.drop_index('ix_qa_evaluations_submitted_call_at')
        batch_op.drop_index('ix_qa_evaluations_sample_id')
        batch_op.drop_index('ix_qa_evaluations_call_id')
        batch_op.drop_index('ix_qa_evaluations_agent')

    op.drop_table('qa_evaluations')
    op.drop_table('qa_criteria')
    with op.batch_alter_table('qa_samples', schema=None) as batch_op:
        batch_op.drop_index('ix_qa_samples_evaluator_status')
        batch_op.drop_index('ix_qa_samples_agent_day')

    op.drop_table('qa_samples')
    op.drop_table('qa_cards')
    op.drop_table('qa_day_figures')
