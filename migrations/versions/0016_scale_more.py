"""the rooms pages at scale: each room's newest live recordings from a partial index

Revision ID: 0016_scale_more
Revises: 0015_import_fingerprint
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0016_scale_more'
down_revision = '0015_import_fingerprint'
branch_labels = None
depends_on = None

LIVE_RECORDING = "deletion_receipt_id IS NULL"  # as portal/indexes.py writes it


def upgrade():
    # a plain CREATE INDEX on both databases: no batch operation, so the totals triggers stay
    op.create_index('ix_recordings_room_live', 'recordings', ['room_id', 'started_at', 'id'],
                    postgresql_where=sa.text(LIVE_RECORDING), sqlite_where=sa.text(LIVE_RECORDING))


def downgrade():
    op.drop_index('ix_recordings_room_live', table_name='recordings')
