"""A live round can hide its results until it closes.

Revision ID: layout_1
Revises: writes_1
Create Date: 2026-12-01 19:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'layout_1'
down_revision = 'records_1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('live_rounds') as batch_op:
        batch_op.add_column(sa.Column('results_hidden', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('live_rounds') as batch_op:
        batch_op.drop_column('results_hidden')
