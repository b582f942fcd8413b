"""A refused form says so at the top of the page, whatever form it is: a summary (role=alert)
before the page's content, linking to each invalid field, with the field's messages as sentences.
On a long page or a phone the message next to the field was screens below (the termination
request at 320 px: y≈3600), and nothing in view said the submit had failed. Works without JS."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Room
from tests import factories


@pytest.fixture
def owner_client(app, client, sign_in_as):
    customer = factories.customer()
    factories.room(customer, name="Sala zarządu")
    identity = factories.identity(customer=customer)
    db.session.commit()
    sign_in_as(identity)
    client.customer = customer
    return client


def _summary(page: str) -> str:
    match = re.search(r'<div class="error-summary"[^>]*role="alert"[^>]*>(.*?)</div>', page, re.S)
    assert match, "no error summary"
    assert page.index('class="error-summary"') < page.index("<form", page.index('id="main"')), \
        "the summary comes after a form"
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    missing = [target for target in re.findall(r'href="#([^"]+)"', match.group(1)) if target not in ids]
    assert not missing, f"summary links to nothing: {missing}"
    return match.group(1)


@pytest.mark.parametrize("url, data, field_id, message", [
    ("/account/contact/address", {"street": "", "postal_code": "31-000", "city": "Kraków", "country": "PL"},
     "street", "To pole jest wymagane."),
    ("/account/contact/phone", {"phone": "abc"}, "phone", None),
    ("/account/termination/request", {"customer_number": "MCX-999999"}, "customer_number",
     "To nie jest Twój numer klienta"),
    ("/account/requests", {"kind": "", "text": ""}, "kind", None),
])
def test_a_refused_form_is_summarised_at_the_top_with_a_link_to_the_field(owner_client, url, data, field_id,
                                                                           message):
    response = owner_client.submit(url, data)

    assert response.status_code in (400, 422)
    summary = _summary(response.get_data(as_text=True))
    assert "Formularz nie został wysłany" in summary
    assert f'href="#{field_id}"' in summary
    if message:
        assert message in summary


def test_the_retention_form_summary_joins_its_messages_as_sentences(owner_client):
    room = db.session.scalar(select(Room))

    response = owner_client.submit(f"/rooms/{room.id}/retention", {"keep": "months", "months": "abc"})

    page = response.get_data(as_text=True)
    summary = _summary(page)
    assert 'href="#months"' in summary
    error = re.search(r'id="months-error"[^>]*>([^<]*)<', page).group(1)
    assert error.strip() == "Nieprawidłowa liczba całkowita. Wybierz od 1 do 120 miesięcy.", error
    assert "Liczba miesięcy: Nieprawidłowa liczba całkowita. Wybierz od 1 do 120 miesięcy." in summary


def test_a_page_without_errors_has_no_summary(owner_client):
    assert 'class="error-summary"' not in owner_client.get("/account/contact").get_data(as_text=True)


def test_a_refused_decision_on_a_request_card_links_to_the_card_s_own_field(app, client, sign_in_as):
    """The moderation card writes its fields with the request's id (reason-7): the summary's link
    pointed at #reason, which is on no page."""
    from tests.people.test_moderation import pending_request

    anna = factories.customer()
    access_request = pending_request(anna)
    sign_in_as(factories.identity("ewa.moderator@mcx.pl", roles=("moderator",)))
    db.session.commit()

    page = client.submit(f"/staff/requests/{access_request.id}/reject", {"reason": "  "}).get_data(as_text=True)

    assert f'href="#reason-{access_request.id}"' in _summary(page)

