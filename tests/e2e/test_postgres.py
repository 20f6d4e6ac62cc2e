"""Migrations on a real PostgreSQL server (and the same checks on SQLite)."""

from __future__ import annotations

import re

import pytest
from alembic import command
from sqlalchemy import Engine, event, inspect, select, text

import db
from db.engine import read_session, write_transaction
from db.migrate import SchemaMismatch, alembic_config, check_revision, current_revision, head_revision
from db.models import metadata

AGENT = {
    "name": "Ada",
    "state": "available",
    "pause_reason": None,
    "paused": False,
    "state_since": 1_700_000_000.0,
    "current_callid": None,
    "current_queue": None,
    "calls_today": 3,
    "talk_seconds_today": 412.5,
    "site": None,  # a feed without a site label
}
WRITES = re.compile(r"^\s*(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """An empty database: a new SQLite file, or a new database on the throwaway server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wallboard.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def opened(database_url):
    """Engines made by the test through `open(url, migrate)`, disposed after it."""
    engines: list[Engine] = []

    def open_(migrate: bool) -> Engine:
        engine = db.open_database(database_url, migrate=migrate)
        engines.append(engine)
        return engine

    yield open_
    for engine in engines:
        engine.dispose()


@pytest.fixture
def statements():
    """Every SQL statement any engine sends while the test runs."""
    sent: list[str] = []

    def record(_connection, _cursor, statement, _parameters, _context, _executemany):
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield sent
    event.remove(Engine, "before_cursor_execute", record)


@pytest.mark.postgres
def test_the_server_is_throwaway_and_the_database_fresh(pg_url):
    engine = db.make_engine(pg_url)
    try:
        assert engine.dialect.name == "postgresql"
        with engine.connect() as connection:
            assert connection.scalar(text("SHOW fsync")) == "off"
            assert connection.scalar(text("SHOW listen_addresses")) == ""
            assert connection.scalar(text("SELECT current_database()")) == engine.url.database
            assert inspect(connection).get_table_names() == []
    finally:
        engine.dispose()


def test_open_database_creates_the_schema(opened):
    engine = opened(migrate=True)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    assert current_revision(engine) == head_revision()
    check_revision(engine)
    opened(migrate=False)  # a non-migrating process accepts it


def test_open_database_twice_is_a_no_op(opened, statements):
    first = opened(migrate=True)
    agents = metadata.tables["agents"]
    with write_transaction(first) as connection:
        connection.execute(agents.insert(), [AGENT])
    statements.clear()

    second = opened(migrate=True)

    assert [s for s in statements if WRITES.match(s)] == []
    assert current_revision(second) == head_revision()
    check_revision(second)
    with read_session(second) as session:
        row = session.execute(select(agents)).mappings().one()
    assert {name: row[name] for name in AGENT} == AGENT  # and a version the database set


def test_an_empty_database_is_refused_without_migrating(opened):
    with pytest.raises(SchemaMismatch, match="empty database"):
        opened(migrate=False)


def test_models_and_migrations_agree(opened):
    # `alembic check`: autogenerate finds nothing between db.models and the migrated schema.
    engine = opened(migrate=True)
    with engine.connect() as connection:
        command.check(alembic_config(connection))


def test_models_and_migrations_agree_on_the_sqlite_fixture(engine):
    with engine.connect() as connection:
        command.check(alembic_config(connection))
