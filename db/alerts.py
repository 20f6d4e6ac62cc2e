"""The alerts' life: one row per alert from when it was raised until it cleared, and who
acknowledged it. Persistence only: `wallboard.store.alert_log` writes and reads it; the
rules of what is an alert are in `wallboard.calls.alerts`.

One process writes it (the one holding the site lease: wallboard/server/runtime.py), so two
boards never raise the same alert twice; every board reads it. Times are epoch seconds.
"""

from __future__ import annotations

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

import db.models  # noqa: F401  (the naming convention is set there, before any table)

# The open alerts (not cleared yet): a literal the partial index below names too, so SQLite
# uses the index for the board's read each second.
OPEN_ALERT_SQL = "cleared_at IS NULL"


class AlertLog(SQLModel, table=True):
    """One alert's life: raised, (acknowledged,) cleared. `alert_key` names the condition
    (kind and queue or agent), so a condition that clears and comes back is a new row."""

    __tablename__ = "alert_log"
    __table_args__ = (
        Index("ix_alert_log_raised_at", "raised_at"),
        Index("ix_alert_log_cleared_at", "cleared_at"),
        Index(
            "ix_alert_log_open",
            "alert_key",
            unique=True,
            sqlite_where=text(OPEN_ALERT_SQL),
            postgresql_where=text(OPEN_ALERT_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_key: str = Field(max_length=300)  # "sl_below|billing", "long_call|Ann Lee"
    kind: str = Field(max_length=16)  # sl_below | long_wait | no_agent | long_call
    level: str = Field(max_length=8)  # warn | alert (the worst it reached)
    queue: str | None = Field(default=None, max_length=255)
    agent: str | None = Field(default=None, max_length=255)
    text: str = Field(max_length=500)  # as last judged
    raised_at: float
    cleared_at: float | None = None
    acknowledged_by: str | None = Field(default=None, max_length=64)  # a supervisor's user name
    acknowledged_at: float | None = None
