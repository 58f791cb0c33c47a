"""Imagery (影像): local GeoTIFF/COG and MBTiles layers by date, each kept once by its content,
with its footprint, CRS and resolution; a delivery's image clips name their patch.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from geo_tracker.store.migrations.spatial import add_geometry_column, drop_geometry_column

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "imagery",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("label", sa.Text),
        sa.Column("acquired_on", sa.Date, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("stored_path", sa.Text, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("crs", sa.Text),
        sa.Column("crs_reason", sa.Text),
        sa.Column("resolution_m", sa.Float),
        sa.Column("min_zoom", sa.Integer, nullable=False),
        sa.Column("max_zoom", sa.Integer, nullable=False),
        sa.Column("tile_format", sa.String(8)),
        sa.Column("patch_id", sa.Integer, sa.ForeignKey("patches.id")),
        sa.Column("warnings", JSON, nullable=False, server_default="[]"),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("CURRENT_TIMESTAMP")),
        sa.Column("imported_by", sa.Text),
    )
    add_geometry_column("imagery", "geom", nullable=True)  # written just after its row, in one transaction
    op.create_index("ix_imagery_source_sha256", "imagery", ["source_sha256"])
    op.create_index("ix_imagery_patch_id", "imagery", ["patch_id"])


def downgrade() -> None:
    op.drop_index("ix_imagery_patch_id", "imagery")
    op.drop_index("ix_imagery_source_sha256", "imagery")
    drop_geometry_column("imagery")
    op.drop_table("imagery")
