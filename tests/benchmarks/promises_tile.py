"""Promises tile benchmark: the tile's read with closed complaints' promises lapsed (now) and
open (as before migration 0021), alternating, and the migration's own statements, on a kept
full set (complaints.py --keep).

    .venv/bin/python tests/benchmarks/promises_tile.py --url URL [--rounds 2] [--runs 200]

"Before" is the same database with the lapsed promises made open again inside a transaction
that is rolled back afterwards (so the kept set is left as it was): the tile's read sees the
partial index of open promises as the builder of old left it. Then the migration's three
statements are timed on that state, in a transaction rolled back too. On PostgreSQL the
server's CPU is counted (the URL's socket directory is beside the data directory, as
tests/support/postgres.py lays it out); there, "before" reads index entries whose heap pages
the uncommitted update touched, so it is if anything slower than a vacuumed old database,
and a rolled-back update still leaves its index entries: the partial indexes of open
follow-ups grew tenfold and the planner turned from the tile's covering index to a heap
scan (measured: 150 ms a read). So on PostgreSQL the run ends with VACUUM ANALYZE and a
REINDEX of those partial indexes, leaving the kept set as it was.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from db import open_database
from tests.benchmarks.complaints import SERVER_CPU, measure, postgres_cpu
from tests.benchmarks.complaints_data import NOW
from wallboard.config import Settings
from wallboard.store.board_reader import read_promises

# The follow-ups' partial indexes the rolled-back updates bloat on PostgreSQL.
PARTIAL_INDEXES = ("ix_follow_ups_open_promise_due", "ix_follow_ups_open_due", "ix_follow_ups_open_owner")
MIGRATION = ROOT / "db" / "migrations" / "versions" / "0021_lapse_closed_promises.py"


def _migration() -> object:
    spec = importlib.util.spec_from_file_location("lapse_0021", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reopen_lapsed(connection: Connection) -> int:
    """The lapsed promises open again, as the data was before 0021 (inside the caller's transaction)."""
    result = connection.execute(
        text("UPDATE follow_ups SET outcome = NULL, outcome_at = NULL, outcome_by_id = NULL WHERE outcome = 'lapsed'")
    )
    return result.rowcount


def _tile(connection: Connection, settings: Settings, runs: int, label: str) -> None:
    name, p50, p95, cpu, _ = measure(label, runs, lambda i: [read_promises(connection, settings, NOW + 60 * i)])
    counts = read_promises(connection, settings, NOW)
    print(
        f"{name:34} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  CPU p50 {cpu:6.2f} ms  "
        f"(overdue {counts.overdue:,}, due today {counts.due_today:,})  load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="The kept full set's database URL.")
    parser.add_argument("--rounds", type=int, default=2, help="Before/after pairs.")
    parser.add_argument("--runs", type=int, default=200, help="Tile reads per measurement.")
    parser.add_argument("--no-migration", action="store_true", help="Skip timing the migration's statements.")
    args = parser.parse_args()
    engine = open_database(args.url, migrate=True)  # as complaints.py: a kept set built before 0021 takes it
    if engine.dialect.name == "postgresql":
        socket_dir = Path(make_url(args.url).query["host"])  # type: ignore[arg-type]
        SERVER_CPU[0] = postgres_cpu(socket_dir.parent / "data")
    settings = Settings()
    for _ in range(args.rounds):
        with engine.connect() as connection:
            _tile(connection, settings, args.runs, "after: lapsed (as built)")
        with engine.connect() as connection:
            reopened = _reopen_lapsed(connection)
            _tile(connection, settings, args.runs, f"before: {reopened:,} open again")
            connection.rollback()
    if not args.no_migration:
        _time_migration(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("follow_ups", "complaints", "audit_events"):
                connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
            for index in PARTIAL_INDEXES:
                connection.exec_driver_sql(f"REINDEX INDEX {index}")
            connection.exec_driver_sql("ANALYZE follow_ups")
    engine.dispose()


def _time_migration(engine: Engine) -> None:
    migration = _migration()
    with engine.connect() as connection:
        _reopen_lapsed(connection)
        statements = [
            (
                "clear next follow-up",
                "UPDATE complaints SET next_follow_up_at = NULL WHERE status = 'closed' AND id IN "
                f"(SELECT complaint_id FROM follow_ups WHERE {migration.OPEN_PROMISE_SQL})",  # type: ignore[attr-defined]
                {},
            ),
            (
                "audit rows",
                "INSERT INTO audit_events (changeset, at, actor_id, complaint_id, follow_up_id, kind, field, old, new, "
                "note) SELECT 'benchmark', :now, NULL, complaint_id, id, 'outcome', 'outcome', NULL, 'lapsed', 'x' "
                f"FROM follow_ups WHERE {migration.OPEN_PROMISE_SQL} AND {migration.ON_CLOSED}",  # type: ignore[attr-defined]
                {"now": NOW},
            ),
            (
                "lapse",
                f"UPDATE follow_ups SET outcome = 'lapsed', outcome_at = {migration.CLOSED_AT}, outcome_by_id = NULL "  # type: ignore[attr-defined]
                f"WHERE {migration.OPEN_PROMISE_SQL} AND {migration.ON_CLOSED}",  # type: ignore[attr-defined]
                {},
            ),
        ]
        total_wall = total_cpu = 0.0
        for label, sql, params in statements:
            server = SERVER_CPU[0]()
            wall, cpu = time.perf_counter(), time.process_time()
            rows = connection.execute(text(sql), params).rowcount
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu + SERVER_CPU[0]() - server
            total_wall, total_cpu = total_wall + wall, total_cpu + cpu
            print(f"migration 0021 {label:22} {rows:>9,} rows  {wall:6.2f} s  CPU {cpu:6.2f} s", flush=True)
        print(f"migration 0021 in all: {total_wall:.2f} s, CPU {total_cpu:.2f} s; load {os.getloadavg()[0]:.1f}")
        connection.rollback()


if __name__ == "__main__":
    main()
