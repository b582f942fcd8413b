"""MCX customer privacy portal."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ("auth", "account", "transparency", "consents", "people", "termination", "recordings", "dsar",
           "staff")


def create_app(overrides: dict | None = None) -> Flask:
    """Build the portal; `overrides` replace configuration values (tests use it)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    from portal import config

    app.config.update(config.load(app.instance_path))
    if overrides:
        app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    # every model module must be imported before migrations or create_all look at the metadata
    from portal import models  # noqa: F401
    from portal.extensions import babel, csrf, db, htmx, limiter, login, migrate
    from portal.web import i18n

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    limiter.init_app(app)
    htmx.init_app(app)
    login.init_app(app)

    from portal import mail
    from portal.auth import oidc, sessions

    mail.init_app(app)

    oidc.init_app(app)
    sessions.init_app(app)

    from portal.web import assets, boundaries, errors, fields, links, render, security

    boundaries.init_app(app)
    assets.init_app(app)
    links.init_app(app)
    render.init_app(app)
    fields.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    from portal.web import phrases

    phrases.init_app(app)

    from importlib import import_module

    from portal.web import nav, notices
    from portal.web.routes import bp as web_bp

    app.register_blueprint(web_bp)
    # each domain lists its blueprints (and registers its navigation entries) in routes.py
    for domain in DOMAINS:
        for blueprint in import_module(f"portal.{domain}.routes").blueprints:
            app.register_blueprint(blueprint)
    nav.init_app(app)
    notices.init_app(app)

    from portal import observability

    observability.init_app(app)

    from portal import cli

    cli.init_app(app)
    return app
