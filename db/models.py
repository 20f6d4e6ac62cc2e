"""Tables for live call data. Persistence only: no business rules here.

Times are stored as epoch seconds (float, UTC): every feed speaks epoch seconds, the
metrics are differences of times, and floats compare and index the same on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, MetaData, Table, inspect, text
from sqlmodel import Field, SQLModel

# Stable constraint names, so Alembic batch migrations on SQLite can find them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model, for queries written with `table.c`. SQLModel sets
    `__table__` on table classes at run time but does not declare it to type checkers."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


class Call(SQLModel, table=True):
    """One row per entry of a call into a queue: a call entering a queue twice is two rows."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_callid_queue", "callid", "queue"),
        Index("ix_calls_enter_at", "enter_at"),
        # Agent and answer time too: the outcome report's answered calls per queue come from
        # the index alone (migration 0020).
        Index("ix_calls_queue_enter_at", "queue", "enter_at", "agent", "answer_at"),
        # The wallboard's "waiting now" and "longest wait" read only open calls.
        Index(
            "ix_calls_open",
            "queue",
            "enter_at",
            sqlite_where=text("outcome = 'waiting'"),
            postgresql_where=text("outcome = 'waiting'"),
        ),
        # A caller's calls: did a call-back's caller get through; their recent calls; a waiting
        # caller's calls of the past day (repeat callers, the agent's view of a caller).
        Index("ix_calls_caller_enter_at", "caller", "enter_at"),
        # The call-back intake reads new abandons by their end time.
        Index(
            "ix_calls_abandoned_end_at",
            "end_at",
            sqlite_where=text("outcome = 'abandoned'"),
            postgresql_where=text("outcome = 'abandoned'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    callid: str = Field(max_length=64)
    queue: str = Field(max_length=80)
    caller: str | None = Field(default=None, max_length=80)
    position: int | None = None
    agent: str | None = Field(default=None, max_length=120)
    enter_at: float
    # False: the entry's first line has not been read yet; enter_at is the latest it can
    # have been (from a later line without durations), and its wait counts from there.
    enter_known: bool = True
    answer_at: float | None = None
    # False: answer_at is a guess (the call's end was read first, without durations); its
    # CONNECT line corrects it when it comes.
    answer_known: bool = True
    end_at: float | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    ring_seconds: float | None = None
    wrap_seconds: float | None = None
    # waiting | answered (talking) | completed | transferred | abandoned | timeout | key
    # | empty | withdraw | syscompat | interrupted (its feed restarted mid-call)
    outcome: str = Field(max_length=16)
    # completed: who hung up (caller/agent); transferred: where to
    end_reason: str | None = Field(default=None, max_length=120)
    # The site label of the feed that saw it (None: a feed without one); the queue's name
    # then carries it too ("support@north"), so the same queue name at two sites stays apart.
    site: str | None = Field(default=None, max_length=40)


class Agent(SQLModel, table=True):
    """Each agent's state now (the live snapshot the wallboard reads)."""

    __tablename__ = "agents"

    name: str = Field(primary_key=True, max_length=120)
    # logged_out | available | ringing | on_call | wrap_up | paused
    state: str = Field(max_length=16)
    pause_reason: str | None = Field(default=None, max_length=80)
    paused: bool = False
    state_since: float
    current_callid: str | None = Field(default=None, max_length=64)
    current_queue: str | None = Field(default=None, max_length=80)
    # Refreshed with the queue snapshot: today's answered calls and their talk time.
    calls_today: int = 0
    talk_seconds_today: float = 0.0
    # The site label of the feed that reports this agent (None: a feed without one).
    site: str | None = Field(default=None, max_length=40)
    # Set by the database on every insert and update (triggers, migration 0024): higher than
    # every version before it, so the board reads only the agents that changed since it last
    # looked (wallboard/store/board_reader.py).
    # (The column's database default, 0, is the migration's, for the rows already there.)
    version: int = Field(default=0, sa_type=BigInteger)

    __table_args__ = (Index("ix_agents_version", "version"),)


class AgentQueue(SQLModel, table=True):
    """Queue membership: which queues an agent takes calls from."""

    __tablename__ = "agent_queues"

    agent: str = Field(primary_key=True, max_length=120)
    queue: str = Field(primary_key=True, max_length=80)


class AgentStateChange(SQLModel, table=True):
    """Append-only history of agent states; a state lasts until the agent's next row."""

    __tablename__ = "agent_state_changes"
    __table_args__ = (
        # An agent's last change before a window (its state at the window's start).
        Index("ix_agent_state_changes_agent_at", "agent", "at"),
        # The changes inside a window, whoever the agent.
        Index("ix_agent_state_changes_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    agent: str = Field(max_length=120)
    at: float
    state: str = Field(max_length=16)
    pause_reason: str | None = Field(default=None, max_length=80)


class QueueSnapshot(SQLModel, table=True):
    """Per-queue figures for today and now, rewritten by the feed process each second."""

    __tablename__ = "queue_snapshots"

    queue: str = Field(primary_key=True, max_length=80)
    waiting: int = 0
    oldest_waiting_since: float | None = None
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    exited: int = 0
    answered_within_sl: int = 0
    service_level_pct: float | None = None
    abandon_rate_pct: float | None = None
    asa_seconds: float | None = None
    aht_seconds: float | None = None
    max_wait_seconds: float | None = None
    blocked: int = 0
    agents_logged_in: int = 0
    agents_available: int = 0
    agents_on_call: int = 0
    agents_wrap_up: int = 0
    agents_paused: int = 0
    updated_at: float = 0.0


class Feed(SQLModel, table=True):
    """A feed's checkpoint and heartbeat, written in the same transaction as its rows."""

    __tablename__ = "feeds"

    name: str = Field(primary_key=True, max_length=300)
    kind: str = Field(max_length=20)
    # queue_log: the file (inode) and the byte offset after the last line applied
    inode: int | None = Field(default=None, sa_column=Column("inode", BigInteger))
    byte_offset: int = Field(default=0, sa_column=Column("byte_offset", BigInteger, nullable=False, default=0))
    lines_read: int = 0
    events_applied: int = 0
    lines_skipped: int = 0
    last_event_at: float | None = None
    heartbeat_at: float = 0.0
    # A file feed: "length:sha1" of the first bytes of the generation being read, to find it
    # again once rotated (and compressed: a new inode).
    fingerprint: str | None = Field(default=None, max_length=64)
    # A loss the feed could not avoid (a rotated generation gone before it was read), shown
    # on the board for a day.
    problem: str | None = Field(default=None, max_length=300)
    problem_at: float | None = None


class QueueDayRollup(SQLModel, table=True):
    """A queue's counts over one past day whose calls retention pruned ([retention] detail_days).

    The sums behind the queue report (wallboard.calls.counts.QueueCounts), counted when the
    day was rolled up, under the settings of that moment.
    """

    __tablename__ = "queue_day_rollups"

    day: float = Field(primary_key=True)  # the day's start in the site's time zone
    queue: str = Field(primary_key=True, max_length=80)
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    exited: int = 0
    answered_within_sl: int = 0
    abandoned_within_sl: int = 0
    wait_sum: float = 0.0
    handle_sum: float = 0.0
    handled: int = 0
    max_wait: float | None = None
    blocked: int = 0
    # JSON object: why the queue refused callers (full, joinempty, ...) -> how many
    blocked_reasons: str = Field(default="{}", max_length=2000)


class AgentDayRollup(SQLModel, table=True):
    """An agent's figures over one past day whose detail (calls, state changes) retention pruned."""

    __tablename__ = "agent_day_rollups"

    day: float = Field(primary_key=True)  # the day's start in the site's time zone
    agent: str = Field(primary_key=True, max_length=120)
    answered: int = 0
    talk_seconds: float = 0.0
    handle_seconds: float = 0.0  # talk + wrap-up of the answered calls that ended
    handled: int = 0
    # JSON objects: state -> seconds in it; pause reason -> seconds paused for it
    states: str = Field(default="{}", max_length=2000)
    pause_reasons: str = Field(default="{}", max_length=4000)


class HistoryMark(SQLModel, table=True):
    """Named moments of the kept history: "detail_from", where the detail retention kept
    begins (the days before it are served from the roll-ups)."""

    __tablename__ = "history_marks"

    name: str = Field(primary_key=True, max_length=40)
    at: float


# Users, complaints and call-backs live in their own modules; importing it here puts their tables on
# the same metadata, so Alembic and every importer of db.models see the whole schema.
from db import alerts, callbacks, callers, complaints, quality, reminders, saved_views, ssh_sessions  # noqa: E402, F401
