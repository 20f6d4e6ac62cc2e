"""Reminder benchmark: 10,000 reminders due within one minute, fired by the real scheduler.

    .venv/bin/python tests/benchmarks/reminders.py [--reminders 10000] [--window 60] [--schedulers 2]

Bulk-loads complaints with one follow-up each (their reminders armed as the service arms
them), starts `--schedulers` ReminderSchedulers at once on the same database (as if two
servers raced; normally the lease allows one), waits until every reminder has fired, then
prints the p50/p99/max lateness (fired_at - fire_at) and how many fired twice (target: p99
<= 2 s, 0 twice). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select

from db import open_database
from db.complaints import Complaint, FollowUp, User
from db.engine import write_transaction
from db.reminders import Notification, Reminder
from tickets import users
from wallboard.config import Settings
from wallboard.server.scheduler import ReminderScheduler


def load(engine, count: int, start: float, window: float) -> None:
    users.add_user(engine, "ann", "agent")
    with engine.connect() as connection:
        ann = connection.execute(select(User.id).where(User.name == "ann")).scalar()
    complaints, follow_ups, reminders = [], [], []
    for n in range(1, count + 1):
        due = start + window * n / count
        complaints.append(
            dict(
                id=n,
                customer_name=f"Customer {n}",
                customer_contact="555",
                channel="phone",
                severity="low",
                subject="Refund",
                description="late",
                status="in_progress",
                owner_id=ann,
                created_by_id=ann,
                created_at=start,
                updated_at=start,
                status_changed_at=start,
                ack_due_at=start + 86400 * 30,
                resolve_due_at=start + 86400 * 30,
                sla_paused_seconds=0.0,
                escalation_level=0,
                malicious=False,
                version=1,
                next_follow_up_at=due,
                due_at=due,
            )
        )
        follow_ups.append(
            dict(
                id=n,
                complaint_id=n,
                kind="callback",
                owner_id=ann,
                due_at=due,
                note="call",
                created_by_id=ann,
                created_at=start,
            )
        )
        reminders.append(
            dict(
                key=f"follow_up:{n}:due:{due:.0f}",
                kind="follow_up_due",
                complaint_id=n,
                follow_up_id=n,
                basis_at=due,
                fire_at=due,
                armed_at=start,
            )
        )
    with write_transaction(engine) as connection:
        connection.execute(Complaint.__table__.insert(), complaints)
        connection.execute(FollowUp.__table__.insert(), follow_ups)
        connection.execute(Reminder.__table__.insert(), reminders)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--reminders", type=int, default=10_000)
    options.add_argument("--window", type=float, default=60.0, help="seconds over which they fall due")
    options.add_argument("--schedulers", type=int, default=2)
    options.add_argument("--url", help="database URL (default: a new SQLite file)")
    args = options.parse_args()

    settings = Settings()
    settings.database.url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'reminders.db'}"
    engine = open_database(settings.database_url(), migrate=True)
    start = time.time() + 5
    load(engine, args.reminders, start, args.window)
    print(f"{args.reminders:,} reminders due between +5 s and +{5 + args.window:.0f} s; {args.schedulers} schedulers")

    schedulers = [ReminderScheduler(engine, settings, server=f"bench-{i}") for i in range(args.schedulers)]
    for scheduler in schedulers:
        scheduler.start()
    deadline = start + args.window + 60
    try:
        while time.time() < deadline:
            with engine.connect() as connection:
                left = connection.execute(
                    select(func.count()).select_from(Reminder).where(Reminder.fired_at.is_(None))
                ).scalar()
            if not left:
                break
            time.sleep(0.5)
    finally:
        for scheduler in schedulers:
            scheduler.stop()

    with engine.connect() as connection:
        lateness = [
            fired - due for fired, due in connection.execute(select(Reminder.fired_at, Reminder.fire_at)) if fired
        ]
        per_reminder = connection.execute(
            select(Notification.reminder_id, func.count()).group_by(Notification.reminder_id)
        ).all()
        by_server = connection.execute(select(Reminder.fired_by, func.count()).group_by(Reminder.fired_by)).all()
    twice = sum(1 for _, n in per_reminder if n > 1)
    lateness.sort()
    p = lambda q: lateness[min(len(lateness) - 1, int(q * len(lateness)))]  # noqa: E731
    print(f"fired           {len(lateness):,} of {args.reminders:,}")
    print(
        f"lateness        p50 {p(0.50):.3f} s   p99 {p(0.99):.3f} s   max {lateness[-1]:.3f} s   mean {statistics.mean(lateness):.3f} s (target p99 <= 2 s)"
    )
    print(f"fired twice     {twice} (target 0)")
    print("claimed by      " + ", ".join(f"{server}: {n:,}" for server, n in sorted(by_server)))


if __name__ == "__main__":
    main()
