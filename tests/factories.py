"""Build customers, rooms, recordings, delegates and identities for tests."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from flask import current_app

from portal.auth import sessions
from portal.auth.models import Identity, StaffRole
from portal.customers.models import Contract, ContractService, Customer, Recording, Room
from portal.db_types import utcnow
from portal.extensions import db
from portal.people.models import Delegate, DelegateStatus

_seq = itertools.count(1)


def customer(email: str | None = None, **fields) -> Customer:
    n = next(_seq)
    values = dict(
        number=f"MCX-{n:06d}", kind="person", first_name="Test", last_name=f"Klient{n}",
        email=email or f"klient{n}@example.pl", phone="+48 600 000 000", street="ul. Testowa 1",
        postal_code="00-001", city="Warszawa", country="PL",
    )
    c = Customer(**{**values, **fields})
    db.session.add(c)
    db.session.flush()
    contract = Contract(customer_id=c.id, number=f"U/TEST/{n}", signed_on=date(2025, 1, 15))
    contract.services.append(ContractService(service="recorded_video_room"))
    db.session.add(contract)
    db.session.flush()
    return c


def room(owner: Customer, name: str = "Sala", kind: str = "recorded_video_room") -> Room:
    r = Room(customer_id=owner.id, key=f"r{next(_seq)}", name=name, kind=kind)
    db.session.add(r)
    db.session.flush()
    return r


def recording(in_room: Room, title: str = "Nagranie") -> Recording:
    n = next(_seq)
    rec = Recording(room_id=in_room.id, key=f"rec{n}", title=title,
                    started_at=datetime(2025, 2, 3, 10, 0, tzinfo=UTC), duration_s=60,
                    file=f"test/rec{n}.mp4", size_bytes=0, sha256="0" * 64)
    db.session.add(rec)
    db.session.flush()
    return rec


def identity(email: str | None = None, *, issuer: str | None = None, customer: Customer | None = None,
             roles: tuple[str, ...] = ()) -> Identity:
    """A verified identity; by default of the primary provider, which may vouch for any address."""
    n = next(_seq)
    providers = current_app.config["OIDC_PROVIDERS"]
    # an app built without providers (a deploy test's own) still gets identities to sign in
    issuer = issuer or (providers[0].issuer if providers else "http://idp.test")
    ident = Identity(issuer=issuer, subject=f"sub-{n}", email=email or f"osoba{n}@example.pl",
                     email_verified=True, name=f"Osoba {n}", customer_id=customer.id if customer else None)
    db.session.add(ident)
    db.session.flush()
    for role in roles:
        db.session.add(StaffRole(email=ident.email, role=role, identity_id=ident.id))
    db.session.flush()
    return ident


def delegate(of: Customer, person: Identity | None = None, *, rooms=(), recordings: bool = False,
             status: str = DelegateStatus.ACTIVE, expires_on: date | None = None) -> Delegate:
    d = Delegate(customer_id=of.id, name=person.name if person else "Osoba", email=person.email if person else "d@example.pl",
                 recordings=recordings, status=status, source="portal", expires_on=expires_on,
                 identity_id=person.id if person else None)
    d.rooms = list(rooms)
    db.session.add(d)
    db.session.flush()
    return d


def signed_in(client, ident: Identity):
    """Open a server-side session for `ident` and put it in the client's cookie."""
    record = sessions.open_session(ident, provider="mcx", id_token=None, auth_time=utcnow(),
                                   provider_sid=None, user_agent="tests", ip_address="127.0.0.1")
    db.session.commit()
    with client.session_transaction() as sess:
        sess["sid"] = record.id
        sess["_user_id"] = str(ident.id)
        sess["_fresh"] = True
    return record


def consent_event(of: Customer, channel: str = "email", granted: bool = True, *, at: datetime | None = None,
                  source: str = "order_form", policy_version=None):
    """A consent event as the import or the portal would have recorded it."""
    import uuid

    from portal.consents.models import PRODUCT_NOTIFICATIONS, ConsentEvent

    event = ConsentEvent(receipt_id=str(uuid.uuid4()), customer_id=of.id, purpose=PRODUCT_NOTIFICATIONS,
                         channel=channel, granted=granted, at=at or utcnow(), source=source,
                         collection_method=f"{source}_import",
                         policy_version_id=policy_version.id if policy_version else None)
    db.session.add(event)
    db.session.flush()
    return event


def policy_version(version: str = "1.0", *, published_at: datetime | None = None, text_pl: str | None = None,
                   text_en: str | None = None, summary_pl: str = "Zmiany.", summary_en: str = "Changes."):
    """A published version of the privacy policy."""
    from portal.consents.models import PolicyVersion

    policy = PolicyVersion(version=version, published_at=published_at or utcnow(),
                           text_pl=text_pl or f"# Polityka {version}\n\nTreść wersji {version}.\n",
                           text_en=text_en or f"# Policy {version}\n\nText of version {version}.\n",
                           summary_pl=summary_pl, summary_en=summary_en)
    db.session.add(policy)
    db.session.flush()
    return policy


def recording_with_file(in_room: Room, recordings_dir, title: str = "Nagranie", content: bytes | None = None) -> Recording:
    """A recording whose file exists under `recordings_dir`, with its real size and sha256."""
    import hashlib
    from pathlib import Path

    n = next(_seq)
    content = content if content is not None else f"nagranie {n} ".encode() * (n % 7 + 1)
    relative = f"c{in_room.customer_id}/rec{n}.mp4"
    if current_app.config.get("RECORDINGS_URL"):
        from portal.storage import recording_store

        recording_store().put(relative, content)
    else:
        path = Path(recordings_dir) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    rec = Recording(room_id=in_room.id, key=f"rec{n}", title=title,
                    started_at=datetime(2025, 2, 3, 10, 0, tzinfo=UTC), duration_s=60, file=relative,
                    size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest())
    db.session.add(rec)
    db.session.flush()
    return rec


def terminated_customer(recordings_dir, email: str | None = None) -> tuple[Customer, Identity]:
    """A customer (and their signed-in identity) whose contract ended the way it ends in production:
    a confirmed termination carried out by `run_due`, which deleted their recording and issued the
    deletion receipt."""
    from datetime import date, timedelta

    from portal.termination import services
    from portal.termination.models import TerminationRequest

    ended = customer(email=email)
    recording_with_file(room(ended, "Sala archiwum"), recordings_dir, "Ostatnie nagranie")
    owner = identity(ended.email, customer=ended)
    db.session.add(TerminationRequest(customer_id=ended.id, requested_by_id=owner.id,
                                      effective_on=date.today() - timedelta(days=1), confirmed_at=utcnow(),
                                      confirmation_due_on=date.today()))
    db.session.commit()
    report = services.run_due(today=date.today())
    assert [outcome.status for outcome in report.outcomes] == ["completed"], report
    return ended, owner
