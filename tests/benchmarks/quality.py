"""Quality benchmark: the daily draw and the monthly report (issue 15's speed targets).

    .venv/bin/python tests/benchmarks/quality.py [--calls 50000] [--agents 200]
        [--evaluations 1000000] [--runs 5] [--backend sqlite|postgresql] [--postgres URL]

Builds a temporary SQLite database (in /var/tmp), or on `--backend postgresql` a database on
a throwaway server (tests/support/postgres.py), or uses the empty PostgreSQL database given
by --postgres URL, with:
- one day of --calls answered calls over --agents agents and 10 queues (repeat callers,
  transfers, handle times spread wide), complaints from 1 % of them, 20 supervisors;
- a month of --evaluations submitted evaluations (each with its 8 scores) over 30 days, of
  random agents and queues, each agent evaluated by their team lead (one of the 20). Built in
  batches of 50,000 evaluations (400,000 scores), one transaction each, as tuples through the
  driver's executemany into the service's own tables (PostgreSQL: 1,000 rows a statement).

Then times, in CPU seconds of this process (time.process_time: SQLite runs in it; on a
machine shared with other work the wall clock says more about the neighbours), wall beside,
with the load average:
  draw     `QualityService.draw` of the day: read the calls, flag, draw, assign, write
           (target: under 2 s at 50,000 calls and 200 agents)
  build    the month's bulk load, and the day figures rebuilt over it once (as each submit
           keeps them)
  report   `quality_report` for the month, --by agent, queue, week, evaluator and criterion,
           median of --runs (target: under 1 s at 1M evaluations: CPU on SQLite, wall on
           PostgreSQL, whose work is in the server's process)
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select

from db import open_database
from db.complaints import Complaint, User
from db.engine import read_session, write_session, write_transaction
from db.models import Call, table_of
from db.quality import QaCriterion, QaEvaluation, QaScore
from tickets.quality import figures
from tickets.quality.report import quality_report
from tickets.quality.service import QualityService
from wallboard.config import Settings

DAY = date(2026, 11, 24)
DAY_START = datetime(2026, 11, 24, tzinfo=UTC).timestamp()
MONTH_START = datetime(2026, 11, 1, tzinfo=UTC).timestamp()


def build_day(engine, args: argparse.Namespace) -> None:
    rng = random.Random(15)
    queues = [f"queue-{q}" for q in range(10)]
    calls, complaints = [], []
    for i in range(args.calls):
        enter = DAY_START + rng.uniform(8 * 3600, 20 * 3600)
        wait = rng.uniform(1, 60)
        talk = rng.lognormvariate(5.2, 0.6)
        calls.append(
            {
                "callid": f"d{i}",
                "queue": rng.choice(queues),
                "caller": f"+44{rng.randrange(args.calls // 2):09d}",
                "agent": f"Agent {rng.randrange(args.agents):04d}",
                "enter_at": enter,
                "answer_at": enter + wait,
                "end_at": enter + wait + talk,
                "wait_seconds": wait,
                "talk_seconds": talk,
                "wrap_seconds": rng.uniform(0, 60),
                "outcome": "transferred" if rng.random() < 0.03 else "completed",
            }
        )
        if rng.random() < 0.01:
            complaints.append(i)
    with write_transaction(engine) as connection:
        connection.execute(insert(table_of(Call)), calls)
        connection.execute(
            insert(table_of(User)),
            [{"name": f"lead{n:02d}", "role": "supervisor", "active": True, "created_at": 0.0} for n in range(20)],
        )
        connection.execute(
            insert(table_of(Complaint)),
            [
                {
                    "customer_name": "c", "customer_contact": "c", "channel": "phone", "callid": f"d{i}",
                    "severity": "normal", "subject": "s", "description": "d", "status": "new", "created_by_id": 1,
                    "created_at": DAY_START + 86000, "updated_at": DAY_START + 86000,
                    "status_changed_at": DAY_START + 86000, "ack_due_at": 0.0, "resolve_due_at": 0.0, "version": 1,
                }
                for i in complaints
            ],
        )  # fmt: skip


ROWS_A_STATEMENT = 1000  # PostgreSQL: rows a multi-row INSERT (parameters well under its 65,535)


def insert_sql(engine, table, columns: list[str], rows: int = 1) -> str:
    """A plain INSERT of `rows` rows of `columns` into `table` in the driver's own placeholders
    (sqlite3: ?, psycopg: %s), for `exec_driver_sql` with a batch of tuples: the driver's
    executemany, without SQLAlchemy's per-row parameter handling."""
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    row = f"({', '.join([mark] * len(columns))})"
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {', '.join([row] * rows)}"


def insert_rows(engine, connection, table, columns: list[str], rows: list[tuple]) -> None:
    """`rows` into `table`. SQLite: one executemany of one-row statements (it runs in this
    process: no round trips). PostgreSQL: statements of ROWS_A_STATEMENT rows each, as each
    statement is a round trip to the server and its own parse and plan."""
    if engine.dialect.name == "sqlite":
        connection.exec_driver_sql(insert_sql(engine, table, columns), rows)
        return
    whole = len(rows) - len(rows) % ROWS_A_STATEMENT
    if whole:
        connection.exec_driver_sql(
            insert_sql(engine, table, columns, ROWS_A_STATEMENT),
            [
                tuple(value for row in rows[at : at + ROWS_A_STATEMENT] for value in row)
                for at in range(0, whole, ROWS_A_STATEMENT)
            ],
        )
    if rest := rows[whole:]:
        connection.exec_driver_sql(
            insert_sql(engine, table, columns, len(rest)), tuple(value for row in rest for value in row)
        )


EVALUATION_COLUMNS = [
    "id", "call_id", "callid", "queue", "agent", "call_at", "card_id", "evaluator_id", "status", "raw_score",
    "score", "critical_failed", "created_at", "updated_at", "submitted_at", "version", "response",
]  # fmt: skip
SCORE_COLUMNS = ["evaluation_id", "criterion_id", "answer", "value", "passed", "comment"]
BATCH = 50_000  # evaluations a transaction (and their 8 scores each)


def build_month(engine, args: argparse.Namespace) -> None:
    """The month's evaluations and scores, batch by batch in one transaction each, through
    the same tables as the service (db.quality), with the drivers' executemany of tuples."""
    rng = random.Random(16)
    with read_session(engine) as session:
        criteria = session.execute(select(QaCriterion.id, QaCriterion.scale)).all()
        card_id = session.scalar(select(QaCriterion.card_id))
    # The two answers of each criterion, passed and not (a 1-5 criterion: 4 or 2).
    answers = [(criterion_id, ("yes", "no") if scale == "yes_no" else ("4", "2")) for criterion_id, scale in criteria]
    random_, uniform, randrange = rng.random, rng.uniform, rng.randrange
    next_id = 1
    while next_id <= args.evaluations:
        last = min(args.evaluations, next_id + BATCH - 1)
        evaluations, scores = [], []
        for evaluation_id in range(next_id, last + 1):
            at = MONTH_START + uniform(0, 30 * 86400)
            agent = randrange(args.agents)  # evaluated by their team lead (one of 20)
            critical = random_() < 0.05
            score = 0.0 if critical else round(uniform(40, 100), 2)
            evaluations.append(
                (
                    evaluation_id, evaluation_id, f"m{evaluation_id}", f"queue-{evaluation_id % 10}",
                    f"Agent {agent:04d}", at, card_id, 1 + agent % 20, "submitted", score, score, critical, at, at,
                    at, 2, "disputed" if random_() < 0.02 else None,
                )
            )  # fmt: skip
            for criterion_id, (good, bad) in answers:
                if random_() < 0.85:
                    scores.append((evaluation_id, criterion_id, good, 1.0, True, ""))
                else:
                    scores.append((evaluation_id, criterion_id, bad, 0.0, False, ""))
        with engine.begin() as connection:
            insert_rows(engine, connection, table_of(QaEvaluation), EVALUATION_COLUMNS, evaluations)
            insert_rows(engine, connection, table_of(QaScore), SCORE_COLUMNS, scores)
        next_id = last + 1


def timed(label: str, work) -> object:
    """`work()`, its CPU time (this process) and wall time printed."""
    started, wall = time.process_time(), time.perf_counter()
    result = work()
    print(f"{label:8} {time.process_time() - started:7.2f} s cpu, {time.perf_counter() - wall:7.2f} s wall", flush=True)
    return result


def run(url: str, args: argparse.Namespace) -> None:
    settings = Settings()
    settings.database.url = url
    engine = open_database(url, migrate=True)
    print(f"{engine.dialect.name}: load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    service = QualityService(engine, settings)
    service.ensure_default_card()
    build_day(engine, args)
    started, wall = time.process_time(), time.perf_counter()
    summary = service.draw(DAY)
    took = time.process_time() - started
    print(
        f"draw     {took:6.3f} s (wall {time.perf_counter() - wall:.3f})  {summary.drawn} of {summary.answered} calls, {args.agents} agents "
        f"({', '.join(f'{k} {v}' for k, v in sorted(summary.by_reason.items()))})  target < 2 s: "
        f"{'ok' if took < 2 else 'MISSED'}"
    )
    timed(
        f"build    {args.evaluations} evaluations, {args.evaluations * 8} scores:\n", lambda: build_month(engine, args)
    )

    def rebuild() -> None:
        with write_session(engine) as session:  # what each submit keeps, for the bulk-loaded month
            figures.rebuild(session, settings.site.tz, MONTH_START, MONTH_START + 30 * 86400)

    timed("figures  rebuilt for the month:\n", rebuild)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")  # the planner's statistics, as autovacuum would
    print(f"load average {os.getloadavg()[0]:.2f}")
    for by in ("agent", "queue", "week", "evaluator", "criterion"):
        cpus, walls = [], []
        for _ in range(args.runs):
            started, wall = time.process_time(), time.perf_counter()
            report = quality_report(engine, settings, MONTH_START, MONTH_START + 30 * 86400, by)
            cpus.append(time.process_time() - started)
            walls.append(time.perf_counter() - wall)
        # SQLite runs in this process (its CPU time is the query's); PostgreSQL's server does not.
        took = statistics.median(cpus if engine.dialect.name == "sqlite" else walls)
        verdict = f"  target < 1 s: {'ok' if took < 1 else 'MISSED'}"
        print(
            f"report   median {statistics.median(cpus):6.3f} s cpu, {statistics.median(walls):6.3f} s wall "
            f"(worst {max(walls):.3f}) over {args.runs}  --by {by}: {len(report.rows)} groups, "
            f"{report.total['evaluations']} evaluations{verdict}"
        )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--evaluations", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="report runs of each --by (median printed)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database instead of a throwaway server")
    args = parser.parse_args()
    if args.postgres:
        run(args.postgres, args)
    elif args.backend == "postgresql":
        from tests.support import postgres

        with postgres.throwaway_server() as server:
            run(server.url, args)
    else:
        with tempfile.TemporaryDirectory(dir="/var/tmp") as folder:
            run(f"sqlite:///{Path(folder) / 'quality.db'}", args)


if __name__ == "__main__":
    main()
