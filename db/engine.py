"""The one engine factory: SQLite by default, PostgreSQL by URL.

SQLite rules (see docs/ARCHITECTURE.md, Persistence): WAL (set once, at creation, by `db.migrate`),
busy_timeout >= 5 s, `BEGIN IMMEDIATE` for every write transaction so two writers queue on
the busy timeout instead of failing with "database is locked", deferred reads, and
synchronous=FULL because complaint data shares the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from sqlite3 import Connection as SQLiteConnection
from typing import TYPE_CHECKING, Any

from platformdirs import user_data_path
from sqlalchemy import Connection, Engine, Select, Table, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

BUSY_TIMEOUT_MS = 10_000
_BEGIN_OPTION = "sqlite_begin"
_AFTER_COMMIT = "after_commit"


def default_sqlite_url() -> str:
    return f"sqlite:///{user_data_path('wallboard') / 'wallboard.db'}"


def make_engine(url: str, *, pool_size: int = 2) -> Engine:
    """Engine for `url`; SQLite files get their directory created and the pragmas above."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_size=pool_size, max_overflow=1, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False})
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        _create_private(Path(database))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: SQLiteConnection, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the sqlite3 module so `_on_begin` decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _create_private(database: Path) -> None:
    """The database's folder (0700 where made here) and an empty database file 0600, whatever
    the umask, before SQLite opens it: SQLite gives its -wal and -shm files the database
    file's mode, so they come out 0600 too. An existing file keeps its mode."""
    folder = database.parent
    if not folder.exists():
        for missing in reversed([folder, *[p for p in folder.parents if not p.exists()]]):
            missing.mkdir(mode=0o700, exist_ok=True)
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions start with BEGIN IMMEDIATE on SQLite."""
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"}) if is_sqlite(engine) else engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A short Core write transaction: committed on exit, rolled back on error. Callbacks
    registered with `after_commit` run once it has committed."""
    callbacks: list[Callable[[], None]] = []
    with writer(engine).begin() as connection:
        connection.info[_AFTER_COMMIT] = callbacks
        try:
            yield connection
        finally:
            connection.info.pop(_AFTER_COMMIT, None)
    for callback in callbacks:
        callback()


def after_commit(connection: Connection, callback: Callable[[], None]) -> None:
    """Run `callback` once the `write_transaction` of `connection` has committed (never if it
    rolls back). Outside one, nothing is run."""
    callbacks = connection.info.get(_AFTER_COMMIT)
    if callbacks is not None and callback not in callbacks:
        callbacks.append(callback)


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """An ORM session for one write intent; committed on exit, rolled back on error."""
    # The ORM is imported by its users only: Core-only commands start without it.
    from sqlalchemy.orm import Session

    with Session(writer(engine), expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    from sqlalchemy.orm import Session

    with Session(engine, expire_on_commit=False) as session:
        yield session


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: tuple[str, ...],
    only_new: bool = False,
) -> None:
    """Insert rows, updating those whose `key` columns already exist (SQLite and PostgreSQL).

    `only_new`: leave existing rows as they are (INSERT ... ON CONFLICT DO NOTHING).
    """
    from sqlalchemy.dialects import postgresql, sqlite

    # The two dialects' INSERTs have the same ON CONFLICT methods but no common type.
    statement: postgresql.Insert | sqlite.Insert = (
        postgresql.insert(table) if connection.dialect.name == "postgresql" else sqlite.insert(table)
    )
    if only_new:
        connection.execute(statement.on_conflict_do_nothing(index_elements=list(key)), rows)
        return
    updates = {name: statement.excluded[name] for name in rows[0] if name not in key}
    connection.execute(statement.on_conflict_do_update(index_elements=list(key), set_=updates), rows)


def _placeholder(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def insert_many(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[object, ...]]
) -> None:
    """Bulk INSERT of plain tuples straight to the driver's executemany.

    For the ingest hot path: SQLAlchemy's per-row parameter processing costs more than
    SQLite's insert itself (measured in tests/benchmarks/ingest.py).
    """
    mark = _placeholder(connection)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    connection.exec_driver_sql(sql, rows)


def update_many(
    connection: Connection, table: Table, columns: tuple[str, ...], key: str, rows: Sequence[tuple[object, ...]]
) -> None:
    """Bulk UPDATE ... WHERE key = ?; each row is the column values followed by the key."""
    mark = _placeholder(connection)
    assignments = ", ".join(f"{name} = {mark}" for name in columns)
    connection.exec_driver_sql(f"UPDATE {table.name} SET {assignments} WHERE {key} = {mark}", rows)


def driver_rows(connection: Connection, query: Select[Any] | str) -> list[tuple[Any, ...]]:
    """The rows of `query` (a select, or SQL without parameters) as the database driver gives
    them, in the connection's transaction: plain tuples, without SQLAlchemy's Row objects and
    result processing. For reads whose rows are many or read each second: that processing cost
    ~20 % of reading a month's complaint cohort (tests/benchmarks/complaints_report.py), and
    more than the read itself for the board's memberships. Values are the driver's own:
    SQLite gives a boolean as 0 or 1."""
    if not connection.in_transaction():
        connection.begin()  # as `execute` would: on SQLite a caller's reads share one snapshot
    driver = connection.connection.driver_connection
    if driver is None:  # not after `begin`: the connection is open
        raise RuntimeError("the connection is closed")
    cursor = driver.cursor()
    try:
        if isinstance(query, str):
            cursor.execute(query)
        else:
            compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
            params = compiled.construct_params()
            if compiled.positiontup is not None:  # SQLite's "?" placeholders
                cursor.execute(str(compiled), [params[name] for name in compiled.positiontup])
            else:
                cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()
