"""Outbox: who claimed a mail, which links the service wrote into it, and holds staff released.

claimed_by names the sender run that claimed a mail, so a sender checks before each send that the mail is
still its own. links lists the addresses the service itself wrote into the mail (confirm, unsubscribe,
form links): only those become links in the HTML part, never text a person typed. cap_exempt marks a mail
staff released from the per-address hourly cap (status "held" needs no schema change); the cap counts
per lower(recipient), indexed.

Revision ID: mail_1
Revises: writes_1
Create Date: 2026-12-01 19:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'mail_1'
down_revision = 'nomination_1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('links', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('cap_exempt', sa.Boolean(), server_default=sa.false(), nullable=False))
    # The hourly cap counts mail per address in any case (Anna@ and anna@ are one person): lower() indexed.
    op.create_index('ix_outbox_recipient_lower', 'outbox', [sa.text('lower(recipient)')])


def downgrade():
    op.drop_index('ix_outbox_recipient_lower', table_name='outbox')
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.drop_column('cap_exempt')
        batch_op.drop_column('links')
        batch_op.drop_column('claimed_by')
