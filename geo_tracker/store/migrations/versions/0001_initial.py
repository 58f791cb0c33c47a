"""Initial schema: admin units, batches, patches, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from geo_tracker.store.migrations.spatial import add_geometry_column, drop_geometry_column

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "admin_units",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_code", sa.String(12)),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("source_file", sa.Text),
        sa.Column("attrs", JSON, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("level IN ('county', 'township', 'village')", name="ck_admin_units_level"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="ck_admin_units_validity"),
        sa.UniqueConstraint("code", "valid_from", name="uq_admin_units_code_valid_from"),
    )
    op.create_index("ix_admin_units_level_code", "admin_units", ["level", "code"])
    add_geometry_column("admin_units")

    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("row_version", sa.Integer, nullable=False, server_default="1"),
        sa.UniqueConstraint("source", "name", name="uq_batches_source_name"),
    )

    # patches.batch_id has no FOREIGN KEY: patches are written only by the import service, in the
    # transaction that creates their batch, and a per-row foreign-key trigger would cost PostgreSQL
    # more than the rest of a 100 000-patch bulk load.
    op.create_table(
        "patches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch_id", sa.Integer, nullable=False),
        sa.Column("patch_code", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("is_current", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("withdrawn", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(16), nullable=False, server_default="issued"),
        sa.Column("area_mu", sa.Float, nullable=False),
        sa.Column("issued_area_mu", sa.Float),
        sa.Column("cultivated_mu", sa.Float),
        sa.Column("attrs", JSON, nullable=False, server_default="{}"),
        sa.Column("flags", JSON, nullable=False, server_default="[]"),
        sa.Column("row_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("superseded_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("area_mu >= 0", name="ck_patches_area"),
        sa.UniqueConstraint("batch_id", "patch_code", "version", name="uq_patches_code_version"),
    )
    op.create_index("ix_patches_patch_code", "patches", ["patch_code"])
    op.create_index("ix_patches_batch_current", "patches", ["batch_id", "is_current"])
    add_geometry_column("patches")

    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("actor", sa.Text),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id")),
        sa.Column("patch_id", sa.Integer, sa.ForeignKey("patches.id")),
        sa.Column("payload", JSON, nullable=False, server_default="{}"),
        sa.Column("voided_by", sa.Integer, sa.ForeignKey("events.id")),
    )
    op.create_index("ix_events_patch", "events", ["patch_id", "occurred_on"])
    op.create_index("ix_events_batch", "events", ["batch_id"])


def downgrade() -> None:
    op.drop_table("events")
    drop_geometry_column("patches")
    op.drop_table("patches")
    op.drop_table("batches")
    drop_geometry_column("admin_units")
    op.drop_table("admin_units")
