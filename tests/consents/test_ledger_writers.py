"""Staff cannot change a customer's consent: the owner's control is the only route that writes
a consent event (the import, a CLI command, writes the order form's events)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal import ROOT, create_app
from portal.consents.models import ConsentEvent
from portal.extensions import db
from tests import factories

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_ROUTES = [(rule.rule, rule.endpoint, method)
           for rule in create_app({"TESTING": True, "OIDC_PROVIDERS": [], "SQLALCHEMY_DATABASE_URI": "sqlite://"})
           .url_map.iter_rules() for method in sorted(rule.methods & UNSAFE)]
FORM = {"granted": "1", "channel": "email", "lang": "pl", "next": "/", "version": "1.0", "confirm": "x",
        "reason": "x", "note": "x", "name": "x", "email": "x@example.pl"}


def url_for_rule(rule: str) -> str:
    """Fill every argument with a value that could point at the staff member's target."""
    return re.sub(r"<(?:[a-z]+:)?(\w+)>", lambda m: "email" if m.group(1) == "channel" else "1", rule)


def count_events() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(ConsentEvent.id)))


@pytest.fixture
def staff_and_target(app):
    target = factories.customer()
    factories.room(target)
    staff = factories.identity(roles=("moderator", "privacy_officer"))
    db.session.commit()
    return staff, target


def test_the_enumeration_sees_the_consent_control():
    assert ("/account/consents/<channel>", "consents.choose", "POST") in _ROUTES


@pytest.mark.parametrize("rule, endpoint, method", _ROUTES)
def test_no_state_changing_route_lets_staff_write_a_consent_event(client, sign_in_as, staff_and_target,
                                                                  rule, endpoint, method):
    staff, target = staff_and_target
    sign_in_as(staff)

    for url in {url_for_rule(rule), url_for_rule(rule).replace("/1", f"/{target.id}")}:
        data = {**FORM, "csrf_token": client.csrf_token(), "customer_id": str(target.id),
                "number": target.number}
        client.open(url, method=method, data=data, headers={"X-CSRFToken": data["csrf_token"]})

    assert count_events() == 0


def test_the_owner_writes_consent_events_only_through_the_consent_control(client, sign_in_as, app):
    owner = factories.customer()
    identity = factories.identity(customer=owner, roles=("moderator", "privacy_officer"))
    db.session.commit()
    writers = set()
    for rule, endpoint, method in _ROUTES:
        sign_in_as(identity)  # some routes sign out or end sessions: start each one signed in
        before = count_events()
        token = client.csrf_token()
        client.open(url_for_rule(rule), method=method, data={**FORM, "csrf_token": token},
                    headers={"X-CSRFToken": token})
        if count_events() != before:
            writers.add(endpoint)

    assert writers == {"consents.choose"}


def test_only_the_consent_service_and_the_import_construct_consent_events():
    # the import appends events with a set-based insert into the table (crm_import/apply.py)
    writers = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "portal").rglob("*.py")
                     if re.search(r"(?<!class )\bConsentEvent\(|ConsentEvent\.__table__", path.read_text()))
    assert writers == ["portal/consents/services.py", "portal/crm_import/apply.py"]
