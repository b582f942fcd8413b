"""Consent receipts: each consent event as a Kantara Initiative Consent Receipt (v1.1) document."""
from __future__ import annotations

from flask import current_app

from portal.consents.models import ConsentEvent
from portal.customers.models import Customer

KANTARA_VERSION = "KI-CR-v1.1.0"
JURISDICTION = "PL"

COLLECTION_METHODS = {
    "portal_web_form": "MCX privacy portal: the consent control on the customer's Consents page",
    "order_form_import": "Order form signed with the contract, imported from the MCX order system",
    "staff_import": "Recorded by MCX staff (e.g. on a call to the helpdesk), imported from the MCX order system",
}
PURPOSE_TEXT = {
    "email": "Information about new MCX services and products by e-mail",
    "sms": "Information about new MCX services and products by text message (SMS)",
    "phone": "Information about new MCX services and products by phone call",
}


def controller() -> dict:
    """MCX as the controller of the customer's data."""
    address = current_app.config["MAIL_FROM"].rsplit("<", 1)[-1].rstrip(">").strip()
    return {
        "piiController": "MCX Telecom",
        "onBehalf": False,
        "contact": "MCX Telecom privacy team",
        "address": {"addressCountry": "PL"},
        "email": address,
        "piiControllerUrl": "https://www.b2bvideo.pl",
    }


def consent_receipt(event: ConsentEvent, customer: Customer, policy_url: str) -> dict:
    """The receipt for one event of the ledger: a grant, or a withdrawal, of consent for one channel."""
    action = "granted" if event.granted else "withdrawn"
    return {
        "version": KANTARA_VERSION,
        "jurisdiction": JURISDICTION,
        "consentTimestamp": int(event.at.timestamp()),
        "collectionMethod": COLLECTION_METHODS.get(event.collection_method, event.collection_method),
        "consentReceiptID": event.receipt_id,
        "language": event.language or customer.preferred_language,
        "piiPrincipalId": customer.number,
        "piiControllers": [controller()],
        "policyUrl": policy_url,
        "services": [{
            "service": "MCX Telecom video and teleconferencing services",
            "purposes": [{
                "purpose": PURPOSE_TEXT[event.channel],
                "purposeCategory": ["Marketing"],
                "consentType": "EXPLICIT",
                "piiCategory": ["Contact details: " + ("e-mail address" if event.channel == "email" else "phone number")],
                "primaryPurpose": False,
                "termination": "Until withdrawn: one click on the Consents page of the MCX privacy portal",
                "thirdPartyDisclosure": False,
            }],
        }],
        "sensitive": False,
        "spiCat": [],
        # what the Kantara fields cannot say: which channel, and whether this event gave or withdrew consent
        "channel": event.channel,
        "consent": action,
        "source": event.source,
        "policyVersion": event.policy_version.version if event.policy_version else None,
        "consentTime": event.at.isoformat(),
    }
