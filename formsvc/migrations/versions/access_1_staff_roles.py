"""Staff roles (Administratör, Handläggare, Läsare) and the forms given to a Läsare.

Accounts that exist when this runs become Administratörs, so nobody is locked out; new accounts are
Handläggare unless made otherwise.

Revision ID: access_1
Revises: webhooks_1
Create Date: 2026-12-01 20:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'access_1'
down_revision = 'webhooks_1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_users') as batch:
        batch.add_column(sa.Column('role', sa.String(length=20), server_default='admin', nullable=False))
    with op.batch_alter_table('staff_users') as batch:
        batch.alter_column('role', server_default=None, existing_type=sa.String(length=20), existing_nullable=False)
    op.create_table(
        'staff_form_grants',
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('form_slug', sa.String(length=100), nullable=False),
        sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('given_by', sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('staff_user_id', 'form_slug'),
    )


def downgrade():
    op.drop_table('staff_form_grants')
    with op.batch_alter_table('staff_users') as batch:
        batch.drop_column('role')
