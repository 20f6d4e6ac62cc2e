"""The complaint desk over SSH: the server's CPU for N signed-in sessions, polled vs pushed.

    .venv/bin/python tests/benchmarks/desk_push.py [--sessions 50] [--notifications 40] [--rounds 5]

Builds a SQLite database with N agent users (each an agent in the call data, half of them on
a call) and --notifications notifications each, then measures in this process, as CPU time
(load-independent; wall time printed too), what the server spends per second on the desks:
  polled   each session asked every 2 s: `inbox` and `caller_on_call` of its user
           (tickets/user_desk.py), N/2 of each per second (the link's own cost left out);
  pushed   one look for all N users a second (wallboard/ssh/desk_push.py `DeskWatch.look` and
           `nudge_changed`), nothing new: what the server now spends whatever N is.
Rounds alternate polled, pushed, polled, pushed... on the same database; medians printed.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select
from sqlmodel import col

from db import open_database
from db.complaints import User
from db.engine import write_session, write_transaction
from tickets import reminders
from tickets.user_desk import UserDesk
from tickets.users import add_user
from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K
from wallboard.config import Settings
from wallboard.ssh.desk_push import DeskWatch
from wallboard.store.applier import EventApplier

POLL_SECONDS = 2.0


def build(path: Path, sessions: int, notifications: int) -> tuple[Settings, object, list[str]]:
    settings = Settings()
    settings.database.url = f"sqlite:///{path}"
    engine = open_database(settings.database.url, migrate=True)
    names = [f"agent{i:03d}" for i in range(sessions)]
    for name in names:
        add_user(engine, name, "agent")
    now = time.time()
    events = [Event(now, K.AGENT_JOINED_QUEUE, queue="support", agent=name) for name in names]
    for i, name in enumerate(names[::2]):
        callid = f"c{i}"
        events += [
            Event(now, K.CALL_ENTERED, queue="support", callid=callid, caller=f"+1555000{i:04d}"),
            Event(now + 1, K.CALL_ANSWERED, queue="support", callid=callid, agent=name),
        ]
    with write_transaction(engine) as connection:
        EventApplier().apply(connection, events)
    with write_session(engine) as session:
        ids = list(session.scalars(select(col(User.id))))
        for k in range(notifications):
            reminders.notify(session, settings, ids, "assigned_to_you", None, f"note {k}", now)
    return settings, engine, names


def measure(job, seconds_of_work: float) -> tuple[float, float]:
    """CPU and wall ms that `job` (one second's work) takes."""
    wall, cpu = time.perf_counter(), time.process_time()
    job()
    return 1000 * (time.process_time() - cpu) / seconds_of_work, 1000 * (time.perf_counter() - wall) / seconds_of_work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--notifications", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wallboard-desk-push-") as root:
        settings, engine, names = build(Path(root) / "wallboard.db", options.sessions, options.notifications)
        desks = [UserDesk(engine, settings, name) for name in names]
        watch = DeskWatch(engine, settings)
        for name in names:
            watch.watch(name, lambda what: None)
        watch.nudge_changed(watch.look(names))  # the first look: every session told once
        for desk in desks:
            desk.inbox(None)

        def polled_second() -> None:
            # N sessions polling every 2 s: N/2 polls a second; measured over 2 s of them.
            for desk in desks:
                desk.inbox(10**9)
                desk.caller_on_call()

        def pushed_second() -> None:
            for _ in range(int(POLL_SECONDS)):
                watch.nudge_changed(watch.look(watch.users()))

        polled, pushed = [], []
        for _ in range(options.rounds):
            polled.append(measure(polled_second, POLL_SECONDS))
            pushed.append(measure(pushed_second, POLL_SECONDS))
        load = os.getloadavg()[0]
        print(f"{options.sessions} sessions, {options.notifications} notifications each; load {load:.1f}")
        print("server ms per second | CPU (median) | wall (median)")
        for label, runs in (("polled every 2 s", polled), ("pushed (one look a second)", pushed)):
            cpu = statistics.median(r[0] for r in runs)
            wall = statistics.median(r[1] for r in runs)
            print(f"{label} | {cpu:.1f} ({100 * cpu / 1000:.1f} % of a core) | {wall:.1f}")
        engine.dispose()


if __name__ == "__main__":
    main()
