"""Export benchmark: `wallboard ticket list --all --format csv|json` of every complaint.

    .venv/bin/python tests/benchmarks/complaints_export.py [--sizes 100000,1000000]
                                                           [--backend sqlite|postgresql] [--keep DIR]
    .venv/bin/python tests/benchmarks/complaints_export.py --database URL   # a kept full set

For each size, bulk-loads that many complaints with complaints_data.py (the complaints, their
users and audit trail; no follow-ups or calls: the export reads none), then runs the real command in a new process with its
output written to a scratch file, and prints the time, the rows written and the process's
peak RSS. Memory must stay
flat from 100k to 1M rows (the rows stream); target: 1M rows in under 60 s.
`--backend postgresql` starts a throwaway server (tests/support/postgres.py).
Not collected by pytest (tests/benchmarks is outside the test run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from db import open_database
from tests.benchmarks import complaints_data


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
        # The export reads the complaints (and their owners) only: no follow-ups, no calls.
        loaded = complaints_data.load(engine, complaints=n, follow_ups_per=0, calls=0)
        print(f"loaded {n:,} in {loaded.seconds:.0f} s", file=sys.stderr)
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
    parser.add_argument(
        "--database", help="Export from this database as it is (a full set kept by complaints.py --keep): no loading."
    )
    args = parser.parse_args()
    if args.database:
        with tempfile.TemporaryDirectory(dir="/var/tmp") as scratch:
            run(args.database, 0, Path(scratch))
        return
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
