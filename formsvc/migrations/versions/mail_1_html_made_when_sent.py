"""The outbox keeps a mail's text only: its HTML part is made from the text when the mail is sent.

Revision ID: mail_1
Revises: counts_1
Create Date: 2026-11-23 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'mail_1'
down_revision = 'counts_1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.drop_column('body_html')


def downgrade():
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))
