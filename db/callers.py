"""Tables for flags on callers (abusive or malicious callers). Persistence only: the rules
live in `tickets/callers.py`.

A flag belongs to a caller number, not to a complaint: an agent raises it with a reason, a
supervisor confirms or clears it, and every step is a row of `caller_flag_events` (the flag's
history, append-only). Flags set on a complaint (`complaints.malicious`) predate these and
are read alongside them.
"""

from __future__ import annotations

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel


class CallerFlag(SQLModel, table=True):
    """The flag of one caller number as it stands now."""

    __tablename__ = "caller_flags"
    __table_args__ = (Index("ix_caller_flags_status", "status"),)

    caller_number: str = Field(primary_key=True, max_length=80)
    status: str = Field(max_length=16)  # flagged (awaiting a supervisor) | confirmed | cleared
    reason: str = Field(sa_type=Text)  # why it was flagged (the latest flag's reason)
    flagged_by_id: int = Field(foreign_key="users.id")
    flagged_at: float
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")  # the supervisor who confirmed/cleared
    decided_at: float | None = None
    decision_note: str | None = Field(default=None, sa_type=Text)
    updated_at: float


class CallerFlagEvent(SQLModel, table=True):
    """Append-only history of caller flags: one row per flag, confirmation or clearing."""

    __tablename__ = "caller_flag_events"
    __table_args__ = (Index("ix_caller_flag_events_caller_number_id", "caller_number", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    caller_number: str = Field(max_length=80)
    at: float
    actor_id: int = Field(foreign_key="users.id")
    action: str = Field(max_length=16)  # flag | confirm | clear
    status: str = Field(max_length=16)  # the flag's status after it
    note: str = Field(sa_type=Text)
