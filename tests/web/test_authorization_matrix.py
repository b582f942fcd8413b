"""The authorization matrix: every rule of the URL map × every role × ids of customer A and B.

Each endpoint has one entry in `MATRIX` saying who may reach it; the test for an endpoint builds
one world (`tests/web/world.py`), signs every role in on its own client, and checks every cell:

- allowed: 2xx, or a redirect that is not to the sign-in page (POSTs with an empty form may
  also answer 400/422 — a validation error, not a refusal);
- 404: not theirs (data-layer scoping); 403: staff pages for someone without the role;
- login: 302 to /auth/login for anonymous visitors of anything that needs a sign-in;
- 410: a customer whose contract has ended, on the pages that change the account
  (`CLOSED_AFTER_TERMINATION`); the reading pages and the deletion receipt stay theirs.

A refused POST must change nothing (row counts of every table and the state of the world's
requests, delegates and contact data are compared before and after).
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import url_for

from portal import create_app
from tests.web.world import ROLES, build_world, csrf_token, fingerprint, signed_in_clients

ALLOWED, NOT_FOUND, FORBIDDEN, LOGIN, GONE = "allowed", "404", "403", "login", "410"

# Kinds of entry (who is allowed; everyone else signed in gets the stated refusal):
PUBLIC = ("public",)  # everyone, signed in or not
SIGNED_IN_ANY = ("signed_in",)  # anyone signed in; anonymous → sign-in
OWNER = ("owner",)  # the customer's own pages: customers A and B; others signed in → 404
OWNER_OF_TARGET = ("owner_of_target",)  # only the customer owning the id; anyone else → 404
RECORDING = ("recording",)  # the owner, and a live delegate whose scope includes recordings
MODERATOR = ("staff", "moderator")
PRIVACY_OFFICER = ("staff", "privacy_officer")
SUPPORT_STAFF = ("support_staff",)  # moderators and privacy officers; others signed in → 403
COMPLETED_TERMINATION = ("completed_termination",)  # the owner once their termination completed; else 404
# a bearer token, never a session: 404 to every role while PORTAL_METRICS_TOKEN is unset (401 with it)
METRICS_TOKEN = ("metrics_token",)

# endpoint → (kind, how its arguments are filled: None or a key of World.targets)
MATRIX: dict[str, tuple[tuple, str | None]] = {
    "transparency.activity_log": (OWNER, None),
    "account.change_email": (OWNER, None),
    "account.change_phone": (OWNER, None),
    "account.change_address": (OWNER, None),
    "account.confirm_email": (OWNER, None),
    "account.contact": (OWNER, None),
    "transparency.data": (OWNER, None),
    "account.end_other_sessions": (SIGNED_IN_ANY, None),
    "account.end_session": (OWNER_OF_TARGET, "session"),
    "transparency.export_json": (OWNER, None),
    "transparency.export_page": (OWNER, None),
    "account.home": (SIGNED_IN_ANY, None),
    "account.request_correction": (OWNER, None),
    "account.sessions": (SIGNED_IN_ANY, None),
    "account_staff.corrections": (PRIVACY_OFFICER, None),
    "account_staff.decide_correction": (PRIVACY_OFFICER, "correction_decision"),
    "account_staff.new_disclosure": (PRIVACY_OFFICER, None),
    "account_staff.reveal_correction": (PRIVACY_OFFICER, "correction"),
    "auth.callback": (PUBLIC, None),
    "auth.ended_at_provider": (PUBLIC, None),
    "auth.login": (PUBLIC, None),
    "auth.logout": (PUBLIC, None),
    "auth.signed_out": (PUBLIC, None),
    "backchannel.backchannel_logout": (PUBLIC, None),
    "client_keys.jwks": (PUBLIC, None),
    "consents.choose": (OWNER, "channel"),
    "consents.page": (OWNER, None),
    "consents.receipt": (OWNER_OF_TARGET, "consent_receipt"),
    "moderation.approve": (MODERATOR, "access_request"),
    "moderation.detail": (MODERATOR, "access_request"),
    "moderation.queue": (MODERATOR, None),
    "moderation.reject": (MODERATOR, "access_request"),
    "moderation.reveal": (MODERATOR, "access_request"),
    "people.add": (OWNER, None),
    "people.decline": (OWNER_OF_TARGET, "access_request"),
    "people.endorse": (OWNER_OF_TARGET, "access_request"),
    "people.index": (OWNER, None),
    "people.remove": (OWNER_OF_TARGET, "delegate"),
    "people.request_access": (SIGNED_IN_ANY, None),
    "people.validate": (OWNER, None),
    "policy.acknowledge": (OWNER, None),
    "policy.current": (PUBLIC, None),
    "policy.publish": (PRIVACY_OFFICER, None),
    "policy.version": (PUBLIC, "policy_version"),
    "recording_control.archive_all": (OWNER, None),
    "recording_control.archive_room": (RECORDING, "room"),
    "recording_control.delete": (OWNER, None),
    "recording_control.receipt": (OWNER_OF_TARGET, "deletion_receipt"),
    "recording_control.receipt_json": (OWNER_OF_TARGET, "deletion_receipt"),
    "recording_control.receipts": (OWNER, None),
    "recording_control.room": (RECORDING, "room"),
    "recording_control.set_retention": (OWNER_OF_TARGET, "room"),
    "rooms.download": (RECORDING, "recording"),
    "rooms.index": (SIGNED_IN_ANY, None),
    "rooms.media": (RECORDING, "recording"),
    "rooms.play": (RECORDING, "recording"),
    "termination.confirmation": (OWNER, None),
    "termination.overview": (OWNER, None),
    "termination.receipt": (COMPLETED_TERMINATION, None),
    "termination.receipt_json": (COMPLETED_TERMINATION, None),
    "termination.request_form": (OWNER, None),
    "termination.withdraw": (OWNER, None),
    "termination_staff.confirm": (PRIVACY_OFFICER, "termination"),
    "termination_staff.queue": (PRIVACY_OFFICER, None),
    "staff.undelivered_mail": (PRIVACY_OFFICER, None),
    "ops.metrics": (METRICS_TOKEN, None),
    "staff.home": (SUPPORT_STAFF, None),
    "staff.audit_log": (PRIVACY_OFFICER, None),
    "staff.audit_export": (PRIVACY_OFFICER, None),
    "staff_lookup.search": (SUPPORT_STAFF, None),
    "staff_lookup.reveal": (SUPPORT_STAFF, "customer_field"),
    "dsar.index": (OWNER, None),
    "dsar.file": (OWNER, None),
    "dsar_staff.queue": (PRIVACY_OFFICER, None),
    "dsar_staff.case": (PRIVACY_OFFICER, "dsar_case"),
    "dsar_staff.extend": (PRIVACY_OFFICER, "dsar_case"),
    "dsar_staff.answer": (PRIVACY_OFFICER, "dsar_case"),
    "dsar_staff.close": (PRIVACY_OFFICER, "dsar_case"),
    "web.healthz": (PUBLIC, None),
    "web.index": (PUBLIC, None),
    "web.readyz": (PUBLIC, None),
    "web.set_language": (PUBLIC, None),
}

# Pages that change the account close with the contract (410); everything else a customer had
# stays as it was, so they can read what is still held about them.
CLOSED_AFTER_TERMINATION = {
    "account.change_address", "account.change_email", "account.change_phone", "account.confirm_email", "account.contact",
    "account.request_correction", "consents.choose", "consents.page", "consents.receipt", "people.add",
    "people.decline", "people.endorse", "people.index", "people.remove", "people.validate",
    "recording_control.delete", "recording_control.set_retention",
}


def _url_map_rules():
    """The rules of the app's URL map (built without a database: only the routes are read)."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "OIDC_PROVIDERS": [],
                      "SECRET_KEY": "collection-only-secret-key-long-enough"})
    rules = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        rules.setdefault(rule.endpoint, []).append((rule.rule, tuple(sorted(rule.arguments)), tuple(methods)))
    return rules


RULES = _url_map_rules()


def expected(endpoint: str, role: str, target: str | None) -> str:
    kind, _ = MATRIX[endpoint]
    if kind == METRICS_TOKEN:
        return NOT_FOUND
    if kind == PUBLIC:
        return ALLOWED
    if role == "anonymous":
        return LOGIN
    if kind == SIGNED_IN_ANY:
        return ALLOWED
    if kind[0] == "staff":
        return ALLOWED if role == kind[1] else FORBIDDEN
    if kind == SUPPORT_STAFF:
        return ALLOWED if role in ("moderator", "privacy_officer") else FORBIDDEN
    if role == "terminated_customer" and endpoint in CLOSED_AFTER_TERMINATION:
        return GONE
    if kind == OWNER:
        return ALLOWED if role in ("customer_a", "customer_b", "terminated_customer") else NOT_FOUND
    if kind == COMPLETED_TERMINATION:
        return ALLOWED if role == "terminated_customer" else NOT_FOUND
    if kind == OWNER_OF_TARGET:
        return ALLOWED if role == f"customer_{target}" else NOT_FOUND
    if kind == RECORDING:
        if role == f"customer_{target}" or (role == "delegate_a_recordings" and target == "a"):
            return ALLOWED
        return NOT_FOUND
    raise AssertionError(f"unknown kind {kind}")


def cells(endpoint: str) -> list[tuple[str, str, str | None]]:
    """(method, role, target) of every cell of one endpoint."""
    _, target_key = MATRIX[endpoint]
    targets = ("a", "b") if target_key and target_key not in ("channel", "policy_version") else (None,)
    out = []
    for _rule, _args, methods in RULES[endpoint]:
        for method in methods:
            for role in ROLES:
                for target in targets:
                    out.append((method, role, target))
    return out


def total_cells() -> int:
    return sum(len(cells(endpoint)) for endpoint in RULES if endpoint in MATRIX)


def outcome(response) -> str:
    status = response.status_code
    location = response.headers.get("Location", "")
    if status in (301, 302, 303, 307, 308) and urlsplit(location).path == "/auth/login":
        return LOGIN
    if response.headers.get("HX-Redirect", "").startswith("/auth/login"):
        return LOGIN
    if status in (403, 404, 410):
        return str(status)
    return f"other {status}"


# Routes that need a one-time value in the query (the provider's code, an e-mail link's token):
# without one, every role that reaches them gets their "invalid link" answer, 400.
INVALID_LINK_ANSWER = {"auth.callback": 400, "account.confirm_email": 400}


def is_allowed(response, method: str, endpoint: str) -> bool:
    status = response.status_code
    if INVALID_LINK_ANSWER.get(endpoint) == status:
        return True
    if status in (200, 201, 204, 206):
        return True
    if 300 <= status < 400:
        return outcome(response) != LOGIN
    return method == "POST" and status in (400, 422)


def describe(response) -> str:
    where = response.headers.get("Location")
    return f"{response.status_code}" + (f" → {where}" if where else "")


@pytest.mark.parametrize("endpoint", sorted(RULES))
def test_authorization_matrix(world_app, endpoint):
    app = world_app
    assert endpoint in MATRIX, f"new route without an entry in the matrix: {endpoint} {RULES[endpoint]}"
    world = build_world(app)
    clients, tokens = signed_in_clients(app, world), {}
    _, target_key = MATRIX[endpoint]
    planned = [(method, role, target, expected(endpoint, role, target)) for method, role, target in cells(endpoint)]
    # refusals first, so an allowed empty form cannot change what a later refusal is compared with
    planned.sort(key=lambda cell: cell[3] == ALLOWED)
    failures = []
    state = None  # the data before the next refused POST (each refusal is compared with the one before)
    for method, role, target, want in planned:
        kwargs = world.targets[target_key][target] if target_key else {}
        with app.test_request_context():
            url = url_for(endpoint, **kwargs)
        client = clients[role]
        if method == "GET":
            before = None
            response = client.get(url)
        else:
            if role not in tokens:
                tokens[role] = csrf_token(app, client)
            before = state = (state or fingerprint()) if want != ALLOWED else None
            response = client.post(url, data={"csrf_token": tokens[role]})
        response.close()
        where = f"{endpoint} [{method} {url}] role={role} target={target or '-'}"
        if want == ALLOWED:
            if not is_allowed(response, method, endpoint):
                failures.append(f"{where}: expected allowed, got {describe(response)}")
        else:
            got = outcome(response)
            if got != want:
                failures.append(f"{where}: expected {want}, got {describe(response)}")
            elif before is not None:
                state = fingerprint()
                if state != before:
                    failures.append(f"{where}: refused with {want} but the request changed data")
    assert not failures, "\n".join(failures)


def test_matrix_covers_every_route():
    """Every rule of the URL map has an entry, and no entry names a route that no longer exists."""
    missing = sorted(set(RULES) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(RULES))
    assert not missing, f"new route without an entry in the matrix: {missing}"
    assert not stale, f"entries for routes that no longer exist: {stale}"
    for endpoint, (_, target_key) in MATRIX.items():
        wants_arguments = any(args for _rule, args, _methods in RULES[endpoint])
        assert wants_arguments == (target_key is not None), f"{endpoint}: arguments {RULES[endpoint]}"
    assert total_cells() > len(RULES) * len(ROLES)
