"""Digest hardening: nonce counts seen, and an ASCII Digest user name per volunteer; dashboard accounts can be
disabled.

`digest_nonce_counts` records each (nonce, nc) a Digest-signed submission used, so that a captured Authorization
header cannot be sent again with another body (qop=auth signs the method and path, not the body). Rows older than
a nonce's life are swept. `volunteers.digest_name` is the user name Digest uses: ODK Collect's okhttp-digest encodes
credentials as ASCII, so a name with accents gets a transliterated one (collect.volunteers). Existing volunteers
keep their name as Digest name, which their HA1 was computed from; `sdg16 volunteer reissue` gives a non-ASCII one
its ASCII name. `dashboard_users.disabled_at` marks an account that may not sign in (its sessions end when it is
disabled), kept with its name, unlike a removed one.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_nonce_counts",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("nc", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_digest_nonce_counts_used_at", "digest_nonce_counts", ["used_at"])
    op.add_column("volunteers", sa.Column("digest_name", sa.String(255), nullable=True))
    op.execute("UPDATE volunteers SET digest_name = name")
    op.create_index("ix_volunteers_digest_name", "volunteers", ["digest_name"], unique=True)
    op.add_column("dashboard_users", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("dashboard_users", "disabled_at")
    op.drop_index("ix_volunteers_digest_name", table_name="volunteers")
    op.drop_column("volunteers", "digest_name")
    op.drop_table("digest_nonce_counts")
