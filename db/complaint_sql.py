"""The complaint tables' SQL without the SQLModel classes: the literal conditions the partial
indexes repeat, the objects the migration makes outside SQLAlchemy's metadata, and the
full-text search condition, on the Core tables of db/tables.py.

Apart from db/complaints.py (which re-exports these names) so that the complaint list's read
path (`wallboard ticket list`) starts without importing SQLModel, pydantic or the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, text

from db import tables

# A complaint is open until it is resolved (resolved and closed ones leave the work views).
# A literal, not bound parameters: SQLite uses a partial index only when the query's WHERE
# repeats the index's WHERE with the same constants.
OPEN_SQL = "status NOT IN ('resolved', 'closed')"
# A promise to the customer still to keep: a follow-up of a promise kind (tickets.records.
# PROMISE_KINDS, a test keeps the two in step) without an outcome. A literal, as OPEN_SQL.
# Closing a complaint gives its open promises the outcome `lapsed` (tickets/service.py), so
# a closed complaint has none, and every reader that asks for no outcome (this condition,
# its partial index, the reminders, the owner's "due" list) leaves lapsed ones out alike.
OPEN_PROMISE_SQL = "outcome IS NULL AND kind IN ('callback', 'action')"

# Created by the migration, invisible to autogenerate (db/migrations/env.py skips them).
SEARCH_FTS = "complaint_search_fts"
SEARCH_TSV_INDEX = "ix_complaint_search_document_tsv"
SEARCH_TSV_COLUMN = "document_tsv"
UNMANAGED_PREFIXES = (SEARCH_FTS,)
UNMANAGED = {SEARCH_TSV_INDEX, SEARCH_TSV_COLUMN}


def is_unmanaged(name: str | None) -> bool:
    return name is not None and (name in UNMANAGED or name.startswith(UNMANAGED_PREFIXES))


@dataclass(frozen=True)
class SearchTerm:
    """Consecutive normalised words that must appear together; `prefix`: the last one may
    be the start of a longer word."""

    words: tuple[str, ...]
    prefix: bool = False


def search_condition(dialect: str, terms: list[SearchTerm], newest: int | None = None) -> ColumnElement[bool]:
    """`complaints.id` (of the Core table, db.tables.complaints) matches every term (SQLite
    FTS5 or PostgreSQL full text); with `newest`, only the newest that many matches (the
    search's page, found without collecting every match of a common word).

    The words are letters and digits only (normalised by the domain), so they are safe to
    quote into either query language.
    """
    complaint_id = tables.complaints.c.id
    if dialect == "sqlite":
        query = " AND ".join('"' + " ".join(t.words) + '"' + ("*" if t.prefix else "") for t in terms)
        top = f" ORDER BY rowid DESC LIMIT {int(newest)}" if newest else ""
        matching = text(f"SELECT rowid FROM {SEARCH_FTS} WHERE {SEARCH_FTS} MATCH :fts_query{top}").bindparams(
            bindparam("fts_query", query)
        )
        return complaint_id.in_(matching)
    parts = []
    for term in terms:
        words = [f"'{w}'" for w in term.words]
        if term.prefix:
            words[-1] += ":*"
        parts.append("(" + " <-> ".join(words) + ")")
    top = f" ORDER BY complaint_id DESC LIMIT {int(newest)}" if newest else ""
    matching = text(
        f"SELECT complaint_id FROM complaint_search WHERE {SEARCH_TSV_COLUMN} @@ to_tsquery('simple', :ts_query){top}"
    ).bindparams(bindparam("ts_query", " & ".join(parts)))
    return complaint_id.in_(matching)
