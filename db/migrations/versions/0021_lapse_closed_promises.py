"""follow_ups: the promises still open on closed complaints lapse

Closing a complaint now lapses its promises still open (tickets/service.py, docs/OUTCOMES.md):
outcome `lapsed`, counted as missed, no longer an open promise. This does the same for the
complaints closed before: each such promise gets the outcome `lapsed` as of its complaint's
close time (by nobody: the system), with an audit row of its own (`follow-up #N outcome:
lapsed`, the upgrade's note), all in one changeset; a closed complaint's next follow-up is
cleared, as the close now clears it.

Set based, three statements, each driven by the partial index of open promises
(ix_follow_ups_open_promise_due, migration 0012): the cost is the open promises, not the
5M follow-ups, with the complaint read by its key.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

import time
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# As they were when this migration was written: db.complaint_sql.OPEN_PROMISE_SQL, and
# tickets.records.LAPSED.
OPEN_PROMISE_SQL = "outcome IS NULL AND kind IN ('callback', 'action')"
LAPSED = "lapsed"
NOTE = "lapsed by the upgrade to revision 0021: the complaint was closed before closing lapsed its promises"
# The promise's complaint is closed (correlated: driven by the open promises, not by the
# closed complaints, which are most of them).
ON_CLOSED = "EXISTS (SELECT 1 FROM complaints c WHERE c.id = follow_ups.complaint_id AND c.status = 'closed')"
CLOSED_AT = "(SELECT coalesce(c.closed_at, c.status_changed_at) FROM complaints c WHERE c.id = follow_ups.complaint_id)"


def upgrade() -> None:
    now = time.time()
    changeset = uuid.uuid4().hex
    # Before the promises lose their open state: each statement finds them by it.
    op.execute(
        sa.text(
            "UPDATE complaints SET next_follow_up_at = NULL WHERE status = 'closed' AND id IN "
            f"(SELECT complaint_id FROM follow_ups WHERE {OPEN_PROMISE_SQL})"
        )
    )
    op.execute(
        sa.text(
            "INSERT INTO audit_events (changeset, at, actor_id, complaint_id, follow_up_id, kind, field, old, new, note) "
            f"SELECT :changeset, :now, NULL, complaint_id, id, 'outcome', 'outcome', NULL, :lapsed, :note "
            f"FROM follow_ups WHERE {OPEN_PROMISE_SQL} AND {ON_CLOSED}"
        ).bindparams(changeset=changeset, now=now, lapsed=LAPSED, note=NOTE)
    )
    op.execute(
        sa.text(
            f"UPDATE follow_ups SET outcome = :lapsed, outcome_at = {CLOSED_AT}, outcome_by_id = NULL "
            f"WHERE {OPEN_PROMISE_SQL} AND {ON_CLOSED}"
        ).bindparams(lapsed=LAPSED)
    )


def downgrade() -> None:
    # The promises lapsed (here or by a close since) are open again, as the code before
    # this revision knew no lapse; the audit trail is append-only, so its rows stay.
    op.execute(
        sa.text(
            "UPDATE follow_ups SET outcome = NULL, outcome_at = NULL, outcome_by_id = NULL WHERE outcome = :lapsed"
        ).bindparams(lapsed=LAPSED)
    )
