"""Each consent event downloads as a Kantara v1.1 consent receipt, for its owner only."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from portal.extensions import db
from tests import factories

KANTARA_FIELDS = {"version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID",
                  "language", "piiPrincipalId", "piiControllers", "policyUrl", "services", "sensitive", "spiCat"}


@pytest.fixture
def owner(app):
    customer = factories.customer(number="MCX-000123")
    identity = factories.identity(customer=customer)
    db.session.commit()
    return customer, identity


def test_portal_event_receipt_has_the_kantara_fields(client, owner, sign_in_as):
    customer, identity = owner
    factories.policy_version("1.0", published_at=datetime(2025, 1, 1, tzinfo=UTC))
    db.session.commit()
    sign_in_as(identity)
    client.submit("/language", {"lang": "en", "next": "/"})
    client.submit("/account/consents/sms", {"granted": "1"})
    page = client.get("/account/consents").get_data(as_text=True)
    receipt_id = page.split('data-receipt="', 1)[1].split('"', 1)[0]

    response = client.get(f"/account/consents/receipts/{receipt_id}.json")

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="consent-receipt-{receipt_id}.json"'
    receipt = json.loads(response.get_data(as_text=True))
    assert KANTARA_FIELDS <= receipt.keys()
    assert receipt["version"] == "KI-CR-v1.1.0" and receipt["jurisdiction"] == "PL"
    assert receipt["consentReceiptID"] == receipt_id
    assert receipt["piiPrincipalId"] == "MCX-000123"
    assert receipt["language"] == "en"  # the language the page was in when consent was given
    assert receipt["collectionMethod"].startswith("MCX privacy portal")
    assert receipt["policyUrl"] == "http://localhost/privacy/1.0"
    assert receipt["piiControllers"][0]["piiController"] == "MCX Telecom"
    [service] = receipt["services"]
    [purpose] = service["purposes"]
    assert "text message" in purpose["purpose"] and purpose["thirdPartyDisclosure"] is False
    assert (receipt["channel"], receipt["consent"], receipt["source"], receipt["policyVersion"]) == ("sms", "granted", "portal", "1.0")
    assert abs(receipt["consentTimestamp"] - datetime.now(UTC).timestamp()) < 60


def test_imported_order_form_event_receipt_keeps_its_time_and_source(client, owner, sign_in_as):
    customer, identity = owner
    policy = factories.policy_version("1.0", published_at=datetime(2025, 1, 1, tzinfo=UTC))
    event = factories.consent_event(customer, "email", False, at=datetime(2025, 1, 15, 9, tzinfo=UTC), policy_version=policy)
    db.session.commit()
    sign_in_as(identity)

    receipt = client.get(f"/account/consents/receipts/{event.receipt_id}.json").get_json()

    assert receipt["consentTimestamp"] == int(datetime(2025, 1, 15, 9, tzinfo=UTC).timestamp())
    assert receipt["collectionMethod"].startswith("Order form")
    assert (receipt["consent"], receipt["source"], receipt["language"]) == ("withdrawn", "order_form", "pl")


@pytest.mark.parametrize("who", ["another customer", "delegate", "staff", "signed out"])
def test_nobody_else_gets_the_receipt(client, owner, sign_in_as, who):
    customer, _ = owner
    event = factories.consent_event(customer, "email", True)
    if who == "another customer":
        sign_in_as(factories.identity(customer=factories.customer()))
    elif who == "delegate":
        person = factories.identity()
        factories.delegate(customer, person)
        sign_in_as(person)
    elif who == "staff":
        sign_in_as(factories.identity(roles=("moderator", "privacy_officer")))
    db.session.commit()

    response = client.get(f"/account/consents/receipts/{event.receipt_id}.json")

    assert response.status_code == (302 if who == "signed out" else 404)
    assert "piiPrincipalId" not in response.get_data(as_text=True)


def test_unknown_receipt_is_not_found(client, owner, sign_in_as):
    sign_in_as(owner[1])
    assert client.get(f"/account/consents/receipts/{uuid.uuid4()}.json").status_code == 404
