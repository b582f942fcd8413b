"""Language choice, and the translation functions every module uses.

Polish by default, English on request, remembered in the session.

Translated messages are text, never markup. Flask-Babel's own functions interpolate their
parameters with plain `%`, and its lazy strings declare `__html__` returning that text as it is,
so Jinja, `Markup()` and `escape()` trusted a message and every name or note put into it: a
provider's name of `<b hx-post=… hx-trigger=load>` became live htmx markup in a customer's
activity log. The functions here give the same translations, but what they return escapes its
whole text (translation and parameters) when it meets HTML, and stays plain text in e-mail,
JSON and headers. Import `_` / `_l` from here, never from flask_babel (a test checks that);
templates use Jinja's i18n `_()`, which escapes its parameters under autoescape. (SPEC P11: data
is protected against misuse; a page must never act on what someone else typed.)
"""
from __future__ import annotations

import flask_babel
from flask import current_app, session
from flask.globals import _cv_app
from flask_babel import get_locale
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from markupsafe import Markup, escape


class Text(str):
    """A translated message: plain text, escaped as a whole when rendered into HTML."""

    __slots__ = ()

    def __html__(self) -> Markup:
        return escape(str(self))


class LazyText(LazyString):
    """A message translated when it is used (labels defined at import time); escaped in HTML."""

    def __html__(self) -> Markup:
        if self._func is gettext and not self._kwargs:
            # the common case (a label), without the layers between: the data page shows 300+
            return escape(_translations().ugettext(self._args[0]))
        return escape(str(self))


def _translations():
    """The catalog of the current language. Flask-Babel finds it through several context look-ups
    on each call, and a page makes hundreds (the data page 500: a seventh of its CPU): it is kept on
    Flask-Babel's per-request context with the locale it belongs to, so `force_locale` (e-mail in
    the recipient's language) still switches it."""
    app_context = _cv_app.get(None)  # what `g` stands for, without the proxy's look-ups
    context = app_context.g.__dict__.get("_flask_babel") if app_context is not None else None
    locale = getattr(context, "babel_locale", None)
    if locale is None:
        return flask_babel.get_translations()
    kept = getattr(context, "portal_translations", None)  # (locale, catalog)
    if kept is None or kept[0] is not locale:
        kept = context.portal_translations = (locale, flask_babel.get_translations())
    return kept[1]


def _one_full_stop(message: str, variables: dict) -> str:
    """`message` without the full stop after a parameter whose value ends with one: a sentence
    ending in a name ("… of %(name)s.") read "Przykład Sp. z o.o.." for a company so named."""
    for name, value in variables.items():
        if isinstance(value, str) and value.endswith(".") and f"%({name})s." in message:
            message = message.replace(f"%({name})s.", f"%({name})s")
    return message


def gettext(string: str, **variables) -> Text:
    """`string` translated into the current language, `%(name)s` parameters filled in as text."""
    s = _translations().ugettext(string)
    return Text(_one_full_stop(s, variables) % variables if variables else s)


def ngettext(singular: str, plural: str, num: int, **variables) -> Text:
    """The singular or plural form for `num` (also available as `%(num)s`), as text."""
    variables.setdefault("num", num)
    return Text(_one_full_stop(_translations().ungettext(singular, plural, num), variables) % variables)


def pgettext(context: str, string: str, **variables) -> Text:
    """`string` translated within `context` (msgctxt), as text."""
    s = _translations().upgettext(context, string)
    return Text(_one_full_stop(s, variables) % variables if variables else s)


def npgettext(context: str, singular: str, plural: str, num: int, **variables) -> Text:
    """The singular or plural form for `num` within `context`, as text."""
    variables.setdefault("num", num)
    return Text(_one_full_stop(_translations().unpgettext(context, singular, plural, num), variables) % variables)


def lazy_gettext(string: str, **variables) -> LazyText:
    """Like `gettext`, translated each time it is turned into text (in the language of that moment)."""
    return LazyText(gettext, string, **variables)


def lazy_ngettext(singular: str, plural: str, num: int, **variables) -> LazyText:
    """Like `ngettext`, translated each time it is turned into text."""
    return LazyText(ngettext, singular, plural, num, **variables)


def lazy_pgettext(context: str, string: str, **variables) -> LazyText:
    """Like `pgettext`, translated each time it is turned into text."""
    return LazyText(pgettext, context, string, **variables)


_ = gettext
_l = lazy_gettext


def select_locale() -> str:
    """The session's language if the portal offers it, else the default (Polish)."""
    lang = session.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


# What templates call. Jinja's newstyle callables (jinja2.ext._make_new_gettext) go through
# three `Context.call`s per `_()` (the `_` alias, the wrapper, the catalog function): a page calls
# `_()` 60-100 times, and that was a tenth of its CPU. These give the same result in one call.

def _filled(eval_ctx, message: str, variables: dict):
    # as Jinja's: under autoescape the catalog's message is markup, so `%` escapes each parameter;
    # always `%`-formatted, so `%%` means the same with or without parameters. The message is the
    # portal's own catalog text (as trusted as a template), never anything a person typed
    message = _one_full_stop(message, variables) if variables else message
    return (Markup(message) if eval_ctx.autoescape else message) % variables  # nosec B704


@pass_eval_context
def _template_gettext(eval_ctx, string: str, **variables):
    return _filled(eval_ctx, _translations().ugettext(string), variables)


@pass_eval_context
def _template_ngettext(eval_ctx, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    return _filled(eval_ctx, _translations().ungettext(singular, plural, num), variables)


@pass_eval_context
def _template_pgettext(eval_ctx, context: str, string: str, **variables):
    return _filled(eval_ctx, _translations().upgettext(context, string), variables)


@pass_eval_context
def _template_npgettext(eval_ctx, context: str, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    return _filled(eval_ctx, _translations().unpgettext(context, singular, plural, num), variables)


def init_app(app) -> None:
    """Give every template the current language and the languages offered, and Jinja's `_()` the
    per-request catalog (the same results as the callables Flask-Babel installs, without its
    look-ups per call and Jinja's wrappers around them)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext,
                                 pgettext=_template_pgettext, npgettext=_template_npgettext)

    @app.context_processor
    def inject_language():
        return {"current_language": str(get_locale()), "languages": app.config["LANGUAGES"]}
