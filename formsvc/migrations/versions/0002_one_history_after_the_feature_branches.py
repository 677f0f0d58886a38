"""one history after the feature branches

Revision ID: 0002
Revises: hardening_1, invitations_1, live_1, newsletter_1, results_1, sharing_1
Create Date: 2026-11-23 13:37:36.785509

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = ('hardening_1', 'invitations_1', 'live_1', 'newsletter_1', 'results_1', 'sharing_1')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
