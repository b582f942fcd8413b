"""recordings under the customer's control: deletion on request and by retention, one receipt per
deletion, the per-room retention, a keyset index for the rooms pages, the access-history index

Revision ID: 0012_recording_control
Revises: 0014_ops
"""
import json

from alembic import op
import sqlalchemy as sa

from portal.db_types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0012_recording_control'
down_revision = '0014_ops'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_months', sa.Integer(), nullable=True))
    with op.batch_alter_table('deletion_receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=16), nullable=False, server_default='termination'))
        batch_op.add_column(sa.Column('requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('created_at', UTCDateTime(), nullable=True))
        batch_op.alter_column('termination_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key('fk_deletion_receipts_requested_by_id_identities', 'identities',
                                    ['requested_by_id'], ['id'])
    with op.batch_alter_table('deletion_receipts', schema=None) as batch_op:
        batch_op.alter_column('reason', server_default=None, existing_type=sa.String(length=16))
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deletion_receipt_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_recordings_deletion_receipt_id_deletion_receipts', 'deletion_receipts',
                                    ['deletion_receipt_id'], ['id'])
        batch_op.create_index('ix_recordings_deletion_receipt_id', ['deletion_receipt_id'], unique=False)
        batch_op.create_index('ix_recordings_room_started', ['room_id', 'started_at', 'id'], unique=False)
    op.create_table(
        'recording_access_events',
        sa.Column('recording_id', sa.Integer(), nullable=False),
        sa.Column('audit_event_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['audit_event_id'], ['audit_events.id']),
        sa.PrimaryKeyConstraint('recording_id', 'audit_event_id'),
    )
    # the downloads logged before this revision get their index rows from the events' own data
    connection = op.get_bind()
    events = sa.table('audit_events', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                      sa.column('data', sa.Text))
    index = sa.table('recording_access_events', sa.column('audit_event_id', sa.Integer),
                     sa.column('recording_id', sa.Integer))
    after = 0
    while True:
        rows = connection.execute(sa.select(events.c.id, events.c.data)
                                  .where(events.c.kind == 'recording_downloaded', events.c.id > after)
                                  .order_by(events.c.id).limit(5000)).all()
        if not rows:
            break
        after = rows[-1].id
        values = []
        for row in rows:
            recording_id = json.loads(row.data).get('recording_id')
            if isinstance(recording_id, int):
                values.append({'audit_event_id': row.id, 'recording_id': recording_id})
        if values:
            connection.execute(index.insert(), values)


def downgrade():
    op.drop_table('recording_access_events')
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index('ix_recordings_room_started')
        batch_op.drop_index('ix_recordings_deletion_receipt_id')
        batch_op.drop_constraint('fk_recordings_deletion_receipt_id_deletion_receipts', type_='foreignkey')
        batch_op.drop_column('deletion_receipt_id')
    op.execute("DELETE FROM deleted_recordings WHERE receipt_id IN "
               "(SELECT id FROM deletion_receipts WHERE termination_id IS NULL)")
    op.execute("DELETE FROM deletion_receipts WHERE termination_id IS NULL")
    with op.batch_alter_table('deletion_receipts', schema=None) as batch_op:
        batch_op.drop_constraint('fk_deletion_receipts_requested_by_id_identities', type_='foreignkey')
        batch_op.alter_column('termination_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('created_at')
        batch_op.drop_column('requested_by_id')
        batch_op.drop_column('reason')
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_column('retention_months')
