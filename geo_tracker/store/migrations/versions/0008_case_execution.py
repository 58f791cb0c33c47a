"""When a case's decision was executed (执行完毕): a case is 办结 once executed or closed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("executed_on", sa.Date))


def downgrade() -> None:
    op.drop_column("cases", "executed_on")
