"""Initial store: forms and their media, submissions and attachments, volunteers, settings.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forms",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("form_id", sa.String(255), nullable=False),
        sa.Column("version", sa.String(255), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("xform", sa.LargeBinary, nullable=False),
        sa.Column("xform_md5", sa.String(32), nullable=False),
        sa.Column("xlsform", sa.LargeBinary, nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("form_id", "version", name="uq_forms_form_id_version"),
    )
    op.create_table(
        "form_media",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("form_pk", sa.Integer, sa.ForeignKey("forms.id", ondelete="CASCADE"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("md5", sa.String(32), nullable=False),
        sa.UniqueConstraint("form_pk", "filename", name="uq_form_media_form_filename"),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("instance_id", sa.String(255), nullable=False, unique=True),
        sa.Column("form_id", sa.String(255), nullable=False),
        sa.Column("form_version", sa.String(255), nullable=False),
        sa.Column("xml", sa.LargeBinary, nullable=True),
        sa.Column("source_record", sa.JSON, nullable=True),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("deprecated_id", sa.String(255), nullable=True),
        sa.Column("superseded", sa.Boolean, nullable=False),
        sa.Column("superseded_by", sa.String(255), nullable=True),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("volunteer", sa.String(255), nullable=True),
        sa.Column("device_id", sa.String(255), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("review_state", sa.String(32), nullable=False),
        sa.Column("review_comment", sa.Text, nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_submissions_form_current", "submissions", ["form_id", "superseded"])
    op.create_index("ix_submissions_deprecated_id", "submissions", ["deprecated_id"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("submission_pk", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("md5", sa.String(32), nullable=False),
        sa.UniqueConstraint("submission_pk", "filename", name="uq_attachments_submission_filename"),
    )
    op.create_table(
        "volunteers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("digest_ha1", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("settings", "volunteers", "attachments", "submissions", "form_media", "forms"):
        op.drop_table(table)
