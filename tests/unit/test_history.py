"""History at any size: the floor's queries bounded in time (same results as unbounded, an
index the planner uses), the agent report's state at the window's start, and retention's
roll-ups giving the same report figures once the detail is pruned."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, func, select

from db.engine import write_transaction
from db.maintenance import analyze
from db.models import AgentStateChange, Call, table_of
from tests.support import BACKENDS, DATA, on_backend
from wallboard.calls.counts import day_start
from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K
from wallboard.config import Settings
from wallboard.feeds.live import SimulationRun
from wallboard.feeds.simulator import SimulatorSettings
from wallboard.store.applier import EventApplier
from wallboard.store.board_reader import read_trend
from wallboard.store.metrics import (
    _detail_queue_counts,
    agent_report,
    agent_states,
    queue_counts,
    queue_report,
    refresh_snapshots,
)
from wallboard.store.retention import detail_kept_from, roll_up_and_prune

CALLS = table_of(Call)
STATE_CHANGES = table_of(AgentStateChange)
DAY = 86400.0
# A Thursday, 15:00 UTC: the simulated floor runs from three days before midnight to here.
NOW = 1_795_100_400.0
T0 = 1_700_000_000.0


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    return on_backend(request, settings)


def simulate_floor(engine: Engine, settings: Settings, days: int = 3) -> None:
    """`days` days and an afternoon of an 8-agent floor, through the real applier."""
    start = day_start(settings, NOW) - days * DAY
    run = SimulationRun(SimulatorSettings(seed=7, agents=8, calls_per_hour=60), start=start, hours=(NOW - start) / 3600)
    run.into_database(engine, settings, speed=None, stop=threading.Event(), clock=lambda: NOW)


def windows(settings: Settings) -> list[tuple[float | None, float | None]]:
    today = day_start(settings, NOW)
    return [
        (None, None),
        (today, None),
        (today - DAY, today),
        (today - 3 * DAY, today - DAY),
        (today - 1.5 * DAY, today - 0.25 * DAY),  # mid-day to mid-day
        (None, today - 2 * DAY),
        (today + 3600, NOW - 3600),
    ]


def lead_spans(connection: Connection, start: float | None, end: float) -> list[tuple[Any, ...]]:
    """The agent report's spans as they were read before bounding: lead() over every change before `end`."""
    s = STATE_CHANGES.c
    following = func.lead(s.at).over(partition_by=s.agent, order_by=(s.at, s.id))
    spans = select(s.agent, s.state, s.pause_reason, s.at, following.label("until"), s.id).where(s.at < end).subquery()
    query = select(spans)
    if start is not None:
        query = query.where((spans.c.until.is_(None)) | (spans.c.until > start))
    return sorted((tuple(row) for row in connection.execute(query)), key=lambda row: (row[0], row[3], row[5]))


def unbounded_agent_states(
    connection: Connection, start: float | None, end: float
) -> dict[str, tuple[dict[str, float], dict[str, float]]]:
    found: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
    for name, state, reason, began, ended, _id in lead_spans(connection, start, end):
        seconds = min(ended if ended is not None else end, end) - max(began, start or began)
        if seconds <= 0:
            continue
        in_states, pause_reasons = found.setdefault(name, ({}, {}))
        in_states[state] = in_states.get(state, 0.0) + seconds
        if state == "paused":
            pause_reasons[reason or "unspecified"] = pause_reasons.get(reason or "unspecified", 0.0) + seconds
    return found


def test_bounded_reads_equal_the_unbounded_ones(engine: Engine, settings: Settings) -> None:
    simulate_floor(engine, settings)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(STATE_CHANGES)).scalar_one() > 500
        for start, end in windows(settings):
            # Compared as the report shows them: a float sum's last bit follows the plan's row order.
            bounded = queue_counts(connection, settings, start, end)
            unbounded = _detail_queue_counts(connection, settings, start, end)
            assert {name: counts.figures("offered") for name, counts in bounded.items()} == {
                name: counts.figures("offered") for name, counts in unbounded.items()
            }, (start, end)
            window_end = min(NOW, end if end is not None else NOW)
            assert agent_states(connection, start, window_end) == unbounded_agent_states(
                connection, start, window_end
            ), (start, end)


def test_snapshot_refresh_counts_today_as_the_report_does(engine: Engine, settings: Settings) -> None:
    simulate_floor(engine, settings, days=1)  # a day before today: calls the snapshot must leave out
    with write_transaction(engine) as connection:
        refresh_snapshots(connection, settings, NOW)
    with engine.connect() as connection:
        report = queue_report(connection, settings, day_start(settings, NOW), None)
        snapshot = {row.queue: row for row in connection.execute(select(table_of_snapshots()))}
    assert report.queues
    for figures in report.queues:
        row = snapshot[figures["queue"]]
        assert (row.offered, row.answered, row.abandoned, row.service_level_pct) == (
            figures["offered"],
            figures["answered"],
            figures["abandoned"],
            figures["service_level_pct"],
        )


def table_of_snapshots() -> Any:
    from db.models import QueueSnapshot

    return table_of(QueueSnapshot)


def state_events(*changes: tuple[float, str, K, str | None]) -> list[Event]:
    return [Event(at, kind, agent=agent, queue="sales", reason=reason) for at, agent, kind, reason in changes]


def test_agent_report_takes_the_state_at_the_windows_start_from_the_last_change_before_it(
    engine: Engine, settings: Settings
) -> None:
    events = state_events(
        (T0, "Ann", K.AGENT_LOGGED_IN, None),
        (T0 + 100, "Ann", K.AGENT_PAUSED, "lunch"),
        (T0 + 5000, "Ann", K.AGENT_UNPAUSED, None),
        (T0, "Bob", K.AGENT_LOGGED_IN, None),
        (T0 + 200, "Bob", K.AGENT_LOGGED_OUT, None),
    )
    with write_transaction(engine) as connection:
        EventApplier().apply(connection, events)
    with engine.connect() as connection:
        # Ann has been paused since T0 + 100: the window opens on her pause, before any change in it.
        rows = {row["agent"]: row for row in agent_report(connection, T0 + 1000, T0 + 3000, now=T0 + 9000)}
        assert rows["Ann"]["states"] == {"paused": 2000.0}
        assert rows["Ann"]["pause_reasons"] == {"lunch": 2000.0}
        # Bob logged off before the window: all of it logged out.
        assert rows["Bob"]["states"] == {"logged_out": 2000.0}
        # A window beginning at a change: the change is inside it, the state before does not count.
        (ann,) = [row for row in agent_report(connection, T0 + 5000, T0 + 5100, now=T0 + 9000) if row["agent"] == "Ann"]
        assert ann["states"] == {"available": 100.0}


def test_two_changes_at_the_same_moment_the_later_row_holds(engine: Engine, settings: Settings) -> None:
    events = state_events(
        (T0, "Ann", K.AGENT_LOGGED_IN, None),
        (T0 + 50, "Ann", K.AGENT_PAUSED, "coffee"),
        (T0 + 50, "Ann", K.AGENT_UNPAUSED, None),
    )
    with write_transaction(engine) as connection:
        EventApplier().apply(connection, events)
    with engine.connect() as connection:
        (ann,) = agent_report(connection, T0 + 100, T0 + 200, now=T0 + 900)
    assert ann["states"] == {"available": 100.0}


# -- the plans: an index, never a scan of the big tables -----------------------------------


def statements_of(engine: Engine, run: Any) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return seen


def sqlite_plans(engine: Engine, statements: list[tuple[str, Any]]) -> Iterator[str]:
    with engine.connect() as connection:
        for statement, parameters in statements:
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters):
                yield row[3]


# A full pass over a table that grows with history ("SCAN calls", "SCAN calls USING INDEX ..."),
# but of ix_calls_open: it holds only the calls still waiting, the floor now, not its history.
FULL_PASS = re.compile(r"^SCAN (calls|agent_state_changes|before)\b(?! USING INDEX ix_calls_open$)")


@pytest.mark.parametrize("analyzed", [False, True], ids=["no statistics", "analyzed"])
def test_sqlite_plans_use_an_index_for_every_windowed_read(tmp_path: Any, analyzed: bool) -> None:
    settings = Settings()
    settings.database.url = f"sqlite:///{tmp_path / 'plans.db'}"
    from db import open_database

    engine = open_database(settings.database_url(), migrate=True)
    simulate_floor(engine, settings)
    if analyzed:
        analyze(engine)
    today = day_start(settings, NOW)

    def floor_reads() -> None:
        with engine.connect() as connection:
            queue_report(connection, settings, today - DAY, today)
            queue_report(connection, settings, today, None)
            agent_report(connection, today - DAY, today, NOW)
            agent_report(connection, today, None, NOW)
            read_trend(connection, settings, NOW)
        with write_transaction(engine) as connection:
            refresh_snapshots(connection, settings, NOW)

    statements = statements_of(engine, floor_reads)
    plans = list(sqlite_plans(engine, statements))
    engine.dispose()
    assert any("ix_agent_state_changes_at" in plan for plan in plans), plans
    assert any("ix_agent_state_changes_agent_at" in plan for plan in plans), plans
    assert any(re.search(r"ix_calls_(queue_)?enter_at", plan) for plan in plans), plans
    assert [plan for plan in plans if FULL_PASS.match(plan)] == []


POSTGRES_FULL_PASS = re.compile(r"Seq Scan on (calls|agent_state_changes)\b")


@pytest.mark.postgres
def test_postgres_plans_use_an_index_for_every_windowed_read(pg_url: str) -> None:
    """A year of rows made in SQL (the planner's choice depends on the table's size), then
    ANALYZE, then EXPLAIN of each statement the floor's reads send."""
    from db import open_database

    settings = Settings()
    settings.database.url = pg_url
    engine = open_database(pg_url, migrate=True)
    first = NOW - 365 * DAY
    with write_transaction(engine) as connection:
        connection.exec_driver_sql(
            "INSERT INTO agents (name, state, paused, state_since, calls_today, talk_seconds_today)"
            " SELECT 'agent' || n, 'available', false, %(now)s, 0, 0 FROM generate_series(1, 40) AS n",
            {"now": NOW},
        )
        connection.exec_driver_sql(
            "INSERT INTO calls (callid, queue, agent, enter_at, enter_known, answer_at, answer_known, end_at,"
            " wait_seconds, talk_seconds, outcome)"
            " SELECT 'c' || n, 'q' || (n %% 5), 'agent' || (n %% 40 + 1), %(first)s + n * 300.0, true,"
            " %(first)s + n * 300.0 + 10, true, %(first)s + n * 300.0 + 200, 10, 190, 'completed'"
            " FROM generate_series(1, 105000) AS n",
            {"first": first},
        )
        connection.exec_driver_sql(
            "INSERT INTO agent_state_changes (agent, at, state)"
            " SELECT 'agent' || (n %% 40 + 1), %(first)s + n * 150.0,"
            " (ARRAY['available', 'on_call', 'wrap_up', 'paused'])[n %% 4 + 1]"
            " FROM generate_series(1, 210000) AS n",
            {"first": first},
        )
    analyze(engine)
    today = day_start(settings, NOW)

    def floor_reads() -> None:
        with engine.connect() as connection:
            queue_report(connection, settings, today - DAY, today)
            queue_report(connection, settings, today, None)
            agent_report(connection, today - DAY, today, NOW)
            read_trend(connection, settings, NOW)
        with write_transaction(engine) as connection:
            refresh_snapshots(connection, settings, NOW)

    statements = statements_of(engine, floor_reads)
    plans = []
    with engine.connect() as connection:
        for statement, parameters in statements:
            plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            plans.append(plan)
    engine.dispose()
    assert any("ix_agent_state_changes_at" in plan for plan in plans), plans
    assert any("ix_agent_state_changes_agent_at" in plan for plan in plans), plans
    assert [plan for plan in plans if POSTGRES_FULL_PASS.search(plan)] == []


# -- retention -----------------------------------------------------------------------------


def reports(
    engine: Engine, settings: Settings, windows: list[tuple[float, float | None]]
) -> dict[tuple[float, float | None], Any]:
    found = {}
    with engine.connect() as connection:
        for start, end in windows:
            found[start, end] = (
                queue_report(connection, settings, start, end).as_dict(),
                agent_report(connection, start, end, NOW),
            )
    return found


def within_a_hundredth(a: Any, b: Any) -> bool:
    """Equal, but for floats a rounding apart (a sum's last bit follows the order it was added in)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(within_a_hundredth(a[key], b[key]) for key in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(within_a_hundredth(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 0.0101
    return bool(a == b)


def test_retention_rolls_up_and_prunes_old_days_and_their_reports_stay_the_same(
    engine: Engine, settings: Settings
) -> None:
    simulate_floor(engine, settings)
    settings.retention.detail_days = 1
    today = day_start(settings, NOW)
    days = [(today - n * DAY, today - (n - 1) * DAY) for n in (3, 2, 1)] + [(today, None)]
    # Over several days, pruned or not, and across where the kept detail begins.
    spans = [(today - 3 * DAY, today - DAY), (today - 2 * DAY, None), (today - 3 * DAY, NOW)]
    before_days, before_spans = reports(engine, settings, days), reports(engine, settings, spans)
    kept_from = detail_kept_from(settings, NOW)
    assert kept_from == today - DAY

    assert roll_up_and_prune(engine, settings, NOW) == 2
    with engine.connect() as connection:
        assert connection.execute(select(func.min(CALLS.c.enter_at))).scalar_one() >= kept_from
        # Of the pruned days' state changes, only each agent's last one stays: its state when the kept detail begins.
        old = connection.execute(select(STATE_CHANGES.c.agent).where(STATE_CHANGES.c.at < kept_from)).scalars().all()
        assert len(old) == len(set(old)) > 0
    assert before_days[today - 2 * DAY, today - DAY][0]["total"]["offered"] > 0
    assert reports(engine, settings, days) == before_days
    assert within_a_hundredth(reports(engine, settings, spans), before_spans)
    # Again: nothing more to roll up, and nothing changes.
    assert roll_up_and_prune(engine, settings, NOW) == 0
    assert reports(engine, settings, days) == before_days


def test_no_retention_keeps_everything(engine: Engine, settings: Settings) -> None:
    simulate_floor(engine, settings)
    with engine.connect() as connection:
        calls = connection.execute(select(func.count()).select_from(CALLS)).scalar_one()
    assert roll_up_and_prune(engine, settings, NOW + 30 * DAY) == 0
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(CALLS)).scalar_one() == calls


def test_the_servers_daily_history_job_rolls_up_and_analyzes(engine: Engine, settings: Settings) -> None:
    from wallboard.server.scheduler import ReminderScheduler

    simulate_floor(engine, settings)
    settings.retention.detail_days = 2
    ReminderScheduler(engine, settings, server="test", clock=lambda: NOW).maintain_history()
    with engine.connect() as connection:
        oldest = connection.execute(select(func.min(CALLS.c.enter_at))).scalar_one()
        if engine.dialect.name == "sqlite":
            analysed = connection.exec_driver_sql("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'calls'").scalar()
            assert analysed
    assert oldest >= day_start(settings, NOW) - 2 * DAY


def test_a_bulk_ingest_leaves_planner_statistics_and_db_maintain_prunes(wallboard: Any, tmp_path: Any) -> None:
    wallboard("ingest", "queue-log", DATA / "asterisk2slack-fixture.queue_log")
    database = tmp_path / "cli.db"
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'calls'").fetchone()[0] > 0
        calls = connection.execute("SELECT count(*) FROM calls").fetchone()[0]
    assert calls > 0
    # The fixture is from 2018: with a year of detail kept, all of it is rolled up and pruned.
    (tmp_path / "config.toml").write_text("[retention]\ndetail_days = 365\n")
    result = wallboard("db", "maintain")
    assert "statistics refreshed" in result.stdout
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
        rolled = connection.execute("SELECT sum(offered) + sum(blocked) FROM queue_day_rollups").fetchone()[0]
    assert rolled > 0
    report = json.loads(wallboard("report", "queues", "--all", "--format", "json").stdout)
    assert report["total"]["offered"] + report["total"]["blocked"] == rolled
