"""Tracking: patch lineage and deadlines, cases, evidence, relapses, vocabulary.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NOW = sa.text("CURRENT_TIMESTAMP")

VIOLATIONS = ["非法占用土地", "改变土地用途", "擅自改变林地用途", "擅自开垦林地", "毁林开垦", "未批先建",
              "违法批地", "违法转让", "其他"]
ACTS = ["建坟", "建房", "开路", "搭建农用设施", "乱搭乱建", "乱倒建筑垃圾", "挖塘", "采石取土", "其他"]


def upgrade() -> None:
    # Every version of a patch carries the id of its first version: the patch's identity
    # across re-issues, which lifecycle events refer to.
    op.add_column("patches", sa.Column("lineage_id", sa.Integer))
    op.add_column("patches", sa.Column("deadline", sa.Date))
    op.add_column("patches", sa.Column("status_on", sa.Date))
    op.execute(
        "UPDATE patches SET lineage_id = (SELECT first.id FROM patches AS first WHERE "
        "first.batch_id = patches.batch_id AND first.patch_code = patches.patch_code AND first.version = 1)"
    )
    op.create_index("ix_patches_lineage", "patches", ["lineage_id"])

    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_no", sa.Text, nullable=False, unique=True),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("violation", sa.Text),
        sa.Column("act", sa.Text),
        sa.Column("fine_yuan", sa.Float),
        sa.Column("decided_on", sa.Date),
        sa.Column("decided_fine_yuan", sa.Float),
        sa.Column("closed_on", sa.Date),
        sa.Column("note", sa.Text),
        sa.Column("row_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_table(
        "case_patches",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("patch_id", sa.Integer, sa.ForeignKey("patches.id"), primary_key=True),
        sa.Column("linked_on", sa.Date, nullable=False),
    )
    op.execute("ALTER TABLE events ADD COLUMN case_id INTEGER REFERENCES cases (id)")
    op.create_index("ix_events_case", "events", ["case_id"])
    op.create_index("ix_events_kind_patch", "events", ["kind", "patch_id"])

    op.create_table(
        "evidence",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("media_type", sa.Text),
        sa.Column("taken_at", sa.Text),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("stored_path", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_table(
        "patch_relapses",
        sa.Column("patch_id", sa.Integer, sa.ForeignKey("patches.id"), primary_key=True),
        sa.Column("earlier_patch_id", sa.Integer, sa.ForeignKey("patches.id"), primary_key=True),
        sa.Column("overlap_share", sa.Float, nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    vocabulary = op.create_table(
        "vocabulary",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("value", sa.Text, primary_key=True),
    )
    op.bulk_insert(vocabulary, [{"kind": "violation", "value": v} for v in VIOLATIONS]
                   + [{"kind": "act", "value": a} for a in ACTS])


def downgrade() -> None:
    op.drop_table("vocabulary")
    op.drop_table("patch_relapses")
    op.drop_table("evidence")
    op.drop_index("ix_events_kind_patch", "events")
    op.drop_index("ix_events_case", "events")
    op.drop_column("events", "case_id")
    op.drop_table("case_patches")
    op.drop_table("cases")
    op.drop_index("ix_patches_lineage", "patches")
    op.drop_column("patches", "status_on")
    op.drop_column("patches", "deadline")
    op.drop_column("patches", "lineage_id")
