"""Complaint benchmark: saved views and full-text search on a large database.

    .venv/bin/python tests/benchmarks/complaints.py [--complaints 1000000] [--backend sqlite|postgresql]
                                                    [--keep DIR] [--runs 40]

Bulk-loads N complaints with 5 audit events each (driver executemany, not the service: the
service is measured by the tests), over two years: old ones closed, recent ones in every
status, ~5 % open. Then times, through `ComplaintService` (SQL + building the results), the
first page (50) of each saved view and a full-text search, and prints p50/p95 in ms.
Targets: p95 <= 50 ms per saved view's first page, <= 100 ms for search.
`--backend postgresql` starts a throwaway server (tests/postgres.py).
Not collected by pytest (tests/benchmarks is outside the test run).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from db import open_database
from db.complaints import AuditEvent, Complaint, ComplaintSearch, User
from db.engine import insert_many, write_transaction
from tickets.outcomes import PERIODS, outcome_report, period_window
from tickets.saved_views import parse_filter, view_query
from tickets.service import ComplaintService
from wallboard.config import Settings

NOW = 1_795_420_800.0  # 2026-11-23 08:00 UTC, a Monday
DAY = 86400.0
AGENTS = 300
SUPERVISORS = 12
BATCH = 20_000
SEVERITIES = ("low", "normal", "normal", "normal", "high", "critical")
OPEN_STATUSES = ("new", "acknowledged", "in_progress", "in_progress", "waiting", "reopened")
CAUSES = ("agent", "business", "process", "system")


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    syllables = [
        "ka",
        "lo",
        "mi",
        "ne",
        "ru",
        "ta",
        "shi",
        "po",
        "ve",
        "de",
        "an",
        "or",
        "el",
        "in",
        "us",
        "ba",
        "ge",
        "zo",
    ]
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class Words:
    """Zipf-like word picker: a few words are everywhere, most are rare."""

    def __init__(self, rng: random.Random, words: list[str]) -> None:
        self.rng, self.words = rng, words
        self.weights = [1 / (rank + 10) for rank in range(len(words))]
        self.cumulative = list(__import__("itertools").accumulate(self.weights))

    def pick(self, k: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cumulative, k=k)


def load(engine, n: int, seed: int) -> dict:
    rng = random.Random(seed)
    words = Words(rng, vocabulary(rng))
    surnames = vocabulary(random.Random(seed + 1), 5000)
    user_rows = [(i + 1, f"agent{i + 1:03d}", "agent", True, NOW - 800 * DAY) for i in range(AGENTS)]
    user_rows += [
        (AGENTS + i + 1, f"super{i + 1:02d}", "supervisor", True, NOW - 800 * DAY) for i in range(SUPERVISORS)
    ]
    with write_transaction(engine) as connection:
        insert_many(connection, User.__table__, ("id", "name", "role", "active", "created_at"), user_rows)

    complaint_columns = (
        "id",
        "customer_name",
        "customer_contact",
        "channel",
        "callid",
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
    audit_columns = ("changeset", "at", "actor_id", "complaint_id", "kind", "field", "old", "new", "note")
    search_columns = ("complaint_id", "document")
    span = 730 * DAY
    began = time.perf_counter()
    complaints, audits, documents = [], [], []
    open_count = 0

    def flush() -> None:
        with write_transaction(engine) as connection:
            insert_many(connection, Complaint.__table__, complaint_columns, complaints)
            insert_many(connection, ComplaintSearch.__table__, search_columns, documents)
            insert_many(connection, AuditEvent.__table__, audit_columns, audits)
        complaints.clear(), audits.clear(), documents.clear()

    for cid in range(1, n + 1):
        created = NOW - span * (1 - cid / n) - rng.random() * 3600
        age = NOW - created
        owner = rng.randint(1, AGENTS)
        severity = rng.choice(SEVERITIES)
        subject = " ".join(words.pick(rng.randint(3, 7)))
        description = " ".join(words.pick(rng.randint(15, 40)))
        customer = f"{rng.choice(surnames).title()} {rng.choice(surnames).title()}"
        contact = f"+44 7{rng.randint(100000000, 999999999)}"
        note = " ".join(words.pick(rng.randint(4, 10)))
        # Old complaints are closed; the last weeks hold every status.
        if age > 30 * DAY or rng.random() < 0.55:
            status = "closed" if age > 10 * DAY or rng.random() < 0.5 else "resolved"
        else:
            status = rng.choice(OPEN_STATUSES)
        is_open = status not in ("resolved", "closed")
        open_count += is_open
        ack_due = created + rng.choice((1, 2, 4, 8)) * 3600 * 2
        resolve_due = created + rng.choice((8, 16, 40, 80)) * 3600 * 2.4
        paused_since = created + (resolve_due - created) / 2 if status in ("waiting", "resolved", "closed") else None
        sla_due = ack_due if status == "new" else (None if paused_since else resolve_due)
        promise = created + rng.uniform(2, 72) * 3600 if is_open and rng.random() < 0.4 else None
        dues = [d for d in (sla_due, promise) if d is not None]
        due = min(dues) if is_open and dues else None
        if is_open and rng.random() < 0.01:
            owner = None
        escalation = rng.choice((1, 1, 2)) if is_open and due is not None and due < NOW and rng.random() < 0.2 else 0
        changed = created + min(age, rng.uniform(0.1, 5) * DAY)
        closed = status == "closed"
        complaints.append(
            (
                cid,
                customer,
                contact,
                "phone",
                f"{created:.0f}.{cid}",
                severity,
                subject,
                description,
                status,
                owner,
                owner or 1,
                created,
                changed,
                owner,
                changed,
                changed if status in ("resolved", "closed") else None,
                changed if closed else None,
                ack_due,
                resolve_due,
                0.0,
                paused_since,
                sla_due,
                promise,
                due,
                rng.choice(CAUSES) if not is_open else None,
                "answered" if not is_open else None,
                (rng.random() < 0.7) if closed else None,
                rng.random() < 0.001,
                escalation,
                5,
            )
        )
        documents.append((cid, " ".join((subject, customer.lower(), contact[1:].replace(" ", " "), description, note))))
        actor = owner or 1
        changeset = uuid.uuid4().hex
        audits.extend(
            (
                (changeset, created, actor, cid, "create", "status", None, "new", None),
                (changeset, created, actor, cid, "create", "owner", None, f"agent{actor:03d}", None),
                (uuid.uuid4().hex, created + 600, actor, cid, "acknowledge", "status", "new", "acknowledged", None),
                (uuid.uuid4().hex, created + 900, actor, cid, "follow_up", "callback", None, "later", note),
                (uuid.uuid4().hex, changed, actor, cid, "start", "status", "acknowledged", status, None),
            )
        )
        if len(complaints) >= BATCH:
            flush()
            done = cid / n
            rate = cid / (time.perf_counter() - began)
            print(f"\r  loaded {cid:,} complaints ({done:.0%}, {rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    if complaints:
        flush()
    print(file=sys.stderr)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    return {"seconds": time.perf_counter() - began, "open": open_count, "words": words, "surnames": surnames}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def measure(label: str, runs: int, call) -> tuple[str, float, float, int]:
    call(0)  # warm the cache and the statement cache
    samples, rows = [], 0
    for i in range(runs):
        began = time.perf_counter()
        rows = len(call(i))
        samples.append(time.perf_counter() - began)
    p50, p95 = percentiles(samples)
    return label, p50, p95, rows


def run(url: str, n: int, runs: int, seed: int) -> None:
    engine = open_database(url, migrate=True)
    with engine.connect() as connection:
        existing = connection.exec_driver_sql("SELECT count(*) FROM complaints").scalar()
    if existing:  # a kept database: measure again without loading
        print(f"{engine.dialect.name}: reusing {existing:,} complaints", file=sys.stderr)
        rng = random.Random(seed)
        loaded = {"words": Words(rng, vocabulary(rng)), "surnames": vocabulary(random.Random(seed + 1), 5000)}
    else:
        print(f"{engine.dialect.name}: loading {n:,} complaints with 5 events each", file=sys.stderr)
        loaded = load(engine, n, seed)
        print(
            f"loaded in {loaded['seconds']:.0f} s ({n / loaded['seconds']:,.0f} complaints/s, {loaded['open']:,} open)"
        )
    settings = Settings()
    service = ComplaintService(engine, settings, clock=lambda: NOW)
    rng = random.Random(seed + 2)
    words: Words = loaded["words"]
    # Search terms of every frequency: the customers' surnames, and words drawn as they occur.
    rare_terms = [rng.choice(loaded["surnames"]) for _ in range(runs)]
    drawn_terms = words.pick(runs)
    pair_terms = [" ".join(words.pick(2)) for _ in range(runs)]
    high = parse_filter({"severities": ["high"], "sort": "newest"})
    outcomes: list[tuple[str, float, float, int]] = []
    results = [
        measure("view mine open", runs, lambda i: service.view("mine", f"agent{rng.randint(1, AGENTS):03d}", now=NOW)),
        measure("view due today", runs, lambda i: service.view("due_today", now=NOW - i * 3600)),
        measure("view overdue", runs, lambda i: service.view("overdue", now=NOW - i * 600)),
        measure("view unassigned", runs, lambda i: service.view("unassigned", now=NOW)),
        measure("view waiting on customer", runs, lambda i: service.view("waiting", now=NOW)),
        measure("view escalated", runs, lambda i: service.view("escalated", now=NOW)),
        measure("view all open", runs, lambda i: service.view("all_open", now=NOW)),
        measure("search a customer's surname", runs, lambda i: service.search(rare_terms[i])),
        measure("search a word (as drawn)", runs, lambda i: service.search(drawn_terms[i])),
        measure("search two words", runs, lambda i: service.search(pair_terms[i])),
        measure("search the commonest word", max(5, runs // 4), lambda i: service.search(words.words[0])),
        measure(
            "saved view: high, newest", runs, lambda i: service.queries.page(view_query(high, service.queries, NOW))
        ),
    ]
    # The outcomes screen's read (UserDesk.outcomes): the report over each period by queue.
    for period in PERIODS:
        window = period_window(service.calendar, period, NOW)
        outcomes.append(
            measure(
                f"outcomes {period} by queue",
                max(3, runs // 8),
                lambda i, window=window: outcome_report(engine, settings, *window, NOW, "queue").groups,
            )
        )
    print(f"\n{'first page (50) of':32} {'p50 ms':>8} {'p95 ms':>8} {'rows':>6}  target p95")
    for label, p50, p95, rows in results:
        target = 100 if label.startswith("search") else 50
        verdict = "ok" if p95 <= target else "OVER"
        print(f"{label:32} {p50:8.1f} {p95:8.1f} {rows:6d}  <= {target} ms {verdict}")
    print(f"\n{'outcomes screen read':32} {'p50 ms':>8} {'p95 ms':>8} {'groups':>6}  (first paint: today's)")
    for label, p50, p95, rows in outcomes:
        print(f"{label:32} {p50:8.1f} {p95:8.1f} {rows:6d}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--keep", type=Path, help="Directory for the SQLite file, kept afterwards (and reused when run again)."
    )
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if args.backend == "postgresql":
        from tests.support import postgres

        with postgres.throwaway_server() as server:
            run(server.url, args.complaints, args.runs, args.seed)
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(f"sqlite:///{args.keep / 'complaints.db'}", args.complaints, args.runs, args.seed)
        return
    with tempfile.TemporaryDirectory(dir="/var/tmp") as directory:
        run(f"sqlite:///{Path(directory) / 'complaints.db'}", args.complaints, args.runs, args.seed)


if __name__ == "__main__":
    main()
