"""Indexes for results on large forms: counts from the index alone, current answers by form.

Revision ID: results_1
Revises: 0001
Create Date: 2026-01-01 00:00:00
"""

from alembic import op

revision = "results_1"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("answer_values", schema=None) as batch_op:
        batch_op.create_index("ix_answer_values_tally", ["form_slug", "field", "value", "position"], unique=False)
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index("ix_responses_current", ["form_slug", "is_current", "submitted_at"], unique=False)


def downgrade():
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_current")
    with op.batch_alter_table("answer_values", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_values_tally")
