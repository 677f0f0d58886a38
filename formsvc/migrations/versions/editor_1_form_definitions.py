"""Form definitions kept in the database: published text, draft, archived, who changed them and when;
the YAML text of each published version (form_versions.text), so it can be published again.

Revision ID: editor_1
Revises: webhooks_1
Create Date: 2026-12-01 20:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'editor_1'
down_revision = 'access_2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'form_definitions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=64), nullable=False),
        sa.Column('published', sa.Text(), nullable=True),
        sa.Column('draft', sa.Text(), nullable=True),
        sa.Column('archived', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=254), nullable=False),
        sa.Column('updated_seq', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('slug'),
    )
    op.create_index('ix_form_definitions_updated_seq', 'form_definitions', ['updated_seq'])
    with op.batch_alter_table('form_versions') as batch:
        batch.add_column(sa.Column('text', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('form_versions') as batch:
        batch.drop_column('text')
    op.drop_index('ix_form_definitions_updated_seq', table_name='form_definitions')
    op.drop_table('form_definitions')
