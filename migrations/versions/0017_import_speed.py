"""the CRM import's own transaction tells the import-digest triggers to leave its writes alone (it
writes every digest or NULL of the customers it writes itself), so a batch no longer pays one
forgetting upsert per watched table; everyone else's changes still forget (PostgreSQL only)

Revision ID: 0017_import_speed
Revises: 0016_scale_more
"""
from alembic import op

from portal.customers import fingerprints

# revision identifiers, used by Alembic.
revision = '0017_import_speed'
down_revision = '0016_scale_more'
branch_labels = None
depends_on = None


def upgrade():
    # only the functions' bodies change: the triggers and SQLite's row triggers stay as they are
    if op.get_bind().dialect.name == "postgresql":
        for statement in fingerprints.pg_function_statements(own_writes=True):
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in fingerprints.pg_function_statements(own_writes=False):
            op.execute(statement)
