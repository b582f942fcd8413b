"""E-mail that is always deliverable or clearly refused: IDNA domains on the wire, undeliverable
local parts refused at the form, single-line headers whatever the data, and one bad message
never stopping the others (parked with its error, shown to privacy officers, addresses masked).
All against a real SMTP server (aiosmtpd) that, like many, lacks SMTPUTF8."""
from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from portal import mail
from portal.extensions import db
from portal.mail import OutboxMessage
from portal.people.models import AccessRequest, Delegate
from tests import factories
from tests.conftest import free_port
from tests.mail.helpers import signed_in_owner

PUNYCODE = "xn--przykad-rjb.pl"  # przykład.pl, as RFC 5891 writes it
NON_ASCII_PL = "Nie możemy dostarczyć poczty na ten adres: część przed znakiem @"
NON_ASCII_EN = "We cannot deliver e-mail to this address: the part before the @"


class Server:
    """Received envelopes; refuses the recipients it was told to, with the reply it was given."""

    def __init__(self):
        self.envelopes: list = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos),
                               message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def to(self, address: str) -> list:
        return [message for _, rcpt, message in self.envelopes if address in rcpt]


@pytest.fixture
def smtp(app):
    from aiosmtpd.controller import Controller

    handler = Server()
    # like many mail servers (and unlike aiosmtpd's default) it does not offer SMTPUTF8
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=False)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


@pytest.fixture
def owner(app, sign_in_as):
    return signed_in_owner(app, sign_in_as)


def send_mail(app):
    return app.test_cli_runner().invoke(args=["portal", "send-mail"])


def queue(to: str, subject: str = "Wiadomość", kind: str = "test") -> OutboxMessage:
    message = OutboxMessage(kind=kind, to_address=to, subject=subject, body="Treść\n",
                            message_id=f"<{free_port()}.{to.split('@')[0]}@mcx.pl>")
    db.session.add(message)
    db.session.commit()
    return message


# --- IDNA domains ---------------------------------------------------------------------------

def test_a_contact_address_with_a_polish_domain_goes_out_in_punycode(app, owner, smtp):
    response = owner.submit("/account/contact/email", {"email": "anna@przykład.pl"})

    assert response.status_code == 303
    mail.deliver_due()
    [(sender, recipients, message)] = smtp.envelopes
    assert recipients == [f"anna@{PUNYCODE}"] and message["To"] == f"anna@{PUNYCODE}"
    assert sender == "prywatnosc@mcx.pl" and message["From"] == "MCX Telecom <prywatnosc@mcx.pl>"
    assert db.session.scalar(select(OutboxMessage.status)) == "sent"


def test_an_invited_person_with_a_polish_domain_gets_the_invitation(app, owner, smtp, sign_in_as):
    owner.submit("/account/people", {"name": "Jan", "email": "jan@przykład.pl", "rooms": [str(owner.customer.board.id)],
                                     "expires_on": ""})
    moderator = app.test_client()
    sign_in_as(factories.identity(roles=("moderator",)), moderator)
    request = db.session.scalar(select(AccessRequest))
    moderator.submit(f"/staff/requests/{request.id}/approve", {"note": ""})

    mail.deliver_due()

    assert len(smtp.to(f"jan@{PUNYCODE}")) == 1


# --- local parts that cannot be delivered ----------------------------------------------------

def test_a_non_ascii_local_part_is_refused_at_the_contact_form(app, owner, smtp):
    refused = owner.submit("/account/contact/email", {"email": "żaneta@example.pl"})
    owner.submit("/language", {"lang": "en", "next": "/"})
    refused_en = owner.submit("/account/contact/email", {"email": "żaneta@example.pl"})

    assert refused.status_code == 400 and NON_ASCII_PL in refused.get_data(as_text=True)
    assert "żaneta@example.pl" in refused.get_data(as_text=True)  # kept for correcting
    assert NON_ASCII_EN in refused_en.get_data(as_text=True)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_a_non_ascii_local_part_is_refused_when_adding_a_person(app, owner, smtp):
    refused = owner.submit("/account/people", {"name": "Józef", "email": "józef@example.pl",
                                               "rooms": [str(owner.customer.board.id)], "expires_on": ""})

    assert refused.status_code >= 400 and NON_ASCII_PL in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Delegate.id))) == 0


def test_a_server_with_smtputf8_may_take_non_ascii_local_parts(app, owner):
    app.config["SMTP_UTF8"] = True

    assert owner.submit("/account/contact/email", {"email": "żaneta@example.pl"}).status_code == 303


# --- single-line headers ---------------------------------------------------------------------

@pytest.mark.parametrize("separator", ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"])
def test_an_imported_company_name_with_a_line_break_never_breaks_the_invitation(app, smtp, sign_in_as, separator):
    customer = factories.customer(kind="company", company_name=f"Przykład Sp. z o.o.{separator}Bcc: ofiara@example.pl")
    delegate = factories.delegate(customer, None, status="pending")
    request = AccessRequest(customer_id=customer.id, delegate_id=delegate.id, origin="customer", status="pending")
    db.session.add(request)
    moderator = factories.identity(roles=("moderator",))
    db.session.commit()
    client = app.test_client()
    sign_in_as(moderator, client)
    client.submit(f"/staff/requests/{request.id}/approve", {"note": ""})  # tries to send after the response

    result = send_mail(app)  # and cron sends whatever is left

    assert result.exit_code == 0, result.output
    [message] = smtp.to(delegate.email)
    assert message["Subject"] == "Przykład Sp. z o.o. Bcc: ofiara@example.pl zaprasza Cię do korzystania ze swoich pokoi MCX"
    assert message["Bcc"] is None and [r for _, rcpt, _ in smtp.envelopes for r in rcpt if "ofiara" in r] == []


def test_a_message_queued_with_a_broken_subject_still_goes_out(app, smtp):
    queue("anna@example.pl", subject="Pierwsza linia\nDruga linia")

    result = send_mail(app)

    assert result.exit_code == 0 and "sent 1" in result.output
    assert smtp.to("anna@example.pl")[0]["Subject"] == "Pierwsza linia Druga linia"


# --- one bad message never stops the others --------------------------------------------------

def test_a_bad_message_is_parked_and_the_others_are_sent(app, smtp):
    first = queue("anna@example.pl")
    undeliverable = queue("józef@example.pl")  # imported earlier; this server has no SMTPUTF8
    refused = queue("nie.ma@example.pl")
    last = queue("jan@example.pl")
    smtp.refuse["nie.ma@example.pl"] = "550 5.1.1 <nie.ma@example.pl>: no such user"

    result = send_mail(app)

    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output and "parked 2" in result.output
    db.session.expire_all()
    assert [db.session.get(OutboxMessage, m.id).status for m in (first, undeliverable, refused, last)] == [
        "sent", "parked", "parked", "sent"]
    parked = db.session.get(OutboxMessage, refused.id)
    assert parked.attempts == 1 and "550" in parked.last_error and "no such user" in parked.last_error
    assert "SMTPUTF8" in db.session.get(OutboxMessage, undeliverable.id).last_error
    # parked messages are not tried again
    assert "sent 0, will retry 0, parked 0" in send_mail(app).output


def test_a_passing_refusal_is_retried_then_parked_after_the_last_attempt(app, smtp):
    from datetime import timedelta

    from portal.db_types import utcnow

    app.config["MAIL_MAX_ATTEMPTS"] = 3
    message = queue("zajety@example.pl")
    smtp.refuse["zajety@example.pl"] = "450 4.2.1 mailbox busy"

    later = utcnow()
    statuses = []
    for _ in range(3):
        later += timedelta(hours=7)
        mail.deliver_due(now=later)
        db.session.expire_all()
        stored = db.session.get(OutboxMessage, message.id)
        statuses.append((stored.status, stored.attempts))

    assert statuses == [("pending", 1), ("pending", 2), ("parked", 3)]
    assert "450" in stored.last_error


def test_privacy_officers_see_parked_messages_with_masked_addresses(app, smtp, sign_in_as):
    customer = factories.customer()
    db.session.commit()
    message = queue("nie.ma@example.pl", kind="people_invitation")
    message.customer_id = customer.id
    db.session.commit()
    smtp.refuse["nie.ma@example.pl"] = "550 5.1.1 <nie.ma@example.pl>: no such user"
    send_mail(app)
    officer = app.test_client()
    sign_in_as(factories.identity(roles=("privacy_officer",)), officer)
    others = app.test_client()
    sign_in_as(factories.identity(roles=("moderator",)), others)

    page = officer.get("/staff/outbox").get_data(as_text=True)

    assert "Niedoręczone e-maile" in page and 'href="/staff/outbox"' in page  # in the navigation
    row = page.split(f'data-message="{message.id}"')[1].split("</tr>")[0]
    assert "Zaproszenie osoby upoważnionej" in row and customer.number in row
    assert "n***@example.pl" in row and "550" in row and "no such user" in row
    assert "nie.ma@example.pl" not in page
    assert others.get("/staff/outbox").status_code == 403
