"""Language choice: Polish by default, English on request, remembered in the session."""
from __future__ import annotations

from flask import current_app, session
from flask_babel import get_locale


def select_locale() -> str:
    lang = session.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app) -> None:
    @app.context_processor
    def inject_language():
        return {"current_language": str(get_locale()), "languages": app.config["LANGUAGES"]}
