"""The pages' links (portal/web/links.py `page_url`, the templates' `url_for`) are remembered per
process: a remembered link must be the one `url_for` builds for that request, mount point included."""
from __future__ import annotations

from flask import url_for

from portal.web.links import page_url


def test_a_remembered_link_follows_the_mount_point_and_the_values(app):
    with app.test_request_context("/", base_url="http://localhost/portal/"):
        assert page_url("consents.page") == "/portal/account/consents"
    with app.test_request_context("/"):
        assert page_url("consents.page") == "/account/consents"
        assert page_url("consents.page", before="a b&c") == url_for("consents.page", before="a b&c")
        assert page_url("consents.page", before="other") == url_for("consents.page", before="other")
    with app.test_request_context("/", base_url="http://localhost/portal/"):
        assert page_url("consents.page", before="other") == "/portal/account/consents?before=other"


def test_external_links_are_built_each_time(app):
    with app.test_request_context("/", base_url="https://one.example/"):
        assert page_url("consents.page", _external=True) == "https://one.example/account/consents"
    with app.test_request_context("/", base_url="https://two.example/"):
        assert page_url("consents.page", _external=True) == "https://two.example/account/consents"
