"""PostgreSQL going away: friendly 503 pages, /readyz says why, and recovery without a restart."""
from __future__ import annotations

from flask_migrate import upgrade

from portal import create_app
from portal.extensions import db
from tests import factories
from tests.support.tcp_proxy import TcpProxy


def test_database_outage_and_recovery(fresh_postgres, tmp_path):
    proxy = TcpProxy(5432).start()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/{fresh_postgres}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "OIDC_PROVIDERS": [],
                      "RECORDINGS_DIR": str(tmp_path), "SECRET_KEY": "x" * 40,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "connect_args": {"connect_timeout": 3}}})
    client = app.test_client()
    with app.app_context():
        upgrade()
        factories.signed_in(client, factories.identity())
    try:
        assert client.get("/readyz").json == {"status": "ok", "database": "ok"}
        assert client.get("/account/").status_code == 200

        proxy.cut()

        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json["status"] == "unavailable" and ready.json["database"] == "OperationalError"
        page = client.get("/account/")
        assert page.status_code == 503
        assert "Chwilowo niedostępne" in page.get_data(as_text=True)
        assert client.get("/healthz").status_code == 200  # the process itself is fine

        proxy.start()  # the database is back; the same process recovers on its own

        assert client.get("/readyz").status_code == 200
        assert client.get("/account/").status_code == 200  # still signed in: nothing was lost
    finally:
        proxy.cut()
        with app.app_context():
            db.engine.dispose()
