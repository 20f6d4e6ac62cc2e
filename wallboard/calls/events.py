"""The normalized event stream every feed produces and the applier (wallboard/store/applier.py) applies.

Feeds (Asterisk queue_log, AMI, JSON lines, the simulator) translate their input into
`Event`s; nothing downstream knows which feed an event came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EventKind(StrEnum):
    # Calls (callid and queue always set)
    CALL_ENTERED = "call_entered"  # caller joined the queue: caller, position
    CALL_RINGING = "call_ringing"  # an agent's phone rings for this call (simulator, AMI)
    RING_NO_ANSWER = "ring_no_answer"  # agent did not pick up: ring_seconds
    RING_CANCELED = "ring_canceled"  # caller hung up while agent's phone rang: ring_seconds
    CALL_ANSWERED = "call_answered"  # connected to agent: wait_seconds, ring_seconds
    CALL_ENDED = "call_ended"  # reason caller|agent: wait_seconds, talk_seconds
    CALL_TRANSFERRED = "call_transferred"  # reason = target: wait_seconds, talk_seconds
    CALL_ABANDONED = "call_abandoned"  # caller hung up while waiting: wait_seconds, position
    CALL_EXITED = "call_exited"  # reason timeout|key|empty|withdraw|syscompat: wait_seconds
    CALL_BLOCKED = "call_blocked"  # the queue refused the caller: reason full|joinempty|joinunavail|closed; caller
    # Agents (agent always set; queue set when the event concerns one queue)
    AGENT_JOINED_QUEUE = "agent_joined_queue"  # reason "paused" when added paused
    AGENT_LEFT_QUEUE = "agent_left_queue"
    AGENT_LOGGED_IN = "agent_logged_in"
    AGENT_LOGGED_OUT = "agent_logged_out"
    AGENT_PAUSED = "agent_paused"  # reason: break, lunch, training, ... (may be empty)
    AGENT_UNPAUSED = "agent_unpaused"
    AGENT_WRAPUP_ENDED = "agent_wrapup_ended"  # after-call work over: callid, queue of that call
    # The PBX's own report of a member (AMI): queue (a membership), state = logged_out |
    # available | ringing | on_call | paused, reason = why paused
    AGENT_STATUS = "agent_status"


CALL_EVENTS = frozenset(
    {
        EventKind.CALL_ENTERED,
        EventKind.CALL_RINGING,
        EventKind.RING_NO_ANSWER,
        EventKind.RING_CANCELED,
        EventKind.CALL_ANSWERED,
        EventKind.CALL_ENDED,
        EventKind.CALL_TRANSFERRED,
        EventKind.CALL_ABANDONED,
        EventKind.CALL_EXITED,
        EventKind.CALL_BLOCKED,
    }
)

# How a call left the queue, as stored in calls.outcome.
EXIT_REASONS = ("timeout", "key", "empty", "withdraw", "syscompat")
# calls.outcome of a caller the queue refused (end_reason: why): counted apart from offered.
BLOCKED = "blocked"
BLOCK_REASONS = ("full", "joinempty", "joinunavail", "closed")

# Why a queue refused a caller (CALL_BLOCKED.reason): full (maxlen reached), joinempty (no members
# who could take it), joinunavail (every member unavailable), closed (outside opening hours).
BLOCK_REASONS = ("full", "joinempty", "joinunavail", "closed")


@dataclass(slots=True)
class Event:
    ts: float  # seconds since the epoch (UTC)
    kind: EventKind
    callid: str | None = None
    queue: str | None = None
    agent: str | None = None
    caller: str | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    ring_seconds: float | None = None
    position: int | None = None
    reason: str | None = None
    state: str | None = None  # AGENT_STATUS only
