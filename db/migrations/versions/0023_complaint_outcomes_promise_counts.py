"""complaint_outcomes: ix_complaint_outcomes_promises also holds each complaint's promise counts

The outcome report (tickets/outcomes.py) reads the kept promise counts of the complaints whose
promises reach into its window: a range of this index, then a table row per complaint for the
id and the four counts (a month of a large floor: ~49k rows). With them in the index the range
answers it alone (PostgreSQL: an index-only scan, ~43 -> ~22 ms of server CPU at 1M
complaints). The same name and the same leading columns: every query that used the index
still does. complaint_outcomes is written once per complaint change, not per call event.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

LEADING = ["calendar", "promise_last_due", "promise_first_due"]
COUNTS = ["complaint_id", "promises_missed", "promises_late", "promises_moved", "promises_kept"]


def upgrade() -> None:
    op.drop_index("ix_complaint_outcomes_promises", table_name="complaint_outcomes")
    op.create_index("ix_complaint_outcomes_promises", "complaint_outcomes", LEADING + COUNTS)
    bind = op.get_bind()
    if (
        bind.dialect.name == "sqlite"
        and bind.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first()
    ):
        # A database with statistics (ANALYZE ran) has none of the new index.
        op.execute("ANALYZE ix_complaint_outcomes_promises")


def downgrade() -> None:
    op.drop_index("ix_complaint_outcomes_promises", table_name="complaint_outcomes")
    op.create_index("ix_complaint_outcomes_promises", "complaint_outcomes", LEADING)
