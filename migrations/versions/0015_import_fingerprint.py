"""the CRM import remembers each customer's record as last applied (a digest), forgotten by
triggers as soon as anything it covers changes, so an unchanged customer costs a comparison

Revision ID: 0015_import_fingerprint
Revises: 0013_staff_console
"""
from alembic import op
import sqlalchemy as sa

from portal.customers import fingerprints

# revision identifiers, used by Alembic.
revision = '0015_import_fingerprint'
down_revision = '0013_staff_console'
branch_labels = None
depends_on = None


def upgrade():
    # starts empty: the first import after the upgrade compares every customer, as before
    op.create_table(
        'customer_import_fingerprints',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id'),
    )
    for statement in fingerprints.create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in fingerprints.drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table('customer_import_fingerprints')
