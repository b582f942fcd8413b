"""The demo's recordings are real videos: the customer plays one in Chromium (issue 14 item 8)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.customers.models import Recording
from portal.demo.data import CLIP_SECONDS
from portal.extensions import db
from tests.conftest import both_backends
from tests.e2e.test_signin_journey import sign_in_in_browser

pytestmark = pytest.mark.browser

ANNA = {"sub": "anna.kowalska", "name": "Anna Kowalska", "email": "anna.kowalska@przyklad.pl", "email_verified": True}


# the demo loads its clips into either store; Chromium's ranges reach S3 through the portal (issue 19)
@both_backends
def test_a_demo_recording_plays_in_the_browser(app, browser, live_server, provider, partner_provider):
    from tests.e2e.conftest import Tab

    result = app.test_cli_runner().invoke(args=["portal", "demo"])
    assert result.exit_code == 0, result.output
    recording = db.session.scalars(select(Recording).order_by(Recording.id)).first()
    context = browser.new_context(locale="pl-PL")
    context.set_default_timeout(15000)
    tab = Tab(context, {live_server.url, provider.issuer, partner_provider.issuer}, live_server.url)
    try:
        sign_in_in_browser(tab, live_server, provider, ANNA)
        tab.page.goto(f"{live_server.url}/rooms/recordings/{recording.id}/play")
        video = tab.page.locator("video.player")
        # decoded frames, not just bytes: the player knows the picture's size and the clip's length
        tab.page.wait_for_function("document.querySelector('video.player').readyState >= 2")
        shown = video.evaluate("v => ({width: v.videoWidth, height: v.videoHeight, duration: v.duration, error: v.error})")
        assert shown["error"] is None
        assert (shown["width"], shown["height"]) == (320, 180)
        assert abs(shown["duration"] - CLIP_SECONDS) < 0.5
        assert tab.foreign_requests == []
    finally:
        context.close()
