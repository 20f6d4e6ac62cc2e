"""Planner statistics: ANALYZE after a bulk write and daily, on SQLite and PostgreSQL.

Without statistics SQLite guesses how selective a range is, and a year of calls makes a bad
guess costly (docs/ARCHITECTURE.md, Persistence: indexes and the bounding rule). SQLite's
ANALYZE is bounded by `analysis_limit` (rows examined per index), so it costs milliseconds
whatever the history; PostgreSQL's ANALYZE samples a fixed number of rows per table.
Not `PRAGMA optimize` alone: before SQLite 3.46 it analyses only the tables the same
connection has queried, so a fresh connection (a server's daily job) would skip them.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from db.engine import is_sqlite, write_transaction

log = logging.getLogger(__name__)

# Rows SQLite examines per index: enough to tell a selective index from a poor one.
SQLITE_ANALYSIS_LIMIT = 1000


def analyze(engine: Engine) -> None:
    """Refresh the planner's statistics of every table."""
    with write_transaction(engine) as connection:
        if is_sqlite(engine):
            connection.exec_driver_sql(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
            connection.exec_driver_sql("ANALYZE")
        else:
            connection.exec_driver_sql("ANALYZE")
    log.info("planner statistics refreshed")


def after_bulk_write(engine: Engine) -> None:
    """After a bulk ingest: the tables may have grown many-fold since the statistics were taken."""
    analyze(engine)
