"""saved_views: the complaint list's saved views of one's own (shared by supervisors), audited

Revision ID: 0016
Revises: 0013
Create Date: 2026-11-30
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_saved_views_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("owner_id", "name", name="uq_saved_views_owner_id_name"),
    )
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.create_index("ix_saved_views_shared", ["shared"], unique=False)

    op.create_table(
        "saved_view_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("view_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_saved_view_events_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_view_events")),
    )
    with op.batch_alter_table("saved_view_events", schema=None) as batch_op:
        batch_op.create_index("ix_saved_view_events_view_id_id", ["view_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("saved_view_events", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_view_events_view_id_id")
    op.drop_table("saved_view_events")
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_views_shared")
    op.drop_table("saved_views")
