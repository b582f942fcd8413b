"""consents domain tables

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

import portal.db_types

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.drop_column('language')
