"""Escaping by construction: translated messages are text, and no path builds markup from data.

The regression of the landed portal, end to end: a stranger whose identity provider names them
`<b hx-post=… hx-trigger=load>` asks a customer for access; the name reached the customer's
activity log through `lazy_gettext("%(name)s (authorized person)", name=…)` unescaped.
"""
from __future__ import annotations

import ast
import json
import re

from flask import render_template_string
from markupsafe import Markup, escape
from sqlalchemy import select

from portal import ROOT
from portal.db_types import local_today
from portal.people import services
from portal.people.models import AccessRequest
from portal.web.i18n import _, _l, lazy_ngettext, ngettext, pgettext
from tests import factories
from tests.web.planted import LONG, planted_markup, shows_payload


def test_a_name_from_the_identity_provider_is_text_in_the_customers_activity_log(
        app, client, sign_in_via_provider, sign_in_as):
    customer = factories.customer()
    owner = factories.identity(customer=customer)
    moderator = factories.identity(email="mod@mcx.pl", roles=("moderator",))
    room = factories.room(customer)
    factories.db.session.commit()
    claims = {"sub": "obcy", "email": "obcy@example.pl", "email_verified": True, "name": LONG}
    answer = sign_in_via_provider(claims)
    assert answer.status_code in (302, 303)
    asked = client.submit("/access/request", {"number": customer.number, "message": "Proszę"})
    assert asked.status_code == 303
    # the customer agrees and a moderator approves: the stranger, named by their provider, becomes
    # an authorized person whose sign-ins the customer's activity log shows (SPEC P5, GDPR art. 15)
    access_request = factories.db.session.scalars(select(AccessRequest)).one()
    with app.test_request_context():
        services.endorse_request(access_request, owner, rooms=[room], recordings=False, expires_on=None,
                                 today=local_today())
        services.decide(access_request, moderator, approve=True, note=None)
        factories.db.session.commit()
    assert sign_in_via_provider(claims, test_client=app.test_client()).status_code in (302, 303)

    owners = app.test_client()
    sign_in_as(owner, owners)
    page = owners.get("/account/activity")
    found, text = planted_markup(page.get_data(as_text=True))
    assert found == []
    assert LONG in text, "the name is shown, as the text the provider sent"
    fragment = owners.get("/account/activity", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert planted_markup(fragment)[0] == [] and shows_payload(planted_markup(fragment)[1])


def test_translated_messages_escape_their_parameters_in_html_and_stay_text_elsewhere(app):
    hostile = '<b hx-get="/x" hx-trigger="load">'
    with app.test_request_context():
        for message in (_("Signed out on %(device)s.", device=hostile), _l("%(name)s (authorized person)", name=hostile),
                        ngettext("%(num)s x %(n)s", "%(num)s xs %(n)s", 2, n=hostile),
                        lazy_ngettext("%(num)s x %(n)s", "%(num)s xs %(n)s", 1, n=hostile),
                        pgettext("test", "%(n)s", n=hostile)):
            assert hostile in str(message)  # e-mail, JSON, headers: the text as it is
            assert json.loads(json.dumps(str(message))) == str(message)
            for html in (escape(message), Markup(message), Markup("<td>%s</td>") % message,
                         render_template_string("{{ m }}", m=message),
                         render_template_string("{{ _('Note: %(note)s', note=m) }}", m=message),
                         render_template_string("{{ [m, 'x'] | join(', ') }}", m=message),
                         render_template_string("{{ 'x' ~ m }}", m=message)):
                assert "<b" not in str(html), html
                assert "&lt;b hx-get=" in str(html)
        # a template's own gettext escapes a plain parameter too (Jinja's i18n, newstyle)
        assert "&lt;b" in render_template_string("{{ _('Note: %(note)s', note=h) }}", h=hostile)


def _python_files():
    return sorted((ROOT / "portal").rglob("*.py"))


def test_every_module_translates_through_the_escaping_functions():
    """Flask-Babel's own gettext functions are imported only by portal/web/i18n.py."""
    wrapped = {"gettext", "ngettext", "pgettext", "npgettext", "lazy_gettext", "lazy_ngettext", "lazy_pgettext",
               "lazy_npgettext"}
    offenders = []
    for path in _python_files():
        if path == ROOT / "portal/web/i18n.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_babel":
                offenders += [f"{path.relative_to(ROOT)}: {a.name}" for a in node.names if a.name in wrapped]
            if isinstance(node, ast.Attribute) and node.attr in wrapped and getattr(node.value, "id", "") == "flask_babel":
                offenders.append(f"{path.relative_to(ROOT)}: flask_babel.{node.attr}")
    assert offenders == []


def test_no_helper_builds_markup_and_no_template_turns_escaping_off():
    """`Markup(...)` only where the input is escaped by construction (Markdown with raw HTML off) or
    is the portal's own text: the template `_()` of portal/web/i18n.py marks the catalog's message,
    as Jinja's i18n extension does, so that `%` escapes every parameter; no `|safe`, no
    `autoescape false`, no `Markup` in templates."""
    built = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Markup":
                built.append(str(path.relative_to(ROOT)))
    assert sorted(built) == ["portal/consents/markdown.py", "portal/web/i18n.py"]
    unsafe = re.compile(r"\|\s*safe\b|autoescape\s+false|Markup|__html__")
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.is_file():
            assert not unsafe.search(path.read_text()), path


def test_text_documents_and_mail_templates_are_never_html():
    """E-mails are text/plain templates; the only HTML documents are rendered with autoescape."""
    assert all(p.suffix == ".txt" for p in (ROOT / "templates/mail").iterdir())
    assert not list((ROOT / "templates").rglob("*.htm"))


def test_html_templates_are_autoescaped(app):
    for name in ("termination/confirmation_document.html", "transparency/export.html", "transparency/activity.html"):
        assert app.jinja_env.autoescape(name) is True
