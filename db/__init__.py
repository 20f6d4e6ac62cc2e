"""Persistence: engine factory, tables, migrations. No Textual, no business rules."""

from __future__ import annotations

from sqlalchemy import Engine

from db.engine import make_engine
from db.migrate import check_revision, upgrade


def open_database(url: str, *, migrate: bool) -> Engine:
    """An engine on `url`, upgraded to the newest schema (`migrate`) or checked against it."""
    engine = make_engine(url)
    if migrate:
        upgrade(engine)
    else:
        check_revision(engine)
    return engine
