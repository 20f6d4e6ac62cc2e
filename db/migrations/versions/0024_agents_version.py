"""agents.version: which agents changed since a reader last looked

The board reads the agents every second; with 500 agents moving at 1 Hz only a few rows
change between two reads. Each insert or update of an agent row now gives the row a new,
higher `version` (a trigger, so every writer is covered: the applier, the snapshot refresh's
calls today, a feed's restart, a test's seed), and the board reads only the rows above the
highest version it has seen (wallboard/store/board_reader.py, `KeptRows`), through
ix_agents_version.

- SQLite: AFTER INSERT / AFTER UPDATE triggers set the row's version to the table's highest
  plus one (ix_agents_version: one index probe). Writers are serialised, so versions are
  committed in order. The update trigger fires only when the writer left the version as it
  was, so its own update does not fire it again.
- PostgreSQL: a BEFORE INSERT OR UPDATE trigger takes the next value of the sequence
  agents_version_seq (no second write of the row). Versions are taken before commit, so two
  writers' commits may land out of order: the board's reader reads all agents again now and
  then (`KeptRows.FULL_READ_SECONDS`), so it converges.

A later migration that rebuilds `agents` on SQLite (batch_alter_table copies the table) drops
its triggers: recreate them there (SQLITE_UP below).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_NEXT = "(SELECT coalesce(max(version), 0) + 1 FROM agents)"
SQLITE_UP = (
    f"""CREATE TRIGGER agents_version_on_insert AFTER INSERT ON agents FOR EACH ROW
    BEGIN UPDATE agents SET version = {_NEXT} WHERE name = NEW.name; END""",
    f"""CREATE TRIGGER agents_version_on_update AFTER UPDATE ON agents FOR EACH ROW
    WHEN NEW.version IS OLD.version
    BEGIN UPDATE agents SET version = {_NEXT} WHERE name = NEW.name; END""",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS agents_version_on_insert",
    "DROP TRIGGER IF EXISTS agents_version_on_update",
)
POSTGRESQL_UP = (
    "CREATE SEQUENCE agents_version_seq",
    """CREATE FUNCTION agents_next_version() RETURNS trigger AS $$
    BEGIN NEW.version := nextval('agents_version_seq'); RETURN NEW; END
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER agents_version BEFORE INSERT OR UPDATE ON agents
    FOR EACH ROW EXECUTE FUNCTION agents_next_version()""",
    # The rows already there: versions 1..n, in the sequence's order.
    "UPDATE agents SET version = 0",
)
POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS agents_version ON agents",
    "DROP FUNCTION IF EXISTS agents_next_version()",
    "DROP SEQUENCE IF EXISTS agents_version_seq",
)


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.create_index("ix_agents_version", ["version"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        # The rows already there: versions 1..n (each update takes the highest plus one).
        op.execute("UPDATE agents SET version = version")
    elif dialect == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRESQL_DOWN if dialect == "postgresql" else ():
        op.execute(statement)
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index("ix_agents_version")
        batch_op.drop_column("version")
