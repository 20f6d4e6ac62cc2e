"""A large complaint tracker for the complaint benchmarks (complaints.py, complaints_export.py).

`load(engine, complaints=..., follow_ups_per=..., calls=...)` fills an empty, migrated
database with two years of a floor: calls spread evenly (10M is ~13,700 a day), 1 in
`1/PHONE_SHARE` complaints logged from one of those calls (its queue and agent copied on the
complaint, as the service does), the rest by e-mail, chat or letter; old complaints closed,
the last weeks in every status; ~5 follow-ups per complaint (promises and corrective
actions), due hours to days after the complaint, kept on time, late, moved, not answered
or missed; a closed complaint's promises still open lapsed at its close, with their audit
rows in the close's changeset (as `ComplaintService.close` leaves them); an audit trail of
status moves (some reopened within 30 days, some escalated).

How it loads fast, the way a real bulk load does: the big tables' secondary indexes (and
SQLite's full-text trigger) are dropped first and built once at the end, the rows go to
the driver as plain tuples (SQLite: executemany in batches of 50,000 with synchronous off
and foreign keys unchecked; PostgreSQL: COPY, with triggers off for the session, so no
per-row foreign-key checks), then ANALYZE. Not collected by pytest.
"""

from __future__ import annotations

import itertools
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from tickets.records import LAPSED

NOW = 1_795_420_800.0  # 2026-11-23 08:00 UTC, a Monday
DAY = 86400.0
SPAN = 730 * DAY  # two years of data up to NOW
AGENTS = 300
SUPERVISORS = 12
BATCH = 50_000
QUEUES = ("sales", "support", "billing", "retention", "collections", "technical")
SEVERITIES = ("low", "normal", "normal", "normal", "high", "critical")
OPEN_STATUSES = ("new", "acknowledged", "in_progress", "in_progress", "waiting", "reopened")
CAUSES = ("agent", "business", "process", "process", "system")
CATEGORIES = ("billing error", "refund", "rude agent", "delivery", "long wait", "wrong advice", None)
PHONE_SHARE = 0.6
PROMISES = ("callback", "callback", "action")
CORRECTIVE = ("coaching", "training", "process_fix", "kb_update", "system_change")

COMPLAINT_COLUMNS = (
    "id",
    "customer_name",
    "customer_contact",
    "channel",
    "callid",
    "call_queue",
    "call_agent",
    "caller_number",
    "category",
    "severity",
    "subject",
    "description",
    "status",
    "owner_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "updated_by_id",
    "status_changed_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "ack_due_at",
    "resolve_due_at",
    "sla_paused_seconds",
    "sla_paused_since",
    "sla_due_at",
    "next_follow_up_at",
    "due_at",
    "root_cause",
    "resolution",
    "customer_confirmed",
    "malicious",
    "escalation_level",
    "version",
)
FOLLOW_UP_COLUMNS = (
    "id",
    "complaint_id",
    "kind",
    "owner_id",
    "due_at",
    "note",
    "created_by_id",
    "created_at",
    "outcome",
    "outcome_note",
    "outcome_at",
    "outcome_by_id",
)
AUDIT_COLUMNS = ("changeset", "at", "actor_id", "complaint_id", "kind", "field", "old", "new", "note", "follow_up_id")
SEARCH_COLUMNS = ("complaint_id", "document")
CALL_COLUMNS = (
    "callid",
    "queue",
    "caller",
    "position",
    "agent",
    "enter_at",
    "enter_known",
    "answer_at",
    "answer_known",
    "end_at",
    "wait_seconds",
    "talk_seconds",
    "outcome",
)
# The tables whose secondary indexes are built after the load.
BIG_TABLES = ("calls", "complaints", "follow_ups", "audit_events", "complaint_search")


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    syllables = "ka lo mi ne ru ta shi po ve de an or el in us ba ge zo".split()
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class Words:
    """Zipf-like word picker: a few words are everywhere, most are rare."""

    def __init__(self, rng: random.Random, words: list[str]) -> None:
        self.rng, self.words = rng, words
        self.cumulative = list(itertools.accumulate(1 / (rank + 10) for rank in range(len(words))))

    def pick(self, k: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cumulative, k=k)


def words_of(seed: int) -> tuple[Words, list[str]]:
    """The words and surnames `load` drew with this seed (to search for them again)."""
    rng = random.Random(seed)
    return Words(rng, vocabulary(rng)), vocabulary(random.Random(seed + 1), 5000)


# -- calls: a pure function of their number, so a complaint can name its call -----------


def call_of(j: int, calls: int, span: float = SPAN) -> tuple[str, str, str, float, bool]:
    """Call number j's (callid, queue, agent, entered, answered): calls evenly spread over
    SPAN, queue, agent and answering from a multiplicative hash (no generator state)."""
    spread = (j * 2654435761) & 0xFFFFFFFF
    entered = NOW - span + (j + 0.5) * span / calls
    queue = QUEUES[spread % len(QUEUES)]
    agent = f"Agent {1 + (spread >> 8) % AGENTS:03d}"
    answered = (spread >> 16) % 100 < 88
    return f"{entered:.0f}.{j}", queue, agent, entered, answered


def call_rows(calls: int, span: float) -> Iterator[tuple[Any, ...]]:
    for j in range(calls):
        callid, queue, agent, entered, answered = call_of(j, calls, span)
        spread = (j * 40503) & 0xFFFF
        wait = float(spread % 240)
        if answered:
            talk = 60.0 + spread % 600
            yield (
                callid,
                queue,
                f"+44 7{spread * 7919 % 1_000_000_000:09d}",
                1 + spread % 5,
                agent,
                entered,
                True,
                entered + wait,
                True,
                entered + wait + talk,
                wait,
                talk,
                "completed",
            )
        else:
            yield (
                callid,
                queue,
                f"+44 7{spread * 7919 % 1_000_000_000:09d}",
                1 + spread % 5,
                None,
                entered,
                True,
                None,
                True,
                entered + wait,
                wait,
                None,
                "abandoned",
            )


# -- complaints, their follow-ups, audit trail and search documents ----------------------


@dataclass
class Loaded:
    seconds: float = 0.0
    complaints: int = 0
    open: int = 0
    follow_ups: int = 0
    lapsed: int = 0  # promises lapsed when their complaint closed
    calls: int = 0
    phases: dict[str, float] = field(default_factory=dict)


def complaint_batches(
    complaints: int, follow_ups_per: int, calls: int, span: float, seed: int, loaded: Loaded
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """(complaints, search documents, follow-ups, audit events) in batches of BATCH complaints."""
    words, surnames = words_of(seed)
    rng = random.Random(seed + 3)
    # Changesets from their own generator (uuid4 cost a fifth of the generating; a stream
    # apart leaves the rest of the data as it was drawn before).
    changesets = random.Random(seed + 4)

    def changeset() -> str:
        return f"{changesets.getrandbits(128):032x}"

    follow_up_id = 0
    rows: list[tuple[Any, ...]] = []
    documents: list[tuple[Any, ...]] = []
    follow_ups: list[tuple[Any, ...]] = []
    audits: list[tuple[Any, ...]] = []
    batch = (rows, documents, follow_ups, audits)
    for cid in range(1, complaints + 1):
        phone = calls > 0 and rng.random() < PHONE_SHARE
        created = NOW - span * (1 - cid / complaints) - rng.random() * 3600
        callid = call_queue = call_agent = caller = None
        if phone:
            j = min(calls - 1, max(0, int((created - (NOW - span)) / span * calls) - 3))
            callid, call_queue, call_agent, entered, _ = call_of(j, calls, span)
            created = max(created, entered + 300)
            caller = f"+44 7{rng.randint(100000000, 999999999)}"
        age = NOW - created
        owner: int | None = rng.randint(1, AGENTS)
        severity = rng.choice(SEVERITIES)
        subject = " ".join(words.pick(rng.randint(3, 7)))
        description = " ".join(words.pick(rng.randint(15, 40)))
        customer = f"{rng.choice(surnames).title()} {rng.choice(surnames).title()}"
        contact = caller or f"+44 7{rng.randint(100000000, 999999999)}"
        note = " ".join(words.pick(rng.randint(4, 10)))
        # Old complaints are closed; the last weeks hold every status.
        if age > 30 * DAY or rng.random() < 0.55:
            status = "closed" if age > 10 * DAY or rng.random() < 0.5 else "resolved"
        else:
            status = rng.choice(OPEN_STATUSES)
        finished = status in ("resolved", "closed")
        is_open = not finished
        loaded.open += is_open
        ack_due = created + rng.choice((1, 2, 4, 8)) * 3600 * 2
        resolve_due = created + rng.choice((8, 16, 40, 80)) * 3600 * 2.4
        acknowledged = None if status == "new" else created + rng.uniform(0.05, 1.4) * (ack_due - created)
        resolved = min(NOW, created + rng.uniform(0.2, 1.5) * (resolve_due - created)) if finished else None
        closed = min(NOW, resolved + 2 * DAY) if status == "closed" and resolved else None
        paused_since = resolved if finished else (created + 3600 if status == "waiting" else None)
        sla_due = ack_due if status == "new" else (None if paused_since else resolve_due)
        promise = created + rng.uniform(2, 72) * 3600 if is_open and rng.random() < 0.4 else None
        dues = [d for d in (sla_due, promise) if d is not None]
        due = min(dues) if is_open and dues else None
        if is_open and rng.random() < 0.01:
            owner = None
        overdue = due is not None and due < NOW
        escalation = rng.choice((1, 1, 2)) if is_open and overdue and rng.random() < 0.2 else 0
        changed = closed or resolved or (acknowledged or created)
        actor = owner or 1
        rows.append(
            (
                cid,
                customer,
                contact,
                "phone" if phone else rng.choice(("email", "chat", "letter")),
                callid,
                call_queue,
                call_agent,
                caller,
                rng.choice(CATEGORIES),
                severity,
                subject,
                description,
                status,
                owner,
                actor,
                created,
                changed,
                owner,
                changed,
                acknowledged,
                resolved,
                closed,
                ack_due,
                resolve_due,
                rng.choice((0.0, 0.0, 0.0, 3600.0)),
                paused_since,
                sla_due,
                promise,
                due,
                rng.choice(CAUSES) if finished else None,
                "Answered and put right" if finished else None,
                (rng.random() < 0.7) if closed else None,
                rng.random() < 0.001,
                escalation,
                5,
            )
        )
        documents.append((cid, " ".join((subject, customer.lower(), contact[1:], description, note))))
        # The audit trail's status moves, as the report reads them; 3 % reopened within 30 days.
        created_set = changeset()
        audits.append((created_set, created, actor, cid, "create", "status", None, "new", None, None))
        audits.append((created_set, created, actor, cid, "create", "owner", None, f"agent{actor:03d}", None, None))
        if acknowledged is not None:
            audits.append(
                (changeset(), acknowledged, actor, cid, "acknowledge", "status", "new", "acknowledged", None, None)
            )
        if resolved is not None:
            audits.append(
                (changeset(), resolved, actor, cid, "resolve", "status", "in_progress", "resolved", None, None)
            )
            if status == "resolved" and rng.random() < 0.03:
                audits.append(
                    (changeset(), resolved + DAY, actor, cid, "reopen", "status", "resolved", "reopened", None, None)
                )
        close_set = changeset()
        if closed is not None:
            audits.append((close_set, closed, None, cid, "close", "status", "resolved", "closed", None, None))
        if escalation:
            audits.append(
                (
                    changeset(),
                    due or created,
                    None,
                    cid,
                    "escalate",
                    "escalation_level",
                    "0",
                    str(escalation),
                    None,
                    None,
                )
            )
        # Follow-ups: promises to the customer and corrective actions, due hours to days on.
        for _ in range(rng.randint(follow_ups_per - 2, follow_ups_per + 2) if follow_ups_per else 0):
            kind = rng.choice(PROMISES) if rng.random() < 0.8 else rng.choice(CORRECTIVE)
            set_at = created + rng.uniform(0.1, 24) * 3600
            due_at = set_at + rng.uniform(2, 240) * 3600
            outcome = outcome_note = outcome_at = outcome_by = None
            roll = rng.random()
            if due_at < NOW and roll < 0.92:
                outcome_by = actor
                if roll < 0.70:
                    outcome, outcome_at = "done", due_at - rng.uniform(0, 4) * 3600
                elif roll < 0.82:
                    outcome, outcome_at = "done", due_at + rng.uniform(1, 48) * 3600
                elif roll < 0.87:
                    outcome, outcome_at = "no_answer", due_at - rng.uniform(0, 2) * 3600
                else:
                    outcome, outcome_at = "rescheduled", due_at - rng.uniform(0, 2) * 3600
                outcome_note = "called the customer" if kind == "callback" else "done"
            elif finished and due_at >= (resolved or NOW):
                outcome, outcome_at, outcome_by = "done", resolved, actor  # settled by the resolution
            follow_up_id += 1
            if closed is not None and outcome is None and kind in PROMISES:
                # Closing lapses the promises still open (tickets/service.py), by the closer (none: auto-closed).
                outcome, outcome_at = LAPSED, closed
                audits.append((close_set, closed, None, cid, "close", "outcome", None, LAPSED, None, follow_up_id))
                loaded.lapsed += 1
            follow_ups.append(
                (
                    follow_up_id,
                    cid,
                    kind,
                    actor,
                    due_at,
                    note,
                    actor,
                    set_at,
                    outcome,
                    outcome_note,
                    outcome_at,
                    outcome_by,
                )
            )
        if len(rows) >= BATCH or cid == complaints:
            yield batch
            for part in batch:
                part.clear()


# -- bulk loading ------------------------------------------------------------------------


def _secondary_indexes(connection: Connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of `table`'s indexes that are not a key's own."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
        )
    else:
        rows = connection.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            (table,),
        )
    return [(name, sql) for name, sql in rows]


def _insert(connection: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """Rows as plain tuples to the driver: COPY on PostgreSQL, executemany on SQLite."""
    if connection.dialect.name == "postgresql":
        count = 0
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    listed = rows if isinstance(rows, list) else list(rows)
    if not listed:  # executemany of no rows is an error to the driver (no follow-ups asked for)
        return 0
    marks = ", ".join("?" * len(columns))
    connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", listed)
    return len(listed)


def _in_batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _progress(label: str, done: int, total: int, began: float) -> None:
    rate = done / max(time.perf_counter() - began, 1e-9)
    print(f"\r  {label}: {done:,} of {total:,} ({rate:,.0f}/s)   ", end="", file=sys.stderr, flush=True)


def load(
    engine: Engine, complaints: int, follow_ups_per: int = 5, calls: int = 0, seed: int = 2026, days: float = 730
) -> Loaded:
    """Fill the empty, migrated database at `engine` (see the module's docstring) with
    `days` of data up to NOW. Fewer days at the same density (complaints / days) give a
    report window the same rows as the full history would, in less building time."""
    span = days * DAY
    loaded = Loaded(complaints=complaints, calls=calls)
    began = time.perf_counter()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:  # outside a transaction (SQLAlchemy would begin one): on the driver's connection
            raw = connection.connection.driver_connection
            # 1 GiB of cache: CREATE INDEX sorts within the cache size before it spills to
            # temporary files (kept in memory too), and the calls index sorts 10M keys.
            for pragma in (
                "foreign_keys = OFF",
                "synchronous = OFF",
                "cache_size = -1048576",
                "temp_store = MEMORY",
            ):
                raw.execute(f"PRAGMA {pragma}")  # type: ignore[union-attr]
        else:
            connection.exec_driver_sql("SET session_replication_role = replica")  # no triggers, no FK checks
            connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        connection.commit()
        dropped: list[tuple[str, str]] = []
        for table in BIG_TABLES:
            dropped += _secondary_indexes(connection, table)
        fts_trigger = None
        if sqlite:
            fts_trigger = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'complaint_search_fts_insert'"
            ).scalar()
            if fts_trigger:
                connection.exec_driver_sql("DROP TRIGGER complaint_search_fts_insert")
        for name, _ in dropped:
            connection.exec_driver_sql(f"DROP INDEX {name}")
        users = [(i + 1, f"agent{i + 1:03d}", "agent", True, NOW - 800 * DAY) for i in range(AGENTS)]
        users += [
            (AGENTS + i + 1, f"super{i + 1:02d}", "supervisor", True, NOW - 800 * DAY) for i in range(SUPERVISORS)
        ]
        _insert(connection, "users", ("id", "name", "role", "active", "created_at"), users)
        connection.commit()

        phase = time.perf_counter()
        written = 0
        for part in _in_batches(call_rows(calls, span), BATCH * 4):
            written += _insert(connection, "calls", CALL_COLUMNS, part)
            connection.commit()
            _progress("calls", written, calls, phase)
        loaded.phases["calls"] = time.perf_counter() - phase
        print(file=sys.stderr)

        phase = time.perf_counter()
        done = 0
        for rows, documents, follow_ups, audits in complaint_batches(
            complaints, follow_ups_per, calls, span, seed, loaded
        ):
            done += _insert(connection, "complaints", COMPLAINT_COLUMNS, rows)
            _insert(connection, "complaint_search", SEARCH_COLUMNS, documents)
            loaded.follow_ups += _insert(connection, "follow_ups", FOLLOW_UP_COLUMNS, follow_ups)
            _insert(connection, "audit_events", AUDIT_COLUMNS, audits)
            connection.commit()
            _progress("complaints", done, complaints, phase)
        loaded.phases["complaints"] = time.perf_counter() - phase
        print(file=sys.stderr)

        phase = time.perf_counter()
        for name, sql in dropped:
            print(f"\r  index {name}   ", end="", file=sys.stderr, flush=True)
            connection.exec_driver_sql(sql)
            connection.commit()
        if fts_trigger:
            connection.exec_driver_sql("INSERT INTO complaint_search_fts (complaint_search_fts) VALUES ('rebuild')")
            connection.exec_driver_sql(fts_trigger)
        if sqlite:
            connection.exec_driver_sql("ANALYZE")
        else:
            connection.exec_driver_sql("SET session_replication_role = DEFAULT")
            # Sequences behind the explicit ids.
            connection.exec_driver_sql("SELECT setval('users_id_seq', (SELECT max(id) FROM users))")
            connection.exec_driver_sql("SELECT setval('complaints_id_seq', (SELECT max(id) FROM complaints))")
            if loaded.follow_ups:
                connection.exec_driver_sql("SELECT setval('follow_ups_id_seq', (SELECT max(id) FROM follow_ups))")
        connection.commit()
        loaded.phases["indexes"] = time.perf_counter() - phase
        print(file=sys.stderr)
    if not sqlite:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    loaded.seconds = time.perf_counter() - began
    return loaded


def timed(call: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, thread CPU seconds, result) of one call."""
    wall, cpu = time.perf_counter(), time.thread_time()
    result = call()
    return time.perf_counter() - wall, time.thread_time() - cpu, result
