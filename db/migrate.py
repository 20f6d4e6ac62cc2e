"""Schema migrations (Alembic) and the revision check every process makes on start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from db.engine import is_sqlite, writer

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaMismatch(Exception):
    """The database is at another revision than this program expects."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # only if the package lost its migrations
        raise SchemaMismatch(f"no schema revisions found in {MIGRATIONS}")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the database to the newest revision (creating it if new); returns that revision."""
    if is_sqlite(engine):
        _enable_wal(engine)
    if current_revision(engine) != head_revision():
        with writer(engine).begin() as connection:
            command.upgrade(alembic_config(connection), "head")
    return head_revision()


def check_revision(engine: Engine) -> None:
    """Refuse to work on a database this program's schema does not match."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        found = current or "an empty database"
        raise SchemaMismatch(
            f"database is at revision {found}, this wallboard needs {head}: run `wallboard db upgrade`"
        )


def _enable_wal(engine: Engine) -> None:
    # Persistent in the file; switching modes from several processes at once fails, so
    # only migrating processes (server, all-in-one, ingest) do it, and only when needed.
    # Outside any transaction: SQLite refuses to change the journal mode inside one.
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()
    finally:
        connection.close()
