"""One world with every kind of person and object, for the tests that walk every route (the
authorization matrix, the form fuzzer): two customers A and B with rooms, recordings with real
files, delegates, an access request, a consent event, a correction request, a termination
request and a data-subject request each, a customer C whose contract has ended (carried out by `run_due`), staff, a policy
version and sessions."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select, text

from portal.db_types import utcnow
from portal.extensions import db
from tests import factories

ROLES = ("anonymous", "customer_a", "customer_b", "delegate_a_recordings", "delegate_a_no_recordings",
         "removed_delegate_a", "moderator", "privacy_officer", "unlinked", "terminated_customer")


@dataclass
class World:
    identities: dict
    targets: dict  # target key → {"a": url kwargs, "b": url kwargs}
    numbers: dict  # "a" / "b" / "c" → customer number
    rooms: dict  # "a" / "b" → ids of the customer's rooms


def build_world(app) -> World:
    from portal.account.models import CorrectionRequest
    from portal.account.services import session_handle
    from portal.auth import sessions
    from portal.dsar.models import DataSubjectRequest, DsarAnswer
    from portal.people.models import AccessRequest, AccessRequestStatus
    from portal.termination.models import DeletionReceipt, TerminationRequest

    recordings_dir = app.config["RECORDINGS_DIR"]
    a, b = factories.customer(), factories.customer()
    room_a, room_b = factories.room(a, "Sala A"), factories.room(b, "Sala B")
    rec_a = factories.recording_with_file(room_a, recordings_dir, "Nagranie A")
    rec_b = factories.recording_with_file(room_b, recordings_dir, "Nagranie B")
    policy = factories.policy_version("1.0")
    identities = {
        "customer_a": factories.identity(customer=a),
        "customer_b": factories.identity(customer=b),
        "delegate_a_recordings": factories.identity(),
        "delegate_a_no_recordings": factories.identity(),
        "removed_delegate_a": factories.identity(),
        "moderator": factories.identity(roles=("moderator",)),
        "privacy_officer": factories.identity(roles=("privacy_officer",)),
        "unlinked": factories.identity(),
    }
    factories.delegate(a, identities["delegate_a_recordings"], rooms=[room_a], recordings=True)
    factories.delegate(a, identities["delegate_a_no_recordings"], rooms=[room_a], recordings=False)
    factories.delegate(a, identities["removed_delegate_a"], rooms=[room_a], recordings=True, status="removed")

    targets: dict[str, dict] = {key: {} for key in (
        "session", "correction", "correction_decision", "consent_receipt", "access_request", "delegate",
        "recording", "termination", "room", "deletion_receipt", "dsar_case", "customer_field")}
    targets["channel"] = {None: {"channel": "email"}}
    targets["policy_version"] = {None: {"version": policy.version}}
    for key, customer, rec in (("a", a, rec_a), ("b", b, rec_b)):
        owner = identities[f"customer_{key}"]
        other_session = sessions.open_session(owner, provider="mcx", id_token=None, auth_time=utcnow(),
                                              provider_sid=None, user_agent="other device", ip_address="10.0.0.1")
        correction = CorrectionRequest(customer_id=customer.id, field="last_name", requested_value="Nowak",
                                       requested_by_id=owner.id)
        db.session.add(correction)
        asking = factories.identity()
        pending_delegate = factories.delegate(customer, asking, rooms=[], status="pending")
        access_request = AccessRequest(customer_id=customer.id, delegate_id=pending_delegate.id, origin="person",
                                       requester_identity_id=asking.id, message="Proszę o dostęp",
                                       status=AccessRequestStatus.AWAITING_CUSTOMER)
        db.session.add(access_request)
        extra_delegate = factories.delegate(customer, None, rooms=[], status="active")
        event = factories.consent_event(customer, "email", True, policy_version=policy)
        termination_request = TerminationRequest(
            customer_id=customer.id, requested_by_id=owner.id, effective_on=date.today() + timedelta(days=30),
            confirmed_at=utcnow(), confirmation_due_on=date.today())
        db.session.add(termination_request)
        dsar_case = DataSubjectRequest(customer_id=customer.id, filed_by_id=owner.id, kind="objection",
                                       text="Sprzeciw wobec przetwarzania", language="pl",
                                       due_on=date.today() + timedelta(days=30))
        db.session.add(dsar_case)
        db.session.flush()
        db.session.add(DsarAnswer(request_id=dsar_case.id, text="Odpowiedź MCX"))
        targets["session"][key] = {"handle": session_handle(other_session)}
        targets["correction"][key] = {"request_id": correction.id}
        targets["correction_decision"][key] = {"request_id": correction.id, "decision": "approve"}
        targets["consent_receipt"][key] = {"receipt_id": event.receipt_id}
        targets["access_request"][key] = {"request_id": access_request.id}
        targets["delegate"][key] = {"delegate_id": extra_delegate.id}
        targets["recording"][key] = {"recording_id": rec.id}
        targets["termination"][key] = {"termination_id": termination_request.id}
        targets["room"][key] = {"room_id": rec.room_id}
        # a receipt of recordings the owner deleted earlier (issued: the customer may read it)
        receipt = DeletionReceipt(customer_id=customer.id, reason="on_request", requested_by_id=owner.id,
                                  created_at=utcnow(), issued_at=utcnow(), document="{}\n",
                                  document_sha256=hashlib.sha256(b"{}\n").hexdigest())
        db.session.add(receipt)
        db.session.flush()
        targets["deletion_receipt"][key] = {"receipt_id": receipt.id}
        targets["dsar_case"][key] = {"case_id": dsar_case.id}
        targets["customer_field"][key] = {"customer_id": customer.id, "field": "email"}

    db.session.commit()
    c, identities["terminated_customer"] = factories.terminated_customer(recordings_dir)  # customer C
    return World(identities, targets, numbers={"a": a.number, "b": b.number, "c": c.number},
                 rooms={"a": [room_a.id], "b": [room_b.id]})


def fingerprint(except_tables: frozenset[str] = frozenset()) -> tuple:
    """Row counts of every table (but `except_tables`) and the state of the rows a refused request
    could touch."""
    from portal.account.models import CorrectionRequest
    from portal.customers.models import Customer
    from portal.dsar.models import DataSubjectRequest
    from portal.people.models import AccessRequest, Delegate
    from portal.termination.models import TerminationRequest

    db.session.expire_all()
    counts = db.session.execute(select(*[
        select(text("count(*)")).select_from(table).scalar_subquery().label(table.name)
        for table in db.metadata.sorted_tables if table.name not in except_tables
    ])).one()
    rows = tuple(
        tuple(db.session.execute(select(*columns).order_by(columns[0])).all())
        for columns in (
            (Customer.id, Customer.email, Customer.phone, Customer.last_name, Customer.preferred_language),
            (Delegate.id, Delegate.status, Delegate.recordings),
            (AccessRequest.id, AccessRequest.status),
            (CorrectionRequest.id, CorrectionRequest.status),
            (TerminationRequest.id, TerminationRequest.status, TerminationRequest.withdrawn_at),
            (DataSubjectRequest.id, DataSubjectRequest.status, DataSubjectRequest.due_on),
        )
    )
    return tuple(counts), rows


def csrf_token(app, client) -> str:
    """A valid CSRF token for `client`'s session, made by Flask-WTF as a page's form would carry it
    (the same token `BrowserLikeClient.csrf_token` reads from a page, without rendering one)."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    with app.app_context(), app.test_request_context():  # a fresh `g`: no token cached from before
        token = generate_csrf()
        raw = session["csrf_token"]
    with client.session_transaction() as sess:
        sess["csrf_token"] = raw
    return token


def signed_in_clients(app, world: World) -> dict:
    """One test client per role, each signed in as that role's identity (anonymous: none)."""
    clients = {}
    for role in ROLES:
        clients[role] = app.test_client()
        if role != "anonymous":
            factories.signed_in(clients[role], world.identities[role])
    return clients
