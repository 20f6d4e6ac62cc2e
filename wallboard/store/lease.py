"""One active server per database: a lease row its holder renews; others wait as hot standby.

Taking or renewing is one conditional UPDATE (the holder is us, or the lease ran out), so
two servers racing for it cannot both win on SQLite (BEGIN IMMEDIATE) or PostgreSQL (the
row lock re-checks the WHERE clause).
"""

from __future__ import annotations

import os
import socket

from sqlalchemy import Engine, case, select, update

from db.engine import upsert, write_transaction
from db.models import table_of
from db.reminders import ServerLease

LEASES = table_of(ServerLease)
SITE = "site"


def holder_name() -> str:
    """This process, as the lease and the reminder claims name it."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Lease:
    def __init__(self, engine: Engine, holder: str, *, ttl: float = 10.0, name: str = SITE) -> None:
        self.engine = engine
        self.holder = holder
        self.ttl = ttl
        self.name = name

    def acquire_or_renew(self, now: float) -> bool:
        """True while we hold the lease (taken now, or renewed)."""
        c = LEASES.c
        with write_transaction(self.engine) as connection:
            renewed = connection.execute(
                update(LEASES)
                .where(c.name == self.name, (c.holder == self.holder) | (c.expires_at < now))
                .values(
                    holder=self.holder,
                    expires_at=now + self.ttl,
                    acquired_at=case((c.holder == self.holder, c.acquired_at), else_=now),
                )
            ).rowcount
            if renewed:
                return True
            exists = connection.execute(select(c.name).where(c.name == self.name)).first()
            if exists:
                return False
            upsert(
                connection,
                LEASES,
                [{"name": self.name, "holder": self.holder, "acquired_at": now, "expires_at": now + self.ttl}],
                key=("name",),
                only_new=True,
            )
            return connection.execute(select(c.holder).where(c.name == self.name)).scalar() == self.holder

    def release(self) -> None:
        """Let a standby take over at once (clean shutdown)."""
        c = LEASES.c
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(LEASES).where(c.name == self.name, c.holder == self.holder).values(expires_at=0.0)
            )

    def current(self) -> tuple[str, float] | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(LEASES.c.holder, LEASES.c.expires_at).where(LEASES.c.name == self.name)
            ).first()
        return (row.holder, row.expires_at) if row else None
