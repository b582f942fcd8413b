"""Markup planted in every free-text field, and the check that none of it became markup.

The payloads are what a hostile person, identity provider or CRM import would send: an attribute
break-out, htmx attributes that fire on load (`hx-post` + `hx-trigger=load` is how the landed
portal let a stranger act as a customer), an event handler, a `javascript:` link and a
`<meta http-equiv=refresh>`. Every planted element carries `data-planted`, so a page that turned
any of it into markup is caught whatever else the browser would have done with it.
"""
from __future__ import annotations

from html.parser import HTMLParser

from sqlalchemy import String, cast, literal, update

from portal import audit
from portal.extensions import db

# ≤ 100 characters: fits the shortest free-text columns (first and last name, city)
SHORT = '"\'><b data-planted hx-post="/account/termination/request" hx-trigger="load" onfocus="x()">s</b>'
# ≤ 200 characters: names, titles, messages, notes
LONG = (SHORT + '<a data-planted href="javascript:x()">j</a>'
        '<meta data-planted http-equiv="refresh" content="0;url=/x">')
# an address a provider may assert or a person may type (a quoted local part may hold anything)
EMAIL = '"<b data-planted hx-get=/x hx-trigger=load>"@example.pl'

assert len(SHORT) <= 100 and len(LONG) <= 200 and len(EMAIL) <= 254


class MarkupFinder(HTMLParser):
    """Parses a page as a browser would and lists every element or attribute that came from a payload."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _value in attrs}
        where = f"<{tag} {' '.join(sorted(names))}>"
        if "data-planted" in names:
            self.found.append(f"planted element {where}")
        if any(name.startswith("on") for name in names):
            self.found.append(f"event handler attribute {where}")
        if tag == "meta" and "http-equiv" in names:
            self.found.append(f"meta http-equiv {where}")
        for name, value in attrs:
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL in {name} of {where}")
            if name in ("hx-trigger", "data-hx-trigger") and "load" in (value or ""):
                self.found.append(f"htmx load trigger {where}")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def planted_markup(html: str) -> tuple[list[str], str]:
    """(what in `html` is markup from a payload, the page's text as a reader sees it)."""
    finder = MarkupFinder()
    finder.feed(html)
    finder.close()
    return finder.found, "".join(finder.text)


def shows_payload(text: str) -> bool:
    """True when a payload reached the page, as text."""
    return any(payload in text for payload in (SHORT, LONG, EMAIL)) or "data-planted" in text


def plant_columns() -> None:
    """Overwrite every free-text column of every row with a payload."""
    from portal.account.models import CorrectionRequest, LegalDisclosure
    from portal.auth.models import Identity, StaffRole, UserSession
    from portal.consents.models import PolicyVersion
    from portal.customers.models import Customer, Recording, Room
    from portal.dsar.models import DataSubjectRequest, DsarAnswer
    from portal.mail import OutboxMessage
    from portal.people.models import AccessRequest, Delegate
    from portal.termination.models import DeletedRecording, TerminationRequest

    columns = {
        Customer: dict(company_name=LONG, first_name=SHORT, last_name=SHORT, street=LONG, city=SHORT),
        Room: dict(name=LONG), Recording: dict(title=LONG),
        Delegate: dict(name=LONG, email=EMAIL),
        Identity: dict(name=LONG, email=EMAIL), StaffRole: dict(email=EMAIL),
        AccessRequest: dict(message=LONG, decision_note=LONG),
        CorrectionRequest: dict(requested_value=LONG, note=LONG, decision_note=LONG),
        LegalDisclosure: dict(recipient=LONG, legal_basis=LONG, data_disclosed=LONG),
        UserSession: dict(user_agent=LONG),
        TerminationRequest: dict(last_error=LONG),
        DeletedRecording: dict(room_name=LONG, title=LONG),
        PolicyVersion: dict(summary_pl=LONG, summary_en=LONG, text_pl=f"# {LONG}\n\n[x](javascript:x()) {LONG}",
                            text_en=f"# {LONG}\n\n{LONG}"),
        OutboxMessage: dict(subject=LONG, body=LONG),
        DataSubjectRequest: dict(text=LONG, extension_reason=LONG, closing_reason=LONG), DsarAnswer: dict(text=LONG),
    }
    for model, values in columns.items():
        # addresses stay distinct per row (the portal matches people by address)
        values = {name: (_unique_email(model) if value is EMAIL else value) for name, value in values.items()}
        db.session.execute(update(model).values(**values))
    db.session.execute(update(Customer).values(kind="company"))
    db.session.commit()


def _unique_email(model):
    # distinct across tables too: a staff member's address equal to a delegate's would make the
    # four-eyes rule see their own case
    local, domain = EMAIL.rsplit('"@', 1)
    return literal(f"{local}{model.__tablename__[:3]}") + cast(model.id, String) + literal(f'"@{domain}')


def log_every_kind(world) -> None:
    """An event of every kind in customer A's log, each detail planted, done by an authorized person."""
    from portal.customers.models import Customer
    from portal.transparency import activity

    customer = db.session.scalar(db.select(Customer).where(Customer.number == world.numbers["a"]))
    actors = [world.identities[r].id for r in ("delegate_a_recordings", "moderator", "customer_a")] + [None]
    for n, kind in enumerate(sorted(activity.registered_kinds()) + ["unregistered_kind"]):
        details = {key: LONG for key, _label, _choices in activity.describe(kind).details}
        audit.record(kind, actor_id=actors[n % len(actors)], customer_id=customer.id, **details)
    db.session.commit()
