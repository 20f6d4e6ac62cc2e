"""A small, fixed call-centre floor for the board and wallboard tests.

Everything happens on 2026-11-23 (UTC) and is seen at 14:00:00. The floor is built from
events applied through the real engine, then the real snapshot refresh, so the tests
read what a live feed would have written.

At 14:00:00:
- sales: 15 offered (1 short abandon), 11 answered within 20 s, 3 abandoned, 1 caller
  waiting since 13:57:30 (2:30, over the 2:00 limit); James is free.
  SL 78.6 % (amber), abandon rate 14.3 % (red).
- support: 7 offered, 5 answered after 45 s each (SL 0 %, ASA 45 s: red), talk 10 min
  (AHT red), 2 callers waiting (longest 1:00: amber) and nobody free.
- billing: all green; "[red]x[/red]" (a name that looks like markup) is on a call.
- Maria Garcia: on one sales call since 13:38 (22 min: a long call).
- Aisha Khan: paused "break" since 13:40 (20 min: a long pause). Liam Murphy: paused
  "lunch" since 13:30 (30 min: within the lunch limit).
- Chen Nguyen: in wrap-up since 13:59. Noah Rossi: logged out at 12:00.

`seed_promises` adds promises to customers for the promises tile (none by default).
"""

from __future__ import annotations

from datetime import UTC, datetime

from db.engine import upsert, write_transaction
from db.models import Feed
from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K
from wallboard.store.applier import EventApplier
from wallboard.store.metrics import refresh_snapshots

NOW = datetime(2026, 11, 23, 14, 0, 0, tzinfo=UTC).timestamp()
MARKUP_AGENT = "[red]x[/red]"


def at(hh: int, mm: int, ss: float = 0) -> float:
    return datetime(2026, 11, 23, hh, mm, 0, tzinfo=UTC).timestamp() + ss


class _Floor:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.n = 0

    def join(self, ts: float, agent: str, *queues: str) -> None:
        for queue in queues:
            self.events.append(Event(ts, K.AGENT_JOINED_QUEUE, queue=queue, agent=agent))

    def call(
        self,
        ts: float,
        queue: str,
        agent: str | None = None,
        *,
        wait: float,
        talk: float | None = None,
        abandon: bool = False,
        wrap: float | None = 10.0,
    ) -> str:
        """A call entering at `ts`; answered after `wait` (talk None: still talking), or abandoned."""
        self.n += 1
        callid = f"{queue}-{self.n:04d}"
        self.events.append(
            Event(ts, K.CALL_ENTERED, callid=callid, queue=queue, caller=f"555-01{self.n:02d}", position=1)
        )
        if abandon:
            self.events.append(
                Event(ts + wait, K.CALL_ABANDONED, callid=callid, queue=queue, wait_seconds=wait, position=1)
            )
            return callid
        if agent is None:
            return callid  # still waiting
        self.events.append(
            Event(ts + wait, K.CALL_ANSWERED, callid=callid, queue=queue, agent=agent, wait_seconds=wait)
        )
        if talk is not None:
            end = ts + wait + talk
            self.events.append(
                Event(
                    end,
                    K.CALL_ENDED,
                    callid=callid,
                    queue=queue,
                    agent=agent,
                    wait_seconds=wait,
                    talk_seconds=talk,
                    reason="caller",
                )
            )
            if wrap is not None:
                self.events.append(Event(end + wrap, K.AGENT_WRAPUP_ENDED, callid=callid, queue=queue, agent=agent))
        return callid

    def add(self, ts: float, kind: K, agent: str, reason: str | None = None) -> None:
        self.events.append(Event(ts, kind, agent=agent, reason=reason))


def floor_events() -> list[Event]:
    f = _Floor()
    f.join(at(8, 0), "Maria Garcia", "sales", "support")
    f.join(at(8, 0), "James Smith", "sales")
    f.join(at(8, 0), "Noah Rossi", "sales")
    f.join(at(8, 0), "Aisha Khan", "support")
    f.join(at(8, 0), "Liam Murphy", "support")
    f.join(at(8, 0), MARKUP_AGENT, "billing")
    f.join(at(8, 0), "Chen Nguyen", "billing")
    # sales: 9 answered and over, 3 abandoned (one short), Maria's long call, one waiting
    for i, agent in enumerate(["James Smith", "Noah Rossi", "Maria Garcia"] * 3):
        f.call(at(8, 30) + i * 1200, "sales", agent, wait=8, talk=200)
    f.call(at(9, 10), "sales", wait=40, abandon=True)
    f.call(at(10, 10), "sales", wait=40, abandon=True)
    f.call(at(11, 10), "sales", wait=3, abandon=True)
    f.add(at(12, 0), K.AGENT_LOGGED_OUT, "Noah Rossi")
    f.call(at(13, 51, 40), "sales", "James Smith", wait=8, talk=192, wrap=None)  # James free since 13:55
    f.add(at(13, 55), K.AGENT_WRAPUP_ENDED, "James Smith")
    f.call(at(13, 37, 55), "sales", "Maria Garcia", wait=5)  # talking since 13:38:00
    f.call(at(13, 57, 30), "sales", wait=0)  # waiting
    # support: slow answers, long talks, then both agents paused and two callers waiting
    for i, agent in enumerate(["Aisha Khan", "Liam Murphy"] * 2 + ["Aisha Khan"]):
        f.call(at(9, 0) + i * 3600, "support", agent, wait=45, talk=600)
    f.add(at(13, 30), K.AGENT_PAUSED, "Liam Murphy", "lunch")
    f.add(at(13, 40), K.AGENT_PAUSED, "Aisha Khan", "break")
    f.call(at(13, 59, 0), "support", wait=0)
    f.call(at(13, 59, 30), "support", wait=0)
    # billing: quick and tidy
    for i, agent in enumerate([MARKUP_AGENT, "Chen Nguyen"] * 2):
        f.call(at(10, 0) + i * 1800, "billing", agent, wait=5, talk=200)
    f.call(at(13, 54, 50), "billing", "Chen Nguyen", wait=10, talk=250, wrap=None)  # wrap-up since 13:59:00
    f.call(at(13, 57, 55), "billing", MARKUP_AGENT, wait=5)  # talking since 13:58:00
    f.events.sort(key=lambda e: e.ts)
    return f.events


def seed_floor(engine, settings, *, now: float = NOW, heartbeat_age: float | None = 1.0, events=None) -> float:
    """Apply the floor to `engine`'s database and refresh the snapshot as a feed would at `now`.

    heartbeat_age: seconds since the feed last wrote (None: no feed row at all).
    """
    with write_transaction(engine) as connection:
        EventApplier(tracks_wrap_up=True).apply(connection, floor_events() if events is None else events)
        refresh_snapshots(connection, settings, now)
        if heartbeat_age is not None:
            upsert(
                connection,
                Feed.__table__,
                [
                    {
                        "name": "simulator",
                        "kind": "simulator",
                        "heartbeat_at": now - heartbeat_age,
                        "last_event_at": now - heartbeat_age,
                    }
                ],
                key=("name",),
            )
    return now


def set_heartbeat(engine, ts: float) -> None:
    with write_transaction(engine) as connection:
        connection.execute(Feed.__table__.update().values(heartbeat_at=ts))


PROMISES_TONIGHT = datetime(2026, 11, 24, tzinfo=UTC).timestamp()  # the end of the floor's day


def seed_promises(engine, settings, *, now: float = NOW) -> None:
    """At 14:00: three promises overdue (the oldest by 2 h: 12:00; 13:30; 13:50), one due at
    16:00, one tomorrow; a kept one and an overdue corrective action, which do not count.
    The middle one is on a complaint since resolved: still owed to the customer."""
    from tickets import users
    from tickets.service import ComplaintService

    hour = 3600.0
    clock_now = [now - 5 * hour]
    users.add_user(engine, "ann", "agent")
    svc = ComplaintService(engine, settings, lambda: clock_now[0])
    ref = svc.create("ann", customer="Mrs Jones", contact="0207", subject="Refund", description="Late.").ref
    for due in (now - 2 * hour, now - 600, now + 2 * hour, PROMISES_TONIGHT + hour):
        svc.add_follow_up(ref, "ann", due_at=due, note="Call back")
    svc.add_follow_up(ref, "ann", due_at=now - hour, note="Coach", kind="coaching")
    kept = svc.add_follow_up(ref, "ann", due_at=now - 3 * hour, note="Call back", kind="action").follow_ups[-1]
    svc.record_outcome(ref, kept.id, "ann", outcome="done", note="Called")
    other = svc.create("ann", customer="Mr Li", contact="0208", subject="Fee", description="Wrong.").ref
    svc.add_follow_up(other, "ann", due_at=now - 30 * 60, note="Send the refund", kind="action")
    svc.acknowledge(other, "ann")
    svc.start(other, "ann")
    svc.resolve(other, "ann", resolution="Refunded", root_cause="process")
