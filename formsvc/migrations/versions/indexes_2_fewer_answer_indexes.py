"""Two indexes on responses that ix_responses_current (form_slug, is_current, submitted_at) already
serves: every query on is_current also names the form, and form_slug leads that index. One page fewer
to write per index and answer.

Revision ID: indexes_2
Revises: mail_1
Create Date: 2026-11-23 17:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'indexes_2'
down_revision = 'mail_1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('responses') as batch_op:
        batch_op.drop_index('ix_responses_form_slug')
        batch_op.drop_index('ix_responses_is_current')


def downgrade():
    with op.batch_alter_table('responses') as batch_op:
        batch_op.create_index('ix_responses_is_current', ['is_current'], unique=False)
        batch_op.create_index('ix_responses_form_slug', ['form_slug'], unique=False)
