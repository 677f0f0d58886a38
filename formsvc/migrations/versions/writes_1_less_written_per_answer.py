"""Less written per answer.

The outbox keeps a mail's text only: its HTML part is made from the text when the mail is sent. Two
indexes on responses go, which ix_responses_current (form_slug, is_current, submitted_at) already serves:
every query on is_current also names the form, and form_slug leads that index.

Revision ID: writes_1
Revises: counts_1
Create Date: 2026-11-23 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'writes_1'
down_revision = 'counts_1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.drop_column('body_html')
    with op.batch_alter_table('responses') as batch_op:
        batch_op.drop_index('ix_responses_form_slug')
        batch_op.drop_index('ix_responses_is_current')


def downgrade():
    with op.batch_alter_table('responses') as batch_op:
        batch_op.create_index('ix_responses_is_current', ['is_current'], unique=False)
        batch_op.create_index('ix_responses_form_slug', ['form_slug'], unique=False)
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))
