"""Untrusted text never becomes markup: payloads in every free-text field, every page read.

The world of the authorization matrix (`tests/web/world.py`) gets markup (`tests/web/planted.py`)
in every free-text column a person, an identity provider or the CRM import fills: customer and
company names, address, room and recording titles, delegate names and addresses, the names and
e-mails providers assert, access request messages and decisions, correction values and notes,
disclosures, session devices, termination errors, deleted recordings, policy texts and e-mails.
More is typed through the forms themselves (a stranger's access request, a person added, a
correction, a disclosure, a moderator's rejection, a privacy officer's decision), and the
customer's activity log gets an event of every kind with every detail planted.

Then every GET route of the URL map is read as every role, as a page and as an htmx fragment
(`HX-Request`), for every target; each HTML answer is parsed and no element or attribute of a
payload may be in it. JSON documents must be served as JSON (with `nosniff`), never as HTML;
e-mails must be text only. The payloads must show — as text — on the pages that display the
fields, so the test cannot pass by rendering nothing.
"""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

from flask import url_for

from portal.extensions import db
from tests.web.planted import EMAIL, LONG, log_every_kind, plant_columns, planted_markup, shows_payload
from tests.web.test_authorization_matrix import MATRIX, RULES
from tests.web.world import ROLES, build_world, csrf_token, signed_in_clients


def _act_through_forms(app, world, clients) -> list:
    """Type payloads where people type them; returns the answers (fragments included) to check."""
    from portal.account.models import CorrectionRequest
    from portal.people.models import AccessRequest, AccessRequestStatus

    def post(role, endpoint, data, htmx=True, status=200, **kwargs):
        with app.test_request_context():
            url = url_for(endpoint, **kwargs)
        headers = {"HX-Request": "true"} if htmx else {}
        response = clients[role].post(url, data={**data, "csrf_token": csrf_token(app, clients[role])},
                                      headers=headers)
        assert response.status_code == status, f"{endpoint} as {role}: {response.status_code}"
        answers.append((f"POST {endpoint} as {role}", response))
        return response

    answers: list = []
    a = world.numbers["a"]
    post("unlinked", "people.request_access", {"number": a, "message": LONG}, htmx=False, status=303)
    post("customer_a", "people.add", {"name": LONG, "email": "nowa.osoba@example.pl", "rooms": world.rooms["a"]})
    post("customer_a", "people.add", {"name": LONG, "email": EMAIL}, status=422)  # refused: the form shows what was typed
    post("customer_a", "account.request_correction", {"field": "first_name", "value": LONG[:100], "note": LONG}, htmx=False,
         status=303)
    post("privacy_officer", "account_staff.new_disclosure", {
        "customer_number": a, "disclosed_on": date.today().isoformat(), "recipient": LONG, "legal_basis": LONG,
        "data_disclosed": LONG}, htmx=False, status=303)
    pending = db.session.scalars(db.select(AccessRequest).where(
        AccessRequest.status == AccessRequestStatus.PENDING)).all()
    assert len(pending) == 1, "the person added by customer A waits for a moderator"
    post("moderator", "moderation.reveal", {}, request_id=pending[0].id)
    post("moderator", "moderation.reject", {"reason": LONG}, request_id=pending[0].id)
    stranger = db.session.scalar(db.select(AccessRequest).where(
        AccessRequest.requester_identity_id == world.identities["unlinked"].id))
    post("customer_a", "people.endorse", {"rooms": world.rooms["a"]}, htmx=False, status=303, request_id=stranger.id)
    post("moderator", "moderation.reveal", {}, request_id=stranger.id)
    for correction in db.session.scalars(db.select(CorrectionRequest)).all():
        post("privacy_officer", "account_staff.reveal_correction", {}, request_id=correction.id)
        post("privacy_officer", "account_staff.decide_correction", {"note": LONG}, status=303,
             request_id=correction.id, decision="reject")
    return answers


def _urls(app, world) -> list[tuple[str, str]]:
    """(endpoint, url) of every GET route for every target the world has, plus every data section."""
    from portal.transparency.registry import CATEGORIES

    out = []
    with app.test_request_context():
        for endpoint in sorted(RULES):
            if not any("GET" in methods for _rule, _args, methods in RULES[endpoint]):
                continue
            _kind, target_key = MATRIX[endpoint]
            targets = world.targets[target_key].values() if target_key else [{}]
            out += [(endpoint, url_for(endpoint, **kwargs)) for kwargs in targets]
        out += [("transparency.data", url_for("transparency.data", section=c.key)) for c in CATEGORIES]
        out.append(("transparency.activity_log", url_for("transparency.activity_log", kind="other")))
        out.append(("account_staff.corrections", url_for("account_staff.corrections", show="decided")))
        out.append(("termination_staff.queue", url_for("termination_staff.queue", show="closed")))
    return out


def _check(where: str, response, failures: list, seen: set, endpoint: str) -> None:
    kind = response.headers.get("Content-Type", "")
    if kind.startswith("application/zip"):
        # a ZIP of recordings: its manifest carries the titles and room names as JSON
        manifest = zipfile.ZipFile(io.BytesIO(response.get_data())).read("manifest.json").decode()
        if shows_payload(json.dumps(json.loads(manifest), ensure_ascii=False)):
            seen.add(endpoint)
        return
    body = response.get_data(as_text=True)
    if kind.startswith("text/html"):
        found, text = planted_markup(body)
        failures += [f"{where}: {item}" for item in found]
        if shows_payload(text):
            seen.add(endpoint)
    elif "json" in kind:
        assert response.headers.get("X-Content-Type-Options") == "nosniff", where
        # JSON Lines (the audit-log export): one document per line
        documents = [json.loads(line) for line in body.splitlines() if line] if "jsonl" in kind else [json.loads(body)]
        if shows_payload(json.dumps(documents, ensure_ascii=False)):
            seen.add(endpoint)


# pages that show the planted fields to someone; each must show the payload, as text
MUST_SHOW = {
    "transparency.activity_log", "transparency.data", "transparency.export_page", "transparency.export_json", "account.home",
    "account.sessions", "account_staff.corrections", "forms", "moderation.detail", "moderation.queue",
    "people.index", "policy.current", "policy.version", "rooms.index", "rooms.play", "termination.confirmation",
    "termination.receipt", "termination_staff.queue", "dsar.index", "dsar_staff.case", "staff.audit_export",
}


def test_no_planted_markup_on_any_page_fragment_document_or_email(world_app):
    app = world_app
    world = build_world(app)
    plant_columns()
    clients = signed_in_clients(app, world)
    failures, seen = [], set()
    for where, response in _act_through_forms(app, world, clients):
        _check(where, response, failures, seen, "forms")
    plant_columns()
    log_every_kind(world)

    # Polish pages and fragments, then the English pages (messages put their parameters elsewhere)
    for language, variants in (("pl", ({}, {"HX-Request": "true"})), ("en", ({},))):
        for role in ROLES:
            assert clients[role].submit("/language", {"lang": language, "next": "/"}).status_code == 303
        for endpoint, url in _urls(app, world):
            for role in ROLES:
                for headers in variants:
                    response = clients[role].get(url, headers=headers)
                    where = f"GET {url} as {role} in {language}{' (htmx)' if headers else ''}"
                    _check(where, response, failures, seen, endpoint)
    assert not failures, "\n".join(sorted(set(failures)))
    assert MUST_SHOW <= seen, f"payload never shown (as text) on {sorted(MUST_SHOW - seen)}"

    from portal.mail import deliver_due

    deliver_due()
    messages = [message_from_bytes(path.read_bytes(), policy=policy.default)
                for path in sorted((Path(app.instance_path) / "outbox").glob("*.eml"))]
    assert len(messages) >= 3, "the forms above send e-mail to the customer and the persons"
    assert any(shows_payload(m.get_body(("plain",)).get_content()) for m in messages)
    for message in messages:
        assert [part.get_content_type() for part in message.walk()] == ["text/plain"], message["Subject"]
