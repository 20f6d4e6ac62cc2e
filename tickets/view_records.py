"""Saved views' values (tickets/saved_views.py keeps them): a view's filter and sort, checked,
and a view as handed out. Plain data, no database: the complaint screens hold them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tickets.errors import InvalidInput
from tickets.records import SEVERITIES, View, choice
from tickets.statuses import Status
from tickets.text import clean

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

    @classmethod
    def of(cls, values: dict[str, Any] | None) -> ViewFilter:
        """A filter from plain values (a session's, the CLI's, the database's JSON), each
        checked: InvalidInput names the first that is wrong."""
        values = dict(values or {})
        unknown = sorted(set(values) - {f for f in cls.__dataclass_fields__})
        if unknown:
            raise InvalidInput(f"a view has no filter {unknown[0]!r}")
        search = values.get("search")
        search = clean(search, "search", required=False) or None
        if search is not None and len(search) > SEARCH_CHARS:
            raise InvalidInput(f"search: at most {SEARCH_CHARS} characters")
        statuses = tuple(choice(s, tuple(Status), "status") for s in _strings(values.get("statuses"), "statuses"))
        severities = tuple(choice(s, SEVERITIES, "severity") for s in _strings(values.get("severities"), "severities"))
        every_status = _flag(values.get("every_status"), "every_status")
        if every_status and statuses:
            raise InvalidInput("every status, or some statuses: not both")
        owner = clean(values.get("owner"), "owner", required=False) or None
        created_from = _time(values.get("created_from"), "created_from")
        created_to = _time(values.get("created_to"), "created_to")
        if created_from is not None and created_to is not None and created_to <= created_from:
            raise InvalidInput("the date range must end after it starts")
        sort = values.get("sort")
        return cls(
            search=search,
            statuses=statuses,
            every_status=every_status,
            owner=owner,
            severities=severities,
            overdue=_flag(values.get("overdue"), "overdue"),
            created_from=created_from,
            created_to=created_to,
            sort=choice(sort, SORTS, "sort") if sort is not None else None,
        )

    def as_dict(self) -> dict[str, Any]:
        """Only what is set (a short JSON text, readable in the audit trail)."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in asdict(self).items()
            if value not in (None, False, ())
        }


def _strings(value: object, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value) or len(value) > 20:
        raise InvalidInput(f"{what}: a list of names")
    return list(value)


def _flag(value: object, what: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(f"{what}: true or false")
    return value


def _time(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e11:
        raise InvalidInput(f"{what}: a time")
    return float(value)


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


def view_name(name: object) -> str:
    """A view's name: one line, 1 to NAME_CHARS characters, not a fixed view's."""
    cleaned = clean(name if isinstance(name, str) or name is None else str(name), "name") or ""
    if len(cleaned) > NAME_CHARS:
        raise InvalidInput(f"a view's name has at most {NAME_CHARS} characters")
    if cleaned.lower().replace("-", "_").replace(" ", "_") in {v.value for v in View}:
        raise InvalidInput(f"{cleaned!r} is a fixed view: choose another name")
    return cleaned
