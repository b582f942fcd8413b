"""Flask extensions, created unbound and bound in create_app()."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter._compat import request_context
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class RouteLimiter(Limiter):
    """Flask-Limiter where only the routes that name a limit pay for it (issue #15).

    Flask-Limiter checks every request in a `before_request` hook for application-wide, default,
    blueprint and meta limits, and keeps a per-request context for its `after_request` headers:
    about a fifteenth of a page's CPU. The portal sets none of those limits: its limits are on
    routes (`@limiter.limit`) or blocks (`with limiter.limit(...)`), which check themselves where
    they run. So the hooks are skipped while no such limit exists; the moment one is configured
    they run as before. tests/web/test_limits_under_concurrency.py proves the route limits hold.
    """

    def init_app(self, app, *args, **kwargs) -> None:
        super().init_app(app, *args, **kwargs)
        before, after, teardown = (app.before_request_funcs.setdefault(None, []),
                                   app.after_request_funcs.setdefault(None, []),
                                   app.teardown_request_funcs.setdefault(None, []))
        check = self._check_request_limit

        def check_whole_requests():
            if self._needs_middleware():
                check()

        before[:] = [check_whole_requests if hook == check else hook for hook in before]
        # the headers (partial(Limiter.__inject_headers, self)) and the context's release (a bound
        # method): both only read or reset the state a checked limit left in the request
        after[:] = [self._if_checked(hook, returns_first=True) if getattr(hook, "args", None) == (self,) else hook
                    for hook in after]
        teardown[:] = [self._if_checked(hook) if getattr(hook, "__self__", None) is self else hook
                       for hook in teardown]

    def _needs_middleware(self) -> bool:
        """Whether some limit applies to requests as a whole (application, default, blueprint, meta)."""
        manager = self.limit_manager
        return bool(manager._application_limits or manager._default_limits or manager._blueprint_limits
                    or self._meta_limits)

    def _if_checked(self, hook, returns_first: bool = False):
        def hook_if_checked(first=None):
            if self._needs_middleware() or hasattr(request_context(), "_limiter_request_context"):
                return hook(first)
            return first if returns_first else None
        return hook_if_checked


limiter = RouteLimiter(key_func=get_remote_address, default_limits=[])
htmx = Htmx()
