"""Dashboard sessions kept by the server, so that a browser reload or a second tab stays signed in.

`dashboard_sessions` holds the SHA-256 of each browser's session token; `dashboard_sign_in_tickets` the SHA-256 of
the one-time tickets the sign-in form hands the browser to fetch its session cookie. Both belong to an account
and go with it.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "username", sa.String(64), sa.ForeignKey("dashboard_users.username", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dashboard_sessions_username", "dashboard_sessions", ["username"])
    op.create_table(
        "dashboard_sign_in_tickets",
        sa.Column("ticket_hash", sa.String(64), primary_key=True),
        sa.Column(
            "username", sa.String(64), sa.ForeignKey("dashboard_users.username", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dashboard_sign_in_tickets_username", "dashboard_sign_in_tickets", ["username"])


def downgrade() -> None:
    op.drop_table("dashboard_sign_in_tickets")
    op.drop_table("dashboard_sessions")
