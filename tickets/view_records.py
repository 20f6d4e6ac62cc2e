"""Saved views' values (tickets/saved_views.py keeps them): a view's filter and sort (checked
there, on the server) and a view as handed out. Plain data, no database: the complaint screens hold them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The orders a saved view may ask for: due time (none last), newest or oldest first, the
# "mine" view's urgency (overdue promises, SLA time left, severity).
SORTS = ("due", "newest", "oldest", "urgency")
NAME_CHARS = 40
SEARCH_CHARS = 200


@dataclass(frozen=True)
class ViewFilter:
    """What a saved view shows: the filters of `ticket list` and the list's `/` search, and
    its order (one of tickets.queries.SORTS; default by due time, or newest first with a
    search)."""

    search: str | None = None
    statuses: tuple[str, ...] = ()
    every_status: bool = False
    owner: str | None = None
    severities: tuple[str, ...] = ()
    overdue: bool = False
    created_from: float | None = None
    created_to: float | None = None
    sort: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Only what is set (a short JSON text, readable in the audit trail)."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in asdict(self).items()
            if value not in (None, False, ())
        }


@dataclass(frozen=True)
class SavedViewInfo:
    """A saved view as handed out; `mine`: the asking user's own."""

    id: int
    name: str
    owner: str
    shared: bool
    mine: bool
    filters: ViewFilter = field(default_factory=ViewFilter)
    updated_at: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "owner": self.owner,
            "shared": self.shared,
            "mine": self.mine,
            "filters": self.filters.as_dict(),
        }
