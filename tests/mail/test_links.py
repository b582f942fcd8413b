"""Links in e-mails and documents come from PORTAL_EXTERNAL_URL, never from the request's Host or
X-Forwarded-Host: a forged header cannot turn the portal's own e-mail into a phishing link."""
from __future__ import annotations

import json
import re

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import mail
from portal.extensions import db
from portal.people.models import AccessRequest
from tests import factories
from tests.termination.conftest import make_account, requested_termination

PORTAL = "https://portal.mcx.example"
EVIL = "http://evil.example"
FORGED = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}


@pytest.fixture(params=["direct", "behind a proxy"])
def forged_app(app, request):
    app.config["EXTERNAL_URL"] = PORTAL
    if request.param == "behind a proxy":
        # a deployment that trusts one proxy's X-Forwarded-* headers (PORTAL_PROXY_COUNT=1)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    return app


def forged_client(app, identity, sign_in_as):
    """A signed-in browser whose every request names the host evil.example (Host and X-Forwarded-Host)."""
    client = app.test_client()
    sign_in_as(identity, client)
    name = app.config["SESSION_COOKIE_NAME"]
    client.set_cookie(name, client.get_cookie(name).value, domain="evil.example")
    return client


def forged_post(client, path: str, data: dict | None = None):
    page = client.get("/", base_url=EVIL, headers=FORGED, follow_redirects=True).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(path, data={**(data or {}), "csrf_token": token}, base_url=EVIL, headers=FORGED)


def links(smtp_server, address: str) -> list[str]:
    mail.deliver_due()
    return [url for message in smtp_server.to(address) for url in re.findall(r"\S+://\S+", message.get_content())]


def test_contact_email_confirmation_link(forged_app, smtp_server, sign_in_as):
    customer = factories.customer()
    owner = factories.identity(customer=customer)
    db.session.commit()
    client = forged_client(forged_app, owner, sign_in_as)

    response = forged_post(client, "/account/contact/email", {"email": "nowy@example.pl"})

    assert response.status_code == 303
    [link] = links(smtp_server, "nowy@example.pl")
    assert link.startswith(f"{PORTAL}/account/contact/email/confirm?token=")


def test_invitation_and_decision_links(forged_app, smtp_server, sign_in_as):
    customer = factories.customer()
    delegate = factories.delegate(customer, None, status="pending")
    request = AccessRequest(customer_id=customer.id, delegate_id=delegate.id, origin="customer", status="pending")
    db.session.add(request)
    moderator = factories.identity(roles=("moderator",))
    db.session.commit()
    client = forged_client(forged_app, moderator, sign_in_as)

    assert forged_post(client, f"/staff/requests/{request.id}/approve", {"note": ""}).status_code == 303

    assert links(smtp_server, delegate.email) == [f"{PORTAL}/"]
    assert links(smtp_server, customer.email) == [f"{PORTAL}/account/people"]


def test_termination_confirmation_link(forged_app, smtp_server, sign_in_as):
    account = make_account(forged_app, recordings=0)
    termination = requested_termination(account)
    officer = factories.identity(roles=("privacy_officer",))
    db.session.commit()
    client = forged_client(forged_app, officer, sign_in_as)

    assert forged_post(client, f"/staff/terminations/{termination.id}/confirm").status_code == 303

    assert links(smtp_server, account.customer.email) == [f"{PORTAL}/account/termination/confirmation"]


def test_consent_receipt_policy_url(forged_app, sign_in_as):
    customer = factories.customer()
    owner = factories.identity(customer=customer)
    factories.policy_version("1.0")
    db.session.commit()
    client = forged_client(forged_app, owner, sign_in_as)
    forged_post(client, "/account/consents/sms", {"granted": "1"})
    page = client.get("/account/consents", base_url=EVIL, headers=FORGED).get_data(as_text=True)
    receipt_id = page.split('data-receipt="', 1)[1].split('"', 1)[0]

    receipt = json.loads(client.get(f"/account/consents/receipts/{receipt_id}.json", base_url=EVIL,
                                    headers=FORGED).get_data())

    assert receipt["policyUrl"] == f"{PORTAL}/privacy/1.0"


def test_production_needs_an_https_external_url(tmp_path):
    from portal import config
    from portal.config import ConfigError

    env = {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "s" * 48, "PORTAL_OIDC_ISSUER": "https://login.mcx.example",
           "PORTAL_OIDC_CLIENT_ID": "portal", "PORTAL_OIDC_CLIENT_SECRET": "secret",
           "PORTAL_AUDIT_KEY": "k:" + "k" * 40}
    with pytest.raises(ConfigError, match="PORTAL_EXTERNAL_URL"):
        config.load(str(tmp_path), env)
    with pytest.raises(ConfigError, match="https"):
        config.load(str(tmp_path), {**env, "PORTAL_EXTERNAL_URL": "http://portal.mcx.example"})
    with pytest.raises(ConfigError, match="PORTAL_EXTERNAL_URL"):
        config.load(str(tmp_path), {**env, "PORTAL_EXTERNAL_URL": "https://portal.mcx.example/?next=evil"})
    assert config.load(str(tmp_path), {**env, "PORTAL_EXTERNAL_URL": "https://mcx.example/portal/"})[
        "EXTERNAL_URL"] == "https://mcx.example/portal"
    assert config.load(str(tmp_path), {})["EXTERNAL_URL"] == "http://127.0.0.1:5000"


def test_a_portal_under_a_path_keeps_it_in_links(app):
    from portal.web.links import external_url

    app.config["EXTERNAL_URL"] = "https://mcx.example/portal"

    assert external_url("account.confirm_email", token="a b") == "https://mcx.example/portal/account/contact/email/confirm?token=a+b"
