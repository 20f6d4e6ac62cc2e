"""Property: however a day's lines arrive (any order, any repeats, any batches), and in
whichever of the two text forms, the figures are the clean day's."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import UTC, datetime

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from db import open_database
from db.engine import write_transaction
from db.models import Agent, AgentQueue, AgentStateChange, Call
from wallboard.calls.events import CALL_EVENTS, Event, EventKind
from wallboard.config import Settings
from wallboard.feeds.jsonl import JsonLinesParser
from wallboard.feeds.queue_log import QueueLogParser, format_event
from wallboard.feeds.simulator import FloorSimulator, SimulatorSettings
from wallboard.store.applier import EventApplier
from wallboard.store.metrics import queue_report

START = datetime(2024, 3, 4, 9, tzinfo=UTC).timestamp()  # a Monday morning


def a_morning_with_callers_coming_back() -> list[Event]:
    """Two simulated hours; then every third call that left a queue unanswered comes back into
    the same queue under the same callid (a re-entry) as the next call of that queue."""
    events = [
        e for e in FloorSimulator(SimulatorSettings(seed=3), START).advance(START + 2 * 3600) if e.kind in CALL_EVENTS
    ]
    left: dict[str, list[str]] = {}
    first_seen: dict[str, tuple[str, float]] = {}
    for event in events:
        if event.kind is EventKind.CALL_ENTERED:
            first_seen[event.callid] = (event.queue, event.ts)
        elif event.kind in (EventKind.CALL_ABANDONED, EventKind.CALL_EXITED):
            left.setdefault(event.queue, []).append(event.callid)
    renamed: dict[str, str] = {}
    for queue, callids in left.items():
        for gone in callids[::3]:
            gone_at = max(e.ts for e in events if e.callid == gone)
            later = sorted(
                (ts, callid)
                for callid, (q, ts) in first_seen.items()
                if q == queue and ts > gone_at + 5 and callid not in renamed
            )
            if later:
                renamed[later[0][1]] = gone
    return [replace(_whole_seconds(e), callid=renamed.get(e.callid, e.callid)) for e in events]


def _whole_seconds(event: Event) -> Event:
    """The event as Asterisk would log it: whole seconds, so both text forms carry the same day."""

    def whole(value: float | None) -> float | None:
        return None if value is None else float(round(value))

    return replace(
        event,
        ts=float(round(event.ts)),
        wait_seconds=whole(event.wait_seconds),
        talk_seconds=whole(event.talk_seconds),
        ring_seconds=whole(event.ring_seconds),
    )


DAY = a_morning_with_callers_coming_back()
QUEUE_LOG = [line for e in DAY if (line := format_event(e)) is not None]
JSON_LINES = [json.dumps({k: v for k, v in asdict(e).items() if v is not None}) for e in DAY]


def figures(engine: Engine, settings: Settings) -> list[dict]:
    with engine.connect() as connection:
        report = queue_report(connection, settings, None, None)
    return report.queues + [report.total]


def ingest(engine: Engine, lines: list[str], parser: QueueLogParser | JsonLinesParser, batch: int) -> None:
    events = [event for line in lines if (event := parser.parse(line)) is not None]
    for start in range(0, len(events), batch):
        with write_transaction(engine) as connection:
            EventApplier().apply(connection, events[start : start + batch])


def empty(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        for model in (Call, Agent, AgentQueue, AgentStateChange):
            connection.execute(model.__table__.delete())


_CLEAN_DAY: list[list[dict]] = []


def clean_days_figures(engine: Engine, settings: Settings) -> list[dict]:
    """The figures of the day ingested once, in order, in one batch: worked out by the first
    example only (the same for every example: each costs its own ingest, not this one too)."""
    if not _CLEAN_DAY:
        empty(engine)
        ingest(engine, QUEUE_LOG, QueueLogParser(), 10_000)
        _CLEAN_DAY.append(figures(engine, settings))
    return _CLEAN_DAY[0]


def test_the_generated_morning_has_re_entries() -> None:
    entries = [(e.callid, e.queue) for e in DAY if e.kind is EventKind.CALL_ENTERED]
    assert len(entries) - len(set(entries)) >= 5


@hypothesis_settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    order=st.randoms(use_true_random=False),
    repeats=st.lists(st.integers(min_value=0, max_value=len(QUEUE_LOG) - 1), max_size=60),
    batch=st.sampled_from([1, 7, 100, 10_000]),
)
def test_any_interleaving_and_repetition_gives_the_clean_days_figures(tmp_path, order, repeats, batch) -> None:
    settings = Settings()
    settings.database.url = f"sqlite:///{tmp_path / 'property.db'}"
    engine = open_database(settings.database_url(), migrate=True)
    try:
        clean = clean_days_figures(engine, settings)
        empty(engine)
        lines = QUEUE_LOG + [QUEUE_LOG[i] for i in repeats]
        order.shuffle(lines)
        ingest(engine, lines, QueueLogParser(), batch)
        assert figures(engine, settings) == clean
    finally:
        engine.dispose()


def test_the_queue_log_and_json_lines_forms_of_a_day_agree(engine, settings) -> None:
    ingest(engine, QUEUE_LOG, QueueLogParser(), 500)
    from_queue_log = figures(engine, settings)
    empty(engine)
    ingest(engine, JSON_LINES, JsonLinesParser(), 500)
    from_json_lines = figures(engine, settings)
    assert from_json_lines == from_queue_log
