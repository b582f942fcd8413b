"""a session's auth_time may be unknown (the provider sent none): such a session is never recent

Revision ID: 0008_auth2_auth_time_unknown
Revises: 0007_mailaudit_audit_key
"""
from alembic import op
import sqlalchemy as sa

from portal.db_types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0008_auth2_auth_time_unknown'
down_revision = '0007_mailaudit_audit_key'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.alter_column('auth_time', existing_type=UTCDateTime(), nullable=True)


def downgrade():
    # an unknown time becomes the session's start, which the old schema took it to be
    op.execute("UPDATE user_sessions SET auth_time = created_at WHERE auth_time IS NULL")
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.alter_column('auth_time', existing_type=UTCDateTime(), nullable=False)
