"""Recordings under the customer's control in real Chromium, with JavaScript on and off: delete one
recording (confirmation naming it, then the receipt), set a room's retention, download all as a ZIP."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from playwright.sync_api import expect

from portal.extensions import db
from tests import factories
from tests.e2e.test_termination_journey import ANNA, sign_in


def test_recordings_journey(tab, app, live_server, provider):
    recordings_dir = Path(app.config["RECORDINGS_DIR"])
    customer = factories.customer(email=ANNA["email"], number="MCX-000123", kind="company",
                                  company_name="Przykład Sp. z o.o.")
    board = factories.room(customer, "Sala zarządu")
    gone, kept = (factories.recording_with_file(board, recordings_dir, title=title)
                  for title in ("Zarząd — luty", "Zarząd — marzec"))
    gone_file, gone_id, gone_sha = recordings_dir / gone.file, gone.id, gone.sha256
    kept_id, kept_sha = kept.id, kept.sha256
    db.session.commit()
    page = tab.page
    sign_in(tab, live_server, provider, ANNA)

    # delete one recording: chosen on the rooms page, named on the confirmation page
    page.get_by_role("link", name="Pokoje i nagrania").click()
    page.get_by_label("Zaznacz: Zarząd — luty").check()
    page.get_by_role("button", name="Usuń zaznaczone nagrania…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Usuwanie nagrań")
    expect(page.locator("tr[data-recording]")).to_have_count(1)
    expect(page.locator(f"tr[data-recording='{gone_id}']")).to_contain_text("Sala zarządu")
    assert gone_file.exists()
    page.get_by_role("button", name="Usuń na zawsze 1 nagranie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Potwierdzenie usunięcia")
    expect(page.get_by_role("status")).to_contain_text("Usunięto na zawsze")
    expect(page.locator(f"tr[data-recording-id='{gone_id}'] code")).to_have_text(gone_sha)
    assert not gone_file.exists()

    # set a retention for the room
    page.get_by_role("link", name="Pokoje i nagrania").click()
    page.get_by_role("link", name="Wszystkie nagrania i czas ich przechowywania").click()
    page.get_by_label("przez określoną liczbę miesięcy od każdego nagrania").check()
    page.get_by_label("Liczba miesięcy").fill("6")
    page.get_by_role("button", name="Zapisz").click()
    expect(page.get_by_role("status")).to_contain_text("starsze niż 6 mies.")
    expect(page.locator("[data-retention]")).to_have_attribute("data-retention", "6")
    page.reload()
    expect(page.locator(f"tr[data-recording='{kept_id}'] [data-expires]")).to_have_attribute("data-expires", "2025-08-03")

    # download everything as one ZIP with its manifest
    page.get_by_role("link", name="Pokoje i nagrania").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Pobierz wszystkie nagrania (ZIP)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    manifest = json.loads(archive.read("manifest.json"))
    assert [(r["id"], r["sha256"]) for r in manifest["recordings"]] == [(kept_id, kept_sha)]
    assert tab.foreign_requests == []
