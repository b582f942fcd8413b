"""the staff console: data-subject requests, their answers and digests; indexes for the audit-log
reader (keyset on id under each filter) and for the exact customer look-up

Revision ID: 0013_staff_console
Revises: 0012_recording_control
"""
from alembic import op
import sqlalchemy as sa

from portal.db_types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0013_staff_console'
down_revision = '0012_recording_control'
branch_labels = None
depends_on = None


def _digits(column: str) -> str:
    # as portal.staff.indexes.digits_of writes it
    expression = column
    for separator in (" ", "-", "(", ")", "+", ".", "/"):
        expression = f"replace({expression}, '{separator}', '')"
    return expression


def upgrade():
    op.create_table(
        'data_subject_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('filed_by_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('extended_at', UTCDateTime(), nullable=True),
        sa.Column('extended_by_id', sa.Integer(), nullable=True),
        sa.Column('extension_reason', sa.Text(), nullable=True),
        sa.Column('closed_at', UTCDateTime(), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('closing_reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_data_subject_requests_customer_id_customers')),
        sa.ForeignKeyConstraint(['filed_by_id'], ['identities.id'], name=op.f('fk_data_subject_requests_filed_by_id_identities')),
        sa.ForeignKeyConstraint(['extended_by_id'], ['identities.id'], name=op.f('fk_data_subject_requests_extended_by_id_identities')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['identities.id'], name=op.f('fk_data_subject_requests_closed_by_id_identities')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_subject_requests')),
    )
    with op.batch_alter_table('data_subject_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_subject_requests_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_data_subject_requests_status_due_on_id', ['status', 'due_on', 'id'], unique=False)
    op.create_table(
        'data_subject_request_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('written_by_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('written_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['data_subject_requests.id'], name=op.f('fk_data_subject_request_answers_request_id_data_subject_requests')),
        sa.ForeignKeyConstraint(['written_by_id'], ['identities.id'], name=op.f('fk_data_subject_request_answers_written_by_id_identities')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_subject_request_answers')),
    )
    with op.batch_alter_table('data_subject_request_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_subject_request_answers_request_id'), ['request_id'], unique=False)
    op.create_table(
        'dsar_digests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('sent_at', UTCDateTime(), nullable=False),
        sa.Column('cases', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dsar_digests')),
        sa.UniqueConstraint('day', name=op.f('uq_dsar_digests_day')),
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_actor_identity_id_id', ['actor_identity_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_kind_id', ['kind', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_at_id', ['at', 'id'], unique=False)
    op.create_index('ix_customers_phone_digits', 'customers', [sa.text(_digits('phone'))], unique=False)
    op.create_index('ix_customers_tax_id_digits', 'customers', [sa.text(_digits('tax_id'))], unique=False)


def downgrade():
    op.drop_index('ix_customers_tax_id_digits', table_name='customers')
    op.drop_index('ix_customers_phone_digits', table_name='customers')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_at_id')
        batch_op.drop_index('ix_audit_events_kind_id')
        batch_op.drop_index('ix_audit_events_actor_identity_id_id')
    op.drop_table('dsar_digests')
    with op.batch_alter_table('data_subject_request_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_subject_request_answers_request_id'))
    op.drop_table('data_subject_request_answers')
    with op.batch_alter_table('data_subject_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_data_subject_requests_status_due_on_id')
        batch_op.drop_index(batch_op.f('ix_data_subject_requests_customer_id'))
    op.drop_table('data_subject_requests')
