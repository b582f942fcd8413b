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


def test_a_remembered_link_is_not_given_for_an_equal_value_of_another_type(app):
    """1 == True == 1.0 in a dict key, but url_for writes "1", "True" and "1.0": a link remembered
    for one must not be handed out for the others."""
    with app.test_request_context("/"):
        assert page_url("consents.page", before=True) == url_for("consents.page", before=True)
        assert page_url("consents.page", before=1) == url_for("consents.page", before=1)
        assert page_url("consents.page", before=1.0) == url_for("consents.page", before=1.0)


def test_a_link_carrying_a_long_value_is_not_remembered(app):
    """The sign-in page puts the request's `next` into its links: anyone can send thousands of
    long, different ones, and each remembered link would keep kilobytes until evicted."""
    remembered = app.extensions["portal_page_urls"]
    with app.test_request_context("/"):
        before = remembered.cache_info().currsize
        for n in range(20):
            target = f"/account/{n}/" + "a" * 3000
            assert page_url("auth.login", next=target) == url_for("auth.login", next=target)
        assert remembered.cache_info().currsize == before
