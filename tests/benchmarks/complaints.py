"""Complaint benchmark: saved views, search and the outcome figures on a large database.

    .venv/bin/python tests/benchmarks/complaints.py [--complaints 1000000] [--follow-ups-per 5]
        [--calls 10000000] [--backend sqlite|postgresql] [--keep DIR] [--runs 40] [--only outcomes]

Bulk-loads (tests/benchmarks/complaints_data.py) N complaints over two years with ~5
follow-ups each, their audit trail, and the calls they were logged from, then times:
- through `ComplaintService`, the first page (50) of each saved view and a full-text
  search (targets p95 <= 50 ms a view, <= 100 ms a search);
- the outcome figures (issue 14): `report complaints` for the last 30 days by queue
  (target < 1 s), the outcomes screen's first read (today by queue, target < 500 ms for
  the first paint), the wallboard's promises tile read (target p95 < 20 ms).
Prints p50/p95 wall time and the p50 of the thread's CPU time (the machine is shared: the
CPU time is what the code costs, the wall time adds waiting for a core), with the load.
`--backend postgresql` starts a throwaway server (tests/support/postgres.py).
Not collected by pytest (tests/benchmarks is outside the test run).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sized
from pathlib import Path

from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from db import open_database
from tests.benchmarks.complaints_data import AGENTS, NOW, load, timed, words_of
from tickets.outcome_facts import refresh
from tickets.outcomes import PERIODS, outcome_report, period_window
from tickets.saved_views import parse_filter, view_query
from tickets.service import ComplaintService
from tickets.sla import BusinessCalendar
from wallboard.config import Settings
from wallboard.store.board_reader import read_promises


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def no_server_cpu() -> float:
    return 0.0  # SQLite works in the calling thread: its CPU time is in the thread's


def postgres_cpu(data_dir: Path) -> Callable[[], float]:
    """CPU seconds used so far by the PostgreSQL server's processes (its backends do the
    queries' work outside this process)."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            if int(fields[1]) == postmaster:  # ppid
                total += int(fields[11]) + int(fields[12])  # utime, stime
            elif stat.parent.name == str(postmaster):
                # Children that ended (a query's parallel workers) count in the postmaster's
                # cutime and cstime once it has reaped them.
                total += int(fields[13]) + int(fields[14])
        return total / tick

    return used


SERVER_CPU: list[Callable[[], float]] = [no_server_cpu]


def measure(label: str, runs: int, call: Callable[[int], Sized]) -> tuple[str, float, float, float, int]:
    """(label, p50 ms, p95 ms, p50 CPU ms, rows of the last run) of `runs` calls after one
    warm-up; the CPU time is this thread's and the database server's."""
    call(0)  # warm the cache and the statement cache
    samples, cpu, rows = [], [], 0
    server_cpu = SERVER_CPU[0]
    for i in range(runs):
        before = server_cpu()
        wall, spent, result = timed(lambda i=i: call(i))
        rows = len(result)
        samples.append(wall)
        cpu.append(spent + server_cpu() - before)
    p50, p95 = percentiles(samples)
    return label, p50, p95, statistics.median(cpu) * 1000, rows


def run(url: str, n: int, follow_ups_per: int, calls: int, days: float, runs: int, seed: int, only: str | None) -> None:
    engine = open_database(url, migrate=True)
    with engine.connect() as connection:
        existing = connection.exec_driver_sql("SELECT count(*) FROM complaints").scalar()
    if existing:  # a kept database: measure again without loading
        print(f"{engine.dialect.name}: reusing {existing:,} complaints", file=sys.stderr)
    else:
        print(
            f"{engine.dialect.name}: loading {n:,} complaints, ~{follow_ups_per} follow-ups each, {calls:,} calls "
            f"over {days:g} days",
            file=sys.stderr,
        )
        loaded = load(engine, n, follow_ups_per, calls, seed, days)
        phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in loaded.phases.items())
        print(
            f"loaded in {loaded.seconds:.0f} s ({phases}): {n:,} complaints ({loaded.open:,} open), "
            f"{loaded.follow_ups:,} follow-ups, {calls:,} calls; load {os.getloadavg()[0]:.1f}"
        )
    # The outcome report's kept facts (migration 0022): judged in bulk as `wallboard db upgrade`
    # does after migrating, through the service's own judging (none left on a kept database).
    settings = Settings()
    began, cpu = time.perf_counter(), time.process_time()
    judged = refresh(engine, BusinessCalendar.from_settings(settings))
    print(
        f"outcome facts judged for {judged:,} complaints in {time.perf_counter() - began:.1f} s "
        f"(CPU {time.process_time() - cpu:.1f} s); load {os.getloadavg()[0]:.1f}"
    )
    with engine.connect() as connection:
        counts = {
            table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
            for table in ("complaints", "follow_ups", "calls", "audit_events")
        }
    print(", ".join(f"{table} {count:,}" for table, count in counts.items()))
    service = ComplaintService(engine, settings, clock=lambda: NOW)
    if only != "outcomes":
        views(service, runs, seed)
    outcomes(engine, settings, service, runs)
    engine.dispose()


def views(service: ComplaintService, runs: int, seed: int) -> None:
    rng = random.Random(seed + 2)
    words, surnames = words_of(seed)
    # Search terms of every frequency: the customers' surnames, and words drawn as they occur.
    rare_terms = [rng.choice(surnames) for _ in range(runs)]
    drawn_terms = words.pick(runs)
    pair_terms = [" ".join(words.pick(2)) for _ in range(runs)]
    high = parse_filter({"severities": ["high"], "sort": "newest"})
    results = [
        measure("view mine open", runs, lambda i: service.view("mine", f"agent{rng.randint(1, AGENTS):03d}", now=NOW)),
        measure("view due today", runs, lambda i: service.view("due_today", now=NOW - i * 3600)),
        measure("view overdue", runs, lambda i: service.view("overdue", now=NOW - i * 600)),
        measure("view unassigned", runs, lambda i: service.view("unassigned", now=NOW)),
        measure("view waiting on customer", runs, lambda i: service.view("waiting", now=NOW)),
        measure("view escalated", runs, lambda i: service.view("escalated", now=NOW)),
        measure("view all open", runs, lambda i: service.view("all_open", now=NOW)),
        measure("search a customer's surname", runs, lambda i: service.search(rare_terms[i])),
        measure("search a word (as drawn)", runs, lambda i: service.search(drawn_terms[i])),
        measure("search two words", runs, lambda i: service.search(pair_terms[i])),
        measure("search the commonest word", max(5, runs // 4), lambda i: service.search(words.words[0])),
        measure(
            "saved view: high, newest", runs, lambda i: service.queries.page(view_query(high, service.queries, NOW))
        ),
    ]
    print(f"\n{'first page (50) of':34} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>8} {'rows':>6}  target p95")
    for label, p50, p95, cpu, rows in results:
        target = 100 if label.startswith("search") else 50
        verdict = "ok" if p95 <= target else "OVER"
        print(f"{label:34} {p50:8.1f} {p95:8.1f} {cpu:8.1f} {rows:6d}  <= {target} ms {verdict}")


def outcomes(engine: Engine, settings: Settings, service: ComplaintService, runs: int) -> None:
    """The figures of issue 14: the report, the outcomes screen's reads, the promises tile."""
    few = max(3, runs // 8)
    results = []
    # `wallboard report complaints` (default window: the last 30 days) by queue.
    month = period_window(service.calendar, "30days", NOW)
    results.append(
        (
            measure(
                "report complaints 30 days, queue", few, lambda i: outcome_report(engine, settings, *month, NOW).groups
            ),
            1000,
        )
    )
    # The outcomes screen (UserDesk.outcomes): its first paint waits for today's; the
    # others are read when their tab is opened.
    for period in PERIODS:
        window = period_window(service.calendar, period, NOW)
        results.append(
            (
                measure(
                    f"outcomes screen {period}, queue",
                    few,
                    lambda i, window=window: outcome_report(engine, settings, *window, NOW, "queue").groups,
                ),
                500 if period == "today" else 1000,
            )
        )
    # The wallboard's promises tile, read with every board refresh (now moves on a minute a run).
    with engine.connect() as connection:
        results.append(
            (
                measure(
                    "promises tile read",
                    runs * 5,
                    lambda i: [read_promises(connection, settings, NOW + 60 * i)],
                ),
                20,
            )
        )
    print(
        f"\n{'outcome figures':34} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>8} {'rows':>6}  target; load {os.getloadavg()[0]:.1f}"
    )
    for (label, p50, p95, cpu, rows), target in results:
        verdict = "ok" if p95 <= target else "OVER"
        print(f"{label:34} {p50:8.1f} {p95:8.1f} {cpu:8.1f} {rows:6d}  < {target} ms {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--keep",
        type=Path,
        help="Directory for the SQLite file, or the PostgreSQL server (left running), kept afterwards "
        "and reused when run again.",
    )
    parser.add_argument("--follow-ups-per", type=int, default=5, help="Follow-ups per complaint, on average.")
    parser.add_argument("--calls", type=int, default=10_000_000)
    parser.add_argument(
        "--days",
        type=float,
        default=730,
        help="Days of history the data spans, up to NOW: fewer at the same density build a 30-day window "
        "as full as the whole history's in a fraction of the time.",
    )
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--only", choices=("outcomes",), help="Time only the outcome figures.")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    options = (args.complaints, args.follow_ups_per, args.calls, args.days, args.runs, args.seed, args.only)
    if args.backend == "postgresql":
        from tests.support import postgres

        if args.keep:  # the server stays up, the database in it, for the next run
            kept = postgres.kept_server(args.keep)
            SERVER_CPU[0] = postgres_cpu(kept.data_dir)
            print(f"PostgreSQL kept in {args.keep}: {kept.url}", file=sys.stderr)
            run(kept.url, *options)
            return
        with postgres.throwaway_server() as server:
            SERVER_CPU[0] = postgres_cpu(server.data_dir)
            run(server.url, *options)
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(f"sqlite:///{args.keep / 'complaints.db'}", *options)
        return
    with tempfile.TemporaryDirectory(dir="/var/tmp") as directory:
        run(f"sqlite:///{Path(directory) / 'complaints.db'}", *options)


if __name__ == "__main__":
    main()
