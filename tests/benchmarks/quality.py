"""Quality benchmark: the daily draw and the monthly report (issue 15's speed targets).

    .venv/bin/python tests/benchmarks/quality.py [--calls 50000] [--agents 200]
        [--evaluations 1000000] [--postgres URL]

Builds a temporary SQLite database (or uses an empty PostgreSQL database given by URL) with:
- one day of --calls answered calls over --agents agents and 10 queues (repeat callers,
  transfers, handle times spread wide), complaints from 1 % of them, 20 supervisors;
- a month of --evaluations submitted evaluations (each with its 8 scores) over 30 days, of
  random agents and queues, each agent evaluated by their team lead (one of the 20).

Then times, in CPU seconds of this process (time.process_time: SQLite runs in it; on a
machine shared with other work the wall clock says more about the neighbours), wall beside:
  draw     `QualityService.draw` of the day: read the calls, flag, draw, assign, write
           (target: under 2 s at 50,000 calls and 200 agents)
  report   `quality_report` for the month, --by agent, queue, week, evaluator and criterion
           (target: under 1 s at 1M evaluations; the evaluations are read from the day
           figures, rebuilt once after the bulk load as each submit keeps them)
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import random
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
from db.engine import read_session, write_transaction
from db.models import Call, table_of
from db.quality import QaCriterion, QaEvaluation, QaScore
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


def build_month(engine, args: argparse.Namespace) -> None:
    rng = random.Random(16)
    with read_session(engine) as session:
        criteria = session.execute(select(QaCriterion.id, QaCriterion.scale)).all()
        card_id = session.scalar(select(QaCriterion.card_id))
    batch = 100_000
    next_id = 1
    while next_id <= args.evaluations:
        evaluations, scores = [], []
        for evaluation_id in range(next_id, min(args.evaluations, next_id + batch - 1) + 1):
            at = MONTH_START + rng.uniform(0, 30 * 86400)
            agent = rng.randrange(args.agents)  # evaluated by their team lead (one of 20)
            critical = rng.random() < 0.05
            score = 0.0 if critical else round(rng.uniform(40, 100), 2)
            evaluations.append(
                {
                    "id": evaluation_id, "call_id": evaluation_id, "callid": f"m{evaluation_id}",
                    "queue": f"queue-{evaluation_id % 10}", "agent": f"Agent {agent:04d}",
                    "call_at": at, "card_id": card_id, "evaluator_id": 1 + agent % 20, "status": "submitted",
                    "raw_score": score, "score": score, "critical_failed": critical, "created_at": at,
                    "updated_at": at, "submitted_at": at, "version": 2,
                    "response": "disputed" if rng.random() < 0.02 else None,
                }
            )  # fmt: skip
            for criterion_id, scale in criteria:
                passed = rng.random() < 0.85
                scores.append(
                    {
                        "evaluation_id": evaluation_id, "criterion_id": criterion_id,
                        "answer": ("yes" if passed else "no") if scale == "yes_no" else ("4" if passed else "2"),
                        "value": 1.0 if passed else 0.0, "passed": passed, "comment": "",
                    }
                )  # fmt: skip
        with write_transaction(engine) as connection:
            connection.execute(insert(table_of(QaEvaluation)), evaluations)
            connection.execute(insert(table_of(QaScore)), scores)
        next_id += batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--evaluations", type=int, default=1_000_000)
    parser.add_argument("--postgres", metavar="URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings()
        settings.database.url = args.postgres or f"sqlite:///{Path(folder) / 'quality.db'}"
        engine = open_database(settings.database.url, migrate=True)
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
        build_month(engine, args)
        from db.engine import write_session
        from tickets.quality import figures

        with write_session(engine) as session:  # what each submit keeps, for the bulk-loaded month
            figures.rebuild(session, settings.site.tz, MONTH_START, MONTH_START + 30 * 86400)
        for by in ("agent", "queue", "week", "evaluator", "criterion"):
            started, wall = time.process_time(), time.perf_counter()
            report = quality_report(engine, settings, MONTH_START, MONTH_START + 30 * 86400, by)
            took = time.process_time() - started
            verdict = f"  target < 1 s: {'ok' if took < 1 else 'MISSED'}"
            print(
                f"report   {took:6.3f} s (wall {time.perf_counter() - wall:.3f})  --by {by}: {len(report.rows)} groups, {args.evaluations} evaluations{verdict}"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
