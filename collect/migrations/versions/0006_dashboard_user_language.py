"""Each dashboard account remembers the language its user chose (Spanish unless they picked English).

NULL means "never chosen": the dashboard then uses the language picked on the sign-in page, Spanish by default.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dashboard_users") as table:
        table.add_column(sa.Column("language", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dashboard_users") as table:
        table.drop_column("language")
