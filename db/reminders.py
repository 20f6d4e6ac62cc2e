"""Tables for reminders, notifications, outbound hook deliveries and the server lease.

Why our own rows rather than one APScheduler job each: see docs/ARCHITECTURE.md, Reminders
and escalation (a shared job store fires twice, missed date jobs are dropped). Due times live
here, armed in the same transaction as the complaint change; the active server's sweep
claims them exactly once.
"""

from __future__ import annotations

from sqlalchemy import Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Reminder(SQLModel, table=True):
    """One future notification: fires once at `fire_at` unless cancelled first.

    `key` names what it reminds of, including the due time it derives from
    ("follow_up:42:due:1795000000"): arming is idempotent, and a moved promise has a new key,
    so it is reminded again, once.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("key", name="uq_reminders_key"),
        Index(
            "ix_reminders_pending",
            "fire_at",
            sqlite_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
            postgresql_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
        ),
        Index("ix_reminders_complaint_id", "complaint_id"),
        Index("ix_reminders_callback_id", "callback_id"),
        Index("ix_reminders_coaching_id", "coaching_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120)
    # follow_up_upcoming | follow_up_due | follow_up_overdue | sla_at_risk | sla_breached
    # | callback_due | callback_overdue | coaching_due
    kind: str = Field(max_length=24)
    complaint_id: int | None = Field(default=None, foreign_key="complaints.id")  # or a call-back's:
    callback_id: int | None = Field(default=None, foreign_key="callbacks.id")
    follow_up_id: int | None = Field(default=None, foreign_key="follow_ups.id")
    coaching_id: int | None = Field(default=None, foreign_key="qa_coaching.id")  # or a coaching action's
    basis_at: float  # the promise's or the SLA target's due time
    fire_at: float
    armed_at: float
    fired_at: float | None = None
    fired_by: str | None = Field(default=None, max_length=120)  # which server claimed it
    cancelled_at: float | None = None


class Notification(SQLModel, table=True):
    """What a user is told: shown as a toast in their TUI, listed by `wallboard notifications`."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index(
            "ix_notifications_unread",
            "user_id",
            sqlite_where=text("read_at IS NULL"),
            postgresql_where=text("read_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    # follow_up_upcoming | follow_up_due | follow_up_overdue | sla_at_risk | sla_breached | assigned_to_you
    kind: str = Field(max_length=24)
    complaint_id: int | None = Field(default=None, foreign_key="complaints.id")
    reminder_id: int | None = Field(default=None, foreign_key="reminders.id")
    text: str = Field(sa_type=Text)
    created_at: float
    read_at: float | None = None


class HookDelivery(SQLModel, table=True):
    """A notification to send through an outbound hook (command, webhook, mail), retried."""

    __tablename__ = "hook_deliveries"
    __table_args__ = (
        Index(
            "ix_hook_deliveries_pending",
            "next_attempt_at",
            sqlite_where=text("delivered_at IS NULL AND gave_up_at IS NULL"),
            postgresql_where=text("delivered_at IS NULL AND gave_up_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notifications.id")
    hook: str = Field(max_length=16)  # command | webhook | email
    attempts: int = 0
    next_attempt_at: float
    delivered_at: float | None = None
    gave_up_at: float | None = None
    last_error: str | None = Field(default=None, sa_type=Text)


class ServerLease(SQLModel, table=True):
    """Exactly one active server per database holds the lease; it renews it, others wait."""

    __tablename__ = "server_leases"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=120)
    acquired_at: float
    expires_at: float
