"""Ingest benchmark: queue_log lines/s for parse-only, full ingest into SQLite, and a bare insert.

    .venv/bin/python tests/benchmarks/ingest.py [--lines 1000000] [--keep DIR]

Generates a queue_log with the simulator (a large floor), then measures in one run:
  parse      QueueLogParser over every line (no database)
  bare       split('|') and executemany of the raw fields into one table, same SQLite pragmas
  ingest     `QueueLogIngest.run()`: parse, engine, checkpoint, into a fresh migrated database
and prints lines/s, the ratio ingest/bare (target: ingest within 3x of bare), and the peak
RSS of ingest at a quarter of the file and at the whole file (target: flat in the file size).
Not collected by pytest (tests/benchmarks is outside the test run).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

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


def parse_only(path: Path) -> float:
    parser = QueueLogParser()
    parse = parser.parse
    began = time.perf_counter()
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            parse(line)
    return time.perf_counter() - began


def bare_insert(path: Path, database: Path, batch: int = 20_000) -> float:
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("CREATE TABLE lines (ts, callid, queue, agent, verb, d1, d2, d3, d4, d5)")
    insert = "INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    began = time.perf_counter()
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
    elapsed = time.perf_counter() - began
    connection.close()
    return elapsed


INGEST_CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
from db import open_database
from wallboard.config import Settings
from wallboard.feeds.files import QueueLogIngest
settings = Settings()
settings.database.url = "sqlite:///" + sys.argv[1]
engine = open_database(settings.database_url(), migrate=True)
began = time.perf_counter()
summary = QueueLogIngest(engine, settings, sys.argv[2]).run()
elapsed = time.perf_counter() - began
print(json.dumps({"seconds": elapsed, "lines": summary.lines_read,
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
    args = options.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="wallboard-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    log = work / "queue_log"
    began = time.perf_counter()
    total = generate(log, args.lines)
    print(f"generated {total:,} lines ({log.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - began:.1f} s")

    quarter = work / "queue_log.quarter"
    with log.open() as source, quarter.open("w") as target:
        for number, line in enumerate(source):
            if number >= total // 4:
                break
            target.write(line)

    parse_seconds = parse_only(log)
    bare_seconds = bare_insert(log, work / "bare.db")
    small = ingest(quarter, work / "quarter.db")
    full = ingest(log, work / "full.db")

    def rate(seconds: float) -> str:
        return f"{total / seconds:>10,.0f} lines/s"

    print(f"parse only      {rate(parse_seconds)}")
    print(f"bare insert     {rate(bare_seconds)}")
    print(f"ingest          {rate(full['seconds'])}")
    print(f"ingest / bare   {full['seconds'] / bare_seconds:.2f}x slower (target <= 3x)")
    print(
        f"peak RSS        {small['rss_mb']:.0f} MB at {small['lines']:,} lines, {full['rss_mb']:.0f} MB at {full['lines']:,} lines"
    )


if __name__ == "__main__":
    main()
