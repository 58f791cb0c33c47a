"""Batch imports: one row per imported file, with its report; patch provenance and fingerprints.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "batch_imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("dataset", sa.Text),
        sa.Column("driver", sa.String(32)),
        sa.Column("layer", sa.Text),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("crs", sa.Text),
        sa.Column("crs_reason", sa.Text),
        sa.Column("encoding", sa.String(32)),
        sa.Column("features_read", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("area_mu", sa.Float),
        sa.Column("report", JSON, nullable=False, server_default="{}"),
    )
    op.create_index("ix_batch_imports_sha256", "batch_imports", ["file_sha256"])
    op.create_index("ix_batch_imports_batch", "batch_imports", ["batch_id"])
    # Plain ALTER TABLE ADD COLUMN on both backends: SQLite's batch mode would copy the
    # table and lose the registered geometry column and its spatial index.
    # No FOREIGN KEY on import_id, for the reason given on batch_id in 0001.
    op.add_column("patches", sa.Column("import_id", sa.Integer))
    op.add_column("patches", sa.Column("feature_no", sa.Integer))
    op.add_column("patches", sa.Column("fingerprint", sa.String(64)))
    op.create_index("ix_patches_import", "patches", ["import_id"])


def downgrade() -> None:
    op.drop_index("ix_patches_import", "patches")
    op.drop_column("patches", "fingerprint")
    op.drop_column("patches", "feature_no")
    op.drop_column("patches", "import_id")
    op.drop_table("batch_imports")
