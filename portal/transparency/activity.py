"""The customer's activity log: every audit event that touched their data, in plain words.

An event belongs to a customer when it was recorded with their `customer_id`, or when it is a
sign-in of one of their authorized persons while that person had access; a person whose request
was declined or rejected never had any, and is never called an authorized person. Every domain names
its event kinds in portal.audit_kinds with `register_kind()`; a kind nobody registered is still shown.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import Integer, Select, and_, bindparam, exists, or_, select, true, union
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
    register_kind("identity_linked_customer", "sign_ins", _l("Sign-in identity connected to your account"),
                  staff_label=_l("Sign-in identity connected to a customer account"))
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
                  [("fields", _l("What"), revealed), ("reason", _l("Reason"), reasons)],
                  staff_label=_l("MCX staff revealed the customer's data"))
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
    # `by` is a column of a query two levels up (the audit event): only access_requests is this
    # subquery's own; auto-correlation reaches the enclosing query alone, and would cross-join it
    return exists().where(*conditions).correlate_except(AccessRequest)


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
    sign-ins of their authorized persons while the person had access (GDPR art. 15(1)).

    The definition, for checks on one event; lists read `page_ids()`, which selects the same
    events without reading anyone else's."""
    return or_(AuditEvent.customer_id == customer_id, and_(AuditEvent.kind == "sign_in", _delegate_signed_in(customer_id)))


def _delegate_signed_in(customer_id: int):
    return exists().where(
        Delegate.customer_id == customer_id,
        Delegate.identity_id == AuditEvent.actor_identity_id,
        had_access(AuditEvent.at),
    )


def filtered(query: Select, group: str | None) -> Select:
    if not group or group not in GROUPS:
        return query
    if group == "other":
        return query.where(AuditEvent.kind.not_in(sorted(registered_kinds())))
    return query.where(AuditEvent.kind.in_(kinds_in(group)))


def _newest(query: Select, before: int | None, limit: int) -> Select:
    if before is not None:
        query = query.where(AuditEvent.id < before)
    return query.order_by(AuditEvent.id.desc()).limit(limit)


def page_ids(customer_id: int, limit: int, before: int | None = None, group: str | None = None) -> Select:
    """The ids of the customer's `limit` newest events below the id `before` (in `group`), newest first.

    The events `belongs_to()` selects, as a union of keyset branches, each read from its own index
    with its own LIMIT, so a page costs the same however many events other customers have
    (issue 15): the customer's own events (audit_events(customer_id, id)), and per person who ever
    was one of their authorized persons, that person's sign-ins while they had access
    (audit_events(actor_identity_id, kind, id)). Ordered by `id`, which every event has from its
    insert, in the order events were written.
    """
    own = _newest(filtered(select(AuditEvent.id).where(AuditEvent.customer_id == customer_id), group),
                  before, limit).subquery()
    persons = (select(Delegate.identity_id).where(Delegate.customer_id == customer_id,
                                                 Delegate.identity_id.is_not(None)).distinct().subquery())
    signed_in = filtered(select(AuditEvent.id).where(AuditEvent.kind == "sign_in",
                                                    _delegate_signed_in(customer_id)), group)
    if db.session.get_bind().dialect.name == "postgresql":
        # one index range per person: LATERAL gives each its own ORDER BY ... LIMIT
        per_person = _newest(signed_in.where(AuditEvent.actor_identity_id == persons.c.identity_id),
                             before, limit).lateral()
        delegates = select(per_person.c.id).select_from(persons).join(per_person, true())
    else:  # SQLite has no LATERAL; its planner reads the (few) persons' index ranges and merges them
        delegates = select(_newest(signed_in.where(AuditEvent.actor_identity_id.in_(select(persons.c.identity_id))),
                                   before, limit).subquery().c.id)
    both = union(select(own.c.id), delegates).subquery()
    return select(both.c.id).order_by(both.c.id.desc()).limit(limit)


# the page's statement per (dialect, limit, whether below an id, group), its values bound: building
# the union of branches cost more than a fifth of the activity page's CPU, more than running it
_PAGES: dict[tuple, Select] = {}


def customer_events(customer_id: int, limit: int, before: int | None = None,
                    group: str | None = None) -> list[AuditEvent]:
    """The customer's events of one page (see `page_ids()`), newest first."""
    key = (db.session.get_bind().dialect.name, limit, before is not None, group if group in GROUPS else None)
    if key not in _PAGES:
        ids = page_ids(bindparam("events_customer_id", type_=Integer()), limit,
                       bindparam("events_before", type_=Integer()) if before is not None else None, key[3])
        _PAGES[key] = select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id.desc())
    return list(db.session.scalars(_PAGES[key], {"events_customer_id": customer_id, "events_before": before}))


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
