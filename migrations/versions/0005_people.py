"""people domain tables

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

import portal.db_types

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requester_language', sa.String(length=5), nullable=True))
        batch_op.create_index('ix_access_requests_queue', ['status', 'created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_access_requests_queue')
        batch_op.drop_column('requester_language')
