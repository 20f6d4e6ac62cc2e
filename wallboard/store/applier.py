"""The event applier: applies normalized events to the call and agent tables, idempotently.

A batch of events is applied in memory to the rows it touches (loaded once per batch) and
written back with a few executemany statements, inside the caller's transaction, so a
feed can store its checkpoint in the same transaction.

Idempotent by construction: a call's outcome moves forward only (waiting -> answered ->
ended), so a repeated or late line (real queue_log files have both) changes nothing.
Calls whose first lines are missing are rebuilt from the durations the later lines carry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter

from sqlalchemy import Connection, bindparam, select, update

from db.engine import insert_many, update_many
from db.models import Agent, AgentQueue, AgentStateChange, Call
from wallboard.calls.events import Event, EventKind

CALLS = Call.__table__
AGENTS = Agent.__table__
AGENT_QUEUES = AgentQueue.__table__
STATE_CHANGES = AgentStateChange.__table__

WAITING, ANSWERED = "waiting", "answered"
OPEN_OUTCOMES = frozenset({WAITING, ANSWERED})
_CALL_COLUMNS = tuple(column.name for column in CALLS.columns)
_AGENT_COLUMNS = tuple(column.name for column in AGENTS.columns)
_IN_CHUNK = 2000  # well under SQLite's 32,766 bound parameters

K = EventKind
_MEMBERSHIP_EVENTS = frozenset({K.AGENT_JOINED_QUEUE, K.AGENT_LEFT_QUEUE})


@dataclass(slots=True)
class _Row:
    """A row being edited in memory; `new` rows are inserted, `dirty` ones updated."""

    values: dict
    new: bool = False
    dirty: bool = False


class EventApplier:
    """Applies events for one feed.

    `tracks_wrap_up`: the feed reports the end of after-call work (AGENT_WRAPUP_ENDED), so
    an agent whose call ends goes to wrap-up rather than straight back to available.
    """

    def __init__(self, *, tracks_wrap_up: bool = False) -> None:
        self.tracks_wrap_up = tracks_wrap_up

    def apply(self, connection: Connection, events: Iterable[Event]) -> int:
        events = list(events)
        if not events:
            return 0
        batch = _Batch(connection, events, self.tracks_wrap_up)
        handlers = _HANDLERS
        for event in events:
            # A kind the applier does not take yet (CALL_BLOCKED, until it is wired) is passed over.
            handler = handlers.get(event.kind)
            if handler is not None:
                handler(batch, event)
        batch.flush()
        return len(events)


class _Batch:
    def __init__(self, connection: Connection, events: list[Event], tracks_wrap_up: bool):
        self.connection = connection
        self.tracks_wrap_up = tracks_wrap_up
        self.calls = self._load_calls(events)
        self.agents = self._load_agents(events)
        # Queue membership of the agents this batch adds or removes: as loaded, then as changed.
        self.memberships = self._load_memberships(events)
        self.memberships_before = {agent: set(queues) for agent, queues in self.memberships.items()}
        self.state_changes: list[tuple] = []

    # -- loading -----------------------------------------------------------------

    def _load_calls(self, events: list[Event]) -> dict[tuple[str, str], _Row]:
        callids = {e.callid for e in events if e.callid is not None and e.queue is not None}
        rows: dict[tuple[str, str], _Row] = {}
        for record in _select_in(self.connection, CALLS, _CALL_COLUMNS, "callid", callids):
            values = dict(zip(_CALL_COLUMNS, record))
            rows[(values["callid"], values["queue"])] = _Row(values)
        return rows

    def _load_agents(self, events: list[Event]) -> dict[str, _Row]:
        names = {e.agent for e in events if e.agent is not None}
        rows = {}
        for record in _select_in(self.connection, AGENTS, _AGENT_COLUMNS, "name", names):
            rows[record[0]] = _Row(dict(zip(_AGENT_COLUMNS, record)))
        return rows

    def _load_memberships(self, events: list[Event]) -> dict[str, set[str]]:
        names = {e.agent for e in events if e.kind in _MEMBERSHIP_EVENTS}
        memberships: dict[str, set[str]] = {name: set() for name in names}
        for agent, queue in _select_in(self.connection, AGENT_QUEUES, ("agent", "queue"), "agent", names):
            memberships[agent].add(queue)
        return memberships

    # -- applying ----------------------------------------------------------------

    def _call(self, event: Event) -> _Row | None:
        return self.calls.get((event.callid, event.queue))

    def _new_call(self, event: Event, enter_at: float) -> _Row:
        values = dict.fromkeys(_CALL_COLUMNS)
        values.update(callid=event.callid, queue=event.queue, enter_at=enter_at, outcome=WAITING)
        row = _Row(values, new=True)
        self.calls[(event.callid, event.queue)] = row
        return row

    def call_entered(self, e: Event) -> None:
        if self._call(e) is None:
            row = self._new_call(e, e.ts)
            row.values.update(caller=e.caller, position=e.position)

    def call_answered(self, e: Event) -> None:
        row = self._call(e)
        if row is None:
            row = self._new_call(e, e.ts - (e.wait_seconds or 0.0))
        call = row.values
        if call["outcome"] != WAITING:
            return  # a repeated CONNECT, or a call already over: nothing new
        wait = e.wait_seconds if e.wait_seconds is not None else e.ts - call["enter_at"]
        call.update(outcome=ANSWERED, answer_at=e.ts, agent=e.agent, wait_seconds=wait, ring_seconds=e.ring_seconds)
        row.dirty = True
        if e.agent:
            self._agent_takes_call(e)

    def call_ended(self, e: Event) -> None:
        outcome = "completed" if e.kind is K.CALL_ENDED else "transferred"
        row = self._call(e)
        talk = e.talk_seconds
        if row is None:
            wait = e.wait_seconds or 0.0
            answered_at = e.ts - (talk or 0.0)
            row = self._new_call(e, answered_at - wait)
            row.values.update(answer_at=answered_at, wait_seconds=wait, agent=e.agent)
        call = row.values
        if call["outcome"] not in OPEN_OUTCOMES:
            return
        if call["answer_at"] is None:  # the CONNECT line is missing: rebuild it
            wait = e.wait_seconds if e.wait_seconds is not None else 0.0
            answered_at = e.ts - (talk or 0.0)
            call.update(answer_at=answered_at, wait_seconds=wait, agent=call["agent"] or e.agent)
        if talk is None:
            talk = e.ts - call["answer_at"]
        call.update(outcome=outcome, end_at=e.ts, talk_seconds=talk, end_reason=e.reason)
        if call["agent"] is None:
            call["agent"] = e.agent
        row.dirty = True
        if call["agent"]:
            self._agent_call_over(call["agent"], e, wrap_up=self.tracks_wrap_up)

    def call_left_queue(self, e: Event) -> None:
        """Abandoned or exited (timeout, key, empty, withdraw, syscompat)."""
        outcome = "abandoned" if e.kind is K.CALL_ABANDONED else (e.reason or "timeout")
        row = self._call(e)
        if row is None:
            row = self._new_call(e, e.ts - (e.wait_seconds or 0.0))
        call = row.values
        if call["outcome"] != WAITING:
            return
        wait = e.wait_seconds if e.wait_seconds is not None else e.ts - call["enter_at"]
        call.update(outcome=outcome, end_at=e.ts, wait_seconds=wait)
        if e.position is not None and call["position"] is None:
            call["position"] = e.position
        row.dirty = True
        if e.agent and e.kind is K.CALL_ABANDONED:
            # Caller hung up while a member was ringing or hearing the announcement.
            self._agent_ring_over(e)

    def wrap_up_ended(self, e: Event) -> None:
        row = self._call(e)
        if row is not None and row.values["end_at"] is not None and row.values["wrap_seconds"] is None:
            row.values["wrap_seconds"] = max(0.0, e.ts - row.values["end_at"])
            row.dirty = True
        if e.agent is None:
            return
        agent = self._agent(e.agent, e.ts)
        if agent.values["state"] == "wrap_up":
            self._set_state(agent, e.ts, self._idle_state(agent))

    # -- agents ----------------------------------------------------------------

    def _agent(self, name: str, ts: float) -> _Row:
        row = self.agents.get(name)
        if row is None:
            values = dict.fromkeys(_AGENT_COLUMNS)
            values.update(
                name=name, state="logged_out", paused=False, state_since=ts, calls_today=0, talk_seconds_today=0.0
            )
            row = _Row(values, new=True)
            self.agents[name] = row
        return row

    @staticmethod
    def _idle_state(agent: _Row) -> str:
        return "paused" if agent.values["paused"] else "available"

    def _set_state(self, agent: _Row, ts: float, state: str, **changes) -> None:
        values = agent.values
        old_reason = values["pause_reason"]
        values.update(changes)
        if state != values["state"] or (state == "paused" and values["pause_reason"] != old_reason):
            # Lines can come out of order: time in state never runs backwards.
            since = max(ts, values["state_since"])
            values.update(state=state, state_since=since)
            self.state_changes.append((values["name"], since, state, values["pause_reason"]))
        agent.dirty = True

    def _agent_takes_call(self, e: Event) -> None:
        agent = self._agent(e.agent, e.ts)
        self._set_state(agent, e.ts, "on_call", current_callid=e.callid, current_queue=e.queue)

    def _agent_call_over(self, name: str, e: Event, *, wrap_up: bool) -> None:
        agent = self._agent(name, e.ts)
        if agent.values["current_callid"] not in (None, e.callid):
            return  # the agent has moved on to another call already
        state = "wrap_up" if wrap_up else self._idle_state(agent)
        self._set_state(agent, e.ts, state, current_callid=None, current_queue=None)

    def agent_ringing(self, e: Event) -> None:
        agent = self._agent(e.agent, e.ts)
        if agent.values["state"] in ("available", "logged_out"):
            self._set_state(agent, e.ts, "ringing", current_callid=e.callid, current_queue=e.queue)

    def _agent_ring_over(self, e: Event) -> None:
        agent = self._agent(e.agent, e.ts)
        if agent.values["state"] == "ringing":
            self._set_state(agent, e.ts, self._idle_state(agent), current_callid=None, current_queue=None)

    def ring_over(self, e: Event) -> None:
        if e.agent:
            self._agent_ring_over(e)

    def logged_in(self, e: Event) -> None:
        agent = self._agent(e.agent, e.ts)
        if agent.values["state"] == "logged_out":
            self._set_state(agent, e.ts, self._idle_state(agent))

    def logged_out(self, e: Event) -> None:
        agent = self._agent(e.agent, e.ts)
        self._set_state(
            agent, e.ts, "logged_out", paused=False, pause_reason=None, current_callid=None, current_queue=None
        )

    def joined_queue(self, e: Event) -> None:
        agent = self._agent(e.agent, e.ts)
        if e.queue:
            self.memberships[e.agent].add(e.queue)
        if agent.values["state"] == "logged_out":
            if e.reason == "paused":
                self._set_state(agent, e.ts, "paused", paused=True, pause_reason=None)
            else:
                self._set_state(agent, e.ts, "available")

    def left_queue(self, e: Event) -> None:
        queues = self.memberships[e.agent]
        queues.discard(e.queue)
        if not queues:
            self.logged_out(e)

    def paused(self, e: Event) -> None:
        agent = self._agent(e.agent, e.ts)
        reason = e.reason or None
        if agent.values["state"] in ("on_call", "ringing", "wrap_up"):
            # Paused mid-call: the pause shows once the call and its wrap-up are over.
            agent.values.update(paused=True, pause_reason=reason)
            agent.dirty = True
        else:
            self._set_state(agent, e.ts, "paused", paused=True, pause_reason=reason)

    def unpaused(self, e: Event) -> None:
        agent = self._agent(e.agent, e.ts)
        if agent.values["state"] == "paused":
            self._set_state(agent, e.ts, "available", paused=False, pause_reason=None)
        else:
            agent.values.update(paused=False, pause_reason=None)
            agent.dirty = True

    # -- writing -----------------------------------------------------------------

    def flush(self) -> None:
        connection = self.connection
        calls = self.calls.values()
        new_calls = [_INSERTED_CALL_VALUES(row.values) for row in calls if row.new]
        changed_calls = [_UPDATED_CALL_VALUES(row.values) for row in calls if row.dirty and not row.new]
        if new_calls:
            insert_many(connection, CALLS, _INSERTED_CALL, new_calls)
        if changed_calls:
            update_many(connection, CALLS, _UPDATED_CALL[:-1], "id", changed_calls)
        agents = self.agents.values()
        new_agents = [_AGENT_VALUES(row.values) for row in agents if row.new]
        changed_agents = [_UPDATED_AGENT_VALUES(row.values) for row in agents if row.dirty and not row.new]
        if new_agents:
            insert_many(connection, AGENTS, _AGENT_COLUMNS, new_agents)
        if changed_agents:
            update_many(connection, AGENTS, _UPDATED_AGENT[:-1], "name", changed_agents)
        if self.state_changes:
            insert_many(connection, STATE_CHANGES, _STATE_CHANGE_COLUMNS, self.state_changes)
        self._flush_memberships()

    def _flush_memberships(self) -> None:
        removed, added = [], []
        for agent, queues in self.memberships.items():
            before = self.memberships_before[agent]
            removed.extend((agent, queue) for queue in before - queues)
            added.extend((agent, queue) for queue in queues - before)
        if removed:
            self.connection.execute(
                AGENT_QUEUES.delete().where(
                    AGENT_QUEUES.c.agent == bindparam("a"), AGENT_QUEUES.c.queue == bindparam("q")
                ),
                [{"a": agent, "q": queue} for agent, queue in removed],
            )
        if added:
            insert_many(self.connection, AGENT_QUEUES, ("agent", "queue"), added)


def close_floor(connection: Connection, at: float) -> None:
    """End what a stopped feed left open: its calls are interrupted, its agents logged out.

    Run when a feed that owns the whole floor (the simulator) starts again.
    """
    c = CALLS.c
    connection.execute(update(CALLS).where(c.outcome.in_(OPEN_OUTCOMES)).values(outcome="interrupted", end_at=at))
    names = list(connection.execute(select(AGENTS.c.name).where(AGENTS.c.state != "logged_out")).scalars())
    if names:
        connection.execute(
            update(AGENTS)
            .where(AGENTS.c.name.in_(names))
            .values(
                state="logged_out",
                paused=False,
                pause_reason=None,
                state_since=at,
                current_callid=None,
                current_queue=None,
            )
        )
        insert_many(connection, STATE_CHANGES, _STATE_CHANGE_COLUMNS, [(n, at, "logged_out", None) for n in names])


def _select_in(connection: Connection, table, columns: tuple[str, ...], key: str, values) -> list[tuple]:
    """Rows of `table` whose `key` is one of `values`, fetched in a few large IN queries.

    Plain driver SQL: SQLAlchemy's per-parameter processing of a 2,000-value IN list costs
    more than the lookups themselves (tests/benchmarks/ingest.py).
    """
    values = sorted(values)
    if not values:
        return []
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    size = min(_IN_CHUNK, len(values))
    # One statement text per table: a short last chunk is padded with a repeat, so the
    # driver's statement cache does not fill with one variant per batch (memory stays flat).
    sql = f"SELECT {', '.join(columns)} FROM {table.name} WHERE {key} IN ({', '.join([mark] * size)})"
    found = []
    for start in range(0, len(values), size):
        chunk = values[start : start + size]
        chunk += [chunk[-1]] * (size - len(chunk))
        found.extend(connection.exec_driver_sql(sql, tuple(chunk)))
    return found


_INSERTED_CALL = tuple(c for c in _CALL_COLUMNS if c != "id")
# Update statements take the changed columns, then the key.
_UPDATED_CALL = tuple(c for c in _CALL_COLUMNS if c not in ("id", "callid", "queue")) + ("id",)
_UPDATED_AGENT = tuple(c for c in _AGENT_COLUMNS if c != "name") + ("name",)
_STATE_CHANGE_COLUMNS = ("agent", "at", "state", "pause_reason")


_INSERTED_CALL_VALUES = itemgetter(*_INSERTED_CALL)
_UPDATED_CALL_VALUES = itemgetter(*_UPDATED_CALL)
_AGENT_VALUES = itemgetter(*_AGENT_COLUMNS)
_UPDATED_AGENT_VALUES = itemgetter(*_UPDATED_AGENT)


_HANDLERS = {
    K.CALL_ENTERED: _Batch.call_entered,
    K.CALL_RINGING: _Batch.agent_ringing,
    K.RING_NO_ANSWER: _Batch.ring_over,
    K.RING_CANCELED: _Batch.ring_over,
    K.CALL_ANSWERED: _Batch.call_answered,
    K.CALL_ENDED: _Batch.call_ended,
    K.CALL_TRANSFERRED: _Batch.call_ended,
    K.CALL_ABANDONED: _Batch.call_left_queue,
    K.CALL_EXITED: _Batch.call_left_queue,
    K.AGENT_JOINED_QUEUE: _Batch.joined_queue,
    K.AGENT_LEFT_QUEUE: _Batch.left_queue,
    K.AGENT_LOGGED_IN: _Batch.logged_in,
    K.AGENT_LOGGED_OUT: _Batch.logged_out,
    K.AGENT_PAUSED: _Batch.paused,
    K.AGENT_UNPAUSED: _Batch.unpaused,
    K.AGENT_WRAPUP_ENDED: _Batch.wrap_up_ended,
}
