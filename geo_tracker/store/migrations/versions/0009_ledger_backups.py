"""Each database's ledger id (台账编号), given once at ``init``; and the backups taken of it.

The ledger id tells a move or a restore whether a target already holds this same ledger
(a move repeated) or another one (refused). ``backups`` records every backup the service or
the CLI took, so /readyz can warn when the last one is old.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    ledger = op.create_table(
        "ledger",
        sa.Column("ledger_id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.bulk_insert(ledger, [{"ledger_id": str(uuid.uuid4())}])
    op.create_table(
        "backups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("actor", sa.Text),
        sa.CheckConstraint("trigger IN ('manual', 'scheduled', 'before-restore')", name="ck_backups_trigger"),
    )


def downgrade() -> None:
    op.drop_table("backups")
    op.drop_table("ledger")
