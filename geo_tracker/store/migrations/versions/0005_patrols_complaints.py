"""Patrols and their findings, complaints, case categories and outcomes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from geo_tracker.store.migrations.spatial import add_geometry_column, drop_geometry_column

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NOW = sa.text("CURRENT_TIMESTAMP")
CATEGORIES = ["自然资源", "林业", "城市规划", "市场监管", "生态环境", "安全生产", "其他"]
OUTCOMES = ["行政处罚", "行政警告", "不予处罚", "移送"]


def upgrade() -> None:
    op.create_table(
        "patrols",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patrolled_on", sa.Date, nullable=False),
        sa.Column("members", sa.Text),
        sa.Column("departments", JSON, nullable=False, server_default="[]"),
        sa.Column("note", sa.Text),
        sa.Column("actor", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    add_geometry_column("patrols", "track", "MULTILINESTRING", nullable=True)
    op.create_table(
        "patrol_villages",
        sa.Column("patrol_id", sa.Integer, sa.ForeignKey("patrols.id"), primary_key=True),
        sa.Column("village_code", sa.String(12), primary_key=True),
    )
    op.create_table(
        "patrol_findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patrol_id", sa.Integer, sa.ForeignKey("patrols.id"), nullable=False),
        sa.Column("patch_id", sa.Integer, sa.ForeignKey("patches.id"), nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("village_code", sa.String(12)),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("respond_by", sa.Date, nullable=False),
        sa.Column("complete_by", sa.Date, nullable=False),
        sa.Column("responded_on", sa.Date),
        sa.Column("closed_on", sa.Date),
        sa.Column("result", sa.Text),
        sa.Column("patch_id", sa.Integer, sa.ForeignKey("patches.id")),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id")),
        sa.Column("actor", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.add_column("cases", sa.Column("category", sa.Text))
    op.add_column("cases", sa.Column("outcome", sa.Text))
    vocabulary = sa.table("vocabulary", sa.column("kind", sa.String), sa.column("value", sa.Text))
    op.bulk_insert(vocabulary, [{"kind": "category", "value": c} for c in CATEGORIES]
                   + [{"kind": "outcome", "value": o} for o in OUTCOMES])


def downgrade() -> None:
    op.execute("DELETE FROM vocabulary WHERE kind IN ('category', 'outcome')")
    op.drop_column("cases", "outcome")
    op.drop_column("cases", "category")
    op.drop_table("complaints")
    op.drop_table("patrol_findings")
    op.drop_table("patrol_villages")
    drop_geometry_column("patrols", "track")
    op.drop_table("patrols")
