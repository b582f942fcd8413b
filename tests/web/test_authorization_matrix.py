"""The authorization matrix: every rule of the URL map × every role × ids of customer A and B.

Each endpoint has one entry in `MATRIX` saying who may reach it; the test for an endpoint builds
one world (two customers with rooms, recordings with real files, delegates, an access request,
a consent event, a correction request and a termination request each, a policy version and
sessions), signs every role in on its own client, and checks every cell:

- allowed: 2xx, or a redirect that is not to the sign-in page (POSTs with an empty form may
  also answer 400/422 — a validation error, not a refusal);
- 404: not theirs (data-layer scoping); 403: staff pages for someone without the role;
- login: 302 to /auth/login for anonymous visitors of anything that needs a sign-in.

A refused POST must change nothing (row counts of every table and the state of the world's
requests, delegates and contact data are compared before and after).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from flask import url_for
from sqlalchemy import select, text

from portal import create_app
from portal.db_types import utcnow
from portal.extensions import db
from tests import factories

ROLES = ("anonymous", "customer_a", "customer_b", "delegate_a_recordings", "delegate_a_no_recordings",
         "removed_delegate_a", "moderator", "privacy_officer", "unlinked")
SIGNED_IN = ROLES[1:]

ALLOWED, NOT_FOUND, FORBIDDEN, LOGIN, GONE = "allowed", "404", "403", "login", "410"

# Kinds of entry (who is allowed; everyone else signed in gets the stated refusal):
PUBLIC = ("public",)  # everyone, signed in or not
SIGNED_IN_ANY = ("signed_in",)  # anyone signed in; anonymous → sign-in
OWNER = ("owner",)  # the customer's own pages: customers A and B; others signed in → 404
OWNER_OF_TARGET = ("owner_of_target",)  # only the customer owning the id; anyone else → 404
RECORDING = ("recording",)  # the owner, and a live delegate whose scope includes recordings
MODERATOR = ("staff", "moderator")
PRIVACY_OFFICER = ("staff", "privacy_officer")
NO_COMPLETED_TERMINATION = ("owner_404",)  # owners get 404 while no termination has completed

# endpoint → (kind, how its arguments are filled: None or a key of World.targets)
MATRIX: dict[str, tuple[tuple, str | None]] = {
    "account.activity_log": (OWNER, None),
    "account.change_email": (OWNER, None),
    "account.change_phone": (OWNER, None),
    "account.confirm_email": (OWNER, None),
    "account.contact": (OWNER, None),
    "account.data": (OWNER, None),
    "account.end_other_sessions": (SIGNED_IN_ANY, None),
    "account.end_session": (OWNER_OF_TARGET, "session"),
    "account.export_json": (OWNER, None),
    "account.export_page": (OWNER, None),
    "account.home": (SIGNED_IN_ANY, None),
    "account.request_correction": (OWNER, None),
    "account.sessions": (SIGNED_IN_ANY, None),
    "account_staff.corrections": (PRIVACY_OFFICER, None),
    "account_staff.decide_correction": (PRIVACY_OFFICER, "correction_decision"),
    "account_staff.new_disclosure": (PRIVACY_OFFICER, None),
    "account_staff.reveal_correction": (PRIVACY_OFFICER, "correction"),
    "auth.callback": (PUBLIC, None),
    "auth.login": (PUBLIC, None),
    "auth.logout": (PUBLIC, None),
    "auth.signed_out": (PUBLIC, None),
    "backchannel.backchannel_logout": (PUBLIC, None),
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
    "rooms.download": (RECORDING, "recording"),
    "rooms.index": (SIGNED_IN_ANY, None),
    "rooms.media": (RECORDING, "recording"),
    "rooms.play": (RECORDING, "recording"),
    "termination.confirmation": (OWNER, None),
    "termination.overview": (OWNER, None),
    "termination.receipt": (NO_COMPLETED_TERMINATION, None),
    "termination.receipt_json": (NO_COMPLETED_TERMINATION, None),
    "termination.request_form": (OWNER, None),
    "termination.withdraw": (OWNER, None),
    "termination_staff.confirm": (PRIVACY_OFFICER, "termination"),
    "termination_staff.queue": (PRIVACY_OFFICER, None),
    "web.healthz": (PUBLIC, None),
    "web.index": (PUBLIC, None),
    "web.readyz": (PUBLIC, None),
    "web.set_language": (PUBLIC, None),
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
    if kind == PUBLIC:
        return ALLOWED
    if role == "anonymous":
        return LOGIN
    if kind == SIGNED_IN_ANY:
        return ALLOWED
    if kind[0] == "staff":
        return ALLOWED if role == kind[1] else FORBIDDEN
    if kind == OWNER:
        return ALLOWED if role in ("customer_a", "customer_b") else NOT_FOUND
    if kind == NO_COMPLETED_TERMINATION:
        return NOT_FOUND
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


@dataclass
class World:
    identities: dict
    targets: dict  # target key → {"a": url kwargs, "b": url kwargs}


def build_world(app) -> World:
    recordings_dir = app.config["RECORDINGS_DIR"]
    a, b = factories.customer(), factories.customer()
    room_a, room_b = factories.room(a, "Sala A"), factories.room(b, "Sala B")
    rec_a = factories.recording_with_file(room_a, recordings_dir, "Nagranie A")
    rec_b = factories.recording_with_file(room_b, recordings_dir, "Nagranie B")
    policy = factories.policy_version("1.0")
    identities = {
        "customer_a": factories.identity(customer=a),
        "customer_b": factories.identity(customer=b),
        "delegate_a_recordings": factories.identity(),
        "delegate_a_no_recordings": factories.identity(),
        "removed_delegate_a": factories.identity(),
        "moderator": factories.identity(roles=("moderator",)),
        "privacy_officer": factories.identity(roles=("privacy_officer",)),
        "unlinked": factories.identity(),
    }
    factories.delegate(a, identities["delegate_a_recordings"], rooms=[room_a], recordings=True)
    factories.delegate(a, identities["delegate_a_no_recordings"], rooms=[room_a], recordings=False)
    factories.delegate(a, identities["removed_delegate_a"], rooms=[room_a], recordings=True, status="removed")

    from portal.account.models import CorrectionRequest
    from portal.account.services import session_handle
    from portal.auth import sessions
    from portal.people.models import AccessRequest, AccessRequestStatus
    from portal.termination.models import TerminationRequest

    targets: dict[str, dict] = {key: {} for key in (
        "session", "correction", "correction_decision", "consent_receipt", "access_request", "delegate",
        "recording", "termination")}
    targets["channel"] = {None: {"channel": "email"}}
    targets["policy_version"] = {None: {"version": policy.version}}
    for key, customer, rec in (("a", a, rec_a), ("b", b, rec_b)):
        owner = identities[f"customer_{key}"]
        other_session = sessions.open_session(owner, provider="mcx", id_token=None, auth_time=utcnow(),
                                              provider_sid=None, user_agent="other device", ip_address="10.0.0.1")
        correction = CorrectionRequest(customer_id=customer.id, field="last_name", requested_value="Nowak",
                                       requested_by_id=owner.id)
        db.session.add(correction)
        asking = factories.identity()
        pending_delegate = factories.delegate(customer, asking, rooms=[], status="pending")
        access_request = AccessRequest(customer_id=customer.id, delegate_id=pending_delegate.id, origin="person",
                                       requester_identity_id=asking.id, message="Proszę o dostęp",
                                       status=AccessRequestStatus.AWAITING_CUSTOMER)
        db.session.add(access_request)
        extra_delegate = factories.delegate(customer, None, rooms=[], status="active")
        event = factories.consent_event(customer, "email", True, policy_version=policy)
        termination = TerminationRequest(customer_id=customer.id, requested_by_id=owner.id,
                                         effective_on=date.today() + timedelta(days=30), confirmed_at=utcnow(),
                                         confirmation_due_on=date.today())
        db.session.add(termination)
        db.session.flush()
        targets["session"][key] = {"handle": session_handle(other_session)}
        targets["correction"][key] = {"request_id": correction.id}
        targets["correction_decision"][key] = {"request_id": correction.id, "decision": "approve"}
        targets["consent_receipt"][key] = {"receipt_id": event.receipt_id}
        targets["access_request"][key] = {"request_id": access_request.id}
        targets["delegate"][key] = {"delegate_id": extra_delegate.id}
        targets["recording"][key] = {"recording_id": rec.id}
        targets["termination"][key] = {"termination_id": termination.id}
    db.session.commit()
    return World(identities, targets)


def fingerprint() -> tuple:
    """Row counts of every table and the state of the rows a refused request could touch."""
    from portal.account.models import CorrectionRequest, Customer
    from portal.people.models import AccessRequest, Delegate
    from portal.termination.models import TerminationRequest

    db.session.expire_all()
    counts = db.session.execute(select(*[
        select(text("count(*)")).select_from(table).scalar_subquery().label(table.name)
        for table in db.metadata.sorted_tables
    ])).one()
    rows = tuple(
        tuple(db.session.execute(select(*columns).order_by(columns[0])).all())
        for columns in (
            (Customer.id, Customer.email, Customer.phone, Customer.last_name, Customer.preferred_language),
            (Delegate.id, Delegate.status, Delegate.recordings),
            (AccessRequest.id, AccessRequest.status),
            (CorrectionRequest.id, CorrectionRequest.status),
            (TerminationRequest.id, TerminationRequest.status, TerminationRequest.withdrawn_at),
        )
    )
    return tuple(counts), rows


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


def csrf_token(app, client) -> str:
    """A valid CSRF token for `client`'s session, made by Flask-WTF as a page's form would carry it
    (the same token `BrowserLikeClient.csrf_token` reads from a page, without rendering one)."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    with app.app_context(), app.test_request_context():  # a fresh `g`: no token cached from before
        token = generate_csrf()
        raw = session["csrf_token"]
    with client.session_transaction() as sess:
        sess["csrf_token"] = raw
    return token


def describe(response) -> str:
    where = response.headers.get("Location")
    return f"{response.status_code}" + (f" → {where}" if where else "")


@pytest.fixture(scope="module")
def matrix_app(database_url, provider, partner_provider, tmp_path_factory):
    """One app for the whole matrix (made as conftest's `app` makes it): 57 apps cost seconds."""
    from tests.conftest import BrowserLikeClient, _config_for, provider_configs

    recordings = tmp_path_factory.mktemp("matrix-recordings")
    made = create_app(_config_for(database_url, provider_configs(provider, partner_provider), recordings))
    made.instance_path = str(tmp_path_factory.mktemp("matrix-instance"))
    made.test_client_class = BrowserLikeClient
    yield made
    with made.app_context():
        db.engine.dispose()


@pytest.fixture
def app(matrix_app):
    """This module's `app`: the shared app, with a database emptied after each test like conftest's."""
    from tests.conftest import _empty_database

    with matrix_app.app_context():
        yield matrix_app
        db.session.remove()
        _empty_database()


@pytest.mark.parametrize("endpoint", sorted(RULES))
def test_authorization_matrix(app, endpoint):
    assert endpoint in MATRIX, f"new route without an entry in the matrix: {endpoint} {RULES[endpoint]}"
    world = build_world(app)
    clients, tokens = {}, {}
    for role in ROLES:
        clients[role] = app.test_client()
        if role != "anonymous":
            factories.signed_in(clients[role], world.identities[role])
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
