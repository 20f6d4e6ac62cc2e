"""The engine: applies normalized events to the call and agent tables, idempotently.

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

from sqlalchemy import Connection, bindparam, insert, select, update

from db.models import Agent, AgentQueue, AgentStateChange, Call
from wallboard.events import Event, EventKind

CALLS = Call.__table__
AGENTS = Agent.__table__
AGENT_QUEUES = AgentQueue.__table__
STATE_CHANGES = AgentStateChange.__table__

WAITING, ANSWERED = "waiting", "answered"
OPEN_OUTCOMES = frozenset({WAITING, ANSWERED})
_CALL_COLUMNS = tuple(column.name for column in CALLS.columns)
_AGENT_COLUMNS = tuple(column.name for column in AGENTS.columns)
_IN_CHUNK = 500

K = EventKind


@dataclass(slots=True)
class _Row:
    """A row being edited in memory; `new` rows are inserted, `dirty` ones updated."""

    values: dict
    new: bool = False
    dirty: bool = False


class CallEngine:
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
        for event in events:
            batch.apply(event)
        batch.flush()
        return len(events)


class _Batch:
    def __init__(self, connection: Connection, events: list[Event], tracks_wrap_up: bool):
        self.connection = connection
        self.tracks_wrap_up = tracks_wrap_up
        self.calls = self._load_calls(events)
        self.agents = self._load_agents(events)
        self.memberships_added: set[tuple[str, str]] = set()
        self.memberships_removed: set[tuple[str, str]] = set()
        self.state_changes: list[dict] = []

    # -- loading -----------------------------------------------------------------

    def _load_calls(self, events: list[Event]) -> dict[tuple[str, str], _Row]:
        callids = {e.callid for e in events if e.callid is not None and e.queue is not None}
        rows: dict[tuple[str, str], _Row] = {}
        for chunk in _chunks(sorted(callids)):
            result = self.connection.execute(select(CALLS).where(CALLS.c.callid.in_(chunk)))
            for record in result.mappings():
                rows[(record["callid"], record["queue"])] = _Row(dict(record))
        return rows

    def _load_agents(self, events: list[Event]) -> dict[str, _Row]:
        names = {e.agent for e in events if e.agent is not None}
        rows: dict[str, _Row] = {}
        for chunk in _chunks(sorted(names)):
            result = self.connection.execute(select(AGENTS).where(AGENTS.c.name.in_(chunk)))
            for record in result.mappings():
                rows[record["name"]] = _Row(dict(record))
        return rows

    # -- applying ----------------------------------------------------------------

    def apply(self, event: Event) -> None:
        handler = _HANDLERS.get(event.kind)
        if handler is not None:
            handler(self, event)

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
            self.state_changes.append(
                {"agent": values["name"], "at": since, "state": state, "pause_reason": values["pause_reason"]}
            )
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
            self.memberships_removed.discard((e.agent, e.queue))
            self.memberships_added.add((e.agent, e.queue))
        if agent.values["state"] == "logged_out":
            if e.reason == "paused":
                self._set_state(agent, e.ts, "paused", paused=True, pause_reason=None)
            else:
                self._set_state(agent, e.ts, "available")

    def left_queue(self, e: Event) -> None:
        if e.queue:
            self.memberships_added.discard((e.agent, e.queue))
            self.memberships_removed.add((e.agent, e.queue))
        if not self._still_member_somewhere(e.agent):
            self.logged_out(e)

    def _still_member_somewhere(self, name: str) -> bool:
        if any(agent == name for agent, _ in self.memberships_added):
            return True
        removed = [queue for agent, queue in self.memberships_removed if agent == name]
        query = select(AGENT_QUEUES.c.queue).where(AGENT_QUEUES.c.agent == name)
        if removed:
            query = query.where(AGENT_QUEUES.c.queue.not_in(removed))
        return self.connection.execute(query.limit(1)).first() is not None

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
        new_calls = [row.values for row in self.calls.values() if row.new]
        changed_calls = [row.values for row in self.calls.values() if row.dirty and not row.new]
        if new_calls:
            for call in new_calls:
                call.pop("id", None)
            connection.execute(insert(CALLS), new_calls)
        if changed_calls:
            connection.execute(_UPDATE_CALL, [_by_id(call) for call in changed_calls])
        new_agents = [row.values for row in self.agents.values() if row.new]
        changed_agents = [row.values for row in self.agents.values() if row.dirty and not row.new]
        if new_agents:
            connection.execute(insert(AGENTS), new_agents)
        if changed_agents:
            connection.execute(_UPDATE_AGENT, [_by_key(agent) for agent in changed_agents])
        if self.state_changes:
            connection.execute(insert(STATE_CHANGES), self.state_changes)
        self._flush_memberships()

    def _flush_memberships(self) -> None:
        for agent, queue in self.memberships_removed:
            self.connection.execute(
                AGENT_QUEUES.delete().where(AGENT_QUEUES.c.agent == agent, AGENT_QUEUES.c.queue == queue)
            )
        if self.memberships_added:
            existing = set()
            agents = sorted({agent for agent, _ in self.memberships_added})
            for chunk in _chunks(agents):
                result = self.connection.execute(
                    select(AGENT_QUEUES.c.agent, AGENT_QUEUES.c.queue).where(AGENT_QUEUES.c.agent.in_(chunk))
                )
                existing.update(tuple(r) for r in result)
            fresh = [{"agent": a, "queue": q} for a, q in self.memberships_added - existing]
            if fresh:
                self.connection.execute(insert(AGENT_QUEUES), fresh)


def close_floor(connection: Connection, at: float) -> None:
    """End what a stopped feed left open: its calls are interrupted, its agents logged out.

    Run when a feed that owns the whole floor (the simulator) starts again.
    """
    c = CALLS.c
    connection.execute(
        update(CALLS).where(c.outcome.in_(OPEN_OUTCOMES)).values(outcome="interrupted", end_at=at)
    )
    names = list(connection.execute(select(AGENTS.c.name).where(AGENTS.c.state != "logged_out")).scalars())
    if names:
        connection.execute(
            update(AGENTS)
            .where(AGENTS.c.name.in_(names))
            .values(state="logged_out", paused=False, pause_reason=None, state_since=at, current_callid=None, current_queue=None)
        )
        connection.execute(
            insert(STATE_CHANGES), [{"agent": n, "at": at, "state": "logged_out", "pause_reason": None} for n in names]
        )


def _chunks(items: list, size: int = _IN_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


_UPDATABLE_CALL = [c for c in _CALL_COLUMNS if c not in ("id", "callid", "queue")]
_UPDATE_CALL = (
    update(CALLS)
    .where(CALLS.c.id == bindparam("_id"))
    .values({name: bindparam(name) for name in _UPDATABLE_CALL})
)
_UPDATABLE_AGENT = [c for c in _AGENT_COLUMNS if c != "name"]
_UPDATE_AGENT = (
    update(AGENTS)
    .where(AGENTS.c.name == bindparam("_name"))
    .values({name: bindparam(name) for name in _UPDATABLE_AGENT})
)


def _by_id(call: dict) -> dict:
    params = {name: call[name] for name in _UPDATABLE_CALL}
    params["_id"] = call["id"]
    return params


def _by_key(agent: dict) -> dict:
    params = {name: agent[name] for name in _UPDATABLE_AGENT}
    params["_name"] = agent["name"]
    return params


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
