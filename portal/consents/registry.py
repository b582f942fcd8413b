"""Why MCX contacts a customer, and which of those reasons needs their consent (SPEC P4, P6).

Informing about new services and products is direct marketing: it needs the customer's prior
consent for each channel (GDPR art. 6(1)(a); Prawo komunikacji elektronicznej art. 398).
Service messages (confirmations of what the customer did, decisions on their requests, notices
about their contract) are part of providing the service: they are not marketing and go out
whatever the consents say.
"""
from __future__ import annotations

from dataclasses import dataclass

from portal.consents.models import PRODUCT_NOTIFICATIONS, Channel
from portal.web.i18n import _l

SERVICE_MESSAGES = "service_messages"


@dataclass(frozen=True)
class ContactPurpose:
    code: str
    name: object  # lazy_gettext strings, rendered in the reader's language
    description: object
    legal_basis: object
    marketing: bool

    @property
    def needs_consent(self) -> bool:
        return self.marketing


PURPOSES: dict[str, ContactPurpose] = {
    PRODUCT_NOTIFICATIONS: ContactPurpose(
        code=PRODUCT_NOTIFICATIONS,
        name=_l("Information about new services and products"),
        description=_l("News about new MCX services and products. This is marketing: we send it only through the channels you agree to, and you can withdraw at any time."),
        legal_basis=_l("Your consent (GDPR art. 6(1)(a)), given separately for each channel as the Electronic Communications Law (art. 398) requires"),
        marketing=True,
    ),
    SERVICE_MESSAGES: ContactPurpose(
        code=SERVICE_MESSAGES,
        name=_l("Service messages"),
        description=_l("Confirmations of changes you make, decisions on your requests and notices about your contract, including its termination. These are not marketing: we send them whatever your consents say."),
        legal_basis=_l("Our contract with you (GDPR art. 6(1)(b))"),
        marketing=False,
    ),
}

CHANNELS = tuple(channel.value for channel in Channel)

CHANNEL_NAMES = {
    Channel.EMAIL.value: _l("E-mail"),
    Channel.SMS.value: _l("Text messages (SMS)"),
    Channel.PHONE.value: _l("Phone calls"),
}


def needs_consent(purpose: str) -> bool:
    """Whether contacting a customer for `purpose` needs their consent for the channel."""
    return PURPOSES[purpose].needs_consent

# whole sentences per channel: Polish inflects the channel's name differently in each
GIVE_LABELS = {
    Channel.EMAIL.value: _l("Give consent to e-mails"),
    Channel.SMS.value: _l("Give consent to text messages"),
    Channel.PHONE.value: _l("Give consent to phone calls"),
}
WITHDRAW_LABELS = {
    Channel.EMAIL.value: _l("Withdraw consent to e-mails"),
    Channel.SMS.value: _l("Withdraw consent to text messages"),
    Channel.PHONE.value: _l("Withdraw consent to phone calls"),
}
GIVEN_MESSAGES = {
    Channel.EMAIL.value: _l("Consent given: we may send you information about new services and products by e-mail."),
    Channel.SMS.value: _l("Consent given: we may send you information about new services and products by text message."),
    Channel.PHONE.value: _l("Consent given: we may call you about new services and products."),
}
WITHDRAWN_MESSAGES = {
    Channel.EMAIL.value: _l("Consent withdrawn: we will not send you information about new services and products by e-mail."),
    Channel.SMS.value: _l("Consent withdrawn: we will not send you information about new services and products by text message."),
    Channel.PHONE.value: _l("Consent withdrawn: we will not call you about new services and products."),
}
SOURCE_NAMES = {
    "order_form": _l("Order form"),
    "portal": _l("You, in this portal"),
    "staff": _l("MCX staff, at your request"),
}
