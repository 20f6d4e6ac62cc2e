"""The SSH front door's connection log: one row per terminal session (who, from where,
when, how long, how it ended). Persistence only: `wallboard.ssh.access` writes and reads it.

Times are epoch seconds (float, UTC), as in `db.models`.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

import db.models  # noqa: F401  (the naming convention is set there, before any table)


class SshSession(SQLModel, table=True):
    """A session of an authenticated user; ended_at is None while it runs (or when the
    server died under it, until that host's next server start closes it)."""

    __tablename__ = "ssh_sessions"
    __table_args__ = (
        Index("ix_ssh_sessions_started_at", "started_at"),
        Index("ix_ssh_sessions_user_id_started_at", "user_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    role: str = Field(max_length=16)  # the role at login
    peer_address: str = Field(max_length=64)
    peer_port: int
    # the host name of the server that ran it (several servers may share one database)
    server: str | None = Field(default=None, max_length=255)
    key_fingerprint: str | None = Field(default=None, max_length=80)
    term: str | None = Field(default=None, max_length=64)
    started_at: float
    ended_at: float | None = None
    # client disconnected | quit | idle timeout | server stopped | server restarted | refused: ...
    end_reason: str | None = Field(default=None, max_length=64)
    exit_status: int | None = None


class SshLoginFailure(SQLModel, table=True):
    """A failed SSH log-in, or a shut-out it caused: who (the name asked for, any name: not a
    user's id), from where, when. Shut-outs say what they shut out and until when."""

    __tablename__ = "ssh_login_failures"
    __table_args__ = (Index("ix_ssh_login_failures_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    server: str | None = Field(default=None, max_length=255)
    at: float
    peer_address: str = Field(max_length=64)
    user_name: str | None = Field(default=None, max_length=64)
    # "failed" | "shut out"
    event: str = Field(max_length=16)
    # for a shut-out: "user from address" | "user" | "address"
    scope: str | None = Field(default=None, max_length=24)
    until: float | None = None
