"""Alembic environment: runs on the connection `db.migrate` hands over."""

from alembic import context
from sqlalchemy.sql.schema import SchemaItem

from db.complaints import is_unmanaged
from db.models import metadata


def include_object(
    obj: SchemaItem, name: str | None, type_: str, reflected: bool, compare_to: SchemaItem | None
) -> bool:
    # Full-text search objects the migrations create by hand (FTS5 and its shadow tables,
    # the PostgreSQL tsvector column and its index) are not in the metadata: don't report them as extra.
    return not (reflected and compare_to is None and is_unmanaged(name))


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite can only ALTER through table copies
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
