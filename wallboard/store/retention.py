"""Retention ([retention] detail_days): old detail rolled up per day, then pruned.

The days before the kept detail keep one row per queue and one per agent
(queue_day_rollups, agent_day_rollups), made by the reports' own counting, so a report over
a pruned day gives the figures it gave before (docs/ARCHITECTURE.md, Persistence:
retention). Each day is rolled up and pruned in its own short write transaction: the feed
waits for one day's work at most, never for a year's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection, Engine, delete, func, select

from db.engine import upsert, write_transaction
from wallboard.calls.counts import day_start
from wallboard.config import Settings
from wallboard.store.alert_log import ALERT_LOG
from wallboard.store.metrics import (
    AGENT_ROLLUPS,
    CALLS,
    DETAIL_FROM,
    FEEDS,
    MARKS,
    QUEUE_ROLLUPS,
    STATE_CHANGES,
    day_rollups,
    detail_from,
    last_change_ids_before,
)

log = logging.getLogger(__name__)

DAY = 86400.0


def detail_kept_from(settings: Settings, now: float) -> float | None:
    """Where the kept detail should begin at `now`: the start of the day `detail_days` days
    before today (None: keep everything)."""
    days = settings.retention.detail_days
    if days <= 0:
        return None
    return day_start(settings, day_start(settings, now) - days * DAY + DAY / 2)


def next_day_start(settings: Settings, day: float) -> float:
    """The start of the day after the one starting at `day` (23, 24 or 25 hours later)."""
    return day_start(settings, day + 1.5 * DAY)


def roll_up_and_prune(
    engine: Engine, settings: Settings, now: float, *, clock: Callable[[], float] | None = None
) -> int:
    """Roll up and prune every day before the kept detail, one day per transaction; returns
    how many days were rolled up. Safe to run again at any time: a day is rolled up once."""
    until = detail_kept_from(settings, now)
    if until is None:
        return 0
    rolled = 0
    while True:
        with write_transaction(engine) as connection:
            day = _first_detail_day(connection, settings)
            if day is None or day >= until:
                break
            next_day = next_day_start(settings, day)
            queues, agents = day_rollups(connection, settings, day, next_day, now)
            if queues:
                upsert(connection, QUEUE_ROLLUPS, queues, key=("day", "queue"))
            if agents:
                upsert(connection, AGENT_ROLLUPS, agents, key=("day", "agent"))
            _prune_before(connection, next_day)
            upsert(connection, MARKS, [{"name": DETAIL_FROM, "at": next_day}], key=("name",))
        rolled += 1
    if rolled:
        log.info("rolled up and pruned %d day(s) of detail; detail kept from %s", rolled, until)
    return rolled


def _first_detail_day(connection: Connection, settings: Settings) -> float | None:
    """The start of the oldest day whose detail is still kept (None: no detail at all)."""
    kept_from = detail_from(connection)
    if kept_from is not None:
        return _skip_empty_days(connection, settings, kept_from)
    first_call = connection.execute(select(func.min(CALLS.c.enter_at))).scalar()
    first_change = connection.execute(select(func.min(STATE_CHANGES.c.at))).scalar()
    found = [at for at in (first_call, first_change) if at is not None]
    return day_start(settings, min(found)) if found else None


def _skip_empty_days(connection: Connection, settings: Settings, kept_from: float) -> float | None:
    """The day to roll up next: `kept_from`, or the first day with detail after it when the
    days between have nothing to roll up (no agent logged in through them, or no feed had
    seen them yet). A database idle for years is not rolled up a day at a time."""
    first_call = connection.execute(select(func.min(CALLS.c.enter_at)).where(CALLS.c.enter_at >= kept_from)).scalar()
    first_change = connection.execute(
        select(func.min(STATE_CHANGES.c.at)).where(STATE_CHANGES.c.at >= kept_from)
    ).scalar()
    found = [at for at in (first_call, first_change) if at is not None]
    if not found:
        return None
    next_detail = day_start(settings, min(found))
    if next_detail <= kept_from:
        return kept_from
    newest = connection.execute(select(func.max(FEEDS.c.last_event_at))).scalar()
    s = STATE_CHANGES.c
    logged_in = connection.execute(
        select(func.count()).where(s.id.in_(last_change_ids_before(kept_from)), s.state != "logged_out")
    ).scalar()
    if not logged_in or (newest is not None and newest <= kept_from):
        return next_detail
    return kept_from


def _prune_before(connection: Connection, at: float) -> None:
    """Delete the detail before `at`, but each agent's last state change before it: the
    state an agent was in when the kept detail begins."""
    connection.execute(delete(CALLS).where(CALLS.c.enter_at < at))
    kept = [row[0] for row in connection.execute(last_change_ids_before(at))]
    connection.execute(delete(STATE_CHANGES).where(STATE_CHANGES.c.at < at, STATE_CHANGES.c.id.not_in(kept)))
    # The alert log goes with the detail it was judged from (an alert still on stays).
    connection.execute(delete(ALERT_LOG).where(ALERT_LOG.c.raised_at < at, ALERT_LOG.c.cleared_at.is_not(None)))
