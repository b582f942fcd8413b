"""Friendly error pages, in the user's language, for every failure a person can meet."""
from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.extensions import db

MESSAGES = {
    400: (_l("Bad request"), _l("We could not understand that request.")),
    403: (_l("Not allowed"), _l("You do not have access to this page.")),
    404: (_l("Not found"), _l("There is nothing here, or it is not yours to see.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
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
        return error_page(error.code or 500)

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        db.session.rollback()
        app.logger.warning("database unavailable: %s", error)
        return error_page(503)

    @app.errorhandler(Exception)
    def unexpected(error):
        db.session.rollback()
        app.logger.exception("unhandled error")
        return error_page(500)
