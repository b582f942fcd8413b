"""Each provider links only what it is configured to vouch for (SPEC "Trust per identity provider").

The partner provider is a real process configured as any provider but the primary is by
default: it may link delegate invitations within its domain (partner.example), nothing else.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from portal import config
from portal.audit import AuditEvent
from portal.auth.models import Identity, StaffRole
from portal.extensions import db
from portal.people.models import Delegate
from tests import factories
from tests.conftest import PARTNER_DOMAIN


def refusal() -> AuditEvent | None:
    return db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "identity_link_refused"))


def partner_identity(sub: str) -> Identity:
    return db.session.scalar(select(Identity).where(Identity.subject == sub))


@pytest.mark.parametrize("email, reason", [("iod@mcx.pl", "domain"), (f"iod@{PARTNER_DOMAIN}", "kind")])
def test_employer_sso_claiming_a_staff_email_gets_no_role(client, sign_in_via_provider, email, reason):
    db.session.add(StaffRole(email=email, role="privacy_officer"))
    db.session.commit()

    sign_in_via_provider({"sub": "fake-iod", "email": email, "email_verified": True}, provider_name="partner")

    page = client.get("/account/").get_data(as_text=True)
    assert db.session.scalar(select(StaffRole.identity_id)) is None
    assert "data-role" not in page
    assert client.get("/staff/terminations/").status_code in (403, 404)
    assert "Partner SSO" in page and "połączyliśmy" in page
    event = refusal()
    assert event.details["provider"] == "partner" and event.details["waiting"] == ["staff"]
    assert event.details["reason"] == reason


def test_employer_sso_claiming_a_customer_email_gets_no_account(client, sign_in_via_provider):
    customer = factories.customer(email=f"owner@{PARTNER_DOMAIN}")  # even inside its own domain
    db.session.commit()

    sign_in_via_provider({"sub": "fake-owner", "email": f"owner@{PARTNER_DOMAIN}", "email_verified": True},
                         provider_name="partner")

    page = client.get("/account/").get_data(as_text=True)
    assert partner_identity("fake-owner").customer_id is None
    assert f'data-customer="{customer.number}"' not in page
    assert client.get("/account/export.json").status_code != 200
    assert refusal().details["reason"] == "kind"


def test_employer_sso_claiming_a_delegate_email_outside_its_domains_links_nothing(client, sign_in_via_provider):
    owner = factories.customer()
    invitation = factories.delegate(owner, status="invited")
    invitation.email = "jan@przyklad.pl"
    db.session.commit()

    client.submit("/language", {"lang": "en", "next": "/"})
    sign_in_via_provider({"sub": "fake-jan", "email": "jan@przyklad.pl", "email_verified": True},
                         provider_name="partner")

    page = client.get("/account/").get_data(as_text=True)
    assert db.session.get(Delegate, invitation.id).identity_id is None
    assert f'data-delegate-of="{owner.number}"' not in page
    assert "does not speak for your e-mail address" in page
    assert refusal().details["reason"] == "domain"


def test_employer_sso_links_a_delegate_invitation_within_its_domain(client, sign_in_via_provider):
    owner = factories.customer()
    invitation = factories.delegate(owner, status="invited")
    invitation.email = f"jan@{PARTNER_DOMAIN}"
    db.session.commit()

    sign_in_via_provider({"sub": "jan", "email": f"JAN@{PARTNER_DOMAIN}", "email_verified": True},
                         provider_name="partner")

    assert f'data-delegate-of="{owner.number}"' in client.get("/account/").get_data(as_text=True)
    assert db.session.get(Delegate, invitation.id).identity_id == partner_identity("jan").id
    assert refusal() is None


def test_primary_may_be_limited_to_its_own_domain(app, client, sign_in_via_provider):
    primary = app.config["OIDC_PROVIDERS"][0]
    app.config["OIDC_PROVIDERS"][0] = type(primary)(**{**primary.__dict__, "domains": ("mcx.pl",)})
    factories.customer(email="anna@przyklad.pl")
    db.session.commit()

    sign_in_via_provider({"sub": "anna", "email": "anna@przyklad.pl", "email_verified": True})

    assert partner_identity("anna").customer_id is None
    assert refusal().details["reason"] == "domain"


def test_defaults_primary_links_everything_others_only_delegates_in_no_domain(tmp_path):
    extra = [{"name": "acme", "issuer": "https://sso.acme.pl", "client_id": "x", "client_secret": "y"},
             {"name": "beta", "issuer": "https://sso.beta.pl", "client_id": "x", "client_secret": "y",
              "links": ["delegates", "staff"], "domains": ["Beta.pl", "@beta.com"],
              "token_endpoint_auth_method": "client_secret_post"}]
    providers = config.load(str(tmp_path), {"PORTAL_OIDC_PROVIDERS": json.dumps(extra)})["OIDC_PROVIDERS"]

    primary, acme, beta = providers
    assert primary.links == {"customers", "delegates", "staff"} and primary.domains is None
    assert acme.links == {"delegates"} and acme.domains == ()
    assert not acme.speaks_for("jan@acme.pl")
    assert beta.links == {"delegates", "staff"} and beta.domains == ("beta.pl", "beta.com")
    assert beta.speaks_for("jan@BETA.pl") and not beta.speaks_for("jan@evil-beta.pl")
    assert beta.token_endpoint_auth_method == "client_secret_post"


@pytest.mark.parametrize("entry", [{"links": ["everything"]}, {"domains": ["not a domain"]},
                                   {"token_endpoint_auth_method": "password"}])
def test_a_wrong_trust_setting_is_refused_at_start(tmp_path, entry):
    extra = [{"name": "acme", "issuer": "https://sso.acme.pl", "client_id": "x", "client_secret": "y", **entry}]
    with pytest.raises(config.ConfigError, match="acme"):
        config.load(str(tmp_path), {"PORTAL_OIDC_PROVIDERS": json.dumps(extra)})
