"""Export benchmark: `wallboard ticket list --all --format csv|json` of every complaint.

    .venv/bin/python tests/benchmarks/complaints_export.py [--sizes 100000,1000000]
                                                           [--backend sqlite|postgresql] [--keep DIR]

For each size, bulk-loads that many complaints (the complaints table and its users only: all
the export reads; two years, ~5 % open, every status, a third with a call, reopened and
waiting ones with paused SLA time), then runs the real command in a new process with its
output written to a scratch file, and prints the time, the rows written and the process's
peak RSS. Memory must stay
flat from 100k to 1M rows (the rows stream); target: 1M rows in under 60 s.
`--backend postgresql` starts a throwaway server (tests/support/postgres.py).
Not collected by pytest (tests/benchmarks is outside the test run).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from db import open_database
from db.complaints import Complaint, User
from db.engine import insert_many, write_transaction

NOW = 1_795_420_800.0  # 2026-11-23 08:00 UTC, a Monday
DAY = 86400.0
AGENTS = 300
BATCH = 20_000
COLUMNS = (
    "id",
    "customer_name",
    "customer_contact",
    "channel",
    "callid",
    "call_queue",
    "call_agent",
    "category",
    "severity",
    "subject",
    "description",
    "status",
    "owner_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "status_changed_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "ack_due_at",
    "resolve_due_at",
    "sla_paused_seconds",
    "sla_paused_since",
    "sla_due_at",
    "next_follow_up_at",
    "due_at",
    "root_cause",
    "resolution",
    "customer_confirmed",
    "malicious",
    "escalation_level",
    "version",
)
OPEN_STATUSES = ("new", "acknowledged", "in_progress", "waiting", "reopened")


def load(engine, n: int, seed: int) -> float:
    """N complaints straight to the driver (not the service: the export is what is measured)."""
    rng = random.Random(seed)
    began = time.perf_counter()
    with write_transaction(engine) as connection:
        insert_many(
            connection,
            User.__table__,
            ("id", "name", "role", "active", "created_at"),
            [(i, f"agent{i:03d}", "agent", True, NOW - 800 * DAY) for i in range(1, AGENTS + 1)],
        )
    rows = []
    for cid in range(1, n + 1):
        created = NOW - 730 * DAY * (1 - cid / n) - rng.random() * 3600
        old = NOW - created > 30 * DAY
        status = "closed" if old or rng.random() < 0.5 else rng.choice(OPEN_STATUSES)
        finished = status == "closed"
        ack_due, resolve_due = created + 4 * 3600, created + 5 * DAY
        acknowledged = created + rng.uniform(0.1, 6) * 3600 if status != "new" else None
        resolved = created + rng.uniform(0.5, 9) * DAY if finished else None
        paused_since = resolved if finished else (created + 3600 if status == "waiting" else None)
        sla_due = None if paused_since else (ack_due if status == "new" else resolve_due)
        called = rng.random() < 0.35
        owner = rng.randint(1, AGENTS)
        rows.append(
            (
                cid,
                f"Customer {cid}",
                f"+44 7{rng.randint(100000000, 999999999)}",
                "phone" if called else rng.choice(("email", "chat", "letter")),
                f"{created:.0f}.{cid}" if called else None,
                rng.choice(("billing", "sales", "support")) if called else None,
                f"Agent {rng.randint(1, 80)}" if called else None,
                rng.choice(("refund", "billing error", "rude agent", "delivery", None)),
                rng.choice(("low", "normal", "normal", "high", "critical")),
                "Refund not received, promised last week",
                "The customer called twice about the refund.",
                status,
                owner,
                owner,
                created,
                resolved or created,
                resolved or created,
                acknowledged,
                resolved,
                resolved + 2 * DAY if finished and resolved else None,
                ack_due,
                resolve_due,
                rng.choice((0.0, 0.0, 3600.0)),
                paused_since,
                sla_due,
                None,
                None if finished else sla_due,
                rng.choice(("agent", "business", "process", "system")) if finished else None,
                "Refunded" if finished else None,
                (rng.random() < 0.7) if finished else None,
                False,
                0,
                3,
            )
        )
        if len(rows) >= BATCH or cid == n:
            with write_transaction(engine) as connection:
                insert_many(connection, Complaint.__table__, COLUMNS, rows)
            rows.clear()
            print(f"\r  loaded {cid:,} complaints", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - began


def export(url: str, fmt: str, out: Path) -> tuple[float, float, int, float]:
    """(seconds, CPU seconds, rows, peak RSS in MiB) of one export by the real command."""
    env = {**os.environ, "WALLBOARD_DB": url}
    began = time.perf_counter()
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "wallboard", "ticket", "list", "--all", "--format", fmt],
            stdout=sink,
            env=env,
            cwd=out.parent,
        )
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"export failed with status {status}")
    with out.open("rb") as written:
        lines = sum(1 for _ in written)
    rows = lines - 1 if fmt == "csv" else lines - 2  # the header; the JSON document's first and last lines
    return seconds, usage.ru_utime + usage.ru_stime, rows, usage.ru_maxrss / 1024  # ru_maxrss: KiB on Linux


def run(url: str, n: int, directory: Path) -> None:
    engine = open_database(url, migrate=True)
    with engine.connect() as connection:
        existing = connection.exec_driver_sql("SELECT count(*) FROM complaints").scalar()
    if not existing:
        print(f"{engine.dialect.name}: loading {n:,} complaints", file=sys.stderr)
        seconds = load(engine, n, seed=2026)
        print(f"loaded {n:,} in {seconds:.0f} s", file=sys.stderr)
    engine.dispose()
    for fmt in ("csv", "json"):
        seconds, cpu, rows, rss = export(url, fmt, directory / f"export.{fmt}")
        verdict = "ok" if rows < 1_000_000 or seconds < 60 else "OVER"
        # CPU time beside the wall time: on a shared machine the wall time includes waiting for a core.
        print(
            f"{engine.dialect.name:10} {fmt:4} {rows:>10,} rows {seconds:7.1f} s (CPU {cpu:6.1f} s) "
            f"{rows / seconds:>9,.0f} rows/s  peak RSS {rss:6.0f} MiB  load {os.getloadavg()[0]:.1f}  {verdict}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="Complaints per run, comma-separated.")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--keep", type=Path, help="Directory for the SQLite files, kept (and reused when run again).")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(dir="/var/tmp") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            if args.backend == "postgresql":
                from tests.support import postgres

                with postgres.throwaway_server() as server:
                    run(server.url, n, Path(scratch))
            else:
                run(f"sqlite:///{work / f'export-{n}.db'}", n, Path(scratch))


if __name__ == "__main__":
    main()
