"""Tables for call-back requests: callers who hung up waiting, to be called back.

Persistence only: the rules live in `tickets/callbacks.py`. Times are epoch seconds (float,
UTC), as everywhere. Why call-backs have tables of their own beside the complaints (and share
the audit trail and the reminders): docs/ARCHITECTURE.md, Call-backs.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, Text, text
from sqlmodel import Field, SQLModel

# A request is open until it ends (reached, given up, got through, closed, made a complaint).
# A literal, like db.complaints.OPEN_SQL: SQLite uses a partial index only when the query
# repeats its WHERE with the same constants.
OPEN_SQL = "status = 'open'"

_version = Column("version", Integer, nullable=False)


class Callback(SQLModel, table=True):
    """One caller to call back. `version` is SQLAlchemy's optimistic lock, as on complaints:
    two agents taking the same request cannot both win."""

    __tablename__ = "callbacks"
    __table_args__ = (
        # One open request per caller: several abandons of one caller join it.
        Index(
            "ix_callbacks_open_caller",
            "caller_number",
            unique=True,
            sqlite_where=text(OPEN_SQL),
            postgresql_where=text(OPEN_SQL),
        ),
        Index("ix_callbacks_open_due", "due_at", sqlite_where=text(OPEN_SQL), postgresql_where=text(OPEN_SQL)),
        # The outcome report's call-backs due in its window, kept or not: migration 0019.
        Index("ix_callbacks_due", "due_at"),
        Index("ix_callbacks_queue_requested_at", "queue", "requested_at"),
        Index("ix_callbacks_caller_number", "caller_number"),
    )
    __mapper_args__ = {"version_id_col": _version}

    id: int | None = Field(default=None, primary_key=True)
    caller_number: str = Field(max_length=80)
    queue: str = Field(max_length=80)  # where they hung up first
    callid: str | None = Field(default=None, max_length=64)  # the first abandoned call
    first_hung_up_at: float
    hung_up_at: float  # the latest abandon joined
    wait_seconds: float | None = None  # how long they waited before hanging up (the latest)
    abandons: int = 1
    requested_at: float  # when the request was made (by the intake or by a person)
    due_at: float
    # open | reached | gave_up | got_through | closed | complaint
    status: str = Field(max_length=16)
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    taken_at: float | None = None
    attempts: int = 0
    first_attempt_at: float | None = None
    last_attempt_at: float | None = None
    ended_at: float | None = None
    end_note: str | None = Field(default=None, sa_type=Text)  # "caller got through at 10:42"
    complaint_id: int | None = Field(default=None, foreign_key="complaints.id")
    escalation_level: int = 0
    created_by_id: int | None = Field(default=None, foreign_key="users.id")  # None: the intake
    updated_at: float
    updated_by_id: int | None = Field(default=None, foreign_key="users.id")  # None: the system
    version: int = Field(default=None, sa_column=_version)


class CallbackAttempt(SQLModel, table=True):
    """One try at calling the caller back, and how it went."""

    __tablename__ = "callback_attempts"
    __table_args__ = (Index("ix_callback_attempts_callback_id", "callback_id"),)

    id: int | None = Field(default=None, primary_key=True)
    callback_id: int = Field(foreign_key="callbacks.id")
    at: float
    by_id: int = Field(foreign_key="users.id")
    outcome: str = Field(max_length=16)  # reached | no_answer | voicemail | wrong_number
    note: str | None = Field(default=None, sa_type=Text)


class CallbackCall(SQLModel, table=True):
    """An abandoned call the intake has judged, once: made or joined a request, or skipped
    (and why). Its primary key makes the intake idempotent; its rows are the skip counts."""

    __tablename__ = "callback_calls"
    __table_args__ = (
        Index("ix_callback_calls_callback_id", "callback_id"),
        Index("ix_callback_calls_hung_up_at", "hung_up_at"),
    )

    call_id: int = Field(primary_key=True, foreign_key="calls.id")
    callback_id: int | None = Field(default=None, foreign_key="callbacks.id")
    # created | joined | short | anonymous | not_a_number | ignored | too_old | manual
    result: str = Field(max_length=16)
    queue: str = Field(max_length=80)
    hung_up_at: float
    judged_at: float


class IntakeCheckpoint(SQLModel, table=True):
    """How far the intake has read the abandons (their end times): it reads again from a
    little before, so abandons written late by a slower feed are not missed."""

    __tablename__ = "callback_intake"

    name: str = Field(primary_key=True, max_length=40)
    checkpoint_at: float = 0.0
    run_at: float = 0.0
