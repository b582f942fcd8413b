"""The registry of personal data: every category and field the portal holds (SPEC P3).

One declaration drives the customer's data page, the JSON export, the printable export and the
README's data section (`scripts/data_inventory.py`), so they cannot drift apart. Every column
of every table is either named by a field here or listed in TECHNICAL_COLUMNS (keys are
technical by rule); tests/account/test_registry.py fails for a column that is neither.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from portal.web.i18n import _l


class Basis(StrEnum):
    """Legal basis of processing, GDPR art. 6(1)."""

    CONSENT = "6(1)(a)"
    CONTRACT = "6(1)(b)"
    LEGAL_DUTY = "6(1)(c)"


BASIS_LABELS = {
    Basis.CONSENT: _l("your consent (GDPR art. 6(1)(a))"),
    Basis.CONTRACT: _l("the contract with you (GDPR art. 6(1)(b))"),
    Basis.LEGAL_DUTY: _l("a legal duty of MCX (GDPR art. 6(1)(c))"),
}


class Source(StrEnum):
    """Where the data came from."""

    ORDER_FORM = "order_form"
    PORTAL = "portal"
    STAFF = "staff"
    SERVICE = "service"


SOURCE_LABELS = {
    Source.ORDER_FORM: _l("the order form"),
    Source.PORTAL: _l("you or your authorized persons, in this portal"),
    Source.STAFF: _l("MCX staff"),
    Source.SERVICE: _l("the services you use (e.g. a recorded room)"),
}


class Kind(StrEnum):
    """How a value is shown on the page and written in the export."""

    TEXT = "text"
    CODE = "code"  # one of `choices`; the export keeps the code, the page shows its label
    CODES = "codes"  # a list of codes
    LIST = "list"  # a list of texts
    NUMBER = "number"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"  # ISO-8601 with time zone in the export
    BYTES = "bytes"
    DURATION = "duration"  # seconds
    JSON = "json"
    PROVIDER = "provider"  # an identity provider's issuer URL or name; the page shows its label


@dataclass(frozen=True)
class Field:
    key: str  # the stable key in the export
    label: object
    columns: tuple[str, ...] = ()  # "table.column" the field shows
    kind: Kind = Kind.TEXT
    choices: dict | None = None
    on_page: bool = True  # long texts are only in the export; the page says so


@dataclass(frozen=True)
class Category:
    key: str  # the stable key in the export
    label: object
    purpose: object
    bases: tuple[Basis, ...]
    sources: tuple[Source, ...]
    retention: object
    recipients: object
    fields: tuple[Field, ...]
    many: bool = True  # a list of records, or one record
    concerns: str = "customer"  # "customer": on the data page and in the export; "staff": MCX's own people
    shown_at: str | None = None  # endpoint of the page that lists it in full, instead of the data page

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)

    @property
    def columns(self) -> set[str]:
        return {column for f in self.fields for column in f.columns}


def _f(key: str, label, *columns: str, kind: Kind = Kind.TEXT, choices: dict | None = None,
       on_page: bool = True) -> Field:
    return Field(key, label, tuple(columns), kind, choices, on_page)


CUSTOMER_KINDS = {"person": _l("private person"), "company": _l("company")}
SERVICES = {
    "pc_video": _l("personal PC video conferencing"),
    "video_room": _l("video-conference room"),
    "teleconference_room": _l("teleconference room"),
    "recorded_video_room": _l("video-conference room with recording"),
}
ROOM_KINDS = {k: v for k, v in SERVICES.items() if k != "pc_video"}
CONTRACT_STATUSES = {"active": _l("in force"), "terminating": _l("being terminated"), "terminated": _l("ended")}
LANGUAGES = {"pl": _l("Polish"), "en": _l("English")}
DELETION_REASONS = {"termination": _l("the contract ended"), "on_request": _l("you deleted them"),
                    "retention": _l("the room's retention period passed")}
DELEGATE_STATUSES = {
    "pending": _l("awaiting MCX's decision"), "invited": _l("invited, not signed in yet"), "active": _l("has access"),
    "rejected": _l("refused by MCX"), "removed": _l("access removed"),
}
ORIGINS = {"order_form": _l("the order form"), "portal": _l("added by you in the portal"),
           "request": _l("asked for access in the portal"), "customer": _l("added by you"),
           "person": _l("asked by the person")}
CHANNELS = {"email": _l("e-mail"), "sms": _l("SMS"), "phone": _l("phone calls")}
PURPOSES = {"product_notifications": _l("news about MCX products and services")}
CONSENT_SOURCES = {"order_form": _l("the order form"), "portal": _l("this portal"), "staff": _l("MCX staff")}
SESSION_END_REASONS = {
    "signed_out": _l("you signed out"), "superseded": _l("you signed in again in the same browser"),
    "ended_by_user": _l("ended on the sessions page"), "backchannel_logout": _l("signed out at the identity provider"),
    "delegate_removed": _l("access removed by the customer"), "expired_idle": _l("expired after a time without activity"),
    "expired_lifetime": _l("expired at its longest allowed length"),
}
COLLECTION_METHODS = {"portal_web_form": _l("the consent switch on your Consents page"),
                      "order_form_import": _l("the signed order form, copied from MCX's order system"),
                      "staff_import": _l("noted by MCX staff, copied from MCX's order system")}
REQUEST_STATUSES = {
    "awaiting_customer": _l("awaiting your decision"), "pending": _l("awaiting MCX's decision"),
    "approved": _l("approved by MCX"), "rejected": _l("rejected by MCX"), "declined": _l("declined by you"),
}
TERMINATION_STATUSES = {"requested": _l("requested"), "withdrawn": _l("withdrawn"),
                        "in_progress": _l("being carried out"), "completed": _l("completed")}
CORRECTION_FIELDS = {"first_name": _l("First name"), "last_name": _l("Last name"),
                     "company_name": _l("Company name"), "tax_id": _l("Tax ID (NIP)")}
# the longest value a correction may ask for, per field (characters, after spaces are collapsed):
# the page's input gets the same limit (maxlength) as the service checks
CORRECTION_LIMITS = {"first_name": 100, "last_name": 100, "company_name": 200, "tax_id": 20}
CORRECTION_STATUSES = {"pending": _l("awaiting MCX's decision"), "approved": _l("approved and applied"),
                       "rejected": _l("rejected (see the note)")}
MAIL_STATUSES = {"pending": _l("waiting to be sent"), "sent": _l("sent"),
                 "parked": _l("could not be delivered")}
ACTORS = {"you": _l("You"), "authorized_person": _l("An authorized person"), "staff": _l("MCX staff"),
          "mcx": _l("MCX (automatically)"), "other": _l("Another person")}
DSAR_KINDS = {
    "access": _l("Access to my data (GDPR art. 15)"),
    "rectification": _l("Rectification of my data (GDPR art. 16)"),
    "erasure": _l("Erasure of my data (GDPR art. 17)"),
    "restriction": _l("Restriction of processing (GDPR art. 18)"),
    "objection": _l("Objection to processing (GDPR art. 21)"),
    "other": _l("Another question about my data"),
}
DSAR_STATUSES = {"open": _l("open"), "done": _l("done"), "refused": _l("refused")}
STAFF_ROLES = {"moderator": _l("moderator"), "privacy_officer": _l("privacy officer")}

_CONTRACT = (Basis.CONTRACT,)
_WHILE_CONTRACT = _l("For the duration of the contract.")
# what the contract's invoices carry outlives it (portal.termination.texts says so too)
_ACCOUNTING = _l("For the duration of the contract, then as long as accounting and tax law require (5 years from the end of the year of the last invoice).")
# proof kept after the contract (portal.termination.texts groups them; one text per period)
_UNTIL_TIME_BARRED = _l("For the duration of the contract and 6 years after, until claims about it are time-barred.")
_AFTER_CONTRACT = _l("5 years after the contract ends.")
_STAFF_ONLY = _l("None outside MCX. Inside MCX: only staff who serve your account.")

CATEGORIES: tuple[Category, ...] = (
    Category(
        "customer", _l("Who you are"),
        _l("To know who the contract is with, to sign you in and to invoice the services."),
        (Basis.CONTRACT, Basis.LEGAL_DUTY), (Source.ORDER_FORM, Source.STAFF),
        _ACCOUNTING,
        _STAFF_ONLY,
        (
            _f("number", _l("Customer number"), "customers.number"),
            _f("kind", _l("Customer type"), "customers.kind", kind=Kind.CODE, choices=CUSTOMER_KINDS),
            _f("company_name", _l("Company name"), "customers.company_name"),
            _f("tax_id", _l("Tax ID (NIP)"), "customers.tax_id"),
            _f("first_name", _l("First name"), "customers.first_name"),
            _f("last_name", _l("Last name"), "customers.last_name"),
        ),
        many=False,
    ),
    Category(
        "contact", _l("How we contact you"),
        _l("To contact you about your services when necessary; product news only with your consent for that channel."),
        (Basis.CONTRACT, Basis.CONSENT), (Source.ORDER_FORM, Source.PORTAL),
        _WHILE_CONTRACT, _STAFF_ONLY,
        (
            _f("email", _l("Contact e-mail"), "customers.email"),
            _f("phone", _l("Contact phone"), "customers.phone"),
            _f("preferred_language", _l("Language of our messages"), "customers.preferred_language",
               kind=Kind.CODE, choices=LANGUAGES),
        ),
        many=False,
    ),
    Category(
        "address", _l("Postal address"),
        _l("For the contract and the invoices, which the law requires to carry it."),
        (Basis.CONTRACT, Basis.LEGAL_DUTY), (Source.ORDER_FORM, Source.STAFF),
        _ACCOUNTING,
        _STAFF_ONLY,
        (
            _f("street", _l("Street"), "customers.street"),
            _f("postal_code", _l("Postal code"), "customers.postal_code"),
            _f("city", _l("City"), "customers.city"),
            _f("country", _l("Country"), "customers.country"),
        ),
        many=False,
    ),
    Category(
        "contract", _l("Contract"),
        _l("To provide the services you ordered."),
        _CONTRACT, (Source.ORDER_FORM, Source.STAFF),
        _ACCOUNTING,
        _STAFF_ONLY,
        (
            _f("number", _l("Contract number"), "contracts.number"),
            _f("signed_on", _l("Signed on"), "contracts.signed_on", kind=Kind.DATE),
            _f("services", _l("Services ordered"), "contract_services.service", kind=Kind.CODES, choices=SERVICES),
            _f("status", _l("Status"), "contracts.status", kind=Kind.CODE, choices=CONTRACT_STATUSES),
            _f("terminated_at", _l("Terminated at"), "contracts.terminated_at", kind=Kind.DATETIME),
        ),
        many=False,
    ),
    Category(
        "rooms", _l("Rooms"),
        _l("To run the video and teleconference rooms you ordered."),
        _CONTRACT, (Source.ORDER_FORM,), _ACCOUNTING,
        _l("None outside MCX. You, the authorized persons you gave a room to, and MCX staff who run the service."),
        (
            _f("name", _l("Room name"), "rooms.name"),
            _f("kind", _l("Kind"), "rooms.kind", kind=Kind.CODE, choices=ROOM_KINDS),
            _f("retention_months", _l("Recordings kept for (months)"),
               "rooms.retention_months", kind=Kind.NUMBER),
        ),
    ),
    Category(
        "recordings", _l("Recordings"),
        _l("To store the recordings of your recorded rooms as part of the ordered service (policy P8)."),
        _CONTRACT, (Source.SERVICE,),
        _l("Until the contract ends: on termination every recording is permanently deleted and you receive a deletion receipt."),
        _l("None outside MCX. You and the authorized persons whose access includes recordings; every download is logged."),
        (
            _f("room", _l("Room"), "rooms.name"),
            _f("title", _l("Title"), "recordings.title"),
            _f("started_at", _l("Started"), "recordings.started_at", kind=Kind.DATETIME),
            _f("duration_s", _l("Duration"), "recordings.duration_s", kind=Kind.DURATION),
            _f("size_bytes", _l("Size"), "recordings.size_bytes", kind=Kind.BYTES),
            _f("sha256", _l("SHA-256 checksum"), "recordings.sha256"),
        ),
    ),
    Category(
        "authorized_persons", _l("Authorized persons"),
        _l("To give the persons you authorized access to your rooms and recordings (policy P5)."),
        _CONTRACT, (Source.ORDER_FORM, Source.PORTAL),
        _l("While the person has access; once you remove them or the contract ends, kept marked as removed for 5 more years as proof of who had access."),
        _l("None outside MCX. You, and the MCX moderators who decide on access."),
        (
            _f("name", _l("Name"), "delegates.name"),
            _f("email", _l("E-mail"), "delegates.email"),
            _f("rooms", _l("Rooms"), kind=Kind.LIST),
            _f("recordings", _l("May see recordings"), "delegates.recordings", kind=Kind.BOOL),
            _f("expires_on", _l("Access until"), "delegates.expires_on", kind=Kind.DATE),
            _f("status", _l("Status"), "delegates.status", kind=Kind.CODE, choices=DELEGATE_STATUSES),
            _f("source", _l("Added through"), "delegates.source", kind=Kind.CODE, choices=ORIGINS),
            _f("created_at", _l("Added"), "delegates.created_at", kind=Kind.DATETIME),
            _f("removed_at", _l("Removed"), "delegates.removed_at", kind=Kind.DATETIME),
        ),
    ),
    Category(
        "consent_events", _l("Consents"),
        _l("To send product news only through the channels you agreed to, and to prove that consent (GDPR art. 7(1))."),
        (Basis.CONSENT, Basis.LEGAL_DUTY), (Source.ORDER_FORM, Source.PORTAL, Source.STAFF),
        _UNTIL_TIME_BARRED,
        _STAFF_ONLY,
        (
            _f("at", _l("When"), "consent_events.at", kind=Kind.DATETIME),
            _f("purpose", _l("Purpose"), "consent_events.purpose", kind=Kind.CODE, choices=PURPOSES),
            _f("channel", _l("Channel"), "consent_events.channel", kind=Kind.CODE, choices=CHANNELS),
            _f("granted", _l("Consent given"), "consent_events.granted", kind=Kind.BOOL),
            _f("source", _l("Collected through"), "consent_events.source", kind=Kind.CODE, choices=CONSENT_SOURCES),
            _f("collection_method", _l("Collection method"), "consent_events.collection_method",
               kind=Kind.CODE, choices=COLLECTION_METHODS),
            _f("language", _l("Language"), "consent_events.language", kind=Kind.CODE, choices=LANGUAGES),
            _f("policy_version", _l("Privacy policy version")),
            _f("receipt_id", _l("Receipt number"), "consent_events.receipt_id"),
            _f("recorded_at", _l("Recorded"), "consent_events.recorded_at", kind=Kind.DATETIME),
        ),
    ),
    Category(
        "policy_acknowledgements", _l("Privacy policy acknowledgements"),
        _l("To show that you were informed of each version of the privacy policy (policy P12)."),
        (Basis.LEGAL_DUTY,), (Source.PORTAL,),
        _UNTIL_TIME_BARRED,
        _STAFF_ONLY,
        (
            _f("policy_version", _l("Privacy policy version")),
            _f("at", _l("Acknowledged"), "policy_acknowledgements.at", kind=Kind.DATETIME),
        ),
    ),
    Category(
        "access_requests", _l("Access requests"),
        _l("To decide, once and on the record, who gets access to your rooms."),
        _CONTRACT, (Source.PORTAL, Source.STAFF), _WHILE_CONTRACT,
        _l("None outside MCX. You, and the MCX moderators who decide on access."),
        (
            _f("person", _l("Person"), "delegates.name"),
            _f("origin", _l("Asked by"), "access_requests.origin", kind=Kind.CODE, choices=ORIGINS),
            _f("message", _l("Message"), "access_requests.message"),
            _f("requester_language", _l("Language of the person's messages"), "access_requests.requester_language",
               kind=Kind.CODE, choices=LANGUAGES),
            _f("status", _l("Status"), "access_requests.status", kind=Kind.CODE, choices=REQUEST_STATUSES),
            _f("created_at", _l("Asked"), "access_requests.created_at", kind=Kind.DATETIME),
            _f("decided_at", _l("Decided"), "access_requests.decided_at", kind=Kind.DATETIME),
            _f("decision_note", _l("Decision note"), "access_requests.decision_note"),
        ),
    ),
    Category(
        "termination_requests", _l("Contract termination"),
        _l("To end the contract as you asked, and to confirm it as telecommunications law requires."),
        (Basis.CONTRACT, Basis.LEGAL_DUTY), (Source.PORTAL, Source.STAFF),
        _AFTER_CONTRACT,
        _STAFF_ONLY,
        (
            _f("status", _l("Status"), "termination_requests.status", kind=Kind.CODE, choices=TERMINATION_STATUSES),
            _f("requested_at", _l("Requested"), "termination_requests.requested_at", kind=Kind.DATETIME),
            _f("effective_on", _l("Effective on"), "termination_requests.effective_on", kind=Kind.DATE),
            _f("receipt_acknowledged_at", _l("Receipt acknowledged"), "termination_requests.receipt_acknowledged_at",
               kind=Kind.DATETIME),
            _f("confirmation_due_on", _l("Confirmation due by"), "termination_requests.confirmation_due_on",
               kind=Kind.DATE),
            _f("confirmed_at", _l("Confirmed"), "termination_requests.confirmed_at", kind=Kind.DATETIME),
            _f("withdrawn_at", _l("Withdrawn"), "termination_requests.withdrawn_at", kind=Kind.DATETIME),
            _f("started_at", _l("Deletion started"), "termination_requests.started_at", kind=Kind.DATETIME),
            _f("completed_at", _l("Completed"), "termination_requests.completed_at", kind=Kind.DATETIME),
        ),
    ),
    Category(
        "deletion_receipts", _l("Deletion receipts"),
        _l("To prove that your recordings were permanently deleted when the contract ended (policy P9)."),
        (Basis.LEGAL_DUTY,), (Source.SERVICE,),
        _AFTER_CONTRACT,
        _STAFF_ONLY,
        (
            _f("reason", _l("Why"), "deletion_receipts.reason", kind=Kind.CODE, choices=DELETION_REASONS),
            _f("issued_at", _l("Issued"), "deletion_receipts.issued_at", kind=Kind.DATETIME),
            _f("recordings_count", _l("Recordings deleted"), "deletion_receipts.recordings_count", kind=Kind.NUMBER),
            _f("total_bytes", _l("Total size"), "deletion_receipts.total_bytes", kind=Kind.BYTES),
            _f("document_sha256", _l("Receipt checksum (SHA-256)"), "deletion_receipts.document_sha256"),
            _f("document", _l("Receipt document"), "deletion_receipts.document", on_page=False),
        ),
    ),
    Category(
        "deleted_recordings", _l("Deleted recordings"),
        _l("To list, on the deletion receipt, each recording that was deleted (policy P9)."),
        (Basis.LEGAL_DUTY,), (Source.SERVICE,),
        _AFTER_CONTRACT,
        _STAFF_ONLY,
        (
            _f("room", _l("Room"), "deleted_recordings.room_name"),
            _f("title", _l("Title"), "deleted_recordings.title"),
            _f("size_bytes", _l("Size"), "deleted_recordings.size_bytes", kind=Kind.BYTES),
            _f("sha256", _l("SHA-256 checksum"), "deleted_recordings.sha256"),
            _f("deleted_at", _l("Deleted"), "deleted_recordings.deleted_at", kind=Kind.DATETIME),
        ),
    ),
    Category(
        "correction_requests", _l("Correction requests"),
        _l("To correct your data when you ask (GDPR art. 16), and to show how each request was decided."),
        (Basis.LEGAL_DUTY,), (Source.PORTAL, Source.STAFF), _WHILE_CONTRACT,
        _l("None outside MCX. Inside MCX: the privacy officers who decide on corrections."),
        (
            _f("field", _l("What"), "correction_requests.field", kind=Kind.CODE, choices=CORRECTION_FIELDS),
            _f("requested_value", _l("Requested value"), "correction_requests.requested_value"),
            _f("note", _l("Your note"), "correction_requests.note"),
            _f("status", _l("Status"), "correction_requests.status", kind=Kind.CODE, choices=CORRECTION_STATUSES),
            _f("created_at", _l("Asked"), "correction_requests.created_at", kind=Kind.DATETIME),
            _f("decided_at", _l("Decided"), "correction_requests.decided_at", kind=Kind.DATETIME),
            _f("decision_note", _l("Decision note"), "correction_requests.decision_note"),
        ),
    ),
    Category(
        "legal_disclosures", _l("Disclosures under a legal duty"),
        _l("To record every disclosure of your data that the law obliged MCX to make (policy P7, P10)."),
        (Basis.LEGAL_DUTY,), (Source.STAFF,),
        _l("5 years from the disclosure."),
        _l("The recipient named in each disclosure; inside MCX, the privacy officers."),
        (
            _f("disclosed_on", _l("Disclosed on"), "legal_disclosures.disclosed_on", kind=Kind.DATE),
            _f("recipient", _l("Recipient"), "legal_disclosures.recipient"),
            _f("legal_basis", _l("Legal basis"), "legal_disclosures.legal_basis"),
            _f("data_disclosed", _l("What was disclosed"), "legal_disclosures.data_disclosed"),
            _f("recorded_at", _l("Recorded"), "legal_disclosures.recorded_at", kind=Kind.DATETIME),
        ),
    ),
    Category(
        "data_subject_requests", _l("Your data requests"),
        _l("To handle the requests you make about your data and to prove that and when we answered (GDPR art. 12, 15-21)."),
        (Basis.LEGAL_DUTY,), (Source.PORTAL, Source.STAFF), _UNTIL_TIME_BARRED,
        _l("None outside MCX. Inside MCX: the privacy officers who handle the requests."),
        (
            _f("case", _l("Case number")),
            _f("kind", _l("What you asked for"), "data_subject_requests.kind", kind=Kind.CODE, choices=DSAR_KINDS),
            _f("text", _l("Your request"), "data_subject_requests.text"),
            _f("language", _l("Language of our messages"), "data_subject_requests.language",
               kind=Kind.CODE, choices=LANGUAGES),
            _f("status", _l("Status"), "data_subject_requests.status", kind=Kind.CODE, choices=DSAR_STATUSES),
            _f("received_at", _l("Received"), "data_subject_requests.received_at", kind=Kind.DATETIME),
            _f("due_on", _l("Answer due by"), "data_subject_requests.due_on", kind=Kind.DATE),
            _f("extended_at", _l("Deadline extended"), "data_subject_requests.extended_at", kind=Kind.DATETIME),
            _f("extension_reason", _l("Why it was extended"), "data_subject_requests.extension_reason"),
            _f("closed_at", _l("Closed"), "data_subject_requests.closed_at", kind=Kind.DATETIME),
            _f("closing_reason", _l("Reason given when closing"), "data_subject_requests.closing_reason"),
        ),
    ),
    Category(
        "data_subject_request_answers", _l("Answers to your data requests"),
        _l("To give you our answers to your data requests and to prove what we answered (GDPR art. 12)."),
        (Basis.LEGAL_DUTY,), (Source.STAFF,), _UNTIL_TIME_BARRED,
        _l("None outside MCX. Inside MCX: the privacy officers who handle the requests."),
        (
            _f("case", _l("Case number")),
            _f("text", _l("Answer"), "data_subject_request_answers.text"),
            _f("written_at", _l("Written"), "data_subject_request_answers.written_at", kind=Kind.DATETIME),
        ),
    ),
    Category(
        "sign_ins", _l("Your sign-in identity"),
        _l("To recognise you when you sign in through your identity provider; we never see your password."),
        _CONTRACT, (Source.PORTAL,), _WHILE_CONTRACT, _STAFF_ONLY,
        (
            _f("issuer", _l("Identity provider"), "identities.issuer", kind=Kind.PROVIDER),
            _f("subject", _l("Your identifier at the provider"), "identities.subject"),
            _f("email", _l("E-mail as your provider gave it"), "identities.email"),
            _f("email_verified", _l("E-mail confirmed by the provider"), "identities.email_verified", kind=Kind.BOOL),
            _f("name", _l("Name as your provider gave it"), "identities.name"),
            _f("created_at", _l("First sign-in"), "identities.created_at", kind=Kind.DATETIME),
            _f("last_sign_in_at", _l("Last sign-in"), "identities.last_sign_in_at", kind=Kind.DATETIME),
        ),
    ),
    Category(
        "sessions", _l("Sessions"),
        _l("To keep you signed in, to let you see and end your sessions, and to protect your account."),
        (Basis.CONTRACT, Basis.LEGAL_DUTY), (Source.PORTAL,), _WHILE_CONTRACT, _STAFF_ONLY,
        (
            _f("provider", _l("Signed in through"), "user_sessions.provider", kind=Kind.PROVIDER),
            _f("user_agent", _l("Browser"), "user_sessions.user_agent"),
            _f("ip_address", _l("IP address"), "user_sessions.ip_address"),
            _f("auth_time", _l("Authenticated"), "user_sessions.auth_time", kind=Kind.DATETIME),
            _f("created_at", _l("Started"), "user_sessions.created_at", kind=Kind.DATETIME),
            _f("last_seen_at", _l("Last seen"), "user_sessions.last_seen_at", kind=Kind.DATETIME),
            _f("revoked_at", _l("Ended"), "user_sessions.revoked_at", kind=Kind.DATETIME),
            _f("revoked_reason", _l("How it ended"), "user_sessions.revoked_reason",
               kind=Kind.CODE, choices=SESSION_END_REASONS),
        ),
        shown_at="account.sessions",
    ),
    Category(
        "activity_log", _l("Activity log"),
        _l("To show you, and to prove, every access to and change of your data (GDPR art. 5(2) and 32)."),
        (Basis.LEGAL_DUTY,), (Source.PORTAL, Source.STAFF, Source.SERVICE),
        _l("For the duration of the contract and 5 years after."),
        _l("None outside MCX. Inside MCX: the privacy officers."),
        (
            _f("at", _l("When"), "audit_events.at", kind=Kind.DATETIME),
            _f("who", _l("Who"), kind=Kind.CODE, choices=ACTORS),
            _f("kind", _l("What happened"), "audit_events.kind"),
            _f("details", _l("Details"), "audit_events.data", kind=Kind.JSON),
        ),
        shown_at="transparency.activity_log",
    ),
    Category(
        "emails", _l("E-mails we sent you"),
        _l("To send the service messages the portal promises (confirmations, decisions, notices)."),
        _CONTRACT, (Source.PORTAL, Source.STAFF, Source.SERVICE), _WHILE_CONTRACT, _STAFF_ONLY,
        (
            _f("created_at", _l("Written"), "outbox_messages.created_at", kind=Kind.DATETIME),
            _f("kind", _l("Kind"), "outbox_messages.kind"),
            _f("to_address", _l("To"), "outbox_messages.to_address"),
            _f("subject", _l("Subject"), "outbox_messages.subject"),
            _f("body", _l("Text"), "outbox_messages.body", on_page=False),
            _f("status", _l("Status"), "outbox_messages.status", kind=Kind.CODE, choices=MAIL_STATUSES),
            _f("sent_at", _l("Sent"), "outbox_messages.sent_at", kind=Kind.DATETIME),
        ),
    ),
    Category(
        "staff_roles", _l("MCX staff roles"),
        _l("To give MCX staff only the access their role needs (policy P11)."),
        _CONTRACT, (Source.STAFF,), _l("While the person holds the role."),
        _l("None outside MCX."),
        (
            _f("email", _l("E-mail"), "staff_roles.email"),
            _f("role", _l("Role"), "staff_roles.role", kind=Kind.CODE, choices=STAFF_ROLES),
            _f("granted_at", _l("Granted"), "staff_roles.granted_at", kind=Kind.DATETIME),
        ),
        concerns="staff",
    ),
)

CUSTOMER_CATEGORIES = tuple(c for c in CATEGORIES if c.concerns == "customer")

# Columns that hold no personal data, each with the reason. Primary and foreign keys are
# technical by rule (the data they point to is registered where it lives).
TECHNICAL_COLUMNS: dict[str, str] = {
    "customers.created_at": "bookkeeping time of the row",
    "customers.updated_at": "bookkeeping time of the row",
    "customer_import_fingerprints.digest": "a SHA-256 of the customer's record as last imported, so an "
                                           "unchanged customer is not written again; it holds no value of its own",
    "rooms.key": "the order system's identifier of the room",
    "recordings.key": "the order system's identifier of the recording",
    "recordings.file": "where the file lives in the recordings store",
    "deleted_recordings.recording_id": "id of a row that no longer exists",
    "deleted_recordings.versions_removed": "how many stored object versions the deletion removed (object storage)",
    "deleted_recordings.delete_markers_removed": "how many object-store delete markers the deletion removed",
    "job_runs.last_success_at": "when a scheduled job (run-due) last finished, for monitoring",
    "customer_recording_totals.recordings": "running count of the recordings listed under recordings (kept by triggers)",
    "customer_recording_totals.bytes": "running sum of the sizes listed under recordings (kept by triggers)",
    "deletion_receipts.created_at": "when the deletion began (the receipt's issued_at is what it proves)",
    "user_sessions.provider_sid": "the provider's opaque session id, for back-channel logout",
    "user_sessions.id_token": "a credential kept for RP-initiated logout; its claims are the identity's fields",
    "audit_events.seq": "position in the hash chain",
    "audit_events.prev_hash": "hash chain",
    "audit_events.hash": "hash chain",
    "audit_events.key_id": "which audit key signed the event (the key itself is never stored)",
    "audit_events.mac": "the writer's HMAC of the event until it is sealed into the chain",
    "audit_seal_state.horizon_id": "sealing bookkeeping: the event id the sealer waits to settle",
    "audit_seal_state.horizon_xids": "sealing bookkeeping: database transaction ids it waits for",
    "audit_seal_state.sealed_at": "sealing bookkeeping",
    "audit_checkpoints.seq": "a verified head of the hash chain",
    "audit_checkpoints.hash": "a verified head of the hash chain",
    "audit_checkpoints.key_ids": "which audit keys the verified chain used",
    "audit_checkpoints.verified_at": "when the chain was verified",
    "audit_checkpoints.mac_key_id": "which audit key signed the checkpoint",
    "audit_checkpoints.mac": "the checkpoint's HMAC",
    "outbox_messages.message_id": "technical Message-ID header",
    "outbox_messages.attempts": "delivery bookkeeping",
    "outbox_messages.next_attempt_at": "delivery bookkeeping",
    "outbox_messages.last_error": "the mail server's last answer",
    "termination_requests.last_error": "the last technical error of the deletion run",
    "termination_requests.claimed_by": "which deletion run holds the job",
    "termination_requests.claimed_until": "how long that run's claim holds",
    "policy_versions.version": "the published policy, the same for everyone",
    "policy_versions.published_at": "the published policy, the same for everyone",
    "policy_versions.text_pl": "the published policy, the same for everyone",
    "policy_versions.text_en": "the published policy, the same for everyone",
    "policy_versions.summary_pl": "the published policy, the same for everyone",
    "policy_versions.summary_en": "the published policy, the same for everyone",
    "dsar_digests.day": "the day the privacy officers' digest of data requests went out",
    "dsar_digests.sent_at": "the day the privacy officers' digest of data requests went out",
    "dsar_digests.cases": "how many cases that digest listed",
    "seen_logout_tokens.issuer": "replay protection for back-channel logout",
    "seen_logout_tokens.jti": "replay protection for back-channel logout",
    "seen_logout_tokens.seen_at": "replay protection for back-channel logout",
    "seen_logout_tokens.expires_at": "replay protection for back-channel logout",
}


def category(key: str) -> Category:
    return next(c for c in CATEGORIES if c.key == key)


def choice_label(f: Field, code):
    """The translated label of a code, or the code itself when the registry does not know it."""
    if f.choices and code in f.choices:
        return f.choices[code]
    return code


@dataclass
class Classification:
    """How every column of the schema is accounted for (see tests/account/test_registry.py)."""

    registered: set[str] = field(default_factory=set)
    technical: set[str] = field(default_factory=set)
    unclassified: set[str] = field(default_factory=set)


def classify(metadata) -> Classification:
    """Sort every column of `metadata` into registered, technical or unclassified."""
    registered = {column for c in CATEGORIES for column in c.columns}
    result = Classification()
    for table in metadata.sorted_tables:
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            if column.primary_key or column.foreign_keys or name in TECHNICAL_COLUMNS:
                result.technical.add(name)
            elif name in registered:
                result.registered.add(name)
            else:
                result.unclassified.add(name)
    return result
