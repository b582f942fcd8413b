"""The hash-chained audit log and `flask portal verify-audit` (SPEC P11)."""
from __future__ import annotations

import re

from sqlalchemy import select, text

from portal import audit
from portal.audit import AuditEvent
from portal.auth.models import Identity
from portal.extensions import db
from tests import factories


def events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def write_chain(n: int = 5, customer_id: int | None = None) -> list[AuditEvent]:
    for i in range(n):
        audit.record("test_event", customer_id=customer_id, number=i, note="zażółć")
    db.session.commit()
    return events()


def verify_audit(app):
    """Run the operator's command as `flask --app wsgi portal verify-audit` would."""
    result = app.test_cli_runner().invoke(args=["portal", "verify-audit"])
    db.session.expire_all()
    return result


def tamper(sql: str, **params) -> None:
    """Change the table behind the application's back, as someone with database access could."""
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)
    db.session.expire_all()


def test_events_form_a_contiguous_chain(app):
    chain = write_chain(5)

    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == audit.GENESIS
    for before, after in zip(chain, chain[1:]):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in chain}) == 5
    assert all(re.fullmatch(r"[0-9a-f]{64}", e.hash) for e in chain)
    assert chain[2].details == {"number": 2, "note": "zażółć"}


def test_chain_continues_across_transactions(app):
    write_chain(2)
    audit.record("later")
    db.session.commit()

    chain = events()
    assert [e.seq for e in chain] == [1, 2, 3]
    assert chain[2].prev_hash == chain[1].hash


def test_verify_reports_an_intact_chain_with_its_count(app):
    write_chain(7)

    result = verify_audit(app)

    assert result.exit_code == 0, result.output
    assert re.search(r"\bintact\b.*\b7 events\b", result.output)


def test_verify_accepts_an_empty_log(app):
    result = verify_audit(app)
    assert result.exit_code == 0 and "0 events" in result.output


def test_editing_an_events_data_is_detected(app):
    write_chain(5)
    tamper("UPDATE audit_events SET data = :data WHERE seq = 3", data='{"number":99}')

    result = verify_audit(app)

    assert result.exit_code != 0
    assert "broken at event 3" in result.output
    assert "changed" in result.output


def test_deleting_a_middle_event_is_detected(app):
    write_chain(5)
    tamper("DELETE FROM audit_events WHERE seq = 3")

    result = verify_audit(app)

    assert result.exit_code != 0
    assert "broken at event 3" in result.output
    assert "missing" in result.output


def test_deleting_the_first_event_is_detected(app):
    write_chain(3)
    tamper("DELETE FROM audit_events WHERE seq = 1")

    result = verify_audit(app)

    assert result.exit_code != 0 and "broken at event 1" in result.output


def test_changing_the_kind_is_detected(app):
    write_chain(4)
    tamper("UPDATE audit_events SET kind = 'harmless' WHERE seq = 2")

    result = verify_audit(app)

    assert result.exit_code != 0 and "broken at event 2" in result.output


def test_moving_an_event_to_another_customer_is_detected(app):
    mine, other = factories.customer(), factories.customer()
    db.session.commit()
    write_chain(4, customer_id=mine.id)
    tamper("UPDATE audit_events SET customer_id = :other WHERE seq = 4", other=other.id)

    result = verify_audit(app)

    assert result.exit_code != 0 and "broken at event 4" in result.output


def test_rewriting_an_event_and_its_own_hash_is_detected_at_the_next_event(app):
    write_chain(4)
    target = events()[1]
    # even someone holding the key, who can recompute this event's own hash, breaks the next one
    forged = audit._digest(target.prev_hash, target.seq, target.at, "harmless", target.actor_identity_id,
                           target.customer_id, target.data, target.key_id, app.config["AUDIT_KEYS"][target.key_id])
    tamper("UPDATE audit_events SET kind = 'harmless', hash = :h WHERE seq = 2", h=forged)

    result = verify_audit(app)

    assert result.exit_code != 0 and "broken at event 3" in result.output


def test_first_broken_event_is_named_when_several_are(app):
    write_chain(6)
    tamper("UPDATE audit_events SET data = '{}' WHERE seq IN (2, 5)")

    result = verify_audit(app)

    assert "broken at event 2" in result.output
    assert "event 5" not in result.output


def test_cutting_off_the_newest_events_is_detected_against_a_recorded_head(app):
    write_chain(5)
    first = verify_audit(app)
    head = first.output.rsplit("head ", 1)[1].strip()
    assert head.startswith("5:")
    tamper("DELETE FROM audit_events WHERE seq >= 4")

    result = app.test_cli_runner().invoke(args=["portal", "verify-audit", "--head", head])

    assert result.exit_code != 0
    assert "broken at event 4" in result.output


def test_a_recorded_head_still_verifies_after_new_events(app):
    write_chain(3)
    head = verify_audit(app).output.rsplit("head ", 1)[1].strip()
    write_chain(2)

    result = app.test_cli_runner().invoke(args=["portal", "verify-audit", "--head", head])

    assert result.exit_code == 0, result.output
    assert "5 events" in result.output


def test_a_malformed_head_is_refused_with_a_message(app):
    result = app.test_cli_runner().invoke(args=["portal", "verify-audit", "--head", "yesterday"])
    assert result.exit_code == 2
    assert "SEQ:HASH" in result.output


def test_sign_in_writes_an_event(app, sign_in_via_provider, provider):
    customer = factories.customer(email="ewa@przyklad.pl")
    db.session.commit()

    sign_in_via_provider({"sub": "ewa", "email": "ewa@przyklad.pl", "email_verified": True})

    identity = db.session.scalar(select(Identity).where(Identity.subject == "ewa"))
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "sign_in")).all()
    assert event.actor_identity_id == identity.id
    assert event.customer_id == customer.id  # so it appears in the customer's activity log
    assert event.details["issuer"] == provider.issuer
    assert event.details["email_verified"] is True
    assert verify_audit(app).exit_code == 0
