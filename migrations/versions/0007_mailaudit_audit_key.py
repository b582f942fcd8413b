"""audit chain keyed with PORTAL_AUDIT_KEY: each event names its key; older events are legacy

Revision ID: 0007_mailaudit_audit_key
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0007_mailaudit_audit_key'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # every event written so far was hashed without a key: it becomes "legacy"
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=32), nullable=False, server_default='legacy'))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('key_id', server_default=None)
    # the first keyed event anchors the legacy ones: its HMAC covers their head (runs in the
    # app's context, see migrations/env.py, so the configured key is at hand)
    from portal import audit

    audit.anchor_legacy(op.get_bind())


def downgrade():
    # the keyed hashes cannot be turned back into plain ones: a downgraded chain verifies up to
    # the first keyed event only
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('key_id')
