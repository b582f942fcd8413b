"""People are told what happened to them (issue 14 item 6): a person whose access was removed,
or whose session ended, reads why on the sign-in page, even with a single identity provider."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth import sessions
from portal.auth.models import UserSession
from portal.db_types import utcnow
from portal.extensions import db
from tests import factories


def end(record: UserSession, reason: str) -> None:
    sessions.revoke(select(UserSession.id).where(UserSession.id == record.id), reason)
    db.session.commit()


@pytest.mark.parametrize("reason, expected", [
    ("delegate_removed", "Klient, który dał Ci dostęp, odebrał go"),
    ("ended_by_user", "Tę sesję zakończono na stronie sesji"),
    ("expired_idle", "Wylogowaliśmy Cię, ponieważ sesja wygasła."),
])
def test_the_sign_in_page_says_why_the_session_ended(app, client, reason, expected):
    app.config["OIDC_PROVIDERS"] = app.config["OIDC_PROVIDERS"][:1]  # one provider: sign-in goes straight there
    person = factories.identity("jan@example.pl")
    record = factories.signed_in(client, person)
    if reason == "expired_idle":
        record.last_seen_at = utcnow() - timedelta(hours=2)
        db.session.commit()
    else:
        end(record, reason)

    refused = client.get("/account/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/auth/login")
    sign_in = client.get(refused.headers["Location"])

    page = sign_in.get_data(as_text=True)
    assert sign_in.status_code == 200, sign_in.headers.get("Location")
    assert expected in page and 'role="alert"' in page
    # told once: the next sign-in goes straight to the provider
    assert client.get("/auth/login").status_code == 302


def test_a_bare_visit_to_sign_in_goes_straight_to_the_single_provider(app, client):
    app.config["OIDC_PROVIDERS"] = app.config["OIDC_PROVIDERS"][:1]
    refused = client.get("/account/")
    assert refused.status_code == 302
    assert client.get(refused.headers["Location"]).status_code == 302
