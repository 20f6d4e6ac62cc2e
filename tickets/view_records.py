"""Saved views' values (tickets/saved_views.py keeps them): a view's filter and sort (checked
there, on the server) and a view as handed out. Plain data, no database: the complaint screens hold them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, tzinfo
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


# -- the list screen's filter, written as a line of text ---------------------------------
# `status:waiting,new severity:high owner:carl overdue from:2026-11-01 to:2026-12-01
# sort:newest` (and `all` for every status): what `ticket view save` takes as options, as
# the complaint list's `f` shows and reads it. Dates and times are the site's local time;
# `to` is exclusive, as the CLI's --to. Only the words are checked here (the server checks
# the values: tickets/saved_views.parse_filter).

FILTER_WORDS = ("status", "severity", "owner", "from", "to", "sort")


class FilterTextError(ValueError):
    """A line of filter text that cannot be read; the message says which word and why."""


def _when(text: str, tz: tzinfo, word: str) -> float:
    try:
        moment = datetime.combine(date.fromisoformat(text), time()) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise FilterTextError(f"{word}: {text!r} is not a date (2026-11-23) or time (2026-11-23T08:00)") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).timestamp()


def _shown_when(moment: float, tz: tzinfo) -> str:
    local = datetime.fromtimestamp(moment, tz)
    return local.date().isoformat() if local.time() == time() else local.strftime("%Y-%m-%dT%H:%M")


def parse_filter_text(text: str, tz: tzinfo) -> dict[str, Any]:
    """The filters (ViewFilter's names, only those given) a line of filter text sets."""
    values: dict[str, Any] = {}
    for token in text.split():
        word, colon, value = token.partition(":")
        word = word.lower()
        if not colon:
            if word == "overdue":
                values["overdue"] = True
            elif word == "all":
                values["every_status"] = True
            else:
                raise FilterTextError(f"{token!r}: write word:value ({', '.join(FILTER_WORDS)}), or overdue, or all")
            continue
        if word not in FILTER_WORDS or not value:
            raise FilterTextError(f"{token!r}: write word:value ({', '.join(FILTER_WORDS)}), or overdue, or all")
        if word == "status":
            if value.lower() == "all":
                values["every_status"] = True
            else:
                values.setdefault("statuses", []).extend(v for v in value.lower().split(",") if v)
        elif word == "severity":
            values.setdefault("severities", []).extend(v for v in value.lower().split(",") if v)
        elif word == "owner":
            values["owner"] = value
        elif word == "sort":
            values["sort"] = value.lower()
        else:
            values["created_from" if word == "from" else "created_to"] = _when(value, tz, word)
    return values


def filter_text(filters: ViewFilter, tz: tzinfo) -> str:
    """`filters` (but the search, which the list's `/` holds) as `parse_filter_text` reads it."""
    words = []
    if filters.every_status:
        words.append("all")
    if filters.statuses:
        words.append("status:" + ",".join(filters.statuses))
    if filters.severities:
        words.append("severity:" + ",".join(filters.severities))
    if filters.owner:
        words.append(f"owner:{filters.owner}")
    if filters.overdue:
        words.append("overdue")
    if filters.created_from is not None:
        words.append(f"from:{_shown_when(filters.created_from, tz)}")
    if filters.created_to is not None:
        words.append(f"to:{_shown_when(filters.created_to, tz)}")
    if filters.sort:
        words.append(f"sort:{filters.sort}")
    return " ".join(words)
