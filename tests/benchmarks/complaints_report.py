"""`report complaints` (the last 30 days by queue) timed alone on a database already built by
tests/benchmarks/complaints.py (`--keep`), without migrating it or judging its facts again:

    .venv/bin/python tests/benchmarks/complaints_report.py sqlite:////dev/shm/promises-full/complaints.db
    .venv/bin/python tests/benchmarks/complaints_report.py --postgres /var/tmp/promises-pg [--runs 7] [--by queue]

Prints each run's wall time and CPU time (this process's, plus the PostgreSQL server's
processes' on PostgreSQL), then p50/p95 of both, with the load. One warm-up run first. The
same file runs unchanged in a checkout of an older commit (copy it there) for a "before".
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from db.engine import make_engine
from tests.benchmarks.complaints import postgres_cpu
from tests.benchmarks.complaints_data import NOW
from tickets.outcomes import outcome_report, period_window
from tickets.sla import BusinessCalendar
from wallboard.config import Settings


def nearest_rank(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(len(ordered) * pct / 100) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="SQLAlchemy URL of the database (else --postgres)")
    parser.add_argument("--postgres", type=Path, help="A kept PostgreSQL server's directory (its database)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--by", default="queue")
    args = parser.parse_args()
    server_cpu: Callable[[], float] = lambda: 0.0  # noqa: E731 SQLite works in this process
    url = args.url
    if args.postgres:
        port = int((args.postgres / "port").read_text())
        url = f"postgresql+psycopg://postgres@/wallboard_test?host={args.postgres / 'socket'}&port={port}"
        server_cpu = postgres_cpu(args.postgres / "data")
    engine = make_engine(url)  # as the application makes it (SQLite: one transaction a connection)
    settings = Settings()
    start, end = period_window(BusinessCalendar.from_settings(settings), "30days", NOW)
    outcome_report(engine, settings, start, end, NOW, args.by)  # warm-up
    walls, cpus = [], []
    for run in range(args.runs):
        server_before = server_cpu()
        wall, cpu = time.perf_counter(), time.process_time()
        report = outcome_report(engine, settings, start, end, NOW, args.by)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server = server_cpu() - server_before
        walls.append(wall)
        cpus.append(cpu + server)
        print(
            f"run {run + 1}: wall {wall * 1000:6.0f} ms, CPU {(cpu + server) * 1000:6.0f} ms "
            f"(this process {cpu * 1000:.0f}, server {server * 1000:.0f}); load {os.getloadavg()[0]:.2f}"
        )
    print(
        f"{engine.dialect.name} report complaints 30 days by {args.by} ({report.total.received:,} received), "
        f"{args.runs} runs: wall p50 {statistics.median(walls) * 1000:.0f} ms, p95 {nearest_rank(walls, 95) * 1000:.0f} ms; "
        f"CPU p50 {statistics.median(cpus) * 1000:.0f} ms, p95 {nearest_rank(cpus, 95) * 1000:.0f} ms; "
        f"load {os.getloadavg()[0]:.2f} (uptime: {' '.join(f'{x:.2f}' for x in os.getloadavg())})"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
