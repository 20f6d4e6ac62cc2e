"""db/tables.py, the Core tables the fast commands use, is what the SQLModel tables render
(regenerate it with `python -m db.render_tables`), and says the same of every column."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Table, TypeDecorator, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from db import open_database, tables
from db.models import Agent, table_of
from db.render_tables import TARGET, main, render, schema_metadata


def test_db_tables_is_rendered_from_the_sqlmodel_tables() -> None:
    assert TARGET.read_text(encoding="utf-8") == render(schema_metadata()), (
        "db/tables.py is out of date: run `.venv/bin/python -m db.render_tables`"
    )


def _column_facts(column: Column[object]) -> tuple[object, ...]:
    default = column.default.arg if column.default is not None else None  # type: ignore[attr-defined]
    return (
        column.name,
        column.type.compile(dialect=sqlite.dialect()),
        column.type.compile(dialect=postgresql.dialect()),
        # The Core type under SQLModel's AutoString (a TypeDecorator) is String.
        type(column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type),
        column.nullable,
        column.primary_key,
        default,
        sorted(key.target_fullname for key in column.foreign_keys),
    )


def test_every_table_has_the_same_columns_types_keys_and_defaults() -> None:
    schema = schema_metadata()
    assert set(tables.metadata.tables) == set(schema.tables)
    for name, table in schema.tables.items():
        mirror: Table = tables.metadata.tables[name]
        assert [_column_facts(c) for c in mirror.columns] == [_column_facts(c) for c in table.columns], name


def test_a_row_written_through_the_mirror_reads_back_through_the_model(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'mirror.db'}", migrate=True)
    try:
        with engine.begin() as connection:
            # Only the columns without a default: the mirror fills in the rest, as the model would.
            connection.execute(insert(tables.agents).values(name="SIP/ann", state="idle", state_since=1.0))
        with engine.connect() as connection:
            row = connection.execute(select(table_of(Agent))).one()
            mirrored = connection.execute(select(tables.agents)).one()
        assert row._mapping == mirrored._mapping
        assert mirrored.paused is False and mirrored.calls_today == 0 and mirrored.talk_seconds_today == 0.0
    finally:
        engine.dispose()


def test_the_renderer_refuses_an_unknown_argument_before_writing(capsys: pytest.CaptureFixture[str]) -> None:
    written = TARGET.stat().st_mtime_ns
    with pytest.raises(SystemExit) as exit:
        main(["--check"])
    assert exit.value.code == 2
    assert "unrecognized arguments: --check" in capsys.readouterr().err
    assert TARGET.stat().st_mtime_ns == written
