"""Health probes and the friendly error pages a person meets when something is wrong."""
from __future__ import annotations

import pytest

from portal import create_app
from portal.extensions import db


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_readyz_answers_when_the_database_does(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


UNREACHABLE = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2",
    "sqlite": "sqlite:////nonexistent-directory/for/sure/portal.sqlite3",
}


@pytest.fixture(params=sorted(UNREACHABLE))
def app_without_database(request, tmp_path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
        "SQLALCHEMY_DATABASE_URI": UNREACHABLE[request.param],
        "OIDC_PROVIDERS": [],
        "RECORDINGS_DIR": str(tmp_path),
    })
    yield app
    with app.app_context():
        db.engine.dispose()


def test_readyz_says_unavailable_when_the_database_is_unreachable(app_without_database):
    client = app_without_database.test_client()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    assert client.get("/healthz").status_code == 200  # the process itself is fine


def test_pages_that_need_the_database_answer_503_with_a_friendly_polish_page(app_without_database):
    client = app_without_database.test_client()
    with client.session_transaction() as session:  # a browser that was signed in before the outage
        session["sid"] = "some-session"
        session["_user_id"] = "1"

    response = client.get("/account/")

    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "Chwilowo niedostępne" in page
    assert "Traceback" not in page and "OperationalError" not in page


def test_unknown_address_gets_a_friendly_404_page(client):
    response = client.get("/no/such/page")

    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Nie znaleziono" in page
    assert 'href="/"' in page  # a way back to the start page


def test_404_page_follows_the_chosen_language(client):
    client.submit("/language", {"lang": "en", "next": "/"})

    page = client.get("/no/such/page").get_data(as_text=True)

    assert "Not found" in page
