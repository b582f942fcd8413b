"""Form fields written by a template macro as WTForms renders them, for a fraction of the
Python calls (issue #15).

WTForms builds every attribute of every `<input>` through `Markup.format` and finds the
validation attributes with `dir()` on the field's flags: on the people page those widgets were
a fifth of the page. `input_attributes(field, **attrs)` returns the attributes WTForms would write
(id, type, value, the flags' validation attributes such as `required` or `maxlength`, the field's
render_kw, the call's own), sorted as WTForms sorts them, as plain values: the `input` macro of
templates/_fields.html writes them, and Jinja's autoescape escapes every name and value, so no
Markup is built here. A field whose widget is not a plain `<input>` (a textarea, a select, a date
input with limits) gets None, and the macro lets WTForms render it; tests/web/test_fields.py
compares the two renderings.
"""
from __future__ import annotations

from markupsafe import Markup
from wtforms.meta import DefaultMeta
from wtforms.widgets.core import CheckboxInput, Input, _DateTimeBaseInput, clean_key

_MISSING = object()
# widgets whose whole rendering is Input.__call__ (CheckboxInput adds only `checked`); a date
# input differs only when its field has min/max flags, which input_tag leaves to WTForms
_PLAIN = (Input.__call__, CheckboxInput.__call__, _DateTimeBaseInput.__call__)


def input_attributes(field, **attrs) -> list[tuple[str, object]] | None:
    """[(name, value)] of `field(**attrs)`'s `<input>`, sorted by name; True is a bare attribute and
    False none (as WTForms' html_params). None when WTForms must render the field itself."""
    widget = field.widget
    flags = vars(field.flags)  # Flags is a plain object: its set flags are its attributes
    if (type(widget).__call__ not in _PLAIN or getattr(field, "_datalist", None) is not None
            or type(field.meta).render_field is not DefaultMeta.render_field
            or isinstance(widget, _DateTimeBaseInput) and ("min" in flags or "max" in flags)):
        return None
    attrs = {clean_key(key): value for key, value in attrs.items()}
    if field.render_kw:  # DefaultMeta.render_field: render_kw under the call's own attributes
        attrs = {**{clean_key(key): value for key, value in field.render_kw.items()}, **attrs}
    attrs.setdefault("id", field.id)
    attrs.setdefault("type", widget.input_type)
    if isinstance(widget, CheckboxInput) and getattr(field, "checked", field.data):
        attrs.setdefault("checked", True)
    if "value" not in attrs:
        attrs["value"] = field._value()
    for name in widget.validation_attrs:
        if name not in attrs:
            value = flags.get(name, _MISSING)
            if value is not _MISSING:
                attrs[name] = value() if callable(value) else value
    attrs["name"] = field.name
    if any(isinstance(value, Markup) for value in attrs.values()):
        # WTForms also turns the quotes of a Markup value into &quot;, which autoescape leaves
        return None
    return [(clean_key(key), value) for key, value in sorted(attrs.items()) if value is not False]


def init_app(app) -> None:
    app.jinja_env.globals["input_attributes"] = input_attributes
