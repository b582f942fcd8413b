"""Sign-in: find or create the identity, link it by verified e-mail once, open a session."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import exists, func, select

from portal import addresses, audit
from portal.auth import claims as provider_claims
from portal.auth import sessions, trust
from portal.auth.models import Identity, StaffRole, StaffRoleName, UserSession
from portal.auth.oidc import Assertion
from portal.customers.models import Customer
from portal.db_types import utcnow
from portal.extensions import db
from portal.people.models import Delegate, DelegateStatus


class RoleError(ValueError):
    """A staff role cannot be granted as asked."""


@dataclass
class SignIn:
    identity: Identity
    session: UserSession
    linked: list[str] = field(default_factory=list)
    email_unverified: bool = False
    # the provider's e-mail claim was not a single address (e.g. a list or a display name)
    email_unusable: bool = False
    ambiguous_customer: bool = False
    # why a verified e-mail linked nothing: the provider may not vouch for it ("domain"/"kind")
    not_vouched: str | None = None
    # the issuer of another provider through which this verified e-mail is already linked
    linked_elsewhere: str | None = None


def _same(rows, email: str) -> list:
    """The rows whose `email` is the same address (portal.addresses.matching_key): the query
    narrowed by lower-cased spellings, which SQL folds beyond ASCII, so the last word is ours."""
    return [row for row in rows if addresses.same_address(row.email, email)]


def _spelled(column, email: str):
    return func.lower(column).in_(addresses.lookup_spellings(email))


def sign_in(assertion: Assertion, *, user_agent: str | None, ip_address: str | None) -> SignIn:
    """Record a successful sign-in and open its session.

    Links happen only through a single e-mail address the provider verified and may vouch for
    (SPEC "Identity and sign-in", "Trust per identity provider"); the returned SignIn says why
    nothing was linked when that is so.
    """
    claims = assertion.claims
    issuer = assertion.provider.issuer
    identity = db.session.scalar(
        select(Identity).where(Identity.issuer == issuer, Identity.subject == claims["sub"])
    )
    if identity is None:
        identity = Identity(issuer=issuer, subject=claims["sub"])
        db.session.add(identity)
    # an e-mail claim counts only as exactly one address; anything else is as if none was sent
    email = provider_claims.single_address(claims.get("email"))
    email_unusable = claims.get("email") is not None and email is None
    # only a JSON true counts: "true" strings or absent claims are not a verification
    verified = claims.get("email_verified") is True and email is not None
    identity.email = email
    identity.email_verified = verified
    identity.name = provider_claims.clean_text(claims.get("name"), provider_claims.MAX_NAME) or identity.name
    identity.last_sign_in_at = utcnow()
    db.session.flush()

    result_links: list[str] = []
    ambiguous = False
    not_vouched = linked_elsewhere = None
    if verified:
        waiting = _waiting_for(identity, email)
        not_vouched = trust.refusal(assertion.provider, email, waiting)
        if not_vouched:
            audit.record("identity_link_refused", actor_id=identity.id, provider=assertion.provider.name,
                         issuer=issuer, reason=not_vouched, waiting=sorted(waiting.kinds()), ip=ip_address)
        else:
            ambiguous = _link(identity, waiting, result_links)
        if not waiting.kinds() and not _holds_anything(identity):
            linked_elsewhere = _linked_elsewhere(identity, email)

    auth_time = claims.get("auth_time")
    record = sessions.open_session(
        identity,
        provider=assertion.provider.name,
        id_token=assertion.id_token,
        # no `auth_time`: when the person last authenticated is unknown, so never "recent" (issue 13)
        auth_time=datetime.fromtimestamp(auth_time, UTC) if isinstance(auth_time, int) else None,
        provider_sid=provider_claims.clean_sid(claims.get("sid")),
        user_agent=user_agent,
        ip_address=ip_address,
    )
    audit.record("sign_in", actor_id=identity.id, customer_id=identity.customer_id,
                 issuer=issuer, provider=assertion.provider.name, email_verified=verified,
                 linked=result_links, ip=ip_address)
    return SignIn(identity, record, result_links, email_unverified=not verified, email_unusable=email_unusable,
                  ambiguous_customer=ambiguous, not_vouched=not_vouched,
                  linked_elsewhere=linked_elsewhere)


def _waiting_for(identity: Identity, email: str) -> trust.Waiting:
    """What waits for this e-mail and is not bound yet (a customer only if this identity has none)."""
    customers = []
    if identity.customer_id is None:
        # NOT EXISTS, not NOT IN: an anti-join per matching customer on identities(customer_id),
        # where NOT IN would read every identity that owns a customer (issue 15)
        owned = exists().where(Identity.customer_id == Customer.id)
        customers = _same(db.session.scalars(
            select(Customer).where(_spelled(Customer.email, email), ~owned)
        ), email)
    delegates = _same(db.session.scalars(
        select(Delegate).where(
            _spelled(Delegate.email, email),
            Delegate.identity_id.is_(None),
            Delegate.status.in_([DelegateStatus.INVITED, DelegateStatus.ACTIVE]),
        )
    ), email)
    roles = _same(db.session.scalars(
        select(StaffRole).where(_spelled(StaffRole.email, email), StaffRole.identity_id.is_(None))
    ), email)
    return trust.Waiting(customers=list(customers), delegates=list(delegates), roles=list(roles))


def _holds_anything(identity: Identity) -> bool:
    return identity.customer_id is not None or bool(identity.staff_roles) or db.session.scalar(
        select(func.count()).select_from(Delegate).where(Delegate.identity_id == identity.id)) > 0


def _linked_elsewhere(identity: Identity, email: str) -> str | None:
    """The issuer of another provider whose identity already holds what this e-mail links, if any."""
    holders = select(Identity.issuer).where(Identity.id != identity.id, Identity.issuer != identity.issuer)
    customers = [c.id for c in _same(db.session.scalars(select(Customer).where(_spelled(Customer.email, email))), email)]
    delegates = [d.identity_id for d in _same(db.session.scalars(
        select(Delegate).where(_spelled(Delegate.email, email))), email)]
    roles = [r.identity_id for r in _same(db.session.scalars(
        select(StaffRole).where(_spelled(StaffRole.email, email))), email)]
    issuer = db.session.scalar(holders.where(Identity.customer_id.in_(customers or [0])).limit(1))
    issuer = issuer or db.session.scalar(holders.where(Identity.id.in_(delegates + roles or [0])).limit(1))
    return issuer


def _link(identity: Identity, waiting: trust.Waiting, linked: list[str]) -> bool:
    """Bind what waits for this e-mail. Returns True if the customer was ambiguous (none bound)."""
    if len(waiting.customers) == 1:
        customer = waiting.customers[0]
        identity.customer_id = customer.id
        linked.append(f"customer:{customer.number}")
        audit.record("identity_linked_customer", actor_id=identity.id,
                     customer_id=customer.id, number=customer.number)
    for delegate in waiting.delegates:
        delegate.identity_id = identity.id
        delegate.status = DelegateStatus.ACTIVE
        linked.append(f"delegate:{delegate.id}")
        audit.record("identity_linked_delegate", actor_id=identity.id,
                     customer_id=delegate.customer_id, delegate_id=delegate.id)
    for role in waiting.roles:
        role.identity_id = identity.id
        linked.append(f"role:{role.role}")
        audit.record("identity_linked_role", actor_id=identity.id, role=role.role)
    db.session.flush()
    return len(waiting.customers) > 1


def refuse_sign_in(code: str, *, issuer: str | None, detail: str, ip_address: str | None) -> None:
    """Leave a trace of a refused sign-in; nothing else is created."""
    # the detail may quote the provider's own words (its `error`): one clean line, bounded
    audit.record("sign_in_refused", reason=code, issuer=issuer,
                 detail=provider_claims.clean_text(detail, 500) or "", ip=ip_address)


def sign_out(record: UserSession) -> None:
    record.revoked_at = utcnow()
    record.revoked_reason = "signed_out"
    audit.record("sign_out", actor_id=record.identity_id)


def supersede(record: UserSession) -> None:
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        record.revoked_reason = "superseded"


def grant_role(email: str, role: str) -> StaffRole:
    """Grant a staff role to an e-mail address; it binds at that person's next verified sign-in."""
    if role not in {r.value for r in StaffRoleName}:
        raise RoleError(f"unknown role {role!r}: choose moderator or privacy_officer")
    email = addresses.matching_key(email) or email.strip()
    try:
        # the same check the importer applies to customers' addresses
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise RoleError(f"{email!r} is not an e-mail address: {error}") from None
    existing = db.session.scalar(select(StaffRole).where(StaffRole.email == email, StaffRole.role == role))
    if existing:
        return existing
    grant = StaffRole(email=email, role=role)
    db.session.add(grant)
    db.session.flush()
    audit.record("role_granted", actor_id=None, email=email, role=role)
    return grant
