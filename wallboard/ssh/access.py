"""Who may log in over SSH, and the connection log. No asyncssh, no Textual: the session's
own TUI process imports this to learn its user and role.

Users and their keys are the complaint tracker's tables (`db.complaints`); only active
users count (removing a user deactivates it and drops its keys). The connection log is
`db.ssh_sessions`: one row per terminal session.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, update

from db.complaints import User, UserKey
from db.engine import write_transaction
from db.models import table_of
from db.ssh_sessions import SshLoginFailure, SshSession

ROLES = ("agent", "supervisor", "display")
SERVER_RESTARTED = "server restarted"

_users = table_of(User)
_keys = table_of(UserKey)
_sessions = table_of(SshSession)
_failures = table_of(SshLoginFailure)


@dataclass(frozen=True)
class RegisteredKey:
    public_key: str  # "TYPE BASE64"
    fingerprint: str


@dataclass(frozen=True)
class Login:
    """An active user and the keys that log them in."""

    user_id: int
    name: str
    role: str
    keys: tuple[RegisteredKey, ...]


def find_login(engine: Engine, name: str) -> Login | None:
    """The active user called exactly `name` and their keys; None for anyone else.

    One query whether or not the user exists, so the answer takes the same time.
    """
    query = (
        select(_users.c.id, _users.c.name, _users.c.role, _keys.c.public_key, _keys.c.fingerprint)
        .select_from(_users.outerjoin(_keys, _keys.c.user_id == _users.c.id))
        .where(_users.c.name == name, _users.c.active.is_(True))
        .order_by(_keys.c.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    if not rows:
        return None
    keys = tuple(RegisteredKey(r.public_key, r.fingerprint) for r in rows if r.public_key)
    return Login(rows[0].id, rows[0].name, rows[0].role, keys)


# -- the connection log ----------------------------------------------------------------


def session_started(
    engine: Engine,
    login: Login,
    *,
    peer_address: str,
    peer_port: int,
    key_fingerprint: str | None,
    term: str | None,
    at: float | None = None,
    server: str | None = None,
) -> int:
    """A new row for a session that starts now (on `server`, by default this host); returns its id."""
    row = {
        "server": (server or this_server())[:255],
        "user_id": login.user_id,
        "role": login.role,
        "peer_address": peer_address[:64],
        "peer_port": peer_port,
        "key_fingerprint": key_fingerprint,
        "term": term[:64] if term else term,
        "started_at": time.time() if at is None else at,
    }
    with write_transaction(engine) as connection:
        session_id: int = connection.execute(_sessions.insert().values(**row).returning(_sessions.c.id)).scalar_one()
    return session_id


def session_ended(
    engine: Engine, session_id: int, *, reason: str, exit_status: int | None, at: float | None = None
) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            update(_sessions)
            .where(_sessions.c.id == session_id, _sessions.c.ended_at.is_(None))
            .values(ended_at=time.time() if at is None else at, end_reason=reason[:64], exit_status=exit_status)
        )


def this_server() -> str:
    """This host, as the connection log names the server that ran a session."""
    return socket.gethostname()


def close_abandoned_sessions(engine: Engine, *, at: float | None = None, server: str | None = None) -> int:
    """At a server's start: end the rows still open from an earlier run on this host (the
    server crashed or was killed under them) at `at`, the start time. Other hosts' rows are
    left alone: their servers may be running. Returns how many were closed."""
    with write_transaction(engine) as connection:
        return connection.execute(
            update(_sessions)
            .where(_sessions.c.server == (server or this_server()), _sessions.c.ended_at.is_(None))
            .values(ended_at=time.time() if at is None else at, end_reason=SERVER_RESTARTED)
        ).rowcount


def recent_sessions(engine: Engine, *, limit: int = 50, user: str | None = None) -> list[dict]:
    """The newest sessions first: who, from where, when, how long, how it ended."""
    query = (
        select(
            _sessions.c.id,
            _users.c.name.label("user"),
            _sessions.c.role,
            _sessions.c.peer_address,
            _sessions.c.peer_port,
            _sessions.c.server,
            _sessions.c.key_fingerprint,
            _sessions.c.term,
            _sessions.c.started_at,
            _sessions.c.ended_at,
            _sessions.c.end_reason,
            _sessions.c.exit_status,
        )
        .select_from(_sessions.join(_users, _users.c.id == _sessions.c.user_id))
        .order_by(_sessions.c.started_at.desc(), _sessions.c.id.desc())
        .limit(limit)
    )
    if user is not None:
        query = query.where(_users.c.name == user)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


# -- failed log-ins --------------------------------------------------------------------


@dataclass(frozen=True)
class LoginFailure:
    """A failed log-in ("failed") or a shut-out it started ("shut out", with its scope and end)."""

    at: float
    peer_address: str
    user_name: str | None
    event: str
    scope: str | None = None
    until: float | None = None


def record_login_failures(engine: Engine, failures: list[LoginFailure], *, server: str | None = None) -> None:
    rows = [
        {
            "server": (server or this_server())[:255],
            "at": failure.at,
            "peer_address": failure.peer_address[:64],
            "user_name": failure.user_name[:64] if failure.user_name is not None else None,
            "event": failure.event,
            "scope": failure.scope,
            "until": failure.until,
        }
        for failure in failures
    ]
    if rows:
        with write_transaction(engine) as connection:
            connection.execute(_failures.insert(), rows)


def recent_login_failures(engine: Engine, *, limit: int = 50, user: str | None = None) -> list[dict]:
    """The newest failed log-ins and shut-outs first (of the name `user` asked for, if given)."""
    query = select(_failures).order_by(_failures.c.at.desc(), _failures.c.id.desc()).limit(limit)
    if user is not None:
        query = query.where(_failures.c.user_name == user)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def failure_summary(engine: Engine, *, since: float, now: float) -> tuple[int, int]:
    """Failed log-ins since `since`, and shut-outs still in force at `now`."""
    failed = select(func.count()).where(_failures.c.event == "failed", _failures.c.at >= since)
    shut = select(func.count()).where(_failures.c.event == "shut out", _failures.c.until > now)
    with engine.connect() as connection:
        return connection.execute(failed).scalar_one(), connection.execute(shut).scalar_one()
