"""The store's schema as SQLAlchemy Core tables, shared by the store, the volunteer accounts and the importers.

The schema itself is created and changed only by the Alembic migrations in `collect/migrations/`; these table
objects describe the head revision so that queries are written once, in Python, for SQLite and PostgreSQL alike.
"""

import sqlalchemy as sa

metadata = sa.MetaData()

# Every published version of every form, so that a phone still holding an old version can still submit to it.
forms = sa.Table(
    "forms",
    metadata,
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

# Media files of a form version (e.g. the neighbourhood list of a select_one_from_file question).
form_media = sa.Table(
    "form_media",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("form_pk", sa.Integer, sa.ForeignKey("forms.id", ondelete="CASCADE"), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("md5", sa.String(32), nullable=False),
    sa.UniqueConstraint("form_pk", "filename", name="uq_form_media_form_filename"),
)

# One row per submission version. `xml` is the OpenRosa body exactly as received (or `source_record`, the row of
# an imported export exactly as read); `fields` is the flat parse of it, so analysis never loads or parses XML.
submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("instance_id", sa.String(255), nullable=False, unique=True),
    sa.Column("form_id", sa.String(255), nullable=False),
    sa.Column("form_version", sa.String(255), nullable=False),
    sa.Column("xml", sa.LargeBinary, nullable=True),
    sa.Column("source_record", sa.JSON, nullable=True),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("deprecated_id", sa.String(255), nullable=True),
    sa.Column("superseded", sa.Boolean, nullable=False, default=False),
    sa.Column("superseded_by", sa.String(255), nullable=True),
    sa.Column("complete", sa.Boolean, nullable=False, default=True),
    sa.Column("volunteer", sa.String(255), nullable=True),
    sa.Column("device_id", sa.String(255), nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("review_state", sa.String(32), nullable=False, default="received"),
    sa.Column("review_comment", sa.Text, nullable=True),
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("reviewed_by", sa.String(255), nullable=True),
    sa.Index(
        "ix_submissions_form_current", "form_id", "superseded", "review_state", "id"
    ),  # covering: see migration 0005
    sa.Index("ix_submissions_deprecated_id", "deprecated_id"),
)

attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("submission_pk", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(255), nullable=True),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("md5", sa.String(32), nullable=False),
    sa.UniqueConstraint("submission_pk", "filename", name="uq_attachments_submission_filename"),
)

# Every review recorded on a submission, oldest first; the submission row carries the latest.
review_events = sa.Table(
    "review_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("submission_pk", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("review_state", sa.String(32), nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("reviewer", sa.String(255), nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_review_events_submission", "submission_pk"),
)

# Tokens are stored only as SHA-256 hashes; `digest_ha1` is MD5(digest_name:realm:token), what RFC 7616 Digest
# needs; `digest_name` is the volunteer's name in ASCII (Collect's Digest is ASCII-only), unique (migration 0007).
volunteers = sa.Table(
    "volunteers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("project", sa.String(255), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("digest_ha1", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("digest_name", sa.String(255), nullable=True),
    sa.Index("ix_volunteers_digest_name", "digest_name", unique=True),
)

# Each (nonce, nc) a Digest-signed submission used, kept for a nonce's life: a captured header cannot be replayed.
digest_nonce_counts = sa.Table(
    "digest_nonce_counts",
    metadata,
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("nc", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_digest_nonce_counts_used_at", "used_at"),
)

# Server-wide secrets shared by every replica on one database (e.g. the key that signs Digest nonces).
settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Dashboard sign-in accounts. Only argon2 hashes are stored (made by dashboard/auth.py); a one-time password
# (first run, `sdg16 user add`) must be replaced at the first sign-in: `must_change_password`.
dashboard_users = sa.Table(
    "dashboard_users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("must_change_password", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),  # may not sign in (migration 0007)
    sa.Column("language", sa.String(8), nullable=True),  # the dashboard language the user chose; NULL: not chosen
)

# Field-work targets coordinators set in the app: completed interviews per neighbourhood or per volunteer (`kind`).
dashboard_targets = sa.Table(
    "dashboard_targets",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("target", sa.Integer, nullable=False),
)

# Signed-in dashboard sessions, one per browser: the cookie holds a 256-bit random token and only its SHA-256 is
# stored, so a copy of the database cannot be replayed as a cookie. Expiry (idle, maximum age) is dashboard/auth.py's.
dashboard_sessions = sa.Table(
    "dashboard_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "username",
        sa.String(64),
        sa.ForeignKey("dashboard_users.username", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
)

# One-time sign-in tickets (hashed like the session tokens): the sign-in form makes one after the password check
# and the browser trades it, within seconds, for the session cookie (dashboard/session_routes.py).
dashboard_sign_in_tickets = sa.Table(
    "dashboard_sign_in_tickets",
    metadata,
    sa.Column("ticket_hash", sa.String(64), primary_key=True),
    sa.Column(
        "username",
        sa.String(64),
        sa.ForeignKey("dashboard_users.username", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

# Failed dashboard sign-ins per account and per address (`key`: "account:NAME" or "address:IP"), so that password
# guessing is slowed down with a growing lock (dashboard/auth.py) that holds in every process and replica.
dashboard_sign_in_failures = sa.Table(
    "dashboard_sign_in_failures",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure", sa.DateTime(timezone=True), nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
)
