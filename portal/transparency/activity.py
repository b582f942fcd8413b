"""The customer's activity log: every audit event that touched their data, in plain words.

An event belongs to a customer when it was recorded with their `customer_id`, or when it is a
sign-in of one of their authorized persons while that person had access; a person whose request
was declined or rejected never had any, and is never called an authorized person. Every domain names
its event kinds in portal.audit_kinds with `register_kind()`; a kind nobody registered is still shown.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import selectinload

from portal.audit import AuditEvent

# re-exported: the activity log's readers name kinds and groups through this module
from portal.audit_kinds import GROUPS, ActivityKind, describe, kinds_in, register_kind, registered_kinds  # noqa: F401
from portal.auth.models import Identity
from portal.extensions import db
from portal.people.models import AccessRequest, AccessRequestStatus, Delegate, DelegateStatus
from portal.web.i18n import _l


def _provider(name: str) -> str:
    """A provider's name as the sign-in page shows it."""
    return next((p.label for p in current_app.config["OIDC_PROVIDERS"] if p.name == name), name)


def _register_account_kinds() -> None:
    from portal.transparency.registry import CORRECTION_FIELDS, CORRECTION_STATUSES

    what = ("field", _l("What"), CORRECTION_FIELDS)
    register_kind("sign_in", "sign_ins", _l("Sign-in to the portal"), [("provider", _l("Signed in through"), _provider)])
    register_kind("identity_linked_customer", "sign_ins", _l("Sign-in identity connected to your account"))
    register_kind("identity_linked_delegate", "sign_ins", _l("Authorized person connected their sign-in"))
    register_kind("session_revoked", "sign_ins", _l("Session ended from the sessions page"),
                  [("device", _l("Device"), None)])
    register_kind("other_sessions_revoked", "sign_ins", _l("All other sessions ended"),
                  [("count", _l("Sessions ended"), None)])
    register_kind("backchannel_logout", "sign_ins", _l("Signed out by the identity provider"),
                  [("sessions", _l("Sessions ended"), None)])
    register_kind("data_exported", "access", _l("Data export"),
                  [("format", _l("Format"), {"json": "JSON", "html": _l("printable page")})])
    revealed = {**CORRECTION_FIELDS, "email": _l("Contact e-mail"), "phone": _l("Contact phone"),
                "address": _l("Postal address")}
    reasons = {"correction request": _l("a correction request"), "customer look-up": _l("a look-up by MCX staff")}
    register_kind("customer_data_revealed", "access", _l("MCX staff revealed your data"),
                  [("fields", _l("What"), revealed), ("reason", _l("Reason"), reasons)])
    register_kind("customer_imported", "changes", _l("Data loaded from the MCX order system"))
    register_kind("contact_phone_changed", "changes", _l("Contact phone changed"))
    register_kind("contact_address_changed", "changes", _l("Postal address changed"), [("fields", _l("What"), {
        "street": _l("Street"), "postal_code": _l("Postal code"), "city": _l("City"), "country": _l("Country")})])
    register_kind("contact_email_change_requested", "changes", _l("Change of contact e-mail requested"))
    register_kind("contact_email_changed", "changes", _l("Contact e-mail changed"))
    register_kind("correction_requested", "changes", _l("Correction requested"), [what])
    register_kind("correction_decided", "changes", _l("Correction request decided"),
                  [what, ("outcome", _l("Decision"), CORRECTION_STATUSES)])
    register_kind("legal_disclosure_recorded", "disclosures", _l("Data disclosed under a legal duty"), [
        ("recipient", _l("Recipient"), None), ("disclosed_on", _l("Disclosed on"), None),
        ("legal_basis", _l("Legal basis"), None), ("data_disclosed", _l("What was disclosed"), None)])


_register_account_kinds()


def _approved(delegate_id, by=None):
    """An approved access request of the delegation (decided by `by`, when given)."""
    conditions = [AccessRequest.delegate_id == delegate_id, AccessRequest.status == AccessRequestStatus.APPROVED]
    if by is not None:
        conditions.append(AccessRequest.decided_at <= by)
    return exists().where(*conditions)


def had_access(at=None):
    """The condition on Delegate: the delegation gave access (at the moment `at`, when given).

    A person the customer declined or a moderator rejected, or whose request was withdrawn before
    a decision, never had access: only a delegation that was approved, or that came without any
    request (from the order form), and that was in use or ended by removal counts (SPEC P5).
    """
    without_request = ~exists().where(AccessRequest.delegate_id == Delegate.id)
    conditions = [Delegate.status.in_((DelegateStatus.ACTIVE, DelegateStatus.REMOVED)),
                  or_(without_request, _approved(Delegate.id, at))]
    if at is not None:
        conditions += [Delegate.created_at <= at, or_(Delegate.removed_at.is_(None), Delegate.removed_at >= at)]
    return and_(*conditions)


def belongs_to(customer_id: int):
    """The condition selecting this customer's audit events: those recorded with their id, and the
    sign-ins of their authorized persons while the person had access (GDPR art. 15(1))."""
    delegate_signed_in = exists().where(
        Delegate.customer_id == customer_id,
        Delegate.identity_id == AuditEvent.actor_identity_id,
        had_access(AuditEvent.at),
    )
    return or_(AuditEvent.customer_id == customer_id, and_(AuditEvent.kind == "sign_in", delegate_signed_in))


def customer_events(customer_id: int) -> Select:
    """Every audit event of this customer, newest first (keyset on `seq`)."""
    return select(AuditEvent).where(belongs_to(customer_id)).order_by(AuditEvent.seq.desc())


def filtered(query: Select, group: str | None) -> Select:
    if not group or group not in GROUPS:
        return query
    if group == "other":
        return query.where(AuditEvent.kind.not_in(sorted(registered_kinds())))
    return query.where(AuditEvent.kind.in_(kinds_in(group)))


class Actors:
    """Who did each event, as the customer may know it: you, an authorized person, MCX staff or MCX."""

    def __init__(self, customer_id: int, actor_ids: set[int]):
        self.customer_id = customer_id
        ids = {i for i in actor_ids if i is not None}
        self.identities = {i.id: i for i in db.session.scalars(
            select(Identity).where(Identity.id.in_(ids)).options(selectinload(Identity.staff_roles)))} if ids else {}
        self.delegates = {d.identity_id: d for d in db.session.scalars(
            select(Delegate).where(Delegate.customer_id == customer_id, Delegate.identity_id.in_(ids),
                                   had_access()))} if ids else {}

    def code(self, actor_id: int | None) -> str:
        identity = self.identities.get(actor_id)
        if identity is None:
            return "mcx"
        if identity.customer_id == self.customer_id:
            return "you"
        if actor_id in self.delegates:
            return "authorized_person"
        if identity.is_staff:
            return "staff"
        return "other"

    def label(self, actor_id: int | None):
        from portal.transparency.registry import ACTORS, STAFF_ROLES

        code = self.code(actor_id)
        if code == "authorized_person":
            return _l("%(name)s (authorized person)", name=self.delegates[actor_id].name)
        if code == "staff":
            roles = ", ".join(str(STAFF_ROLES.get(r.role, r.role)) for r in self.identities[actor_id].staff_roles)
            return _l("MCX staff (%(roles)s)", roles=roles)
        return ACTORS[code]
