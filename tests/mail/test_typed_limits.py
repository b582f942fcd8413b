"""E-mail to addresses a customer typed (contact e-mail confirmations, invitations) is limited per
customer and per address over a window, with a clear message in Polish and English."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import config
from portal.audit import AuditEvent
from portal.extensions import db
from portal.mail import OutboxMessage
from portal.people.models import Delegate
from tests.mail.helpers import signed_in_owner

PER_CUSTOMER_PL = "Osiągnięto limit wiadomości na wpisywane przez Ciebie adresy: 3 w ciągu 24 godzin."
PER_CUSTOMER_EN = "You have reached the limit on e-mails to addresses you type: 3 in 24 hours."
PER_ADDRESS_PL = "Na ten adres wysłaliśmy już tyle wiadomości, ile dopuszczamy w ciągu 24 godzin."


@pytest.fixture
def limits(app):
    app.config.update(TYPED_MAIL_PER_CUSTOMER=3, TYPED_MAIL_PER_ADDRESS=2, TYPED_MAIL_WINDOW_HOURS=24)


def owner_client(app, sign_in_as):
    client = signed_in_owner(app, sign_in_as)
    return client.customer, client


def add_person(client, customer, email):
    return client.submit("/account/people", {"name": "Jan Nowak", "email": email, "rooms": [str(customer.board.id)],
                                             "expires_on": ""})


def change_email(client, email):
    return client.submit("/account/contact/email", {"email": email})


def counts(kind: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == kind))


def test_a_customer_reaches_the_limit_across_confirmations_and_invitations(app, limits, sign_in_as):
    customer, client = owner_client(app, sign_in_as)

    assert add_person(client, customer, "a@example.pl").status_code == 303
    assert add_person(client, customer, "b@example.pl").status_code == 303
    assert change_email(client, "nowy@example.pl").status_code == 303
    refused_person = add_person(client, customer, "c@example.pl")
    refused_email = change_email(client, "inny@example.pl")
    client.submit("/language", {"lang": "en", "next": "/"})
    refused_en = change_email(client, "inny@example.pl")

    assert refused_person.status_code >= 400 and PER_CUSTOMER_PL in refused_person.get_data(as_text=True)
    assert refused_email.status_code == 400 and PER_CUSTOMER_PL in refused_email.get_data(as_text=True)
    assert PER_CUSTOMER_EN in refused_en.get_data(as_text=True)
    assert "inny@example.pl" in refused_email.get_data(as_text=True)  # the form keeps what was typed
    assert db.session.scalar(select(func.count(Delegate.id))) == 2
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.kind == "contact_email_confirm")) == 1
    assert counts("delegate_added") == 2 and counts("contact_email_change_requested") == 1


def test_an_address_reaches_its_limit_whoever_types_it(app, limits, sign_in_as):
    anna, anna_client = owner_client(app, sign_in_as)
    olga, olga_client = owner_client(app, sign_in_as)

    assert change_email(anna_client, "ofiara@example.pl").status_code == 303
    assert add_person(olga_client, olga, "Ofiara@Example.pl").status_code == 303
    refused = add_person(anna_client, anna, "OFIARA@example.pl")
    refused_email = change_email(olga_client, "ofiara@example.pl")

    assert PER_ADDRESS_PL in refused.get_data(as_text=True)
    assert PER_ADDRESS_PL in refused_email.get_data(as_text=True)
    # another address is still fine for both
    assert add_person(anna_client, anna, "kto.inny@example.pl").status_code == 303


def test_the_window_moves_on(app, limits, sign_in_as):
    customer, client = owner_client(app, sign_in_as)
    for n in range(3):
        assert add_person(client, customer, f"p{n}@example.pl").status_code == 303
    assert PER_CUSTOMER_PL in add_person(client, customer, "p3@example.pl").get_data(as_text=True)

    for delegate in db.session.scalars(select(Delegate)):
        delegate.created_at -= timedelta(hours=24, minutes=1)
    db.session.commit()

    assert add_person(client, customer, "p3@example.pl").status_code == 303


def test_limits_are_configurable_with_safe_defaults(tmp_path):
    defaults = config.load(str(tmp_path), {})
    assert (defaults["TYPED_MAIL_PER_CUSTOMER"], defaults["TYPED_MAIL_PER_ADDRESS"],
            defaults["TYPED_MAIL_WINDOW_HOURS"]) == (10, 3, 24)
    chosen = config.load(str(tmp_path), {"PORTAL_TYPED_MAIL_PER_CUSTOMER": "50", "PORTAL_TYPED_MAIL_PER_ADDRESS": "5",
                                         "PORTAL_TYPED_MAIL_WINDOW_HOURS": "1"})
    assert (chosen["TYPED_MAIL_PER_CUSTOMER"], chosen["TYPED_MAIL_PER_ADDRESS"],
            chosen["TYPED_MAIL_WINDOW_HOURS"]) == (50, 5, 1)
    with pytest.raises(config.ConfigError, match="PORTAL_TYPED_MAIL_PER_ADDRESS"):
        config.load(str(tmp_path), {"PORTAL_TYPED_MAIL_PER_ADDRESS": "0"})
