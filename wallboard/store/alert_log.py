"""The alert log on the database: each alert's life, kept by one writer, read by every board.

`AlertKeeper.keep` is the writer: it judges the board as the TUI does (`read_board`) and
brings the open rows of `alert_log` in line (`wallboard.calls.alerts.reconcile`): a row for
each new alert, `cleared_at` on those gone. Only the process holding the site lease runs it
(the reminder scheduler's job, wallboard/server/scheduler.py), and the table's unique
partial index on the open rows' keys refuses a second open row for one condition, so two
processes can never raise the same alert twice.

Readers: `read_alert_log` (with the board's rows each second: the open rows and those
cleared lately, through two indexes) and `alerts_of_day` (the alert history screen).
Acknowledging is a user's action, checked and written by tickets/alert_acks.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, or_, select, text, update

from db.alerts import OPEN_ALERT_SQL, AlertLog
from db.engine import write_transaction
from db.models import table_of
from wallboard.calls.alerts import AlertChanges, AlertRecord, raised_at, reconcile
from wallboard.calls.counts import day_start
from wallboard.config import Settings
from wallboard.store.changes import call_data_changed

log = logging.getLogger(__name__)

ALERT_LOG = table_of(AlertLog)
_COLUMNS = (
    ALERT_LOG.c.id,
    ALERT_LOG.c.alert_key,
    ALERT_LOG.c.kind,
    ALERT_LOG.c.level,
    ALERT_LOG.c.queue,
    ALERT_LOG.c.agent,
    ALERT_LOG.c.text,
    ALERT_LOG.c.raised_at,
    ALERT_LOG.c.cleared_at,
    ALERT_LOG.c.acknowledged_by,
    ALERT_LOG.c.acknowledged_at,
)
# The most rows the history screen shows (a day with more is a day of noise).
HISTORY_ROWS = 500


def _records(rows: Iterable[Any]) -> tuple[AlertRecord, ...]:
    return tuple(AlertRecord(*row) for row in rows)


def read_open_alerts(connection: Connection) -> tuple[AlertRecord, ...]:
    # A literal, so SQLite uses the partial index of open rows.
    return _records(connection.execute(select(*_COLUMNS).where(text(f"alert_log.{OPEN_ALERT_SQL}"))))


# The board reads it each second: built once (a select built each time costs more than the
# read, its cache key alone).
_LOG_READ = (
    select(*_COLUMNS)
    .where(or_(text(f"alert_log.{OPEN_ALERT_SQL}"), ALERT_LOG.c.cleared_at >= bindparam("cleared_since")))
    .order_by(ALERT_LOG.c.id)
)


def read_alert_log(connection: Connection, settings: Settings, now: float) -> tuple[AlertRecord, ...]:
    """The open alerts and those cleared in the last `[board] cleared_alert_seconds`: one
    select (SQLite answers the OR from the two indexes: the open rows' and cleared_at's)."""
    since = now - settings.board.cleared_alert_seconds
    return _records(connection.execute(_LOG_READ, {"cleared_since": since}))


def alerts_of_day(connection: Connection, settings: Settings, now: float) -> list[AlertRecord]:
    """Today's alerts (raised today, or still open from before), the latest raised first."""
    c = ALERT_LOG.c
    rows = connection.execute(
        select(*_COLUMNS)
        .where(or_(c.raised_at >= day_start(settings, now), text(f"alert_log.{OPEN_ALERT_SQL}")))
        .order_by(c.raised_at.desc(), c.id.desc())
        .limit(HISTORY_ROWS)
    )
    return list(_records(rows))


class AlertKeeper:
    """The alert log's one writer (see the module's docstring)."""

    def __init__(self, engine: Engine, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock

    def keep(self, now: float | None = None) -> AlertChanges:
        """Judge the board at `now` and write what changed; the changes."""
        from wallboard.store.board_reader import read_board

        now = self.clock() if now is None else now
        # Judged on a plain connection: the write lock is taken only when something changed
        # (a few times an hour), never for the judging itself each second.
        with self.engine.connect() as connection:
            alerts = read_board(connection, self.settings, now).alerts
            if not reconcile(read_open_alerts(connection), alerts):
                return AlertChanges()
        with write_transaction(self.engine) as connection:
            changes = reconcile(read_open_alerts(connection), alerts)
            if not changes:
                return changes
            c = ALERT_LOG.c
            if changes.cleared:
                connection.execute(update(ALERT_LOG).where(c.id.in_(changes.cleared)).values(cleared_at=now))
            for record_id, level, words in changes.relevelled:
                connection.execute(update(ALERT_LOG).where(c.id == record_id).values(level=level, text=words[:500]))
            if changes.raised:
                connection.execute(
                    insert(ALERT_LOG),
                    [
                        {
                            "alert_key": alert.key_text[:300],
                            "kind": alert.kind,
                            "level": alert.level,
                            "queue": alert.queue,
                            "agent": alert.agent,
                            "text": alert.text[:500],
                            "raised_at": raised_at(alert, now),
                        }
                        for alert in changes.raised
                    ],
                )
            call_data_changed(connection)  # the boards read at once: the strip changes with the log
        log.info(
            "alerts: %d raised, %d cleared, %d changed level",
            len(changes.raised),
            len(changes.cleared),
            len(changes.relevelled),
        )
        return changes

    def keep_logged(self) -> None:
        """`keep`, a failure logged (for the scheduler's job)."""
        try:
            self.keep()
        except Exception:
            log.exception("keeping the alert log failed")
