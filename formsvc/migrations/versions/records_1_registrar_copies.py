"""Registrar copies: the outbox mail that carries the PDF copy of an answer to a record form.

Revision ID: records_1
Revises: mail_1
Create Date: 2026-12-01 20:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'records_1'
down_revision = 'mail_1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'registrar_copies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('outbox_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['response_id'], ['responses.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('outbox_id'),
    )
    op.create_index('ix_registrar_copies_response_id', 'registrar_copies', ['response_id'])


def downgrade():
    op.drop_index('ix_registrar_copies_response_id', table_name='registrar_copies')
    op.drop_table('registrar_copies')
