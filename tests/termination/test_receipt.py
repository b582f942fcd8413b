"""After termination: the customer reads and downloads the receipt; delegates reach nothing."""
from __future__ import annotations

import base64
import hashlib
import json
import re

from sqlalchemy import select

from portal.auth.models import Identity
from portal.extensions import db
from portal.termination import services
from tests.termination.conftest import EFFECTIVE, make_account, requested_termination


def terminate(account) -> None:
    requested_termination(account)
    report = services.run_due(today=EFFECTIVE)
    assert [o.status for o in report.outcomes] == ["completed"]


def test_the_customer_reads_every_deleted_recording_with_its_checksum(client, account, sign_in_as):
    terminate(account)
    sign_in_as(account.owner)

    page = client.get("/account/termination/receipt").get_data(as_text=True)

    assert "Potwierdzenie usunięcia" in page
    assert 'data-recordings-count="3"' in page
    for recording in account.recordings:
        row = re.search(rf'<tr data-recording-id="{recording.id}">(.*?)</tr>', page, re.S)
        assert row, f"recording {recording.id} is not on the receipt"
        assert recording.title in row.group(1) and recording.sha256 in row.group(1)


def test_the_download_is_the_document_whose_checksum_the_page_shows(client, account, sign_in_as):
    terminate(account)
    sign_in_as(account.owner)
    page = client.get("/account/termination/receipt").get_data(as_text=True)
    shown = re.search(r"<code class=\"checksum\" data-receipt-sha256>([0-9a-f]{64})</code>", page).group(1)

    download = client.get("/account/termination/receipt.json")

    body = download.get_data()
    assert hashlib.sha256(body).hexdigest() == shown
    assert download.headers["Repr-Digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"
    assert download.headers["Content-Disposition"] == \
        f'attachment; filename="deletion-receipt-{account.customer.number}.json"'
    document = json.loads(body)
    assert [(r["id"], r["sha256"], r["size_bytes"]) for r in document["recordings"]] == \
        [(r.id, r.sha256, r.size_bytes) for r in sorted(account.recordings, key=lambda r: r.id)]
    assert all(r["deleted_at"] for r in document["recordings"])


def test_a_long_receipt_is_paged(client, app, sign_in_as):
    account = make_account(app, recordings=130)
    terminate(account)
    sign_in_as(account.owner)

    first = client.get("/account/termination/receipt").get_data(as_text=True)
    ids = sorted(r.id for r in account.recordings)
    next_link = re.search(r'href="(/account/termination/receipt\?after=\d+)" rel="next"', first).group(1)
    second = client.get(next_link).get_data(as_text=True)

    shown = [int(i) for i in re.findall(r'<tr data-recording-id="(\d+)">', first + second)]
    assert shown == ids
    assert 'rel="next"' not in second


def test_no_receipt_before_the_termination_is_carried_out(client, account, sign_in_as):
    requested_termination(account)
    sign_in_as(account.owner)

    assert client.get("/account/termination/receipt").status_code == 404
    assert client.get("/account/termination/receipt.json").status_code == 404


def test_another_customer_never_sees_the_receipt(client, app, account, sign_in_as):
    terminate(account)
    other = make_account(app)
    sign_in_as(other.owner)

    assert client.get("/account/termination/receipt").status_code == 404
    assert client.get("/account/termination/receipt.json").status_code == 404


def test_after_termination_the_customer_signs_in_and_sees_what_is_still_held(client, app, sign_in_via_provider):
    account = make_account(app, email="ewa@przyklad.pl")
    account.owner.customer_id = None  # the customer signs in through the provider for the first time after the end
    db.session.commit()
    terminate(account)

    sign_in_via_provider({"sub": "ewa", "email": "ewa@przyklad.pl", "email_verified": True})

    home = client.get("/account/").get_data(as_text=True)
    assert "Twoja umowa wygasła, a Twoje nagrania zostały trwale usunięte." in home
    overview = client.get("/account/termination").get_data(as_text=True)
    assert 'data-termination-status="completed"' in overview
    assert "Co przechowujemy po rozwiązaniu umowy i dlaczego" in overview
    assert "art. 6 ust. 1 lit. c RODO" in overview
    assert client.get("/account/termination/receipt.json").status_code == 200
    # nothing to request or withdraw any more
    assert client.get("/account/termination/request").status_code == 303


def test_the_delegate_is_signed_out_and_has_no_access_after_signing_in_again(app, account, sign_in_via_provider):
    person = account.delegate_identity
    delegate_client = app.test_client()
    sign_in_via_provider({"sub": "jan", "email": person.email, "email_verified": True},
                         test_client=delegate_client)
    jan = db.session.scalar(select(Identity).where(Identity.subject == "jan"))
    account.delegate.identity_id = jan.id
    db.session.commit()
    assert f'data-delegate-of="{account.customer.number}"' in delegate_client.get("/account/").get_data(as_text=True)

    terminate(account)

    # the next click: the session is gone
    response = delegate_client.get("/account/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    sign_in_via_provider({"sub": "jan", "email": person.email, "email_verified": True},
                         test_client=delegate_client)
    assert "data-delegate-of" not in delegate_client.get("/account/").get_data(as_text=True)
