"""The senders follow answers up themselves: responses.integrations_pending marks an answer whose registrar
copy and webhook deliveries are still to be made (indexed only where set); an answer has one registrar copy.

Revision ID: integ_1
Revises: editor_1
Create Date: 2026-12-01 22:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'integ_1'
down_revision = 'editor_1'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('responses',
                  sa.Column('integrations_pending', sa.Boolean(), server_default=sa.false(), nullable=False))
    # As the senders' query says it in each dialect, so that the planner uses the index (models.py).
    op.create_index('ix_responses_integrations_pending', 'responses', ['id'],
                    sqlite_where=sa.text('integrations_pending = 1'),
                    postgresql_where=sa.text('integrations_pending'))
    op.drop_index('ix_registrar_copies_response_id', table_name='registrar_copies')
    op.create_index('ix_registrar_copies_response_id', 'registrar_copies', ['response_id'], unique=True)


def downgrade():
    op.drop_index('ix_registrar_copies_response_id', table_name='registrar_copies')
    op.create_index('ix_registrar_copies_response_id', 'registrar_copies', ['response_id'])
    op.drop_index('ix_responses_integrations_pending', table_name='responses')
    # Not in batch mode: SQLite would copy the table, and the answer counts' triggers name it (counts_1).
    op.execute('ALTER TABLE responses DROP COLUMN integrations_pending')
