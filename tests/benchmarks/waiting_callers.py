"""Waiting callers benchmark: what the waiting list and its markers add to the board.

    .venv/bin/python tests/benchmarks/waiting_callers.py [--agents 500] [--waiting 100]
        [--calls 40000] [--complaints 5000] [--reads 200] [--postgres URL]

Builds a temporary SQLite database (or uses an empty PostgreSQL database given by URL) with
--agents agents, a day of --calls calls from a pool of callers (so many call more than once),
--waiting callers waiting now (a third of them repeat callers, some with open complaints,
some flagged), --complaints complaints of which most are open, and caller flags.

Then measures, over --reads rounds, the CPU time (this process, time.process_time) of:
  board read     `read_rows`, the one read the board makes each second (it includes the next)
  waiting read   `read_waiting`: the open calls and all their callers' markers
    kept marks   the same as the board's reader makes it, a second apart: markers kept
                 MARKS_MAX_AGE_SECONDS (wallboard/store/waiting.py), so each read fetches
                 only those that aged (or new callers)
  judging        `waiting_callers`: the list judged at a moment (each TUI, each second)
  drawing text   `waiting_content`: the list's lines as drawn
The board reads once a second (shared by every SSH session), so the extra cost is the
waiting read with kept marks plus one judging and one drawing, per second: printed as % of
one core.
Target (issue 13): <= 1 % of a core extra at 500 agents and 100 callers waiting.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert

from db import open_database
from db.callers import CallerFlag
from db.complaints import Complaint, User
from db.engine import write_transaction
from db.models import Agent, AgentQueue, Call, table_of
from wallboard.calls.waiting import waiting_callers
from wallboard.config import Settings
from wallboard.store.board_reader import read_rows
from wallboard.store.metrics import refresh_snapshots
from wallboard.store.waiting import MarksCache, read_waiting
from wallboard.ui.waiting import waiting_content


def number(i: int) -> str:
    return f"138{i:08d}"


def build(engine, settings: Settings, args: argparse.Namespace, now: float) -> None:
    rng = random.Random(13)
    queues = [f"queue-{q:02d}" for q in range(30)]
    pool = args.calls // 3  # callers: most call once, many twice or more
    calls, agents, members = [], [], []
    for a in range(args.agents):
        name = f"Agent {a:04d}"
        agents.append({"name": name, "state": "available", "state_since": now - 600, "calls_today": 20})
        members += [{"agent": name, "queue": q} for q in rng.sample(queues, 3)]
    for i in range(args.calls):
        enter = now - rng.uniform(120, 24 * 3600)
        wait = rng.uniform(2, 90)
        calls.append(
            {
                "callid": f"h{i}",
                "queue": rng.choice(queues),
                "caller": number(rng.randrange(pool)),
                "agent": f"Agent {rng.randrange(args.agents):04d}",
                "enter_at": enter,
                "answer_at": enter + wait,
                "end_at": enter + wait + 200,
                "wait_seconds": wait,
                "talk_seconds": 200.0,
                "outcome": "completed",
            }
        )
    waiting_numbers = []
    for w in range(args.waiting):
        # A third call again (their number is in the pool); the rest are new to the day.
        caller = number(rng.randrange(pool)) if w % 3 == 0 else number(pool + w)
        waiting_numbers.append(caller)
        calls.append(
            {
                "callid": f"w{w}",
                "queue": rng.choice(queues),
                "caller": caller,
                "enter_at": now - rng.uniform(1, 300),
                "outcome": "waiting",
            }
        )
    with write_transaction(engine) as connection:
        connection.execute(insert(table_of(Agent)), agents)
        connection.execute(insert(table_of(AgentQueue)), members)
        for start in range(0, len(calls), 5000):
            connection.execute(insert(table_of(Call)), calls[start : start + 5000])
        connection.execute(insert(table_of(User)), [{"name": "ann", "role": "agent", "created_at": now}])
        complaints = []
        for c in range(args.complaints):
            # Some from callers waiting now; most from other callers of the pool.
            caller = waiting_numbers[c % len(waiting_numbers)] if c % 10 == 0 else number(rng.randrange(pool * 2))
            due = now + rng.uniform(-86400, 5 * 86400)
            complaints.append(
                {
                    "customer_name": "c",
                    "customer_contact": caller,
                    "channel": "phone",
                    "caller_number": caller,
                    "severity": rng.choice(["low", "normal", "high", "critical"]),
                    "subject": "s",
                    "description": "d",
                    "status": "resolved" if c % 4 == 0 else "in_progress",
                    "created_by_id": 1,
                    "created_at": now - 86400,
                    "updated_at": now - 86400,
                    "status_changed_at": now - 86400,
                    "ack_due_at": due,
                    "resolve_due_at": due,
                    "sla_due_at": due,
                    "due_at": due,
                    "malicious": c % 97 == 0,
                    "version": 1,
                }
            )
        connection.execute(insert(table_of(Complaint)), complaints)
        flags = [
            {
                "caller_number": caller,
                "status": "flagged" if i % 2 else "confirmed",
                "reason": "abusive",
                "flagged_by_id": 1,
                "flagged_at": now - 3600,
                "updated_at": now - 3600,
            }
            for i, caller in enumerate(sorted(set(waiting_numbers))[::10])
        ] + [
            {
                "caller_number": number(pool * 3 + i),
                "status": "confirmed",
                "reason": "old",
                "flagged_by_id": 1,
                "flagged_at": now - 86400,
                "updated_at": now - 86400,
            }
            for i in range(500)
        ]
        connection.execute(insert(table_of(CallerFlag)), flags)
        refresh_snapshots(connection, settings, now)


def measure(label: str, rounds: int, work) -> float:
    work()  # warm: statements compiled, pages cached
    start = time.process_time()
    for _ in range(rounds):
        work()
    per = (time.process_time() - start) / rounds
    print(f"{label:<14} {per * 1000:7.2f} ms CPU per round")
    return per


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--waiting", type=int, default=100)
    parser.add_argument("--calls", type=int, default=40000)
    parser.add_argument("--complaints", type=int, default=5000)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database to use instead of SQLite")
    args = parser.parse_args()

    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        settings.database.url = args.postgres or f"sqlite:///{Path(tmp) / 'waiting.db'}"
        engine = open_database(settings.database_url(), migrate=True)
        now = time.time()
        started = time.monotonic()
        build(engine, settings, args, now)
        print(
            f"floor: {args.agents} agents, {args.calls} calls today, {args.waiting} waiting, "
            f"{args.complaints} complaints ({engine.dialect.name}; built in {time.monotonic() - started:.1f} s)"
        )
        with engine.connect() as connection:
            rows = read_waiting(connection, settings, now)
            callers = waiting_callers(rows, settings, now)
            marked = sum(1 for c in callers if c.markers())
            print(f"waiting: {len(callers)} callers, {marked} with markers")

            def board_read() -> None:
                read_rows(connection, settings, now)
                connection.rollback()  # one read transaction each, as the board's

            def waiting_read() -> None:
                read_waiting(connection, settings, now)
                connection.rollback()

            cache = MarksCache()
            clock = [now]

            def cached_read() -> None:
                # A second later each time: markers age out of the cache as on the board.
                clock[0] += 1.0
                read_waiting(connection, settings, clock[0], cache)
                connection.rollback()

            board = measure("board read", args.reads, board_read)
            measure("waiting read", args.reads, waiting_read)
            waiting = measure("  kept marks", args.reads, cached_read)
            judging = measure("judging", args.reads, lambda: waiting_callers(rows, settings, now))
            drawing = measure("drawing text", args.reads, lambda: waiting_content(callers))
        engine.dispose()
    extra = (waiting + judging + drawing) * 1.0 * 100  # once a second, % of one core
    print(f"board read with the waiting list: {board * 100:.2f} % of a core at one read a second")
    print(f"extra for the waiting list and markers: {extra:.2f} % of one core (target <= 1 %)")
    return 0 if extra <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
