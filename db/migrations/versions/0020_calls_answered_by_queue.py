"""calls: ix_calls_queue_enter_at also holds agent and answer time, for the outcome report

The outcome report (tickets/outcomes.py) counts the calls answered in its window per queue
(complaints per 1,000 answered calls). With (queue, enter_at) alone SQLite read every call
row of the window for answer_at (10M calls: ~410k rows a month); with agent and answer_at
after them the index alone answers it, one range per queue, already in queue order (no sort
for the GROUP BY). The same name and the same leading columns: every query that used the
index still does, and the live feed writes no extra index.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_calls_queue_enter_at", table_name="calls")
    op.create_index("ix_calls_queue_enter_at", "calls", ["queue", "enter_at", "agent", "answer_at"])
    bind = op.get_bind()
    if (
        bind.dialect.name == "sqlite"
        and bind.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first()
    ):
        # A database with statistics (ANALYZE ran) has none of the new index: without
        # them SQLite's planner passes it over for ix_calls_enter_at and a sort.
        op.execute("ANALYZE ix_calls_queue_enter_at")


def downgrade() -> None:
    op.drop_index("ix_calls_queue_enter_at", table_name="calls")
    op.create_index("ix_calls_queue_enter_at", "calls", ["queue", "enter_at"])
