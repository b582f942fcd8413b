"""Abandoned sign-ins never grow the session cookie past what browsers keep (4 KB, RFC 6265 §6.1)."""
from __future__ import annotations

from urllib.parse import urlsplit

import requests
from sqlalchemy import select

from portal.auth.models import Identity
from portal.extensions import db

BROWSER_COOKIE_LIMIT = 4096


def db_subject() -> str | None:
    return db.session.scalar(select(Identity.subject))


def cookie_size(response) -> int:
    return max((len(value) for value in response.headers.getlist("Set-Cookie")), default=0)


def test_many_abandoned_sign_ins_never_block_a_new_one(client, provider):
    provider.set_user({"sub": "patient", "email": "p@example.pl", "email_verified": True})
    first = client.get("/auth/login?provider=mcx&next=/account/data")
    sizes = [cookie_size(first)]
    for _ in range(30):  # started and abandoned at the provider, within the hour
        sizes.append(cookie_size(client.get("/auth/login?provider=mcx&next=/account/data")))

    start = client.get("/auth/login?provider=mcx")
    answer = requests.post(start.headers["Location"], data={"sub": "patient"}, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    done = client.get(f"{callback.path}?{callback.query}")

    assert max(sizes + [cookie_size(start)]) < BROWSER_COOKIE_LIMIT, sizes
    assert sizes[-1] <= sizes[3] + 50  # bounded: it stops growing after the first few
    assert done.status_code == 302 and done.headers["Location"] == "/account/"
    assert db_subject() == "patient"


def test_the_oldest_abandoned_sign_in_is_forgotten_and_refused(client, provider):
    provider.set_user({"sub": "late", "email": "l@example.pl", "email_verified": True})
    oldest = client.get("/auth/login?provider=mcx")
    for _ in range(5):
        client.get("/auth/login?provider=mcx")

    answer = requests.post(oldest.headers["Location"], data={"sub": "late"}, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    response = client.get(f"{callback.path}?{callback.query}")

    assert response.status_code == 400 and 'data-reason="state_mismatch"' in response.get_data(as_text=True)
    assert db_subject() is None
