"""termination domain tables

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

import portal.db_types

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('requested', 'in_progress')")


def upgrade():
    with op.batch_alter_table('termination_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', portal.db_types.UTCDateTime(), nullable=True))
        batch_op.create_index('uq_termination_requests_open_customer', ['customer_id'], unique=True,
                              sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade():
    with op.batch_alter_table('termination_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_termination_requests_open_customer')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
