"""Indexes that serve the first pages of a province's patch list (PostgreSQL).

Sorted by code the list orders by code point (``COLLATE "C"``), which the plain index on
``patch_code`` cannot serve, and by 整改面积 descending with nulls last, which a backward scan of
the ascending index cannot: without these, page 1 of 1 000 000 sorted every current patch (2.2 s).
SQLite sorts ``NULLS LAST`` without an index either way and keeps its plain ones.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

CURRENT = "WHERE is_current AND NOT withdrawn"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'CREATE INDEX ix_patches_current_code ON patches (patch_code COLLATE "C", id) {CURRENT}')
    op.execute("CREATE INDEX ix_patches_current_rectified_desc ON patches "
               f"(rectified_mu DESC NULLS LAST, id) {CURRENT}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_patches_current_rectified_desc")
    op.execute("DROP INDEX ix_patches_current_code")
