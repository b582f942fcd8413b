"""Entry point for `flask --app wsgi` and `gunicorn wsgi:app`."""
from portal import create_app
from portal.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # an operator reads this line, not a traceback
    raise SystemExit(f"The portal cannot start: {error}") from None
