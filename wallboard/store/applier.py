"""The event applier: applies normalized events to the call and agent tables, idempotently.

A batch of events is applied in memory to the rows it touches (loaded once per batch) and
written back with a few executemany statements, inside the caller's transaction, so a
feed can store its checkpoint in the same transaction.

A call is one entry into one queue (a segment): the same callid entering the same queue
again (a transfer back, a dialplan loop, re-entry after the queue was empty) is a new call.
Each line goes to the entry it belongs to: the entry time its durations imply (the wait,
plus the talk for an ended call), else the latest entry made at or before its time.

Idempotent by construction: a call's outcome moves forward only (waiting -> answered ->
ended), so a repeated or late line (real queue_log files have both) changes nothing.
Calls whose first lines are missing are rebuilt from the durations the later lines carry;
a line without durations that comes before its entry's ENTERQUEUE line opens the entry at
its own time, marked `enter_known = False`, and the ENTERQUEUE line, when it comes, sets the
entry time and the wait: the figures do not depend on the order of the lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import partial
from itertools import groupby, islice
from operator import attrgetter, is_not, itemgetter
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update

from db.engine import insert_many, update_many
from db.models import Agent, AgentQueue, AgentStateChange, Call, table_of
from wallboard.calls.events import BLOCKED, Event, EventKind
from wallboard.config import qualified
from wallboard.store.changes import call_data_changed

CALLS = table_of(Call)
AGENTS = table_of(Agent)
AGENT_QUEUES = table_of(AgentQueue)
STATE_CHANGES = table_of(AgentStateChange)

WAITING, ANSWERED = "waiting", "answered"
OPEN_OUTCOMES = frozenset({WAITING, ANSWERED})
_CALL_COLUMNS = tuple(column.name for column in CALLS.columns)
# Not the version: the database sets it on every write (migration 0024).
_AGENT_COLUMNS = tuple(column.name for column in AGENTS.columns if column.name != "version")
_IN_CHUNK = 2000  # well under SQLite's 32,766 bound parameters
# queue_log durations are whole seconds: an entry time worked out from a line's wait and
# talk may be this far from the ENTERQUEUE line's own time and still be the same entry.
ENTRY_TOLERANCE_SECONDS = 2.5

K = EventKind
# An entry's key is (callid, queue); a key may hold several entries. Call events always carry both (wallboard.calls.events); the
# key keeps the event's own optional types rather than asserting that per event.
CallKey = tuple[str | None, str | None]
# agent, at, state[, pause_reason]: on SQLite a change without a pause reason leaves the
# column out rather than bind a None (see _Batch.true); written in runs of one width, in order.
StateChange = tuple[str, float, str] | tuple[str, float, str, str | None]
_MEMBERSHIP_EVENTS = frozenset({K.AGENT_JOINED_QUEUE, K.AGENT_LEFT_QUEUE, K.AGENT_STATUS})
# Bound once: an enum member looked up on its class costs ~0.35 us, several times per call.
_ANSWERED_KIND = K.CALL_ANSWERED
_ENDED_KIND = K.CALL_ENDED
_ABANDONED_KIND = K.CALL_ABANDONED
_WRAPUP_ENDED_KIND = K.AGENT_WRAPUP_ENDED
_REPORTED_STATES = frozenset({"available", "ringing", "on_call"})


# A row being edited in memory: column name -> value. A call row without an id is new (inserted
# at the flush); a loaded row is updated if its values differ from those it was loaded with.
_Row = dict[str, Any]


class EventApplier:
    """Applies events for one feed.

    `tracks_wrap_up`: the feed reports the end of after-call work (AGENT_WRAPUP_ENDED), so
    an agent whose call ends goes to wrap-up rather than straight back to available.
    `site`: the feed's site label: its queues and agents are stored as "name@site" with the
    label in their `site` column, so two sites' "support" queues (or agent 1001) stay apart.
    """

    def __init__(self, *, tracks_wrap_up: bool = False, site: str | None = None) -> None:
        self.tracks_wrap_up = tracks_wrap_up
        self.site = site or None

    def apply(self, connection: Connection, events: Iterable[Event]) -> int:
        # In time order: within a batch, the figures never depend on the order of the lines
        # (a stable sort keeps a file's order for lines of the same second).
        events = sorted(events if self.site is None else map(self._at_site, events), key=_event_time)
        if not events:
            return 0
        batch = _Batch(connection, events, self.tracks_wrap_up, self.site)
        handlers = _HANDLERS
        for event in events:
            handlers[event.kind](batch, event)  # every kind has its handler (tests/unit/test_applier.py)
        batch.flush()
        call_data_changed(connection)  # the board's readers read as soon as this commits
        return len(events)

    def _at_site(self, event: Event) -> Event:
        return replace(
            event,
            queue=None if event.queue is None else qualified(event.queue, self.site),
            agent=None if event.agent is None else qualified(event.agent, self.site),
        )


class _Batch:
    def __init__(
        self, connection: Connection, events: list[Event], tracks_wrap_up: bool, site: str | None = None
    ) -> None:
        self.connection = connection
        self.tracks_wrap_up = tracks_wrap_up
        self.site = site
        # What the batch names, in one pass over its events rather than one per table.
        callids: set[str] = set()
        agents: set[str] = set()
        members: set[str] = set()
        membership_events = _MEMBERSHIP_EVENTS
        add_callid, add_agent = callids.add, agents.add
        for e in events:
            agent = e.agent
            if agent is not None:
                add_agent(agent)
                if e.kind in membership_events:
                    members.add(agent)
            callid = e.callid
            if callid is not None and e.queue is not None:
                add_callid(callid)
        # What each loaded row held, as its UPDATE would write it: a row is written back only if
        # it changed (new rows, without an id, are inserted).
        self.calls_loaded: dict[int, tuple[Any, ...]] = {}
        self.loaded_calls: list[_Row] = []
        self.agents_loaded: dict[str, tuple[Any, ...]] = {}
        self.calls = self._load_calls(callids)
        self.agents = self._load_agents(agents)
        # Queue membership of the agents this batch adds or removes: as loaded, then as changed.
        self.memberships = self._load_memberships(members)
        self.memberships_before = {agent: set(queues) for agent, queues in self.memberships.items()}
        self.state_changes: list[StateChange] = []
        self.sqlite = connection.dialect.name == "sqlite"
        # A new entry's row before its own values: copied, not built column by column, per call.
        self.new_call_values: dict[str, Any] = dict.fromkeys(_CALL_COLUMNS)
        # The calls' booleans (enter_known, answer_known) as the driver binds them fastest:
        # sqlite3 adapts a bool (and None) through a registry lookup, ~0.7 us a value in an
        # executemany, and binds an exact int directly; it stores 0/1 either way. PostgreSQL
        # needs real booleans.
        self.true: bool | int = True
        self.false: bool | int = False
        if connection.dialect.name == "sqlite":
            self.true, self.false = 1, 0
        self.new_call_values.update(enter_known=self.true, answer_known=self.true, outcome=WAITING, site=site)

    # -- loading -----------------------------------------------------------------

    def _load_calls(self, callids: set[str]) -> dict[CallKey, list[_Row]]:
        """Every entry of the batch's callids, per (callid, queue), in the order they entered."""
        rows: dict[CallKey, list[_Row]] = {}
        for record in _select_in(self.connection, CALLS, _CALL_COLUMNS, "callid", callids):
            values = dict(zip(_CALL_COLUMNS, record))
            rows.setdefault((values["callid"], values["queue"]), []).append(values)
            self.calls_loaded[values["id"]] = _UPDATED_CALL_VALUES(values)
            self.loaded_calls.append(values)
        for entries in rows.values():
            if len(entries) > 1:
                entries.sort(key=_entered)
        return rows

    def _load_agents(self, names: set[str]) -> dict[str, _Row]:
        rows: dict[str, _Row] = {}
        for record in _select_in(self.connection, AGENTS, _AGENT_COLUMNS, "name", names):
            rows[record[0]] = dict(zip(_AGENT_COLUMNS, record))
            self.agents_loaded[record[0]] = _UPDATED_AGENT_VALUES(rows[record[0]])
        return rows

    def _load_memberships(self, names: set[str]) -> dict[str, set[str]]:
        memberships: dict[str, set[str]] = {name: set() for name in names}
        for agent, queue in _select_in(self.connection, AGENT_QUEUES, ("agent", "queue"), "agent", names):
            memberships[agent].add(queue)
        return memberships

    # -- applying ----------------------------------------------------------------

    def _call(self, event: Event, implied_entry: float | None) -> _Row | None:
        """The entry `event` belongs to, or None: it belongs to an entry not seen yet.

        implied_entry: when the entry began, as the event's durations tell (None: they
        do not tell). Without it: the latest entry made at or before the event, if the
        event can be part of it (a caller cannot leave a queue they have already left).
        """
        entries = self.calls.get((event.callid, event.queue))
        if not entries:
            return None
        if implied_entry is not None:
            if len(entries) == 1:  # nearly every call: one entry, nothing to choose
                nearest = entries[0]
            else:
                nearest = min(entries, key=lambda row: abs(row["enter_at"] - implied_entry))
            if abs(nearest["enter_at"] - implied_entry) <= ENTRY_TOLERANCE_SECONDS:
                return nearest
            return None
        latest = following = None
        for row in entries:
            if row["enter_at"] > event.ts + ENTRY_TOLERANCE_SECONDS:
                following = row
                break
            latest = row
        if latest is None:
            if following is not None and not following["enter_known"] and _fits(following, event):
                # An earlier line of an entry its later lines opened: it began no later than this.
                following["enter_at"] = event.ts
                entries.sort(key=_entered)
                return following
            return None
        if event.kind is _WRAPUP_ENDED_KIND:
            return latest
        decided = _decided_at(latest)
        guessed_answer = event.kind is _ANSWERED_KIND and not latest["answer_known"]
        if (
            decided is not None
            and decided > event.ts + ENTRY_TOLERANCE_SECONDS
            and event.kind in _DECIDING
            and not guessed_answer
        ):
            # This line comes first in the entry: what was decided later is a later entry's.
            later = self._new_call(event, decided, enter_known=False)
            _move_outcome(latest, later, self.true)
            return latest
        return latest if _fits(latest, event) else None

    def _new_call(self, event: Event, enter_at: float, *, enter_known: bool = True) -> _Row:
        values = self.new_call_values.copy()
        values["callid"] = event.callid
        values["queue"] = event.queue
        values["enter_at"] = enter_at
        values["enter_known"] = self.true if enter_known else self.false
        row = values
        key = (event.callid, event.queue)
        entries = self.calls.get(key)
        if entries is None:
            self.calls[key] = [row]
        else:
            entries.append(row)
            # Kept in the order they entered (a stable sort: equal times keep their order).
            if entries[-2]["enter_at"] > enter_at:
                entries.sort(key=_entered)
        return row

    def _entry_for(self, event: Event, implied_entry: float | None, guess: float | None = None) -> _Row:
        """The entry of a line that is not an ENTERQUEUE line, opened if not seen yet.

        guess: the latest the entry can have begun, for a line whose durations do not tell
        when exactly (default: the line's own time); its ENTERQUEUE line will tell.
        """
        row = self._call(event, implied_entry)
        if row is None:
            if implied_entry is not None:
                row = self._new_call(event, implied_entry)
            else:
                row = self._new_call(event, event.ts if guess is None else guess, enter_known=False)
        return row

    def call_entered(self, e: Event) -> None:
        key = (e.callid, e.queue)
        entries = self.calls.get(key)
        if entries is None:  # nearly every line: the callid's first entry into this queue
            values = self.new_call_values.copy()
            values["callid"] = e.callid
            values["queue"] = e.queue
            values["enter_at"] = e.ts
            values["caller"] = e.caller
            values["position"] = e.position
            self.calls[key] = [values]
            return
        earlier = None
        for call in entries:
            if abs(call["enter_at"] - e.ts) <= ENTRY_TOLERANCE_SECONDS:
                if call["caller"] is None and e.caller is not None:
                    call.update(caller=e.caller, position=call["position"] or e.position)
                return  # the same entry again (a repeated line), or one its later lines opened
            if call["enter_at"] > e.ts:
                if not call["enter_known"]:
                    self._learn_entry(call, e)  # opened by its later lines: this is its start
                    return
                break
            earlier = call
        row = self._new_call(e, e.ts)
        row["caller"] = e.caller
        row["position"] = e.position
        if earlier is not None:
            decided = _decided_at(earlier)
            if decided is not None and decided > e.ts + ENTRY_TOLERANCE_SECONDS:
                # A caller is in a queue once at a time: what the earlier entry got after
                # this one began (lines without durations read before this one) is this one's.
                _move_outcome(earlier, row, self.true)

    def _learn_entry(self, call: _Row, e: Event) -> None:
        """The ENTERQUEUE line of an entry its later lines opened: the wait is now known."""
        call.update(enter_at=e.ts, enter_known=self.true, caller=call["caller"] or e.caller)
        if call["position"] is None:
            call["position"] = e.position
        waited_until = _decided_at(call)
        if waited_until is not None:  # the wait was counted from the guess: count it again
            call["wait_seconds"] = max(0.0, waited_until - e.ts)

    def _implied_entry(self, e: Event, implied_entry: float | None) -> _Row:
        """`_entry_for` with the common case first: the one entry of its key, where its
        durations put it (the same answer `_call` gives, without its search)."""
        if implied_entry is not None:
            entries = self.calls.get((e.callid, e.queue))
            if entries is not None and len(entries) == 1:
                row = entries[0]
                if abs(row["enter_at"] - implied_entry) <= ENTRY_TOLERANCE_SECONDS:
                    return row
        return self._entry_for(e, implied_entry)

    def call_answered(self, e: Event) -> None:
        call = self._implied_entry(e, None if e.wait_seconds is None else e.ts - e.wait_seconds)
        if not call["answer_known"] and call["end_at"] is not None and e.ts <= call["end_at"]:
            # The call's end was read first, without durations: now its answer is known.
            wait = e.wait_seconds if e.wait_seconds is not None else max(0.0, e.ts - call["enter_at"])
            call.update(answer_at=e.ts, answer_known=self.true, wait_seconds=wait, talk_seconds=call["end_at"] - e.ts)
            call.update(agent=call["agent"] or e.agent, ring_seconds=e.ring_seconds)
            return
        if call["outcome"] != WAITING:
            return  # a repeated CONNECT, or a call already over: nothing new
        wait = e.wait_seconds if e.wait_seconds is not None else max(0.0, e.ts - call["enter_at"])
        # Assigned one by one: dict.update(**...) builds a dict per line first.
        call["outcome"] = ANSWERED
        call["answer_at"] = e.ts
        call["agent"] = e.agent
        call["wait_seconds"] = wait
        call["ring_seconds"] = e.ring_seconds
        if e.agent:
            self._agent_takes_call(e)

    def call_ended(self, e: Event) -> None:
        outcome = "completed" if e.kind is _ENDED_KIND else "transferred"
        talk, wait = e.talk_seconds, e.wait_seconds
        if talk is None or wait is None:
            call = self._entry_for(e, None, guess=e.ts - (talk or 0.0) - (wait or 0.0))
        else:
            call = self._implied_entry(e, e.ts - talk - wait)
        if call["outcome"] not in OPEN_OUTCOMES:
            return
        if call["answer_at"] is None:  # the CONNECT line is missing (or not here yet): rebuild it
            answered_at = e.ts - talk if talk is not None else max(call["enter_at"], e.ts)
            waited = wait if wait is not None else max(0.0, answered_at - call["enter_at"])
            call.update(answer_at=answered_at, wait_seconds=waited, agent=call["agent"] or e.agent)
            # Without the talk time, the answer is a guess its CONNECT line may still correct.
            call["answer_known"] = self.false if talk is None else self.true
        if talk is None:
            talk = max(0.0, e.ts - call["answer_at"])
        call["outcome"] = outcome
        call["end_at"] = e.ts
        call["talk_seconds"] = talk
        call["end_reason"] = e.reason
        if call["agent"] is None:
            call["agent"] = e.agent
        if call["agent"]:
            self._agent_call_over(call["agent"], e)

    def call_left_queue(self, e: Event) -> None:
        """Abandoned or exited (timeout, key, empty, withdraw, syscompat)."""
        outcome = "abandoned" if e.kind is _ABANDONED_KIND else (e.reason or "timeout")
        call = self._implied_entry(e, None if e.wait_seconds is None else e.ts - e.wait_seconds)
        if call["outcome"] != WAITING:
            return
        wait = e.wait_seconds if e.wait_seconds is not None else max(0.0, e.ts - call["enter_at"])
        call["outcome"] = outcome
        call["end_at"] = e.ts
        call["wait_seconds"] = wait
        if e.position is not None and call["position"] is None:
            call["position"] = e.position
        if e.agent and e.kind is _ABANDONED_KIND:
            # Caller hung up while a member was ringing or hearing the announcement.
            self._agent_ring_over(e)

    def call_blocked(self, e: Event) -> None:
        """The queue refused the caller: kept as an entry that never waited (not offered)."""
        for row in self.calls.get((e.callid, e.queue), []):
            if row["outcome"] == BLOCKED and _near(row["end_at"], e.ts):
                return  # the same line again
        row = self._new_call(e, e.ts)
        row.update(caller=e.caller, outcome=BLOCKED, end_at=e.ts, wait_seconds=0.0, end_reason=e.reason)

    def wrap_up_ended(self, e: Event) -> None:
        row = self._call(e, None)
        if row is not None and row["end_at"] is not None and row["wrap_seconds"] is None:
            row["wrap_seconds"] = max(0.0, e.ts - row["end_at"])
        if e.agent is None:
            return
        agent = self._agent(_agent_of(e), e.ts)
        if agent["state"] == "wrap_up":
            self._set_state(agent, e.ts, self._idle_state(agent))

    # -- agents ----------------------------------------------------------------

    def _agent(self, name: str, ts: float) -> _Row:
        row = self.agents.get(name)
        if row is None:
            values = dict.fromkeys(_AGENT_COLUMNS)
            values.update(
                name=name,
                state="logged_out",
                paused=False,
                state_since=ts,
                calls_today=0,
                talk_seconds_today=0.0,
                site=self.site,
            )
            row = values
            self.agents[name] = row
        return row

    @staticmethod
    def _idle_state(agent: _Row) -> str:
        return "paused" if agent["paused"] else "available"

    def _set_state(self, agent: _Row, ts: float, state: str, **changes: object) -> None:
        old_reason = agent["pause_reason"]
        if changes:
            agent.update(changes)
        if state != agent["state"] or (state == "paused" and agent["pause_reason"] != old_reason):
            self._state_changed(agent, ts, state)

    def _state_changed(self, agent: _Row, ts: float, state: str) -> None:
        """The agent is in `state` from `ts` on: recorded as a state change."""
        # Lines can come out of order: time in state never runs backwards.
        since = agent["state_since"]
        if not since > ts:  # max(ts, since), without the call
            since = ts
        agent["state"] = state
        agent["state_since"] = since
        reason = agent["pause_reason"]
        if reason is None and self.sqlite:
            self.state_changes.append((agent["name"], since, state))
        else:
            self.state_changes.append((agent["name"], since, state, reason))

    # The two agent changes of nearly every call: the columns set here rather than passed to
    # _set_state as keywords (a dict per call).
    def _agent_takes_call(self, e: Event) -> None:
        agent = self.agents.get(e.agent) if e.agent is not None else None
        if agent is None:
            agent = self._agent(_agent_of(e), e.ts)
        agent["current_callid"] = e.callid
        agent["current_queue"] = e.queue
        if agent["state"] != "on_call":  # _set_state, written out
            self._state_changed(agent, e.ts, "on_call")

    def _agent_call_over(self, name: str, e: Event) -> None:
        agent = self.agents.get(name)
        if agent is None:
            agent = self._agent(name, e.ts)
        callid = agent["current_callid"]
        if callid is not None and callid != e.callid:
            return  # the agent has moved on to another call already
        state = "wrap_up" if self.tracks_wrap_up else ("paused" if agent["paused"] else "available")
        agent["current_callid"] = None
        agent["current_queue"] = None
        if state != agent["state"]:  # _set_state, written out: the pause reason is as it was
            self._state_changed(agent, e.ts, state)

    def agent_ringing(self, e: Event) -> None:
        agent = self._agent(_agent_of(e), e.ts)
        if agent["state"] in ("available", "logged_out"):
            self._set_state(agent, e.ts, "ringing", current_callid=e.callid, current_queue=e.queue)

    def _agent_ring_over(self, e: Event) -> None:
        agent = self._agent(_agent_of(e), e.ts)
        if agent["state"] == "ringing":
            self._set_state(agent, e.ts, self._idle_state(agent), current_callid=None, current_queue=None)

    def ring_over(self, e: Event) -> None:
        if e.agent:
            self._agent_ring_over(e)

    def logged_in(self, e: Event) -> None:
        agent = self._agent(_agent_of(e), e.ts)
        if agent["state"] == "logged_out":
            self._set_state(agent, e.ts, self._idle_state(agent))

    def logged_out(self, e: Event) -> None:
        agent = self._agent(_agent_of(e), e.ts)
        self._set_state(
            agent, e.ts, "logged_out", paused=False, pause_reason=None, current_callid=None, current_queue=None
        )

    def joined_queue(self, e: Event) -> None:
        agent = self._agent(_agent_of(e), e.ts)
        if e.queue:
            self.memberships[_agent_of(e)].add(e.queue)
        if agent["state"] == "logged_out":
            if e.reason == "paused":
                self._set_state(agent, e.ts, "paused", paused=True, pause_reason=None)
            else:
                self._set_state(agent, e.ts, "available")

    def left_queue(self, e: Event) -> None:
        queues = self.memberships[_agent_of(e)]
        queues.discard(e.queue)
        if not queues:
            self.logged_out(e)

    def paused(self, e: Event) -> None:
        agent = self._agent(_agent_of(e), e.ts)
        reason = e.reason or None
        if agent["state"] in ("on_call", "ringing", "wrap_up"):
            # Paused mid-call: the pause shows once the call and its wrap-up are over.
            agent.update(paused=True, pause_reason=reason)
        else:
            self._set_state(agent, e.ts, "paused", paused=True, pause_reason=reason)

    def unpaused(self, e: Event) -> None:
        agent = self._agent(_agent_of(e), e.ts)
        if agent["state"] == "paused":
            self._set_state(agent, e.ts, "available", paused=False, pause_reason=None)
        else:
            agent.update(paused=False, pause_reason=None)

    def agent_status(self, e: Event) -> None:
        """The PBX's own report of a member: it is in the queue, and in this state now.

        The report is the newest word on the agent, so it wins over what the call events
        implied; a pause reported mid-call shows once the call is over, as with AGENT_PAUSED.
        """
        name = e.agent
        if name is None:
            return  # nobody to apply it to (the AMI mapper never sends one)
        agent = self._agent(name, e.ts)
        if e.queue:
            self.memberships[name].add(e.queue)
        if e.state == "logged_out":
            self.logged_out(e)
        elif e.state == "paused":
            self.paused(e)
        elif e.state in _REPORTED_STATES:
            changes: dict[str, object] = {"paused": False, "pause_reason": None}
            if e.state == "available":
                changes.update(current_callid=None, current_queue=None)
            self._set_state(agent, e.ts, e.state, **changes)

    # -- writing -----------------------------------------------------------------

    def flush(self) -> None:
        connection = self.connection
        calls = [row for entries in self.calls.values() for row in entries]
        new_calls = [row for row in calls if row["id"] is None]
        loaded = self.calls_loaded
        changed_calls = [
            written for row in self.loaded_calls if (written := _UPDATED_CALL_VALUES(row)) != loaded[row["id"]]
        ]
        if new_calls:
            # Only the columns some new row sets: the others are NULL by default, and sqlite3
            # binds a None through its adapter lookup (~0.7 us a value). A feed without a site
            # label or wrap-up reports leaves two columns out of every row.
            first = new_calls[0]
            columns = tuple(
                name for name in _INSERTED_CALL if first[name] is not None or not _all_none(new_calls, name)
            )
            insert_many(connection, CALLS, columns, list(map(itemgetter(*columns), new_calls)))
        if changed_calls:
            update_many(connection, CALLS, _UPDATED_CALL[:-1], "id", changed_calls)
        agents = self.agents.values()
        agents_loaded = self.agents_loaded
        new_agents = [_AGENT_VALUES(row) for row in agents if row["name"] not in agents_loaded]
        changed_agents = [
            written
            for row in agents
            if (before := agents_loaded.get(row["name"])) is not None
            and (written := _UPDATED_AGENT_VALUES(row)) != before
        ]
        if new_agents:
            insert_many(connection, AGENTS, _AGENT_COLUMNS, new_agents)
        if changed_agents:
            update_many(connection, AGENTS, _UPDATED_AGENT[:-1], "name", changed_agents)
        if self.state_changes:
            _insert_in_runs(connection, STATE_CHANGES, _STATE_CHANGE_COLUMNS, self.state_changes)
        self._flush_memberships()

    def _flush_memberships(self) -> None:
        removed: list[tuple[str, str]] = []
        added: list[tuple[str, str]] = []
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


def _insert_in_runs(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert rows that may leave out trailing columns (NULL): each run of rows of one width
    by one executemany, in order (the ids follow the rows), on the driver's cursor (a run is
    often a row or two: SQLAlchemy's own cost per statement would be more than the row's)."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statements = [
        f"INSERT INTO {table.name} ({', '.join(columns[:width])}) VALUES ({', '.join([mark] * width)})"
        for width in range(len(columns) + 1)
    ]
    cursor = connection.connection.cursor()
    try:
        for width, run in groupby(rows, len):
            cursor.executemany(statements[width], list(run))
    finally:
        cursor.close()


def _all_none(rows: list[dict[str, Any]], name: str) -> bool:
    """Whether no row sets column `name` (in C loops: a generator costs more per row)."""
    value = itemgetter(name)
    if any(map(_is_set, map(value, islice(rows, 32)))):
        return False  # nearly always: a column the first row leaves out, one of the next few sets
    values = list(map(value, rows))
    return values.count(None) == len(values)


_is_set = partial(is_not, None)


def _agent_of(event: Event) -> str:
    """The agent an agent event is about: such events always name one (wallboard.calls.events)."""
    if event.agent is None:
        raise ValueError(f"a {event.kind.value} event without an agent")
    return event.agent


def close_floor(connection: Connection, at: float, site: str | None = None) -> None:
    """End what a stopped feed left open: its calls are interrupted, its agents logged out.

    Run when a feed that owns its whole floor (the simulator) starts again; only that
    site's calls and agents (those without a site, for a feed without one): another
    site's feed keeps its own.
    """
    c = CALLS.c
    call_site = c.site == site if site else c.site.is_(None)
    agent_site = AGENTS.c.site == site if site else AGENTS.c.site.is_(None)
    connection.execute(
        update(CALLS).where(c.outcome.in_(OPEN_OUTCOMES), call_site).values(outcome="interrupted", end_at=at)
    )
    names = list(connection.execute(select(AGENTS.c.name).where(AGENTS.c.state != "logged_out", agent_site)).scalars())
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


def _select_in(
    connection: Connection, table: Table, columns: tuple[str, ...], key: str, wanted: Iterable[str]
) -> list[Sequence[Any]]:
    """Rows of `table` whose `key` is one of `values`, fetched in a few large IN queries.

    Plain driver SQL: SQLAlchemy's per-parameter processing of a 2,000-value IN list costs
    more than the lookups themselves (tests/benchmarks/ingest.py).
    """
    values = list(wanted)  # in no order: SQLite sorts an IN list itself
    if not values:
        return []
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    size = min(_IN_CHUNK, len(values))
    # One statement text per table: a short last chunk is padded with a repeat, so the
    # driver's statement cache does not fill with one variant per batch (memory stays flat).
    sql = f"SELECT {', '.join(columns)} FROM {table.name} WHERE {key} IN ({', '.join([mark] * size)})"
    found: list[Sequence[Any]] = []
    # The driver's own cursor on this transaction's connection: plain tuples, without a
    # SQLAlchemy Row made per row (the agents are read again every batch).
    cursor = connection.connection.cursor()
    try:
        for start in range(0, len(values), size):
            chunk = values[start : start + size]
            chunk += [chunk[-1]] * (size - len(chunk))
            cursor.execute(sql, chunk)
            found.extend(cursor.fetchall())
    finally:
        cursor.close()
    return found


_event_time = attrgetter("ts")


def _entered(row: _Row) -> float:
    return float(row["enter_at"])


def _near(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= ENTRY_TOLERANCE_SECONDS


def _fits(call: dict[str, Any], event: Event) -> bool:
    """Whether a line without durations can be part of this entry (or repeats one of its lines)."""
    if event.kind is K.CALL_ANSWERED:
        return call["outcome"] == WAITING or not call["answer_known"] or _near(call["answer_at"], event.ts)
    if event.kind in (K.CALL_ENDED, K.CALL_TRANSFERRED):
        return call["outcome"] in OPEN_OUTCOMES or _near(call["end_at"], event.ts)
    if event.kind in (K.CALL_ABANDONED, K.CALL_EXITED):
        return call["outcome"] == WAITING or _near(call["end_at"], event.ts)
    return True


_OUTCOME_FIELDS = (
    "outcome",
    "answer_at",
    "answer_known",
    "end_at",
    "agent",
    "ring_seconds",
    "talk_seconds",
    "wrap_seconds",
    "end_reason",
)
# Lines that decide how an entry went (answered, or left the queue unanswered).
_DECIDING = frozenset({K.CALL_ANSWERED, K.CALL_ENDED, K.CALL_TRANSFERRED, K.CALL_ABANDONED, K.CALL_EXITED})


def _decided_at(call: dict[str, Any]) -> float | None:
    """When the entry's wait ended: answered, or left the queue; None while waiting."""
    decided: float | None = call["answer_at"] if call["answer_at"] is not None else call["end_at"]
    return decided


def _move_outcome(source: _Row, target: _Row, true: bool | int) -> None:
    """How `source` went is `target`'s (a later entry); `source` is waiting again.
    true: the batch's form of a true boolean (_Batch.true)."""
    call, later = source, target
    for name in _OUTCOME_FIELDS:
        later[name] = call[name]
        call[name] = None
    later["wait_seconds"] = max(0.0, _decided_at(later) - later["enter_at"])
    call.update(outcome=WAITING, answer_known=true, wait_seconds=None)


_INSERTED_CALL = tuple(c for c in _CALL_COLUMNS if c != "id")
# Update statements take the changed columns, then the key.
_UPDATED_CALL = tuple(c for c in _CALL_COLUMNS if c not in ("id", "callid", "queue")) + ("id",)
# The columns the applier changes: today's figures (calls_today, talk_seconds_today) are the
# snapshot refresh's (store/metrics.py), the site is set once with the row.
_UPDATED_AGENT = ("state", "pause_reason", "paused", "state_since", "current_callid", "current_queue", "name")
_STATE_CHANGE_COLUMNS = ("agent", "at", "state", "pause_reason")


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
    K.CALL_BLOCKED: _Batch.call_blocked,
    K.AGENT_JOINED_QUEUE: _Batch.joined_queue,
    K.AGENT_LEFT_QUEUE: _Batch.left_queue,
    K.AGENT_LOGGED_IN: _Batch.logged_in,
    K.AGENT_LOGGED_OUT: _Batch.logged_out,
    K.AGENT_PAUSED: _Batch.paused,
    K.AGENT_UNPAUSED: _Batch.unpaused,
    K.AGENT_WRAPUP_ENDED: _Batch.wrap_up_ended,
    K.AGENT_STATUS: _Batch.agent_status,
}
