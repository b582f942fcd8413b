"""Friendly error pages, in the user's language, for every failure a person can meet."""
from __future__ import annotations

from flask import Response, g, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.extensions import db, login
from portal.web.i18n import _l

MESSAGES = {
    400: (_l("Bad request"), _l("We could not understand that request.")),
    403: (_l("Not allowed"), _l("You do not have access to this page.")),
    404: (_l("Not found"), _l("There is nothing here, or it is not yours to see.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    410: (_l("No longer available"), _l("This page is no longer available.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
    416: (_l("Range not available"), _l("The requested part of the file does not exist.")),
    429: (_l("Too many attempts"), _l("Please wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("An error on our side stopped this. Nothing was changed; please try again.")),
    503: (_l("Temporarily unavailable"), _l("The portal cannot reach its database right now. Please try again in a moment.")),
}


def error_page(status: int, title=None, message=None):
    default_title, default_message = MESSAGES.get(status, MESSAGES[500])
    body = render_template("errors/error.html", status=status, title=title or default_title,
                           message=message or default_message)
    return body, status


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return error_page(400, _l("Form expired"),
                          _l("This form has expired or was not sent from the portal. Please go back, reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.response is not None:  # made with its own page, e.g. a rate limit's on_breach
            return error.response
        body, status = error_page(error.code or 500)
        # the exception's own headers are part of the answer: Allow on 405 (RFC 9110 §15.5.6),
        # Content-Range on 416 (§15.5.17), Retry-After
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        return body, status, headers

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        app.logger.warning("database unavailable: %s", error)
        return _page_without_database(503)

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("unhandled error")
        return _page_without_database(500)


def _page_without_database(status: int):
    """An error page that needs nothing from the database, which may be what failed."""
    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone; the page matters more
        pass
    # the page shows who is signed in; looking that up would hit the database again
    if "_login_user" not in g:
        login._update_request_context_with_user()
    try:
        return error_page(status)
    except Exception:
        return Response(f"{status}: {MESSAGES[status][1]}", status, mimetype="text/plain")
