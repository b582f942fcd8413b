"""The durable outbox delivers over real SMTP, retries failures later, and never loses a message."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import mail
from portal.db_types import utcnow
from portal.extensions import db
from portal.mail import OutboxMessage
from tests.conftest import free_port


def queue(to="anna@przyklad.pl", subject="Potwierdzenie", body="Treść") -> OutboxMessage:
    message = OutboxMessage(kind="test", to_address=to, subject=subject, body=body,
                            message_id=f"<{to}.{utcnow().timestamp()}@mcx.pl>")
    db.session.add(message)
    db.session.commit()
    return message


def test_queued_message_is_delivered_over_smtp(app, smtp_server):
    message = queue(subject="Zgoda zmieniona — zażółć gęślą jaźń")

    report = mail.deliver_due()

    assert report.sent == 1
    [received] = smtp_server.to("anna@przyklad.pl")
    assert received["Subject"] == "Zgoda zmieniona — zażółć gęślą jaźń"
    assert received.get_content().strip() == "Treść"
    assert db.session.get(OutboxMessage, message.id).status == "sent"


def test_smtp_down_keeps_the_message_and_retries_later(app, smtp_server):
    message = queue()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there

    report = mail.deliver_due()

    db.session.expire_all()
    stored = db.session.get(OutboxMessage, message.id)
    assert report.failed == 1 and stored.status == "pending" and stored.attempts == 1
    assert stored.last_error and stored.next_attempt_at > utcnow()
    # not due yet: a second run right away does not hammer the server
    assert mail.deliver_due().failed == 0

    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{smtp_server.port}"
    assert mail.deliver_due(now=utcnow() + timedelta(minutes=2)).sent == 1
    assert len(smtp_server.messages) == 1


def test_pauses_grow_and_are_capped():
    assert [mail.pause_after(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert mail.pause_after(30) == timedelta(hours=6)


def test_without_smtp_messages_become_eml_files(app, tmp_path):
    app.config["SMTP_URL"] = ""
    app.instance_path = str(tmp_path)
    message = queue(subject="Bez serwera")

    assert mail.deliver_due().sent == 1

    [eml] = (tmp_path / "outbox").glob("*.eml")
    assert "Subject: Bez serwera" in eml.read_text()
    assert db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message.id)) == "sent"


def test_send_mail_command(app, smtp_server):
    queue()
    result = app.test_cli_runner().invoke(args=["portal", "send-mail"])
    assert result.exit_code == 0 and "sent 1" in result.output
    assert len(smtp_server.messages) == 1


def test_two_senders_at_once_send_each_message_exactly_once(app, smtp_server):
    """The after-request delivery and cron's `send-mail` (or two instances) running together, each
    on its own connection: every message reaches the server once, none twice, none lost."""
    from tests.support.threads import at_once

    ids = [queue(to=f"klient{n}@przyklad.pl").id for n in range(30)]
    reports = []

    def sender(barrier) -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            reports.append(mail.deliver_due())
            db.session.remove()

    at_once(sender)

    assert sorted(m["To"] for m in smtp_server.messages) == sorted(f"klient{n}@przyklad.pl" for n in range(30))
    assert sum(r.sent for r in reports) == 30
    db.session.expire_all()
    assert {db.session.get(OutboxMessage, i).status for i in ids} == {"sent"}


def test_a_sender_that_died_after_taking_a_message_leaves_it_to_the_next(app, smtp_server):
    message = queue()
    now = utcnow()
    assert mail._claim(message.id, now)  # taken, then the process died before sending

    assert mail.deliver_due(now=now).sent == 0  # another sender leaves it alone meanwhile
    assert mail.deliver_due(now=now + mail.CLAIM + timedelta(seconds=1)).sent == 1
    assert len(smtp_server.messages) == 1
