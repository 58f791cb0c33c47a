"""Village matching results, land-use reference parcels, computed land-use areas.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from geo_tracker.store.migrations.spatial import add_geometry_column, drop_geometry_column

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "patch_matches",
        sa.Column("patch_id", sa.Integer, sa.ForeignKey("patches.id"), primary_key=True),
        sa.Column("village_unit_id", sa.Integer, sa.ForeignKey("admin_units.id")),
        sa.Column("village_code", sa.String(12)),
        sa.Column("village_name", sa.Text),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("covered_share", sa.Float, nullable=False),
        sa.Column("outside", sa.Boolean, nullable=False),
        sa.Column("straddles", sa.Boolean, nullable=False),
        sa.Column("nearest_code", sa.String(12)),
        sa.Column("nearest_distance_m", sa.Float),
        sa.Column("boundaries_as_of", sa.Date, nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("ix_patch_matches_village", "patch_matches", ["village_code"])
    op.create_table(
        "patch_villages",
        sa.Column("patch_id", sa.Integer, sa.ForeignKey("patches.id"), primary_key=True),
        sa.Column("village_unit_id", sa.Integer, sa.ForeignKey("admin_units.id"), primary_key=True),
        sa.Column("village_code", sa.String(12), nullable=False),
        sa.Column("overlap_mu", sa.Float, nullable=False),
        sa.Column("share", sa.Float, nullable=False),
    )
    op.create_index("ix_patch_villages_code", "patch_villages", ["village_code"])

    op.create_table(
        "landuse_parcels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("layer", sa.Text, nullable=False),
        sa.Column("bsm", sa.Text),
        sa.Column("dlbm", sa.String(8), nullable=False),
        sa.Column("dlmc", sa.Text),
        sa.Column("zldwdm", sa.String(19)),
        sa.Column("tbmj", sa.Float),
        sa.Column("kcxs", sa.Float),
        sa.Column("attrs", JSON, nullable=False, server_default="{}"),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("ix_landuse_parcels_dlbm", "landuse_parcels", ["dlbm"])
    add_geometry_column("landuse_parcels")

    op.add_column("patches", sa.Column("forest_mu", sa.Float))
    op.add_column("patches", sa.Column("cultivated_source", sa.String(16)))


def downgrade() -> None:
    op.drop_column("patches", "cultivated_source")
    op.drop_column("patches", "forest_mu")
    drop_geometry_column("landuse_parcels")
    op.drop_table("landuse_parcels")
    op.drop_table("patch_villages")
    op.drop_table("patch_matches")
