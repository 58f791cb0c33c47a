"""The county's review before 销号: a review policy per source, the reviewer role, and the
reasons a review may give for a return (审核退回原因).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NOW = sa.text("CURRENT_TIMESTAMP")
ROLES_BEFORE = "role IN ('viewer', 'enforcer', 'liaison', 'admin')"
ROLES_AFTER = "role IN ('viewer', 'enforcer', 'liaison', 'admin', 'reviewer')"
#: The reasons reviewers give most (the 在线举证 systems' lists); offices add their own with `vocab add`.
REASONS = ["照片不清晰", "照片位置不符", "未完全拆除", "复耕不到位", "复绿不到位", "缺少审批文件", "缺少处罚文书",
           "整改面积不符", "其他"]


def _roles(check: str) -> None:
    """The CHECK on users.role. SQLite cannot alter one, and ``users`` is the parent of tokens,
    units and sessions: with the foreign keys deferred to the commit, its rows are kept aside,
    the table is made again with the new CHECK and the rows put back (which satisfies the
    children again before the commit checks them)."""
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("ck_users_role", "users", type_="check")
        op.create_check_constraint("ck_users_role", "users", check)
        return
    op.execute("PRAGMA defer_foreign_keys = ON")
    op.execute("CREATE TEMPORARY TABLE users_aside AS SELECT * FROM users")
    op.drop_table("users")
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.Text),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint(check, name="ck_users_role"),
    )
    op.execute("INSERT INTO users SELECT id, username, display_name, role, password_hash, disabled, created_at "
               "FROM users_aside")
    op.execute("DROP TABLE users_aside")


def upgrade() -> None:
    op.create_table(
        "review_policies",
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("levels", sa.Text, nullable=False),
        sa.Column("review_days", sa.Integer, nullable=False, server_default="10"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_by", sa.Text),
    )
    _roles(ROLES_AFTER)
    vocabulary = sa.table("vocabulary", sa.column("kind", sa.String), sa.column("value", sa.Text))
    op.bulk_insert(vocabulary, [{"kind": "review_reason", "value": v} for v in REASONS])


def downgrade() -> None:
    op.execute("DELETE FROM vocabulary WHERE kind = 'review_reason'")
    op.execute("UPDATE users SET role = 'viewer' WHERE role = 'reviewer'")
    _roles(ROLES_BEFORE)
    op.drop_table("review_policies")
