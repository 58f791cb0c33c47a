"""Who imported each file; the view ``current_patches`` (the current state as a GIS layer).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from geo_tracker.store.migrations.spatial import create_spatial_view, drop_spatial_view

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _select(dialect: str) -> str:
    if dialect == "sqlite":
        area, smaller = "CAST(json_extract(e.payload, '$.area_mu') AS REAL)", "MIN"
    else:
        area, smaller = "CAST(e.payload ->> 'area_mu' AS DOUBLE PRECISION)", "LEAST"
    return f"""
    SELECT p.id, p.patch_code, b.name AS batch, b.source, p.status, p.status_on,
      p.area_mu, p.issued_area_mu, p.cultivated_mu, p.forest_mu,
      {smaller}(coalesce(r.rectified_mu, 0), p.area_mu) AS rectified_mu,
      m.village_code, m.village_name, coalesce(p.deadline, b.deadline) AS deadline,
      p.version, p.geom
    FROM patches p
    JOIN batches b ON b.id = p.batch_id
    LEFT JOIN patch_matches m ON m.patch_id = p.id
    LEFT JOIN (
      SELECT e.patch_id, SUM({area}) AS rectified_mu FROM events e
      WHERE e.kind = 'rectified' AND e.voided_by IS NULL GROUP BY e.patch_id
    ) r ON r.patch_id = p.lineage_id
    WHERE p.is_current AND NOT p.withdrawn"""


def upgrade() -> None:
    op.add_column("batch_imports", sa.Column("imported_by", sa.Text))
    create_spatial_view("current_patches", _select(op.get_bind().dialect.name))


def downgrade() -> None:
    drop_spatial_view("current_patches")
    op.drop_column("batch_imports", "imported_by")
