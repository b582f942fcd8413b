"""a deleted recording's receipt line says what its permanent removal took from the store;
when each scheduled job last succeeded (metrics)

Revision ID: 0014_ops
Revises: 0010_scale_indexes
"""
from alembic import op
import sqlalchemy as sa

from portal.db_types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0014_ops'
down_revision = '0010_scale_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_runs',
                    sa.Column('name', sa.String(length=64), nullable=False),
                    sa.Column('last_success_at', UTCDateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('name'))
    # NULL for recordings deleted before the store reported it (the receipt then says nothing)
    with op.batch_alter_table('deleted_recordings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('versions_removed', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('delete_markers_removed', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('deleted_recordings', schema=None) as batch_op:
        batch_op.drop_column('delete_markers_removed')
        batch_op.drop_column('versions_removed')
    op.drop_table('job_runs')
