"""Ingest benchmark: queue_log lines/s for parse-only, full ingest into SQLite, and a bare insert.

    .venv/bin/python tests/benchmarks/ingest.py [--lines 1000000] [--rounds 5] [--keep DIR [--reuse]]

Generates a queue_log with the simulator (a large floor), then measures in one run:
  parse        QueueLogParser over every line, batch by batch as the ingest parses (no database)
  bare lines   split('|') and executemany of the raw fields into one table without indexes,
               same SQLite pragmas and transaction size: the bare insert issue 11 measures
               the ingest against (its 2.76x, issue 17's 2.96-3.05x)
  ingest       `QueueLogIngest.run()`: parse, engine, checkpoint, into a fresh migrated database
  bare rows    the rows the ingest ended with (calls, agent state changes, agents, queue
               memberships) read back, then inserted with plain driver executemany into a
               fresh migrated database (the same tables and indexes, the same pragmas), in as
               many transactions as the ingest made, with the secondary indexes a bulk load
               defers (wallboard.feeds.files.DEFERRED_INDEXES) dropped first and built at the
               end, as the ingest does: what storing the result costs at least. Binding the
               columns the ingest binds (a stricter yardstick, since session 9): no id (the
               database numbers the rows), a transaction's calls in the columns some of them
               set, the state changes without a NULL pause reason in runs of one width, in
               order, as the applier writes them (wallboard.store.applier)
  bare rows, every column
               the same, binding every column of the rows as read back (id and NULLs too):
               the baseline of sessions 7 and 8, printed so their figures compare
and prints lines/s, wall and CPU seconds, the ratios ingest/bare (target: ingest within 2x
of the bare lines, issue 11), and the peak RSS of ingest at a quarter of the file and at
the whole file (target: flat in the file size). Wall time includes waiting for the disk
(synchronous=FULL) and, on a busy machine, for a core: the CPU seconds show the work alone.
The same work varies by 10-25 % from run to run on a shared VM: --rounds N alternates the
baselines and the ingest N times and prints medians (and each round's ratio).
Not collected by pytest (tests/benchmarks is outside the test run).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from db import call_links
from wallboard.feeds.files import DEFERRED_INDEXES
from wallboard.feeds.queue_log import QueueLogParser
from wallboard.feeds.simulator import FloorSimulator, SimulatorSettings, write_queue_log

START = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def generate(path: Path, lines: int) -> int:
    sim = FloorSimulator(SimulatorSettings(seed=2026, agents=700, calls_per_hour=9000), START)
    written, t = 0, START
    with path.open("w") as fh:
        while written < lines:
            t += 900
            written += write_queue_log(sim.advance(t), fh)
    return written


def parse_only(path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of QueueLogParser over every line, no database: the ingest's own
    parse path (a batch's lines read as bytes, decoded once, QueueLogParser.parse_text, with the
    cyclic GC paused while a batch's events are alive, as FileIngest._apply_lines pauses it)."""
    parser = QueueLogParser()
    began, cpu = time.perf_counter(), _cpu_seconds()
    with path.open("rb") as fh:
        while batch := list(itertools.islice(fh, BATCH_LINES)):
            gc.disable()
            try:
                parser.parse_text(b"".join(batch).decode("utf-8", "replace"))
            finally:
                gc.enable()
    return time.perf_counter() - began, _cpu_seconds() - cpu


BATCH_LINES = 20_000  # the ingest's transaction size (QueueLogIngest.batch_lines)
# The tables an ingest writes, in the order it writes them.
INGESTED_TABLES = ("calls", "agents", "agent_state_changes", "agent_queues")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bare_insert(path: Path, database: Path, batch: int = BATCH_LINES) -> tuple[float, float]:
    """(wall, CPU) seconds of the raw fields of every line into one table without indexes."""
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("CREATE TABLE lines (ts, callid, queue, agent, verb, d1, d2, d3, d4, d5)")
    insert = "INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    began, cpu = time.perf_counter(), _cpu_seconds()
    rows = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            fields = line.rstrip("\r\n").split("|")
            rows.append((fields + [None] * 10)[:10])
            if len(rows) >= batch:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(insert, rows)
                connection.execute("COMMIT")
                rows = []
    if rows:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(insert, rows)
        connection.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - began, _cpu_seconds() - cpu
    connection.close()
    return elapsed, cpu


Statement = tuple[str, list[tuple[object, ...]]]  # an INSERT and the rows it takes


def bare_rows(ingested: Path, database: Path, lines: int, *, every_column: bool = False) -> tuple[float, float, int]:
    """(wall, CPU) seconds and row count of the rows `ingested` holds inserted into a fresh
    migrated `database` with plain executemany: every table's rows in their insertion order,
    spread over as many transactions as the ingest made (one per BATCH_LINES lines).

    Bound as the ingest binds them, unless `every_column` (the old baseline: as read back)."""
    subprocess.run(
        [sys.executable, "-c", MIGRATE_CHILD, str(database), str(ROOT)], check=True, capture_output=True, text=True
    )
    batches = max(1, math.ceil(lines / BATCH_LINES))
    source = sqlite3.connect(ingested)
    # Per transaction, the statements it runs: prepared before the clock starts (the rows
    # are what the ingest ended with; only storing them is timed).
    transactions: list[list[Statement]] = [[] for _ in range(batches)]
    for table in INGESTED_TABLES:
        cursor = source.execute(f"SELECT * FROM {table} ORDER BY rowid")
        columns = tuple(d[0] for d in cursor.description)
        table_rows = cursor.fetchall()
        share = math.ceil(len(table_rows) / batches)
        for number, statements in enumerate(transactions):
            part = table_rows[number * share : (number + 1) * share]
            if part:
                statements.extend(_statements(table, columns, part, every_column))
    source.close()
    connection = sqlite3.connect(database, isolation_level=None)
    # The engine's pragmas (db/engine.py); the migration left the file in WAL mode.
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA synchronous = FULL")
    left_out = (*DEFERRED_INDEXES, *call_links.TRIGGERS)
    deferred = connection.execute(
        f"SELECT type, name, sql FROM sqlite_master WHERE name IN ({', '.join('?' * len(left_out))})", left_out
    ).fetchall()
    began, cpu = time.perf_counter(), _cpu_seconds()
    # As the ingest's bulk load (files.FileIngest._start_bulk_load, restore_left_out): the
    # deferred indexes and the call-link triggers dropped, the rows inserted, the indexes
    # built and the triggers made once at the end.
    connection.execute("BEGIN IMMEDIATE")
    for kind, name, _ in deferred:
        connection.execute(f"DROP {kind.upper()} {name}")
    connection.execute("COMMIT")
    for statements in transactions:
        connection.execute("BEGIN IMMEDIATE")
        for insert, rows in statements:
            connection.executemany(insert, rows)
        connection.execute("COMMIT")
    connection.execute("BEGIN IMMEDIATE")
    for _, _, sql in deferred:
        connection.execute(sql)
    connection.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - began, _cpu_seconds() - cpu
    connection.close()
    return elapsed, cpu, sum(len(rows) for statements in transactions for _, rows in statements)


def _statements(
    table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]], every_column: bool
) -> list[Statement]:
    """One transaction's rows of `table` as INSERT statements and their rows, in order."""
    if every_column:
        return [(_insert(table, columns), rows)]
    keep = [i for i, name in enumerate(columns) if name != "id"]
    if table == "calls":  # the columns some row of the transaction sets (the applier's _Batch.flush)
        keep = [i for i in keep if any(row[i] is not None for row in rows)]
    bound = [tuple(row[i] for i in keep) for row in rows]
    names = tuple(columns[i] for i in keep)
    if table != "agent_state_changes":
        return [(_insert(table, names), bound)]
    # A change without a pause reason leaves the column out, in runs of one width (the
    # applier's _insert_in_runs); the pause reason is the last column.
    assert names[-1] == "pause_reason", names
    trimmed = [row[:-1] if row[-1] is None else row for row in bound]
    return [(_insert(table, names[:width]), list(run)) for width, run in itertools.groupby(trimmed, len)]


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


MIGRATE_CHILD = """
import sys
sys.path.insert(0, sys.argv[2])
from db import open_database
open_database("sqlite:///" + sys.argv[1], migrate=True).dispose()
"""


INGEST_CHILD = """
import json, resource, sys, time

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

sys.path.insert(0, sys.argv[3])
from db import open_database
from wallboard.config import Settings
from wallboard.feeds.files import QueueLogIngest
settings = Settings()
settings.database.url = "sqlite:///" + sys.argv[1]
engine = open_database(settings.database_url(), migrate=True)
began, cpu_began = time.perf_counter(), cpu()
summary = QueueLogIngest(engine, settings, sys.argv[2]).run()
elapsed, cpu_seconds = time.perf_counter() - began, cpu() - cpu_began
print(json.dumps({"seconds": elapsed, "cpu": cpu_seconds, "lines": summary.lines_read,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def ingest(path: Path, database: Path) -> dict:
    """Full ingest in a fresh process, so its peak RSS is its own."""
    out = subprocess.run(
        [sys.executable, "-c", INGEST_CHILD, str(database), str(path), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--lines", type=int, default=1_000_000)
    options.add_argument("--keep", type=Path, help="work in this directory and keep its files")
    options.add_argument(
        "--rounds", type=int, default=1, help="alternate the baselines and the ingest this many times (medians)"
    )
    options.add_argument(
        "--reuse", action="store_true", help="with --keep: read the queue_log already there instead of generating one"
    )
    args = options.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="wallboard-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    log = work / "queue_log"
    if args.reuse and log.exists():
        with log.open("rb") as lines:
            total = sum(1 for _ in lines)
        print(f"reusing {total:,} lines ({log.stat().st_size / 1e6:.0f} MB) of {log}")
    else:
        began = time.perf_counter()
        total = generate(log, args.lines)
        print(f"generated {total:,} lines ({log.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - began:.1f} s")

    quarter = work / "queue_log.quarter"
    with log.open() as source, quarter.open("w") as target:
        for number, line in enumerate(source):
            if number >= total // 4:
                break
            target.write(line)

    for stale in work.glob("*.db*"):  # a kept directory's databases of an earlier run
        stale.unlink()
    load_at_start = os.getloadavg()
    parse_seconds, parse_cpu = parse_only(log)
    small = ingest(quarter, work / "quarter.db")
    # Rounds alternate the baselines and the ingest, so a slow spell of the machine falls on
    # both sides: the figures are each round's, the ratios the median of the rounds'.
    rounds: list[dict[str, tuple[float, float]]] = []
    for number in range(args.rounds):
        for stale in work.glob("*.db*"):
            if stale.name.startswith(("bare", "full", "rows")):
                stale.unlink()
        measured = {"bare lines": bare_insert(log, work / "bare.db")}
        full = ingest(log, work / "full.db")
        measured["ingest"] = (full["seconds"], full["cpu"])
        rows_seconds, rows_cpu, row_count = bare_rows(work / "full.db", work / "rows.db", total)
        measured["bare rows"] = (rows_seconds, rows_cpu)
        old_seconds, old_cpu, _ = bare_rows(work / "full.db", work / "rows_every_column.db", total, every_column=True)
        measured["bare rows (old)"] = (old_seconds, old_cpu)
        rounds.append(measured)
        if args.rounds > 1:
            print(
                f"round {number + 1}  load {os.getloadavg()[0]:.2f}  CPU s: "
                + ", ".join(f"{name} {cpu:.2f}" for name, (_, cpu) in measured.items())
            )

    def rate(seconds: float, cpu: float | None = None) -> str:
        cpu_text = "" if cpu is None else f", {cpu:6.2f} s CPU"
        return f"{total / seconds:>10,.0f} lines/s  ({seconds:6.2f} s wall{cpu_text})"

    def median(name: str, part: int) -> float:
        return statistics.median(measured[name][part] for measured in rounds)

    print(f"load at start   {' '.join(f'{load:.2f}' for load in load_at_start)} (1, 5, 15 min)")
    print(f"load at end     {' '.join(f'{load:.2f}' for load in os.getloadavg())} (1, 5, 15 min)")
    print(f"parse only      {rate(parse_seconds, parse_cpu)}")
    of_rounds = f", median of {args.rounds} rounds" if args.rounds > 1 else ""
    print(f"bare lines      {rate(median('bare lines', 0), median('bare lines', 1))}{of_rounds}")
    print(
        f"bare rows       {rate(median('bare rows', 0), median('bare rows', 1))}  {row_count:,} rows, the columns the ingest binds"
    )
    print(
        f"bare rows (old) {rate(median('bare rows (old)', 0), median('bare rows (old)', 1))}  every column as read back (sessions 7-8)"
    )
    print(f"ingest          {rate(median('ingest', 0), median('ingest', 1))}")

    def ratio(baseline: str, part: int) -> float:
        return statistics.median(measured["ingest"][part] / measured[baseline][part] for measured in rounds)

    for baseline, target in (
        ("bare lines", " (issue 11's bare insert; target <= 2x)"),
        ("bare rows", " (the cheapest storing of the result)"),
        ("bare rows (old)", ""),
    ):
        print(f"ingest / {baseline:<15} {ratio(baseline, 0):.2f}x wall, {ratio(baseline, 1):.2f}x CPU{target}")
    if args.rounds > 1:
        spread = sorted(measured["ingest"][1] / measured["bare lines"][1] for measured in rounds)
        print(f"ingest / bare lines, CPU, each round: {', '.join(f'{r:.2f}x' for r in spread)}")
    # The ingest's own work (parse, apply, read, update, checkpoint) is what is above the bare
    # rows: at 2x of them, it would be no more than storing the rows itself.
    own, store = (median("ingest", 1) - median("bare rows", 1)) / total * 1e6, median("bare rows", 1) / total * 1e6
    print(f"CPU per line    ingest's own work {own:.2f} us, storing the rows {store:.2f} us")
    print(
        f"peak RSS        {small['rss_mb']:.0f} MB at {small['lines']:,} lines, {full['rss_mb']:.0f} MB at {full['lines']:,} lines"
    )


if __name__ == "__main__":
    main()
