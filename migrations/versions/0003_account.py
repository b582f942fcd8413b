"""account domain tables

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

import portal.db_types

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('correction_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('requested_value', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db_types.UTCDateTime(), nullable=False),
    sa.Column('decided_at', portal.db_types.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_correction_requests_customer_id_customers')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['identities.id'], name=op.f('fk_correction_requests_decided_by_id_identities')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['identities.id'], name=op.f('fk_correction_requests_requested_by_id_identities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_requests'))
    )
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_requests_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_requests_status'), ['status'], unique=False)

    op.create_table('seen_logout_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('jti', sa.String(length=255), nullable=False),
    sa.Column('seen_at', portal.db_types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', portal.db_types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seen_logout_tokens')),
    sa.UniqueConstraint('issuer', 'jti', name=op.f('uq_seen_logout_tokens_issuer_jti'))
    )
    with op.batch_alter_table('seen_logout_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_logout_tokens_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('seen_logout_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_logout_tokens_expires_at'))

    op.drop_table('seen_logout_tokens')
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_requests_status'))
        batch_op.drop_index(batch_op.f('ix_correction_requests_customer_id'))

    op.drop_table('correction_requests')
