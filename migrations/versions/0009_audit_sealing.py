"""audit events are written unsealed and chained by a sealer; verify-audit keeps checkpoints

Revision ID: 0009_audit_sealing
Revises: 0008_auth2_auth_time_unknown
"""
from alembic import op
import sqlalchemy as sa

from portal.db_types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0009_audit_sealing'
down_revision = '0008_auth2_auth_time_unknown'
branch_labels = None
depends_on = None


def upgrade():
    # an event has no place in the chain until the sealer gives it one
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=True))
    op.create_table('audit_seal_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('horizon_id', sa.BigInteger(), nullable=True),
    sa.Column('horizon_xids', sa.Text(), nullable=True),
    sa.Column('sealed_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_seal_state'))
    )
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('key_ids', sa.Text(), nullable=False),
    sa.Column('verified_at', UTCDateTime(), nullable=False),
    sa.Column('mac_key_id', sa.String(length=32), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints'))
    )


def downgrade():
    op.drop_table('audit_checkpoints')
    op.drop_table('audit_seal_state')
    # events still waiting for their seal cannot be kept by the old schema
    op.execute("DELETE FROM audit_events WHERE seq IS NULL")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('mac')
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
