"""The Alembic migrations build exactly the schema the models describe, and can be undone."""
from __future__ import annotations

import os
from urllib.parse import urlsplit

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal import create_app
from portal.extensions import db


def test_migrated_database_matches_the_models(app):
    """`flask db migrate` would generate nothing: no model change is missing a migration."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": False})
        differences = compare_metadata(context, db.metadata)

    assert differences == []


@pytest.fixture
def throwaway_database(tmp_path, worker_id_safe):
    """An empty database of the kind this run of the suite uses (CI runs it on both)."""
    base = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    parts = urlsplit(base.replace("postgresql+psycopg://", "postgresql://"))
    name = f"{parts.path.lstrip('/') or 'portal_test'}_migrations_{worker_id_safe}"
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield parts._replace(scheme="postgresql+psycopg", path=f"/{name}").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(app, *args: str):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, f"flask {' '.join(args)} failed:\n{result.output}\n{result.exception!r}"
    return result


def tables(app) -> set[str]:
    with app.app_context():
        names = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    return names - {"alembic_version"}


def test_downgrade_to_base_and_upgrade_again(throwaway_database, tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": throwaway_database,
                      "OIDC_PROVIDERS": [], "RECORDINGS_DIR": str(tmp_path)})
    model_tables = set(db.metadata.tables)

    run(app, "db", "upgrade")
    assert tables(app) == model_tables

    run(app, "db", "downgrade", "base")
    assert tables(app) == set()

    run(app, "db", "upgrade")
    assert tables(app) == model_tables
    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        db.engine.dispose()
