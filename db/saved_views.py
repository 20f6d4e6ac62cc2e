"""Saved views of the complaint list: a user's filter and sort under a name, and their
audit trail.

Persistence only: the rules live in `tickets/saved_views.py`. The filter is JSON text
(`tickets.saved_views.ViewFilter`), so a new filter needs no migration.
"""

from __future__ import annotations

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class SavedView(SQLModel, table=True):
    """One user's view; `shared`: every user of the floor sees it too (set by supervisors)."""

    __tablename__ = "saved_views"
    __table_args__ = (
        UniqueConstraint("owner_id", "name", name="uq_saved_views_owner_id_name"),
        Index("ix_saved_views_shared", "shared"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id")
    name: str = Field(max_length=40)
    filters: str = Field(sa_type=Text)
    shared: bool = False
    created_at: float
    updated_at: float


class SavedViewEvent(SQLModel, table=True):
    """Append-only: who saved, changed, shared, stopped sharing or deleted a view, and the
    filter it had (the view's row is gone once deleted; its name stays here)."""

    __tablename__ = "saved_view_events"
    __table_args__ = (Index("ix_saved_view_events_view_id_id", "view_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    view_id: int  # no foreign key: the events outlive the view
    at: float
    actor_id: int = Field(foreign_key="users.id")
    action: str = Field(max_length=16)  # saved | changed | shared | unshared | deleted
    name: str = Field(max_length=40)
    filters: str = Field(sa_type=Text)
