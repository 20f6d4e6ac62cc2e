"""History benchmark: the floor's queries on the last 2 days of history against a year of it.

    .venv/bin/python tests/benchmarks/history.py [--small] [--repeat 15] [--budget 20] [--cache DIR]
        [--rebuild] [--only refresh,agents]

Builds (once; cached under --cache, default ~/.cache/wallboard-benchmarks/history) a year of a
50-agent floor (--small: a month of a 10-agent floor):
1. A template week played by the seeded simulator through the real applier
   (`SimulationRun.into_database`, fast), ending mid-afternoon of its last day ("now").
2. "year": the template, plus copies of its rows shifted back a week at a time, in bulk
   (INSERT ... SELECT), until the history spans a year; then what a bulk ingest does after
   it (`ingest` runs `db.maintenance.after_bulk_write` when this code has it).
3. "2 days": the template less everything before yesterday (the same last two days).
The cache is keyed by the schema's head revision: a new migration builds afresh.

Then times, on each database, each query the floor runs each second or each day, at "now":
  refresh        the feed's snapshot refresh (`refresh_snapshots`, in its write transaction)
  board          the board's read of its rows (`read_rows`)
  trend          the day's trend (`read_trend`)
  agents         `report agents` for yesterday (`agent_report`)
  queues         `report queues` for yesterday (`queue_report`)
and prints p50 / p95 on each and the ratios year / 2 days (target: every ratio <= 1.5, the
cost follows the window asked for, not the history kept). Run `uptime` beside it: the
machine's other load shows in the figures. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine

from db import open_database
from db.engine import write_transaction
from db.migrate import head_revision
from wallboard.calls.counts import day_start
from wallboard.config import Settings
from wallboard.feeds.live import SimulationRun
from wallboard.feeds.simulator import SimulatorSettings
from wallboard.store.board_reader import read_rows, read_trend
from wallboard.store.metrics import agent_report, queue_report, refresh_snapshots

DAY = 86400.0
WEEK = 7 * DAY
# "now": a Thursday afternoon (UTC, the default site time zone).
NOW = 1_795_100_400.0  # 2026-11-19 15:00 UTC
CALL_TIMES = ("enter_at", "answer_at", "end_at")
BUILD_VERSION = 1  # bump when the way the databases are built changes


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _columns(connection: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in connection.execute(f"PRAGMA table_info({table})") if row[1] != "id"]


def build_template(path: Path, agents: int) -> None:
    """A week of the simulated floor up to NOW, through the real applier."""
    settings = Settings()
    engine = open_database(_sqlite_url(path), migrate=True)
    start = day_start(settings, NOW) - 6 * DAY
    sim = SimulatorSettings(seed=2026, agents=agents, calls_per_hour=agents * 7.5)
    run = SimulationRun(sim, start=start, hours=(NOW - start) / 3600)
    began = time.perf_counter()
    applied = run.into_database(engine, settings, speed=None, stop=threading.Event(), clock=lambda: NOW)
    engine.dispose()
    print(f"  template week: {applied:,} events in {time.perf_counter() - began:.1f} s", flush=True)


def replicate(path: Path, weeks: int) -> None:
    """Copies of the template's calls and state changes, each a week earlier than the last."""
    connection = sqlite3.connect(path, isolation_level=None)
    calls = _columns(connection, "calls")
    changes = _columns(connection, "agent_state_changes")
    last_call = connection.execute("SELECT max(id) FROM calls").fetchone()[0]
    last_change = connection.execute("SELECT max(id) FROM agent_state_changes").fetchone()[0]
    for week in range(1, weeks):

        def shifted(name: str, week: int = week) -> str:
            if name in CALL_TIMES or name == "at":
                return f"{name} - {week * WEEK}"
            if name == "callid":
                return f"callid || '~{week}'"
            return name

        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            f"INSERT INTO calls ({', '.join(calls)}) SELECT {', '.join(map(shifted, calls))} FROM calls"
            f" WHERE id <= {last_call} ORDER BY id"
        )
        connection.execute(
            f"INSERT INTO agent_state_changes ({', '.join(changes)})"
            f" SELECT {', '.join(map(shifted, changes))} FROM agent_state_changes WHERE id <= {last_change} ORDER BY id"
        )
        connection.execute("COMMIT")
    connection.close()


def after_bulk_write(path: Path) -> str:
    """What this code's bulk ingest does once it has written (ANALYZE), if it does anything."""
    try:
        from db.maintenance import after_bulk_write as maintain
    except ImportError:
        return "none (this code has no db.maintenance)"
    engine = open_database(_sqlite_url(path), migrate=False)
    try:
        maintain(engine)
    finally:
        engine.dispose()
    return "db.maintenance.after_bulk_write"


def keep_last_days(path: Path, since: float) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("DELETE FROM calls WHERE enter_at < ?", (since,))
    connection.execute("DELETE FROM agent_state_changes WHERE at < ?", (since,))
    connection.execute("VACUUM")
    connection.close()


def build(cache: Path, *, agents: int, weeks: int) -> tuple[Path, Path]:
    """(2 days, year) database files, built unless cached."""
    recent, year = cache / "recent.db", cache / "year.db"
    if recent.exists() and year.exists():
        return recent, year
    cache.mkdir(parents=True, exist_ok=True)
    template = cache / "template.db"
    for stale in cache.glob("*.db*"):
        stale.unlink()
    print(f"building in {cache} ({agents} agents, {weeks} weeks)", flush=True)
    build_template(template, agents)
    began = time.perf_counter()
    shutil.copyfile(template, recent)
    keep_last_days(recent, day_start(Settings(), NOW) - DAY)
    print(f"  2 days: maintenance {after_bulk_write(recent)}", flush=True)
    shutil.copyfile(template, year)
    replicate(year, weeks)
    how = after_bulk_write(year)
    size = year.stat().st_size / 1e6
    print(f"  year: {size:.0f} MB in {time.perf_counter() - began:.1f} s; maintenance {how}", flush=True)
    template.unlink()
    return recent, year


def figures(path: Path) -> str:
    connection = sqlite3.connect(path)
    calls = connection.execute("SELECT count(*), min(enter_at) FROM calls").fetchone()
    changes = connection.execute("SELECT count(*) FROM agent_state_changes").fetchone()[0]
    connection.close()
    days = (NOW - calls[1]) / DAY
    return f"{calls[0]:,} calls, {changes:,} state changes over {days:.0f} days, {path.stat().st_size / 1e6:.0f} MB"


def queries(settings: Settings) -> dict[str, Callable[[Engine], object]]:
    today = day_start(settings, NOW)
    yesterday = day_start(settings, today - DAY / 2)

    def refresh(engine: Engine) -> None:
        with write_transaction(engine) as connection:
            refresh_snapshots(connection, settings, NOW)

    def board(engine: Engine) -> object:
        with engine.connect() as connection:
            return read_rows(connection, settings, NOW)

    def trend(engine: Engine) -> object:
        with engine.connect() as connection:
            return read_trend(connection, settings, NOW)

    def agents(engine: Engine) -> object:
        with engine.connect() as connection:
            return agent_report(connection, yesterday, today, NOW)

    def queues(engine: Engine) -> object:
        with engine.connect() as connection:
            return queue_report(connection, settings, yesterday, today)

    return {"refresh": refresh, "board": board, "trend": trend, "agents": agents, "queues": queues}


def timings(engine: Engine, run: Callable[[Engine], object], repeat: int, budget: float) -> list[float]:
    """Seconds per run: two unmeasured warm-ups, then `repeat` runs (fewer past `budget` s, at least 5)."""
    for _ in range(2):
        run(engine)
    measured: list[float] = []
    spent = 0.0
    while len(measured) < repeat and (spent < budget or len(measured) < 5):
        began = time.perf_counter()
        run(engine)
        measured.append(time.perf_counter() - began)
        spent += measured[-1]
    return measured


def p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--small", action="store_true", help="a month of a 10-agent floor (quick check)")
    options.add_argument("--repeat", type=int, default=15)
    options.add_argument("--budget", type=float, default=20.0, help="seconds of measuring per query, at most")
    default_cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wallboard-benchmarks" / "history"
    options.add_argument("--cache", type=Path, default=default_cache)
    options.add_argument("--rebuild", action="store_true")
    options.add_argument("--only", help="comma-separated queries to time (default: all)")
    args = options.parse_args()
    agents, weeks = (10, 5) if args.small else (50, 53)
    cache = args.cache / f"{'small' if args.small else 'year'}-rev{head_revision()}-v{BUILD_VERSION}"
    if args.rebuild and cache.exists():
        shutil.rmtree(cache)
    recent, year = build(cache, agents=agents, weeks=weeks)
    print(f"2 days: {figures(recent)}")
    print(f"year:   {figures(year)}")
    settings = Settings()
    engines = {name: open_database(_sqlite_url(path), migrate=False) for name, path in (("2d", recent), ("1y", year))}
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")
    longest = "1 month" if args.small else "1 year"
    print(f"{'query':<9} {'2 days p50/p95 ms':>19} {longest + ' p50/p95 ms':>19} {'ratio p50':>10} {'ratio p95':>10}")
    worst = 0.0
    chosen = queries(settings)
    if args.only:
        chosen = {name: chosen[name] for name in args.only.split(",")}
    for name, run in chosen.items():
        found = {db: p50_p95(timings(engine, run, args.repeat, args.budget)) for db, engine in engines.items()}
        (r50, r95), (y50, y95) = found["2d"], found["1y"]
        ratio50, ratio95 = y50 / r50, y95 / r95
        worst = max(worst, ratio50, ratio95)
        print(
            f"{name:<9} {r50 * 1000:>9.1f} /{r95 * 1000:>8.1f} {y50 * 1000:>9.1f} /{y95 * 1000:>8.1f}"
            f" {ratio50:>9.2f}x {ratio95:>9.2f}x",
            flush=True,
        )
    for engine in engines.values():
        engine.dispose()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")
    print(f"worst ratio {worst:.2f}x (target <= 1.5x): {'met' if worst <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
