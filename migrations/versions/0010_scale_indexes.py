"""hot paths at scale: recording totals kept by triggers, keyset and partial indexes, lower(email)

Revision ID: 0010_scale_indexes
Revises: 0009_audit_sealing
"""
from alembic import op
import sqlalchemy as sa

from portal.customers import totals

# revision identifiers, used by Alembic.
revision = '0010_scale_indexes'
down_revision = '0009_audit_sealing'
branch_labels = None
depends_on = None

PENDING_ACCESS = "status = 'pending'"
PENDING_CORRECTION = "status = 'pending'"
OPEN_TERMINATION = "status IN ('requested', 'in_progress')"


def _where(sql):
    return {"postgresql_where": sa.text(sql), "sqlite_where": sa.text(sql)}


def upgrade():
    op.create_table(
        'customer_recording_totals',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('recordings', sa.Integer(), nullable=False),
        sa.Column('bytes', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id'),
    )
    dialect = op.get_bind().dialect.name
    op.execute(totals.BACKFILL)
    for statement in totals.create_statements(dialect):
        op.execute(statement)

    op.create_index('ix_audit_events_customer_keyset', 'audit_events', ['customer_id', 'id'])
    op.create_index('ix_audit_events_actor_kind_keyset', 'audit_events', ['actor_identity_id', 'kind', 'id'])
    op.create_index('ix_recordings_room_keyset', 'recordings', ['room_id', 'id'])
    # (room_id, id) serves every look-up by room; room_id alone would lure the planner into
    # fetching all of a room's recordings and sorting them
    op.drop_index('ix_recordings_room_id', table_name='recordings')
    op.create_index('ix_access_requests_pending', 'access_requests', ['created_at', 'id'], **_where(PENDING_ACCESS))
    op.create_index('ix_correction_requests_pending', 'correction_requests', ['id'], **_where(PENDING_CORRECTION))
    op.create_index('ix_termination_requests_open', 'termination_requests', ['id'], **_where(OPEN_TERMINATION))
    op.create_index('ix_customers_email_lower', 'customers', [sa.text('lower(email)')])
    op.create_index('ix_delegates_email_lower', 'delegates', [sa.text('lower(email)')])
    op.create_index('ix_staff_roles_email_lower', 'staff_roles', [sa.text('lower(email)')])


def downgrade():
    for name, table in [('ix_staff_roles_email_lower', 'staff_roles'), ('ix_delegates_email_lower', 'delegates'),
                        ('ix_customers_email_lower', 'customers'),
                        ('ix_termination_requests_open', 'termination_requests'),
                        ('ix_correction_requests_pending', 'correction_requests'),
                        ('ix_access_requests_pending', 'access_requests'),
                        ('ix_recordings_room_keyset', 'recordings'),
                        ('ix_audit_events_actor_kind_keyset', 'audit_events'),
                        ('ix_audit_events_customer_keyset', 'audit_events')]:
        if name == 'ix_recordings_room_keyset':
            op.create_index('ix_recordings_room_id', 'recordings', ['room_id'])
        op.drop_index(name, table_name=table)
    dialect = op.get_bind().dialect.name
    for statement in (totals.PG_DROP if dialect == 'postgresql' else totals.SQLITE_DROP):
        op.execute(statement)
    op.drop_table('customer_recording_totals')
