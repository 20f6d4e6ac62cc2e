"""Acknowledging the board's alerts: a supervisor's action, checked and recorded here.

The alert log (db/alerts.py) is kept by the site's active server (wallboard/store/alert_log.py);
a person only acknowledges: "I have seen it, I am on it". The row keeps who and when (the
audit of it: every board shows "acknowledged by maria"), and the log file says it too.
Only supervisors may; a display user, an agent or a removed user is refused with one line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import Engine, update
from sqlmodel import col

from db.alerts import AlertLog
from db.engine import write_transaction
from tickets.errors import InvalidInput, PermissionDenied
from tickets.permissions import Role, actor_refusal
from tickets.users import get_user

log = logging.getLogger(__name__)

# The most alerts one acknowledgement names (the strip shows far fewer).
MAX_ACKNOWLEDGED = 200


def acknowledge_refusal(name: str | None, role: str | None, active: bool) -> str | None:
    """Why this user may not acknowledge alerts (supervisors only), or None."""
    reason = actor_refusal(name, role, active)
    if reason is None and role != Role.SUPERVISOR:
        reason = f"{name} ({role}) may not acknowledge alerts: supervisors only"
    return reason


def acknowledge_alerts(engine: Engine, user: str, ids: Iterable[object], now: float) -> int:
    """Mark the open, not yet acknowledged alerts `ids` acknowledged by `user` at `now`;
    how many were. PermissionDenied unless `user` is an active supervisor."""
    wanted = list(ids)
    if len(wanted) > MAX_ACKNOWLEDGED or not all(isinstance(i, int) and not isinstance(i, bool) for i in wanted):
        raise InvalidInput(f"acknowledge 1 to {MAX_ACKNOWLEDGED} alerts by their numbers")
    info = get_user(engine, user)
    reason = acknowledge_refusal(info.name, info.role, info.active)
    if reason is not None:
        raise PermissionDenied(reason)
    if not wanted:
        return 0
    with write_transaction(engine) as connection:
        done = connection.execute(
            update(AlertLog)
            .where(
                col(AlertLog.id).in_(wanted),
                col(AlertLog.cleared_at).is_(None),
                col(AlertLog.acknowledged_by).is_(None),
            )
            .values(acknowledged_by=info.name, acknowledged_at=now)
        ).rowcount
    log.info("%s acknowledged %d alerts (%s)", info.name, done, ", ".join(str(i) for i in wanted))
    return int(done)
