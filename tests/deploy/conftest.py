"""PostgreSQL databases of their own for the deployment tests (they run on both suite variants)."""
from __future__ import annotations

import psycopg
import pytest

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def fresh_postgres(worker_id_safe, request):
    """An empty PostgreSQL database for the test module, dropped afterwards."""
    name = f"portal_deploy_{request.module.__name__.rsplit('.', 1)[-1]}_{worker_id_safe}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
