"""Bad query, path and header values are 400 or 404 — never 5xx — on every route of the URL map,
as every role (issue: a NUL or a number beyond 64 bits reached the database and gave 500).

The routes come from the app's URL map and the query parameter names from the source
(`request.args.get("…")`), so a new route or parameter is covered without an edit here."""
from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

import pytest
from flask import url_for

from portal import ROOT
from portal.transparency import inventory
from tests.web.test_authorization_matrix import MATRIX, RULES
from tests.web.world import ROLES, build_world, csrf_token, signed_in_clients

# raw URL text: percent-escapes stay as the client sent them (so invalid UTF-8 can be sent)
PAYLOADS = {
    "NUL": "a%00b",
    "beyond 64 bits": str(2**64),
    "over-long": "x" * 9_000,  # beyond a query value (2,048) and a header (8,190)
    "CR/LF and other controls": "a%0D%0ASet-Cookie:%20x=1%1B[31m",
    "invalid UTF-8": "%FF%FE%C3%28",
    # forms Python's int() reads besides plain digits: a route refuses them or reads no number
    # (the first page), never passes a number beyond 64 bits to the database
    "9_999… (underscore)": "9_" + "9" * 25,
    " 999… (leading space)": "%20" + "9" * 25,
    "+999… (sign)": "%2B" + "9" * 25,
    "Arabic-Indic digits beyond 64 bits": "%D9%A1" * 25,
    "Arabic-Indic digits": "%D9%A1%D9%A2%D9%A3",  # ١٢٣
}
# refused with 400 wherever they are (or 404 from a path that matches no route). A number beyond
# 64 bits is refused in the query and by `<int:…>`; in a text path argument (a channel name,
# a session handle) it is text like any other, answered by the route without a 5xx.
REFUSED_IN_ANY_PLACE = {"NUL", "over-long", "CR/LF and other controls"}
# numbers in a form no route reads as one: answered as any text (400, the first page, …), no 5xx
NOT_NUMBERS = {"9_999… (underscore)", " 999… (leading space)", "+999… (sign)",
               "Arabic-Indic digits beyond 64 bits", "Arabic-Indic digits"}

HEADERS = ("User-Agent", "Accept", "Accept-Language", "Referer", "HX-Request", "HX-Target", "HX-Trigger",
           "HX-Trigger-Name", "HX-Current-URL", "HX-Boosted", "HX-History-Restore-Request", "X-Forwarded-For",
           "X-Forwarded-Proto", "X-Forwarded-Host", "Range", "If-Range", "If-None-Match", "If-Match",
           "If-Modified-Since", "Origin")


def _query_names() -> list[str]:
    """Every query parameter the portal reads, found in its source."""
    names: set[str] = set()
    for path in (ROOT / "portal").rglob("*.py"):
        for name in re.findall(r"args\.get\(\s*f?\"([^\"]+)\"", path.read_text()):
            if "{key}" in name:
                names.update(name.replace("{key}", key) for key in inventory.SOURCES)
            else:
                names.add(name)
    return sorted(names | {"page", "q", "id"})


QUERY_NAMES = _query_names()
PLACEHOLDER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def requests_for(endpoint: str, kwargs: dict, payload: str):
    """(where, URL, environ) of the bad requests for one endpoint: the payload in each path
    argument, in every query parameter at once, and in every header at once."""
    with_valid = url_for(endpoint, **kwargs)
    out = []
    for rule, arguments, _methods in RULES[endpoint]:
        for argument in arguments:
            path = PLACEHOLDER.sub(lambda m, bad=argument: payload if m.group(1) == bad else str(kwargs[m.group(1)]),
                                   rule)
            out.append((f"path <{argument}>", path, {}))
    query = "&".join(f"{name}={payload}" for name in QUERY_NAMES)
    out.append(("query", f"{with_valid}?{query}", {}))
    raw = unquote_to_bytes(payload).decode("latin-1")  # a WSGI header value is bytes seen as latin-1
    environ = {"HTTP_" + name.upper().replace("-", "_"): raw for name in HEADERS}
    out.append(("headers", with_valid, environ))
    return out


@pytest.mark.parametrize("endpoint", sorted(RULES))
def test_bad_values_are_refused_with_a_4xx(world_app, endpoint):
    app = world_app
    world = build_world(app)
    clients = signed_in_clients(app, world)
    _, target_key = MATRIX[endpoint]
    # a target the role may reach, where there is one: the refusal must come from the value
    kwargs = world.targets[target_key][next(iter(world.targets[target_key]))] if target_key else {}
    failures = []
    for role in ROLES:
        client = clients[role]
        token = csrf_token(app, client)
        for name, payload in PAYLOADS.items():
            with app.test_request_context():
                attempts = requests_for(endpoint, kwargs, payload)
            for where, url, environ in attempts:
                for method in sorted({m for _rule, _args, methods in RULES[endpoint] for m in methods}):
                    if method == "GET":
                        response = client.get(url, environ_overrides=environ)
                    else:
                        response = client.post(url, data={"csrf_token": token}, environ_overrides=environ)
                    response.close()
                    status = response.status_code
                    if where == "headers":
                        wrong = status != 400 if name in REFUSED_IN_ANY_PLACE else status >= 500
                    elif name in NOT_NUMBERS:
                        wrong = status >= 500
                    elif where == "query" or name != "beyond 64 bits":
                        wrong = status not in (400, 404)
                    else:
                        wrong = status >= 500
                    if wrong:
                        failures.append(f"{method} {url[:120]} {where} {name} as {role}: {status}")
    assert not failures, f"{len(failures)} wrong answers:\n" + "\n".join(failures[:40])


NINES = "9" * 25
# the URLs a review found answering 500 (OverflowError binding the number), with who asked
OVERFLOWS = [
    ("moderator", f"/staff/requests?after=20260101000000000000_{NINES}"),
    ("moderator", "/staff/requests?after=20260101000000000000_9_999"),
    ("customer_a", f"/account/data?rooms_after=9_{NINES}"),
    ("customer_a", f"/account/data?recordings_after=%20{NINES}"),
    ("customer_a", f"/account/data?recordings_after=%2B{NINES}"),
    ("customer_a", f"/account/activity?before=9_{NINES}"),
    ("customer_a", "/account/activity?before=" + "%D9%A1" * 25),
    ("privacy_officer", f"/staff/terminations?after=9_{NINES}"),
]


@pytest.mark.parametrize("role, url", OVERFLOWS)
def test_numbers_in_forms_int_reads_are_refused_or_the_first_page(world_app, role, url):
    world = build_world(world_app)
    client = signed_in_clients(world_app, world)[role]
    first_page = client.get(url.split("?")[0])

    response = client.get(url)

    assert response.status_code == 400 or (response.status_code == 200 == first_page.status_code)


def test_an_id_in_other_digits_matches_no_route(world_app):
    world = build_world(world_app)
    client = signed_in_clients(world_app, world)["customer_a"]

    assert client.get("/rooms/recordings/%D9%A1/play").status_code == 404  # ١, not 1
