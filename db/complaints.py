"""Tables for users and complaints. Persistence only: the rules live in `tickets/`.

Times are epoch seconds (float, UTC), as in `db.models`.

Objects the migration creates outside SQLAlchemy's metadata (so `alembic check` must not
see them, see `UNMANAGED`):
- SQLite: the FTS5 table `complaint_search_fts` (external content over `complaint_search`,
  kept in step by triggers) and its shadow tables; triggers refusing UPDATE and DELETE on
  `audit_events`.
- PostgreSQL: the column `complaint_search.document_tsv`, generated and stored as
  `to_tsvector('simple', document)`, with a GIN index; a trigger function and triggers
  refusing UPDATE, DELETE and TRUNCATE on `audit_events`.

`complaint_search.document` holds text already normalised by the domain (lower case, no
accents, Chinese and Japanese characters one word each, only letters and digits between
single spaces), so both databases split it into the same words.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, Text, text
from sqlmodel import Field, SQLModel

# First: db.models names the metadata's constraints (and registers every table) before the
# classes below are made, whichever module is imported first.
import db.models  # noqa: F401

# The conditions, unmanaged objects and search live in db.complaint_sql (no SQLModel there,
# for the commands that read the complaint list): imported here for the indexes below and
# for the modules that import them from here.
from db.complaint_sql import (
    OPEN_PROMISE_SQL,
    OPEN_SQL,
    SEARCH_FTS,
    SEARCH_TSV_COLUMN,
    SEARCH_TSV_INDEX,
    UNMANAGED,
    UNMANAGED_PREFIXES,
    SearchTerm,
    is_unmanaged,
    search_condition,
)

__all__ = [
    "OPEN_PROMISE_SQL",
    "OPEN_SQL",
    "SEARCH_FTS",
    "SEARCH_TSV_COLUMN",
    "SEARCH_TSV_INDEX",
    "UNMANAGED",
    "UNMANAGED_PREFIXES",
    "AuditEvent",
    "Complaint",
    "ComplaintSearch",
    "FollowUp",
    "SearchTerm",
    "User",
    "UserKey",
    "is_unmanaged",
    "search_condition",
]


class User(SQLModel, table=True):
    """Someone who logs in (over SSH by public key) and acts on complaints. Never deleted:
    audit rows name them; removing a user deactivates it and drops its keys."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)  # agent | supervisor | display
    active: bool = True
    created_at: float
    removed_at: float | None = None


class UserKey(SQLModel, table=True):
    """An OpenSSH public key that logs its user in; a key belongs to one user only."""

    __tablename__ = "user_keys"
    __table_args__ = (Index("ix_user_keys_user_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    key_type: str = Field(max_length=64)
    public_key: str = Field(sa_type=Text)  # "TYPE BASE64", without the comment
    comment: str | None = Field(default=None, sa_type=Text)
    fingerprint: str = Field(max_length=80, unique=True)  # "SHA256:..." as ssh-keygen -l shows it
    added_at: float


_version = Column("version", Integer, nullable=False)


# ix_complaints_created_at: the received time, then what the outcome report reads of each
# complaint received in its window (tickets/outcomes.py `_case_query`).
COHORT_INDEX = (
    "created_at",
    "acknowledged_at",
    "resolved_at",
    "sla_paused_seconds",
    "sla_paused_since",
    "escalation_level",
    "ack_due_at",
    "severity",
    "version",
    "root_cause",
    "category",
    "owner_id",
    "channel",
    "id",
)


class Complaint(SQLModel, table=True):
    """A customer complaint. `version` is SQLAlchemy's optimistic lock: every UPDATE
    checks and bumps it, so a write over a newer one fails instead of overwriting it."""

    __tablename__ = "complaints"
    __table_args__ = (
        # Saved views (all partial over open complaints, see OPEN_SQL).
        Index(
            "ix_complaints_open_owner",
            "owner_id",
            "due_at",
            sqlite_where=text(OPEN_SQL),
            postgresql_where=text(OPEN_SQL),
        ),
        Index("ix_complaints_open_due", "due_at", sqlite_where=text(OPEN_SQL), postgresql_where=text(OPEN_SQL)),
        Index("ix_complaints_open_id", "id", sqlite_where=text(OPEN_SQL), postgresql_where=text(OPEN_SQL)),
        Index(
            "ix_complaints_escalated",
            "escalation_level",
            "due_at",
            sqlite_where=text(f"{OPEN_SQL} AND escalation_level > 0"),
            postgresql_where=text(f"{OPEN_SQL} AND escalation_level > 0"),
        ),
        # Waiting on customer (longest first) and resolved ones due to close themselves.
        Index("ix_complaints_status_since", "status", "status_changed_at"),
        # A flagged caller is recognised when they call again.
        Index(
            "ix_complaints_malicious_caller",
            "caller_number",
            sqlite_where=text("malicious"),
            postgresql_where=text("malicious"),
        ),
        Index("ix_complaints_callid", "callid"),
        # A caller's open complaints (the waiting list's markers, the agent's view of a caller).
        Index(
            "ix_complaints_open_caller",
            "caller_number",
            sqlite_where=text(OPEN_SQL),
            postgresql_where=text(OPEN_SQL),
        ),
        # The outcome report's cohort: the complaints received in a window, with every column
        # the report reads of them, so the range answers it without a table row each
        # (migration 0025). Complaints are written at a person's pace, not a feed's.
        Index("ix_complaints_created_at", *COHORT_INDEX),
    )
    __mapper_args__ = {"version_id_col": _version}

    id: int | None = Field(default=None, primary_key=True)
    customer_name: str = Field(sa_type=Text)
    customer_contact: str = Field(sa_type=Text)
    channel: str = Field(max_length=16)
    callid: str | None = Field(default=None, max_length=64)
    call_queue: str | None = Field(default=None, max_length=80)
    call_agent: str | None = Field(default=None, max_length=120)
    caller_number: str | None = Field(default=None, max_length=80)
    category: str | None = Field(default=None, sa_type=Text)
    severity: str = Field(max_length=8)  # low | normal | high | critical
    subject: str = Field(sa_type=Text)
    description: str = Field(sa_type=Text)
    status: str = Field(max_length=16)
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    created_by_id: int = Field(foreign_key="users.id")
    created_at: float
    updated_at: float
    updated_by_id: int | None = Field(default=None, foreign_key="users.id")  # None: the system
    status_changed_at: float
    acknowledged_at: float | None = None
    resolved_at: float | None = None
    closed_at: float | None = None
    # SLA: targets counted in business hours from created_at, plus the business time the
    # clock stood still (waiting on the customer, resolved, closed).
    ack_due_at: float
    resolve_due_at: float
    sla_paused_seconds: float = 0.0
    sla_paused_since: float | None = None
    # Denormalised for the views: the SLA target running now (None while paused), the
    # earliest open promise to the customer, and the earlier of the two.
    sla_due_at: float | None = None
    next_follow_up_at: float | None = None
    due_at: float | None = None
    root_cause: str | None = Field(default=None, max_length=16)  # agent | business | process | system
    resolution: str | None = Field(default=None, sa_type=Text)
    customer_confirmed: bool | None = None
    malicious: bool = False
    malicious_reason: str | None = Field(default=None, sa_type=Text)
    escalation_level: int = 0  # 0 owner, 1 supervisor, 2 manager
    version: int = Field(default=None, sa_column=_version)


class ComplaintOutcome(SQLModel, table=True):
    """The outcome report's facts of one complaint that need its audit trail or the SLA
    calendar (tickets/outcome_facts.py judges them), kept so the report reads columns instead
    of judging every complaint again. Valid while `version` is the complaint's own and
    `calendar` the fingerprint of the business hours they were judged under; the report
    judges a complaint whose facts are missing or stale itself (migration 0022)."""

    __tablename__ = "complaint_outcomes"
    __table_args__ = (
        # The report's promises due in its window: the complaints whose promises' due times
        # reach into it, with their counts and the queue and agent they count under (the
        # index alone answers the read: migrations 0023, 0025).
        Index(
            "ix_complaint_outcomes_promises",
            "calendar",
            "promise_last_due",
            "promise_first_due",
            "complaint_id",
            "promises_missed",
            "promises_late",
            "promises_moved",
            "promises_kept",
            "queue",
            "agent",
        ),
    )

    complaint_id: int = Field(foreign_key="complaints.id", primary_key=True)
    version: int
    calendar: str = Field(max_length=32)
    # Business seconds from receipt to acknowledgement (None: not acknowledged) and SLA time
    # used up to the resolution (None: not resolved).
    ack_seconds: float | None = None
    resolve_seconds: float | None = None
    # Resolved or closed at least once; reopened within REOPEN_DAYS of that; the highest
    # escalation level reached.
    resolved_ever: bool = False
    reopened: bool = False
    highest_level: int = 0
    # Its promises to the customer (follow-ups of kind callback or action): the first and last
    # due time, and how many were missed, kept late, moved and kept on time. Unlike the
    # rest these change without the complaint row (a follow-up's own): triggers on complaints
    # and follow_ups delete a complaint's row whenever either changes (migration 0022).
    promise_first_due: float | None = None
    promise_last_due: float | None = None
    promises_missed: int = 0
    promises_late: int = 0
    promises_moved: int = 0
    promises_kept: int = 0
    # The call it was logged from, as the report counts it (tickets.outcome_facts.Link): the
    # call data knows the call, and the queue and agent of the call's last answered entry
    # (else its last), or those typed on the complaint. Triggers on calls judge it again when
    # an entry of the call is written later (migration 0025).
    linked: bool = False
    queue: str | None = Field(default=None, max_length=80)
    agent: str | None = Field(default=None, max_length=120)


class FollowUp(SQLModel, table=True):
    """A promised call-back or action, or a corrective action, with its owner and due time."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_complaint_id", "complaint_id"),
        # The outcome report's promises due in its window, kept or not (the index alone
        # answers it on SQLite): migration 0019.
        Index("ix_follow_ups_due", "due_at", "kind", "complaint_id", "outcome", "outcome_at"),
        Index(
            "ix_follow_ups_open_due",
            "due_at",
            sqlite_where=text("outcome IS NULL"),
            postgresql_where=text("outcome IS NULL"),
        ),
        Index(
            "ix_follow_ups_open_owner",
            "owner_id",
            "due_at",
            sqlite_where=text("outcome IS NULL"),
            postgresql_where=text("outcome IS NULL"),
        ),
        # The wallboard's promises tile: due today, overdue, oldest overdue, each second.
        # kind and outcome too, so SQLite answers from the index alone (it checks the
        # query's WHERE on them, though the index's own WHERE implies it).
        Index(
            "ix_follow_ups_open_promise_due",
            "due_at",
            "kind",
            "outcome",
            sqlite_where=text(OPEN_PROMISE_SQL),
            postgresql_where=text(OPEN_PROMISE_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id")
    # callback | action | coaching | training | process_fix | kb_update | system_change
    kind: str = Field(max_length=16)
    owner_id: int = Field(foreign_key="users.id")
    due_at: float
    note: str = Field(sa_type=Text)
    created_by_id: int = Field(foreign_key="users.id")
    created_at: float
    outcome: str | None = Field(default=None, max_length=16)  # done | no_answer | rescheduled | lapsed
    outcome_note: str | None = Field(default=None, sa_type=Text)
    outcome_at: float | None = None
    outcome_by_id: int | None = Field(default=None, foreign_key="users.id")


class AuditEvent(SQLModel, table=True):
    """Append-only: one row per changed field (or per event), all rows of one intent
    sharing a changeset. The database itself refuses UPDATE and DELETE (see the migration).
    complaint_id is None for user administration and for call-backs, whose rows carry
    callback_id (no foreign key: added to the append-only table by ALTER TABLE, which
    SQLite cannot do with a constraint without rebuilding the table and its triggers)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_complaint_id_id", "complaint_id", "id"),
        Index("ix_audit_events_callback_id_id", "callback_id", "id"),
        Index("ix_audit_events_evaluation_id_id", "evaluation_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    changeset: str = Field(max_length=32)
    at: float
    actor_id: int | None = Field(default=None, foreign_key="users.id")  # None: the system
    complaint_id: int | None = Field(default=None, foreign_key="complaints.id")
    follow_up_id: int | None = Field(default=None, foreign_key="follow_ups.id")
    kind: str = Field(max_length=32)
    field: str | None = Field(default=None, max_length=40)
    old: str | None = Field(default=None, sa_type=Text)
    new: str | None = Field(default=None, sa_type=Text)
    note: str | None = Field(default=None, sa_type=Text)
    callback_id: int | None = None  # a call-back's row (db.callbacks.Callback.id)
    evaluation_id: int | None = None  # a quality evaluation's row (db.quality.QaEvaluation.id)


class ComplaintSearch(SQLModel, table=True):
    """The words a complaint is found by: subject, description, customer, notes (normalised)."""

    __tablename__ = "complaint_search"

    complaint_id: int = Field(primary_key=True, foreign_key="complaints.id")
    document: str = Field(sa_type=Text)
