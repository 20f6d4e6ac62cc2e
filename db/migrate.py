"""Schema migrations (Alembic) and the revision check every process makes on start.

Alembic is imported only to migrate: the check on start (every CLI command) reads the
revisions from the migration files and the database's `alembic_version` row directly, since
importing Alembic costs more than most commands' work.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from db.engine import is_sqlite, writer

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps

# `revision = "0008"` and `down_revision = "0007"` (or None, or a tuple for a merge) in a migration file.
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.*)$", re.MULTILINE)
_QUOTED = re.compile(r"""["']([^"']+)["']""")


class SchemaMismatch(Exception):
    """The database is at another revision than this program expects."""


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    head = _head_from_files() or _head_from_alembic()
    if head is None:  # only if the package lost its migrations
        raise SchemaMismatch(f"no schema revisions found in {MIGRATIONS}")
    return head


def _head_from_files() -> str | None:
    """The one revision no migration file names as its down revision; None when that is not
    plain (no files, several heads, an unusual file): Alembic then decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {match[1]: match[2] for match in _REVISION_LINE.finditer(path.read_text(encoding="utf-8"))}
        if "revision" not in found or "down_revision" not in found:
            continue
        revision = _QUOTED.findall(found["revision"])
        if len(revision) != 1:
            return None
        revisions.add(revision[0])
        parents.update(_QUOTED.findall(found["down_revision"]))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _head_from_alembic() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        if len(rows) <= 1:
            return rows[0] if rows else None
        # Several heads: Alembic words the error.
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the database to the newest revision (creating it if new); returns that revision."""
    if is_sqlite(engine):
        _enable_wal(engine)
    if current_revision(engine) != head_revision():
        from alembic import command

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
