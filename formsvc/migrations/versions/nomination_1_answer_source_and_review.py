"""Where each answer came from, and staff review of open-link answers to forms answered once per organisation.

An answer through an organisation's personal link has source "invitation"; others "open". Answers already
stored through a personal link (invited_responses) get "invitation"; the rest stay as they are (current or
not), with nothing to review.

Revision ID: nomination_1
Revises: writes_1
Create Date: 2026-12-01 19:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'nomination_1'
down_revision = 'writes_1'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy): SQLite keeps the answer_counts triggers on the table.
    op.add_column('responses', sa.Column('source', sa.String(length=16), server_default='open', nullable=False))
    op.add_column('responses', sa.Column('review', sa.String(length=16), nullable=True))
    op.add_column('responses', sa.Column('reviewed_by', sa.String(length=254), nullable=True))
    op.add_column('responses', sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE responses SET source = 'invitation' "
        "WHERE id IN (SELECT response_id FROM invited_responses)"
    )


def downgrade():
    with op.batch_alter_table('responses', recreate='never') as batch_op:
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by')
        batch_op.drop_column('review')
        batch_op.drop_column('source')
