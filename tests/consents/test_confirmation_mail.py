"""A consent change is confirmed by e-mail over SMTP: a service message, in the customer's language,
queued in the same transaction and delivered through the durable outbox."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import mail
from portal.consents import services
from portal.consents.models import ConsentEvent
from portal.db_types import utcnow
from portal.extensions import db
from portal.mail import OutboxMessage
from tests import factories
from tests.conftest import free_port


@pytest.fixture
def owner(app):
    customer = factories.customer(email="anna@przyklad.pl", first_name="Anna", last_name="Kowalska")
    identity = factories.identity(customer=customer)
    db.session.commit()
    return customer, identity


def test_confirmation_is_sent_after_the_response(client, owner, sign_in_as, smtp_server):
    customer, identity = owner
    sign_in_as(identity)

    response = client.submit("/account/consents/email", {"granted": "1"})
    response.close()  # the server closes the response once sent; delivery runs then

    [message] = smtp_server.to("anna@przyklad.pl")
    assert message["Subject"] == "MCX: udzielono zgody na informacje o nowych produktach"
    body = message.get_content().replace("\r\n", "\n")
    assert "Dzień dobry, Anna Kowalska," in body
    assert "Zgoda udzielona: możemy wysyłać Ci e-mailem informacje o nowych usługach i produktach." in body
    assert "- E-mail: zgoda udzielona\n- Wiadomości SMS: brak zgody\n- Połączenia telefoniczne: brak zgody" in body
    receipt = db.session.scalar(select(ConsentEvent.receipt_id))
    assert f"Numer potwierdzenia: {receipt}." in body
    assert "To wiadomość serwisowa, nie marketing" in body
    assert db.session.scalar(select(OutboxMessage.status)) == "sent"


def test_withdrawing_the_last_consent_is_still_confirmed_because_it_is_a_service_message(client, owner, sign_in_as, smtp_server):
    customer, identity = owner
    factories.consent_event(customer, "email", True)
    db.session.commit()
    sign_in_as(identity)

    client.submit("/account/consents/email", {"granted": "0"})
    mail.deliver_due()

    [message] = smtp_server.to("anna@przyklad.pl")
    assert message["Subject"] == "MCX: wycofano zgodę na informacje o nowych produktach"
    assert "- E-mail: brak zgody" in message.get_content()
    assert services.current_consents(customer.id)["email"].granted is False


def test_confirmation_is_in_the_customers_language_not_the_pages(client, owner, sign_in_as, smtp_server):
    customer, identity = owner
    customer.preferred_language = "en"
    db.session.commit()
    sign_in_as(identity)  # the page stays Polish

    client.submit("/account/consents/phone", {"granted": "1"})
    mail.deliver_due()

    [message] = smtp_server.to("anna@przyklad.pl")
    assert message["Subject"] == "MCX: you gave consent to information about new products"
    assert "Consent given: we may call you about new services and products." in message.get_content()


def test_with_the_mail_server_down_the_confirmation_waits_and_is_sent_later(app, client, owner, sign_in_as, smtp_server):
    customer, identity = owner
    sign_in_as(identity)
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there

    client.submit("/account/consents/sms", {"granted": "1"}).close()

    stored = db.session.scalar(select(OutboxMessage))
    assert stored.status == "pending" and stored.attempts == 1 and stored.kind == "consent_changed"
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{smtp_server.port}"
    later = utcnow() + timedelta(minutes=5)
    assert mail.deliver_due(now=later).sent == 1
    assert len(smtp_server.to("anna@przyklad.pl")) == 1


def test_message_and_event_exist_together_or_not_at_all(app, owner):
    customer, identity = owner

    services.change_consent(customer, "email", True, actor=identity, language="pl")
    db.session.rollback()  # the request failed after the change

    assert db.session.scalar(select(func.count(ConsentEvent.id))) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0

    services.change_consent(customer, "email", True, actor=identity, language="pl")
    db.session.commit()
    assert db.session.scalar(select(func.count(ConsentEvent.id))) == 1
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
