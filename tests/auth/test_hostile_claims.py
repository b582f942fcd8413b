"""Claims a provider sends are bounded and cleaned: a friendly sign-in page, never a 5xx.

Runs on SQLite and, with PORTAL_TEST_DATABASE_URL, on PostgreSQL, which refuses NUL in text and
values longer than their column.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select

from portal.auth.models import Identity, StaffRole, UserSession
from portal.extensions import db
from tests import factories

from .conftest import USER


def identity(sub: str) -> Identity:
    return db.session.scalar(select(Identity).where(Identity.subject == sub))


@pytest.mark.parametrize("name, stored", [
    ("A" * 5000, "A" * 200),
    ("Anna\x00Kowalska", "Anna Kowalska"),
    ("Anna\r\nBcc: x@evil.example", "Anna Bcc: x@evil.example"),
])
def test_an_over_long_or_nul_name_signs_in_cleaned(client, sign_in_via_provider, name, stored):
    response = sign_in_via_provider({"sub": "named", "email": "n@example.pl", "email_verified": True, "name": name})

    assert response.status_code == 302
    assert client.get("/account/").status_code == 200
    assert identity("named").name == stored


@pytest.mark.parametrize("email", [
    "anna@przyklad.pl, iod@mcx.pl",
    "anna@przyklad.pl iod@mcx.pl",
    "Anna <anna@przyklad.pl>",
    "anna@przyklad.pl\niod@mcx.pl",
    "anna@przyklad.pl\x00",
    "a" * 250 + "@przyklad.pl",
])
def test_an_email_claim_counts_only_as_a_single_address(client, sign_in_via_provider, email):
    factories.customer(email="anna@przyklad.pl")
    db.session.add(StaffRole(email="iod@mcx.pl", role="privacy_officer"))
    db.session.commit()

    response = sign_in_via_provider({"sub": "listed", "email": email, "email_verified": True})

    assert response.status_code == 302
    page = client.get("/account/").get_data(as_text=True)
    person = identity("listed")
    assert (person.email, person.email_verified, person.customer_id) == (None, False, None)
    assert db.session.scalar(select(StaffRole.identity_id)) is None
    assert "musi to być dokładnie jeden adres" in page


def test_a_single_address_still_links(client, sign_in_via_provider):
    customer = factories.customer(email="anna@przyklad.pl")
    db.session.commit()

    sign_in_via_provider({"sub": "single", "email": "Anna@Przyklad.PL", "email_verified": True})

    assert identity("single").customer_id == customer.id


@pytest.mark.parametrize("sub", ["x" * 256, "jan\x00kowalski", "jan\tkowalski", "żółw"])
def test_an_unusable_subject_ends_on_a_friendly_page(client, evil, sub):
    evil("normal", claims={**USER, "sub": sub})
    start = client.get("/auth/login?provider=evil")
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(answer.headers["Location"])

    response = client.get(f"{callback.path}?{callback.query}")

    assert response.status_code == 400
    assert 'data-reason="claims_unusable"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0

