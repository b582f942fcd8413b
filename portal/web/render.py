"""One page template per page; its named blocks double as htmx fragments."""
from __future__ import annotations

from flask import g, make_response, render_template, request
from flask_wtf.csrf import generate_csrf
from jinja2_fragments.flask import render_block
from wtforms import Form


# htmx swaps this out of band into base.html's #messages, emptying it
_MESSAGES_SWAP = 'hx-swap-oob="innerHTML:#messages"'
CLEARS_MESSAGES = f'<div {_MESSAGES_SWAP}></div>'


def wants_fragment() -> bool:
    """True for an htmx request that asked for part of a page, not a boosted navigation."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, *, block: str | None = None, status: int = 200, **context):
    """Render the whole page, or only `block` when htmx asked for a fragment.

    A fragment answering 4xx/5xx that puts no message of its own into #messages empties it."""
    if block and wants_fragment():
        body = render_block(template, block, **context)
        g.rendered_fragment = True
        if status >= 400 and _MESSAGES_SWAP not in body:
            # a refused form: the last answer's message ("… was added.") must not stay in view
            # above the new errors, as if this submit had succeeded too
            body += CLEARS_MESSAGES
    else:
        body = render_template(template, error_summary=error_summary(context.values()), **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def error_summary(values) -> list[tuple[str, str, list[str]]]:
    """What failed in the forms among `values` (forms, or lists, tuples or dicts of forms), in form and
    field order: ``[(field id, label text, messages)]`` (id "" for errors of a whole form).

    base.html shows it at the top of the page (role=alert, a link to each field): on a long page
    or a phone the message next to a field was screens below, and nothing in view said the submit
    had failed (WCAG 3.3.1; it needs no JavaScript).
    """
    forms = []
    for value in values:
        if isinstance(value, Form):
            forms.append(value)
        elif isinstance(value, (list, tuple, dict)):  # a dict: the forms of a list's rows, by row
            forms.extend(item for item in (value.values() if isinstance(value, dict) else value)
                         if isinstance(item, Form))
    failed = []
    for form in forms:
        if not form.errors:
            continue
        # a form of one row of a list (a request's card) writes its fields' ids with the row's suffix
        suffix = getattr(form, "id_suffix", "")
        for field in form:
            if isinstance(field.errors, (list, tuple)) and field.errors:
                failed.append((field.id + suffix, str(field.label.text), [str(message) for message in field.errors]))
        failed.extend(("", "", [str(message)]) for message in (getattr(form, "form_errors", None) or ()))
    return failed


def csrf_token() -> str:
    """This request's signed CSRF token (Flask-WTF's `generate_csrf`, which keeps it in
    `g.csrf_token` once made): a page asks for it in every form, and the look-ups before that cache
    were most of its cost."""
    token = g.get("csrf_token")
    return token if token is not None else generate_csrf()


def init_app(app) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.after_request
    def whole_page_replaces_the_page(response):
        """A whole page answering a fragment request with 4xx/5xx (an error page, a form expired)
        replaces the page, as a full load would, instead of nesting inside the fragment's target.

        The htmx-config meta in base.html swaps 4xx/5xx answers; these response headers
        (htmx 2: HX-Retarget, HX-Reswap, HX-Reselect) aim that swap at <body>.
        """
        if (response.status_code >= 400 and response.mimetype == "text/html"
                and wants_fragment() and not g.get("rendered_fragment")):
            response.headers["HX-Retarget"] = "body"
            response.headers["HX-Reswap"] = "innerHTML show:window:top"
            response.headers["HX-Reselect"] = "unset"
        return response
