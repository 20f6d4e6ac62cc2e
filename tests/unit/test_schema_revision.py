"""The schema check every command makes on start reads revisions without Alembic (db/migrate.py):
it must agree with Alembic's own reading of the same migrations and database."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext

from db.engine import make_engine, writer
from db.migrate import (
    SchemaMismatch,
    _head_from_alembic,
    _head_from_files,
    alembic_config,
    check_revision,
    current_revision,
    head_revision,
    upgrade,
)


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    assert _head_from_files() == _head_from_alembic() == head_revision()


def test_the_current_revision_is_read_as_alembic_reads_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'revision.db'}")
    try:
        assert current_revision(engine) is None  # an empty database
        upgrade(engine)
        with engine.connect() as connection:
            assert current_revision(engine) == MigrationContext.configure(connection).get_current_revision()
        assert current_revision(engine) == head_revision()
        check_revision(engine)

        with writer(engine).begin() as connection:
            command.downgrade(alembic_config(connection), "0003")
        assert current_revision(engine) == "0003"
        with pytest.raises(SchemaMismatch, match="database is at revision 0003"):
            check_revision(engine)
        assert upgrade(engine) == head_revision() == current_revision(engine)
    finally:
        engine.dispose()
