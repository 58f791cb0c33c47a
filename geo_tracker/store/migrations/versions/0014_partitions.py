"""Patches partitioned by their batch's issue year and events by the year they happened (PostgreSQL).

Every patch row carries its batch's issue date (``batch_issued_on``), the key of its partition.
See :mod:`geo_tracker.store.partitions` for what partitioning changes.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from geo_tracker.store import partitions

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patches", sa.Column("batch_issued_on", sa.Date))
    op.execute("UPDATE patches SET batch_issued_on = (SELECT b.issued_on FROM batches b WHERE b.id = patches.batch_id)")
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for table in partitions.KEYS:
        partitions.split(conn, table)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        partitions.merge(conn)
    op.drop_column("patches", "batch_issued_on")
