"""Security headers, CSRF on every state-changing route, no other origins, the language switch
(SPEC P1, P11)."""
from __future__ import annotations

import base64
import hashlib
import re
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.routing import converters

from portal import ROOT, create_app
from portal.audit import AuditEvent
from portal.extensions import csrf, db
from tests import factories

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# Endpoints that must accept state-changing requests without the portal's CSRF token (e.g. a
# provider's back-channel logout, which authenticates itself with a signed token). Each entry
# needs a reason; anything not listed here must refuse a request without a token.
CSRF_EXEMPT: dict[str, str] = {
    "backchannel.backchannel_logout": "OpenID Connect Back-Channel Logout: the provider posts server to server, "
                                      "authenticated by the signed logout token (tests/account/test_backchannel.py)",
}


def _route_map_app():
    # only the URL map is used; the configuration does not matter
    return create_app({"TESTING": True, "OIDC_PROVIDERS": [], "SQLALCHEMY_DATABASE_URI": "sqlite://"})


_ROUTES = list(_route_map_app().url_map.iter_rules())
UNSAFE_ROUTES = sorted(
    {(rule.rule, rule.endpoint, method)
     for rule in _ROUTES for method in rule.methods & UNSAFE_METHODS
     if rule.endpoint not in CSRF_EXEMPT},
)
PLAIN_GET_PAGES = sorted(
    rule.rule for rule in _ROUTES
    if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
)


# --- helpers ---------------------------------------------------------------------------------

def html_pages(client):
    """Every page a visitor can open without filling in a URL argument, plus the 404 page."""
    pages = {}
    for path in [*PLAIN_GET_PAGES, "/no-such-page"]:
        response = client.get(path)
        if response.mimetype == "text/html":
            pages[path] = response
    return pages


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        if part.strip():
            name, *values = part.split()
            parsed[name] = values
    return parsed


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def everyone(app):
    """One identity that is an owner (with a room, a recording and a delegate) and all staff roles:
    whatever a state-changing route does, this person would be allowed to do it."""
    customer = factories.customer()
    room = factories.room(customer)
    factories.recording(room)
    factories.delegate(customer, rooms=[room], recordings=True)
    identity = factories.identity(customer=customer, roles=("moderator", "privacy_officer"))
    db.session.commit()
    return identity


@pytest.fixture
def signed_in_client(client, everyone, sign_in_as):
    sign_in_as(everyone)
    return client


# --- headers ---------------------------------------------------------------------------------

def test_html_pages_carry_a_strict_content_security_policy(app, client, signed_in_client):
    expected_form_origins = {origin(p.issuer) for p in app.config["OIDC_PROVIDERS"]}
    pages = html_pages(client)
    assert "/account/" in pages and "/no-such-page" in pages

    for path, response in pages.items():
        policy = directives(response.headers["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"], path
        assert policy["script-src"] == ["'self'"], path
        assert policy["frame-ancestors"] == ["'none'"], path
        assert policy["object-src"] == ["'none'"], path
        assert policy["base-uri"] == ["'self'"], path
        for name, values in policy.items():
            assert "'unsafe-inline'" not in values and "'unsafe-eval'" not in values, (path, name)
            sources = {v for v in values if not (v.startswith("'") and v.endswith("'"))}
            if name == "form-action":
                # sign-out is redirected to the provider's end-session endpoint
                assert sources == expected_form_origins, path
            elif name == "img-src":
                assert sources <= {"data:"}, path
            else:
                assert not sources, (path, name, sources)


def test_html_pages_carry_the_other_security_headers(client, signed_in_client):
    for path, response in html_pages(client).items():
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] in {"no-referrer", "same-origin", "strict-origin",
                                              "strict-origin-when-cross-origin"}, path
        assert "HX-Request" in response.vary, path
        assert "no-store" in headers["Cache-Control"], path
        assert "Strict-Transport-Security" not in headers, path  # plain http: meaningless


def test_hsts_is_sent_over_https(client):
    response = client.get("/", base_url="https://localhost")

    hsts = response.headers["Strict-Transport-Security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))
    assert max_age >= 365 * 24 * 3600


def session_cookie(response, name: str) -> str:
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    return cookie


def test_session_cookie_is_http_only_and_same_site_lax(app, client):
    response = client.get("/")  # the CSRF token is kept in the session

    cookie = session_cookie(response, app.config["SESSION_COOKIE_NAME"])
    attributes = {a.strip().split("=")[0].lower(): a.strip() for a in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=lax"
    assert attributes["path"] == "Path=/"


def test_production_session_cookie_is_secure_and_host_only(database_url, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "p" * 48)
    monkeypatch.setenv("PORTAL_OIDC_ISSUER", "https://login.mcx.example")
    monkeypatch.setenv("PORTAL_OIDC_CLIENT_ID", "portal")
    monkeypatch.setenv("PORTAL_OIDC_CLIENT_SECRET", "secret")
    monkeypatch.setenv("PORTAL_AUDIT_KEY", "2026:" + "a" * 48)
    monkeypatch.setenv("PORTAL_EXTERNAL_URL", "https://portal.mcx.example")
    monkeypatch.delenv("PORTAL_OIDC_PROVIDERS", raising=False)
    url = database_url.replace("postgresql://", "postgresql+psycopg://")
    production = create_app({"SQLALCHEMY_DATABASE_URI": url})

    with production.app_context():
        response = production.test_client().get("/", base_url="https://portal.mcx.example")
        db.engine.dispose()

    cookie = session_cookie(response, production.config["SESSION_COOKIE_NAME"])
    attributes = [a.strip().lower() for a in cookie.split(";")[1:]]
    # browsers accept a __Host- cookie only if it is Secure, on Path=/ and without Domain
    assert cookie.startswith("__Host-")
    assert "secure" in attributes and "httponly" in attributes and "path=/" in attributes
    assert not any(a.startswith("domain=") for a in attributes)
    assert "samesite=lax" in attributes


# --- no other origins (P1) -------------------------------------------------------------------

URL_ATTRIBUTE = re.compile(r"""\s(?:src|href|action|formaction|poster|srcset|data|hx-(?:get|post|put|patch|delete))\s*=\s*["']([^"']*)["']""", re.I)


def foreign_references(page: str) -> list[str]:
    found = []
    for value in URL_ATTRIBUTE.findall(page):
        for url in value.split(","):  # srcset lists several
            url = url.strip().split(" ")[0]
            parts = urlsplit(url)
            if parts.netloc and parts.netloc != "localhost":
                found.append(url)
            elif parts.scheme and parts.scheme not in {"http", "https", "mailto", "tel", "data"}:
                found.append(url)
    return found


@pytest.mark.parametrize("who", ["visitor", "signed in"])
def test_no_page_references_another_origin(app, client, everyone, sign_in_as, who):
    if who == "signed in":
        sign_in_as(everyone)
    pages = html_pages(client)

    for path, response in pages.items():
        page = response.get_data(as_text=True)
        assert foreign_references(page) == [], path
        assert "@import" not in page and "url(http" not in page.replace(" ", ""), path


def test_pages_need_nothing_the_policy_blocks(client, signed_in_client):
    """Inline scripts, event handler attributes and inline styles would silently not work."""
    for path, response in html_pages(client).items():
        page = response.get_data(as_text=True)
        for script in re.findall(r"<script\b[^>]*>", page, re.I):
            assert re.search(r"\ssrc=\"/static/", script), (path, script)
        assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", page, re.I), path
        assert not re.search(r"<[a-z][^>]*\s(style|hx-on[:\w-]*)\s*=", page, re.I), path
        assert "<style" not in page.lower(), path


def test_stylesheets_load_nothing_from_other_origins():
    for css in (ROOT / "static").rglob("*.css"):
        text = css.read_text()
        assert "@import" not in text, css
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), css


def test_htmx_is_served_from_our_origin_with_matching_integrity(client):
    page = client.get("/").get_data(as_text=True)
    [tag] = [t for t in re.findall(r"<script\b[^>]*>", page) if "htmx" in t]
    src = re.search(r'src="([^"]+)"', tag).group(1)
    integrity = re.search(r'integrity="([^"]+)"', tag).group(1)

    on_disk = (ROOT / "static" / "vendor" / "htmx.min.js").read_bytes()
    expected = "sha384-" + base64.b64encode(hashlib.sha384(on_disk).digest()).decode()
    assert integrity == expected
    assert urlsplit(src).netloc == "" and src.startswith("/static/vendor/htmx.min.js")
    served = client.get(src)
    assert served.status_code == 200 and served.data == on_disk


# --- CSRF, enumerated over the whole URL map ---------------------------------------------------

def test_csrf_exemptions_are_exactly_the_listed_ones(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(CSRF_EXEMPT) <= endpoints, "a listed exemption no longer exists"
    exempt_views = {name for name, view in app.view_functions.items()
                    if f"{view.__module__}.{view.__name__}" in csrf._exempt_views}
    assert exempt_views == set(CSRF_EXEMPT)
    assert not csrf._exempt_blueprints
    assert app.config.get("WTF_CSRF_ENABLED", True) and app.config.get("WTF_CSRF_CHECK_DEFAULT", True)


def test_the_enumeration_sees_the_state_changing_routes():
    found = {(rule, method) for rule, _, method in UNSAFE_ROUTES}
    assert {("/language", "POST"), ("/auth/logout", "POST")} <= found


def example_url(app, rule_text: str, endpoint: str, method: str) -> str:
    """Fill the rule's arguments with values that point at the first objects the test made."""
    [rule] = [r for r in app.url_map.iter_rules() if r.rule == rule_text and r.endpoint == endpoint]
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, converters.IntegerConverter):
            values[name] = 1
        elif isinstance(converter, converters.UUIDConverter):
            values[name] = uuid.uuid4()
        elif isinstance(converter, converters.AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "1"
    return rule.build(values)[1]


def database_state() -> dict[str, list[str]]:
    """Every row of every table, except bookkeeping a read may touch."""
    state = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name == "audit_events":
                continue
            columns = [c for c in table.columns if (table.name, c.name) != ("user_sessions", "last_seen_at")]
            state[table.name] = sorted(repr(tuple(row)) for row in conn.execute(select(*columns)))
    return state


def other_sessions_token(app) -> str:
    stranger = app.test_client()
    return stranger.csrf_token()


@pytest.mark.parametrize("token", ["missing", "forged", "another session's"])
@pytest.mark.parametrize("rule, endpoint, method", UNSAFE_ROUTES)
def test_state_changing_route_refuses_a_request_without_this_sessions_csrf_token(
        app, signed_in_client, rule, endpoint, method, token):
    client = signed_in_client
    url = example_url(app, rule, endpoint, method)
    data = {"lang": "en", "next": "/", "confirm": "MCX-000001", "reason": "x", "note": "x"}
    headers = {"HX-Request": "true"}
    if token == "forged":
        data["csrf_token"] = headers["X-CSRFToken"] = "forged-token"
    elif token == "another session's":
        data["csrf_token"] = headers["X-CSRFToken"] = other_sessions_token(app)
    before = database_state()
    events_before = db.session.scalar(select(db.func.max(AuditEvent.seq))) or 0

    response = client.open(url, method=method, data=data, headers=headers)

    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    assert database_state() == before
    new_kinds = db.session.scalars(select(AuditEvent.kind).where(AuditEvent.seq > events_before)).all()
    assert all(kind.endswith("_refused") for kind in new_kinds), new_kinds
    still = client.get("/account/")
    assert still.status_code == 200  # still signed in
    assert '<html lang="pl">' in still.get_data(as_text=True)  # and the language unchanged


def test_csrf_failure_page_is_friendly_and_in_polish(signed_in_client):
    response = signed_in_client.post("/auth/logout")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Formularz wygasł" in page


# --- language switch -------------------------------------------------------------------------

def test_polish_is_the_default_language(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="pl">' in page and "Twoje dane w MCX Telecom" in page


def test_language_switch_turns_the_texts_english_and_back(client):
    response = client.submit("/language", {"lang": "en", "next": "/"})

    assert response.status_code == 303 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Your data at MCX Telecom" in page

    client.submit("/language", {"lang": "pl", "next": "/"})
    assert "Twoje dane w MCX Telecom" in client.get("/").get_data(as_text=True)


def test_language_switch_returns_to_the_page_it_was_used_on(client):
    response = client.submit("/language", {"lang": "en", "next": "/auth/signed-out?x=1"})
    assert response.headers["Location"] == "/auth/signed-out?x=1"


@pytest.mark.parametrize("lang", ["de", "", "EN", "pl-PL"])
def test_unknown_language_is_refused(client, lang):
    response = client.submit("/language", {"lang": lang, "next": "/"})

    assert response.status_code == 400
    assert '<html lang="pl">' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("target", [
    "//evil.example", "//evil.example/account/", "https://evil.example/", "/\\evil.example",
    "\\\\evil.example", "///evil.example", "javascript:alert(1)", "http:evil.example",
])
def test_language_switch_never_redirects_to_another_site(client, target):
    response = client.submit("/language", {"lang": "en", "next": target})

    location = response.headers["Location"]
    assert response.status_code == 303
    assert location == "/"


def test_form_text_with_a_nul_byte_is_refused_and_changes_nothing(client, sign_in_as):
    """PostgreSQL cannot store NUL; such input gets the friendly 400 page, never a 500."""
    from portal.people.models import AccessRequest

    owner = factories.customer()
    identity = factories.identity()
    db.session.commit()
    sign_in_as(identity)

    response = client.submit("/access/request", {"number": owner.number, "message": "Proszę\x00 o dostęp"})

    assert response.status_code == 400
    assert "Nieprawidłowe żądanie" in response.get_data(as_text=True)
    assert db.session.scalar(select(AccessRequest.id)) is None
    # the same request without the NUL byte is accepted
    assert client.submit("/access/request", {"number": owner.number, "message": "Proszę o dostęp"}).status_code in (200, 303)
    assert db.session.scalar(select(AccessRequest.id)) is not None
