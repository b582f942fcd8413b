"""The consent ledger and privacy-policy versions (SPEC P4, P6, P12): every change of data here.

Consent events are appended, never changed: the current state of a channel is its newest event
(by `at`, then `id`). Changes of one customer are serialized by a lock on the customer's row,
so each change is decided on the state the previous one left and none is lost.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import abort
from sqlalchemy import Integer, Select, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from portal import audit, mail
from portal.auth.models import Identity
from portal.consents import registry
from portal.consents.models import (
    PRODUCT_NOTIFICATIONS,
    ConsentEvent,
    ConsentSource,
    PolicyAcknowledgement,
    PolicyVersion,
)
from portal.consents.registry import CHANNELS
from portal.customers.models import Contract, ContractStatus, Customer
from portal.customers.ownership import owned_customer_or_404
from portal.db_types import utcnow
from portal.extensions import db
from portal.web.i18n import _

PORTAL_COLLECTION_METHOD = "portal_web_form"
HISTORY_PAGE_SIZE = 20
# starts with a digit, so no version can be mistaken for another page under /privacy/
VERSION_PATTERN = re.compile(r"[0-9][0-9A-Za-z._-]{0,31}")


class ConsentError(ValueError):
    """A change that cannot be made; the message is shown to the person."""


# --- what the signed-in person may reach ------------------------------------------------------

def owned_consent_event_or_404(identity: Identity, receipt_id: str) -> ConsentEvent:
    """One of the owner's own consent events, by receipt id; any other receipt is 404."""
    customer = owned_customer_or_404(identity)
    event = db.session.scalar(
        select(ConsentEvent).where(ConsentEvent.receipt_id == receipt_id, ConsentEvent.customer_id == customer.id)
    )
    if event is None:
        abort(404)
    return event


# --- the ledger ---------------------------------------------------------------------------------

@dataclass
class ConsentState:
    channel: str
    event: ConsentEvent | None  # the newest event, which decides the state

    @property
    def granted(self) -> bool:
        return self.event is not None and self.event.granted


# the consents page's statements, built once with the customer bound (building them cost more
# than running them)
_STATEMENTS: dict[str, Select] = {}


def _newest_per_channel() -> Select:
    if "newest" not in _STATEMENTS:
        ranked = (
            select(ConsentEvent.id, func.row_number().over(
                partition_by=ConsentEvent.channel,
                order_by=(ConsentEvent.at.desc(), ConsentEvent.id.desc()),
            ).label("rank"))
            .where(ConsentEvent.customer_id == bindparam("customer_id", type_=Integer()),
                   ConsentEvent.purpose == PRODUCT_NOTIFICATIONS)
            .subquery()
        )
        _STATEMENTS["newest"] = select(ConsentEvent).join(ranked, ranked.c.id == ConsentEvent.id).where(ranked.c.rank == 1)
    return _STATEMENTS["newest"]


def current_consents(customer_id: int) -> dict[str, ConsentState]:
    """Each channel's current state: its newest event (one query on the ledger's index)."""
    newest = {event.channel: event for event in db.session.scalars(_newest_per_channel(), {"customer_id": customer_id})}
    return {channel: ConsentState(channel, newest.get(channel)) for channel in CHANNELS}


def consent_history(customer_id: int, before: str | None = None,
                    limit: int = HISTORY_PAGE_SIZE) -> tuple[list[ConsentEvent], str | None]:
    """Events newest first, a page at a time; returns the page and the cursor for the next one.

    `before` is the receipt id of the last event of the previous page (keyset pagination).
    """
    params = {"customer_id": customer_id}
    if before:
        cursor = db.session.execute(
            select(ConsentEvent.at, ConsentEvent.id)
            .where(ConsentEvent.receipt_id == before, ConsentEvent.customer_id == customer_id)
        ).first()
        if cursor is None:
            abort(404)
        params.update(cursor_at=cursor.at, cursor_id=cursor.id)
    key = f"history:{limit}:{bool(before)}"
    if key not in _STATEMENTS:
        query = (select(ConsentEvent)
                 .where(ConsentEvent.customer_id == bindparam("customer_id", type_=Integer()),
                        ConsentEvent.purpose == PRODUCT_NOTIFICATIONS)
                 .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc()))
        if before:
            at = bindparam("cursor_at", type_=ConsentEvent.at.type)
            query = query.where(or_(ConsentEvent.at < at,
                                    and_(ConsentEvent.at == at, ConsentEvent.id < bindparam("cursor_id", type_=Integer()))))
        _STATEMENTS[key] = query.limit(limit + 1)
    events = list(db.session.scalars(_STATEMENTS[key], params))
    more = len(events) > limit
    events = events[:limit]
    return events, (events[-1].receipt_id if more else None)


def _lock_customer(customer_id: int) -> None:
    """Serialize changes of one customer's consents until the transaction ends."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())
    else:
        # SQLite has no row locks: a write that changes nothing takes its database write lock,
        # which holds every other writer back until this transaction ends
        table = Customer.__table__
        db.session.execute(update(table).where(table.c.id == customer_id).values(updated_at=table.c.updated_at))


def _newest_event(customer_id: int, channel: str) -> ConsentEvent | None:
    return db.session.scalar(
        select(ConsentEvent)
        .where(ConsentEvent.customer_id == customer_id, ConsentEvent.purpose == PRODUCT_NOTIFICATIONS,
               ConsentEvent.channel == channel)
        .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc()).limit(1)
    )


def change_consent(customer: Customer, channel: str, granted: bool, *, actor: Identity,
                   language: str) -> ConsentEvent | None:
    """Make the customer's consent for `channel` what they chose; None if it already was.

    The change is a new event carrying the policy version in force, written with its audit
    entry and the confirmation e-mail (a service message, sent whatever the consents say) in
    the caller's transaction.
    """
    if channel not in CHANNELS:
        raise ConsentError(_("There is no such channel."))
    _lock_customer(customer.id)
    newest = _newest_event(customer.id, channel)
    if (newest.granted if newest else False) == granted:
        return None
    at = utcnow()
    if newest is not None and at <= newest.at:
        # another server's clock may be a little behind: the ledger's order stays the order of changes
        at = newest.at + timedelta(microseconds=1)
    version = policy_in_force(at)
    event = ConsentEvent(
        receipt_id=str(uuid.uuid4()), customer_id=customer.id, purpose=PRODUCT_NOTIFICATIONS,
        channel=channel, granted=granted, at=at, source=ConsentSource.PORTAL.value,
        collection_method=PORTAL_COLLECTION_METHOD, policy_version_id=version.id if version else None,
        actor_identity_id=actor.id, language=language,
    )
    db.session.add(event)
    db.session.flush()
    audit.record("consent_given" if granted else "consent_withdrawn", actor_id=actor.id,
                 customer_id=customer.id, channel=channel, receipt_id=event.receipt_id,
                 policy_version=version.version if version else None)
    # a service message: it goes out whatever the consents say (registry.SERVICE_MESSAGES)
    mail.compose("consents_changed", to=customer.email, language=customer.preferred_language,
                 kind="consent_changed", customer_id=customer.id, customer=customer, event=event,
                 states=current_consents(customer.id), channel_names=registry.CHANNEL_NAMES,
                 given_messages=registry.GIVEN_MESSAGES, withdrawn_messages=registry.WITHDRAWN_MESSAGES)
    return event


# --- who may receive product notifications ----------------------------------------------------

def audience_query(channel: str) -> Select:
    """Customers whose newest event for `channel` grants consent, with a contact for it.

    Terminated customers are left out. One statement, in customer-number order: an event
    counts only if no newer event of the same customer and channel exists (an anti-join on
    the ledger's index), which streams from the first row on without sorting the result.
    """
    if channel not in CHANNELS:
        raise ConsentError(_("There is no such channel."))
    newer = aliased(ConsentEvent)
    newer_exists = exists().where(
        newer.customer_id == ConsentEvent.customer_id, newer.purpose == ConsentEvent.purpose,
        newer.channel == ConsentEvent.channel,
        or_(newer.at > ConsentEvent.at, and_(newer.at == ConsentEvent.at, newer.id > ConsentEvent.id)),
    )
    contact = Customer.email if channel == "email" else Customer.phone
    return (
        select(Customer.number, Customer.first_name, Customer.last_name, contact.label("contact"))
        .join(ConsentEvent, ConsentEvent.customer_id == Customer.id)
        .outerjoin(Contract, Contract.customer_id == Customer.id)
        .where(ConsentEvent.purpose == PRODUCT_NOTIFICATIONS, ConsentEvent.channel == channel,
               ConsentEvent.granted.is_(True), ~newer_exists, contact.is_not(None), contact != "",
               or_(Contract.status.is_(None), Contract.status != ContractStatus.TERMINATED.value))
        .order_by(Customer.number)
    )


# --- privacy-policy versions --------------------------------------------------------------------

def policy_in_force(moment: datetime) -> PolicyVersion | None:
    """The newest version published at or before `moment`."""
    return db.session.scalar(
        select(PolicyVersion).where(PolicyVersion.published_at <= moment)
        .order_by(PolicyVersion.published_at.desc(), PolicyVersion.id.desc()).limit(1)
    )


def current_policy() -> PolicyVersion | None:
    return policy_in_force(utcnow())


def policy_versions() -> list[PolicyVersion]:
    """Every published version, newest first."""
    return list(db.session.scalars(
        select(PolicyVersion).where(PolicyVersion.published_at <= utcnow())
        .order_by(PolicyVersion.published_at.desc(), PolicyVersion.id.desc())
    ))


def published_version_or_404(version: str) -> PolicyVersion:
    found = db.session.scalar(
        select(PolicyVersion).where(PolicyVersion.version == version, PolicyVersion.published_at <= utcnow())
    )
    if found is None:
        abort(404)
    return found


def version_is_free(version: str) -> bool:
    return db.session.scalar(select(PolicyVersion.id).where(PolicyVersion.version == version.strip())) is None


def publish_policy(*, version: str, text_pl: str, text_en: str, summary_pl: str, summary_en: str,
                   publisher: Identity | None, published_at: datetime | None = None) -> PolicyVersion:
    """Publish a new version of the privacy policy, in force from now (or from `published_at`,
    for a version published before the portal recorded it)."""
    version = version.strip()
    if not VERSION_PATTERN.fullmatch(version):
        raise ConsentError(_("A version starts with a digit and holds only letters, digits, dots, dashes and underscores (at most 32)."))
    if not version_is_free(version):
        raise ConsentError(_("Version %(version)s is already published; a published version never changes.", version=version))
    texts = {"text_pl": text_pl, "text_en": text_en, "summary_pl": summary_pl, "summary_en": summary_en}
    if any(not (value or "").strip() for value in texts.values()):
        raise ConsentError(_("Both texts and both summaries of changes are needed."))
    if published_at is None:
        published_at = utcnow()
        latest = db.session.scalar(select(func.max(PolicyVersion.published_at)))
        if latest is not None and published_at <= latest:
            # a version published now is in force from now on, after every earlier one
            published_at = latest + timedelta(microseconds=1)
    policy = PolicyVersion(version=version, published_at=published_at,
                           published_by_id=publisher.id if publisher else None,
                           **{name: value.strip() + "\n" for name, value in texts.items()})
    db.session.add(policy)
    db.session.flush()
    audit.record("policy_published", actor_id=publisher.id if publisher else None, version=version)
    return policy


def acknowledged(customer_id: int, policy: PolicyVersion) -> bool:
    return db.session.scalar(select(PolicyAcknowledgement.id).where(
        PolicyAcknowledgement.customer_id == customer_id,
        PolicyAcknowledgement.policy_version_id == policy.id)) is not None


def last_acknowledged_policy(customer_id: int) -> PolicyVersion | None:
    return db.session.scalar(
        select(PolicyVersion).join(PolicyAcknowledgement, PolicyAcknowledgement.policy_version_id == PolicyVersion.id)
        .where(PolicyAcknowledgement.customer_id == customer_id)
        .order_by(PolicyVersion.published_at.desc()).limit(1)
    )


def policy_notice_facts(customer_id, now) -> dict:
    """Labelled scalar expressions for the page facts (portal/web/notices.py; `customer_id` and `now`
    are its bound parameters): the version in force at `now` (`consents_policy_version`), whether the
    customer acknowledged it (`consents_policy_acknowledged`), and the newest version they
    acknowledged (`consents_previous_version`, None if none)."""
    in_force = (select(PolicyVersion.id).where(PolicyVersion.published_at <= now)
                .order_by(PolicyVersion.published_at.desc(), PolicyVersion.id.desc()).limit(1).scalar_subquery())
    return {
        "consents_policy_version": select(PolicyVersion.version).where(PolicyVersion.id == in_force).scalar_subquery(),
        "consents_policy_acknowledged": select(PolicyAcknowledgement.id).where(
            PolicyAcknowledgement.customer_id == customer_id,
            PolicyAcknowledgement.policy_version_id == in_force).exists(),
        "consents_previous_version": (
            select(PolicyVersion.version)
            .join(PolicyAcknowledgement, PolicyAcknowledgement.policy_version_id == PolicyVersion.id)
            .where(PolicyAcknowledgement.customer_id == customer_id)
            .order_by(PolicyVersion.published_at.desc()).limit(1).scalar_subquery()),
    }


def policy_to_acknowledge(customer_id: int) -> PolicyVersion | None:
    """The current version, if this customer has not acknowledged it yet."""
    current = current_policy()
    if current is None or acknowledged(customer_id, current):
        return None
    return current


def acknowledge_policy(customer: Customer, policy: PolicyVersion, *, actor: Identity) -> PolicyAcknowledgement:
    """Record that the customer has read `policy` (once; acknowledging again changes nothing)."""
    _lock_customer(customer.id)
    existing = db.session.scalar(select(PolicyAcknowledgement).where(
        PolicyAcknowledgement.customer_id == customer.id, PolicyAcknowledgement.policy_version_id == policy.id))
    if existing is not None:
        return existing
    acknowledgement = PolicyAcknowledgement(customer_id=customer.id, policy_version_id=policy.id,
                                            identity_id=actor.id, at=utcnow())
    db.session.add(acknowledgement)
    db.session.flush()
    audit.record("policy_acknowledged", actor_id=actor.id, customer_id=customer.id, version=policy.version)
    return acknowledgement
