"""Dashboard accounts and field-work targets, which the dashboard used to create itself.

Stores opened by an earlier dashboard already hold these two tables, made by SQLAlchemy's create_all with the
same columns: they are kept as they are (with their accounts), not created again.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "dashboard_users" not in existing:
        op.create_table(
            "dashboard_users",
            sa.Column("username", sa.String(64), primary_key=True),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("password_hash", sa.String(255), nullable=False),
            sa.Column("must_change_password", sa.Boolean, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        )
    if "dashboard_targets" not in existing:
        op.create_table(
            "dashboard_targets",
            sa.Column("kind", sa.String(16), primary_key=True),
            sa.Column("key", sa.String(255), primary_key=True),
            sa.Column("target", sa.Integer, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("dashboard_targets")
    op.drop_table("dashboard_users")
