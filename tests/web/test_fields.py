"""The people pages' field macros (templates/_fields.html) write exactly what WTForms writes (issue #15)."""
from __future__ import annotations

from datetime import date

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import (BooleanField, DateField, EmailField, Form, IntegerField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget


HOSTILE = '"><script>alert(1)</script>&amp;\'x'


class Rooms(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class Sample(Form):
    name = StringField("Name <b>", validators=[DataRequired(), Length(max=200)])
    bounded = StringField("Bounded", validators=[Length(min=2, max=5)])
    email = EmailField("E-mail", validators=[DataRequired()], render_kw={"autocomplete": "email", "class_": "wide"})
    until = DateField("Until", validators=[Optional()])
    yes = BooleanField("Yes")
    rooms = Rooms("Rooms", coerce=int, choices=[(1, "One"), (2, HOSTILE)], validators=[InputRequired()])
    note = TextAreaField("Note")
    count = IntegerField("Count", validators=[NumberRange(min=1, max=9)])


ATTRIBUTES = [{}, {"id": "x-1"}, {"aria-describedby": "a b", "aria-invalid": "true", "hx-post": "/v?a=1&b=2"},
              {"class_": "c", "data_role": HOSTILE, "disabled": True, "readonly": False}, {"value": HOSTILE},
              {"placeholder": Markup('"<x>')}]  # WTForms quotes a Markup value's quotes too


@pytest.fixture
def macros(app):
    template = app.jinja_env.from_string(
        '{% import "_fields.html" as fields %}{{ fields.input(f, attrs) }}|{{ fields.label(f, for_) }}')

    def render(field, attrs, for_):
        with app.test_request_context():
            return template.render(f=field, attrs=attrs, for_=for_).split("|")
    return render


@pytest.mark.parametrize("data", [
    {},
    {"name": HOSTILE, "bounded": "abc", "email": "a@b.pl", "until": "2026-12-24", "yes": "y", "rooms": ["2"],
     "note": HOSTILE, "count": "3"},
])
@pytest.mark.parametrize("attrs", ATTRIBUTES)
def test_every_field_renders_as_wtforms_renders_it(macros, data, attrs):
    form = Sample(MultiDict(data))
    form.validate()  # errors, data and raw data as a submitted form has them
    for field in [*form, *form.rooms]:
        written, label = macros(field, attrs, "for-" + field.id)
        assert written == field(**attrs), field.name
        assert label == field.label(for_="for-" + field.id)


def test_a_date_and_a_checked_box_from_data(macros):
    form = Sample(data={"until": date(2027, 1, 31), "yes": True})
    assert macros(form.until, {}, "x")[0] == form.until() and 'value="2027-01-31"' in form.until()
    assert macros(form.yes, {}, "x")[0] == form.yes() and " checked " in form.yes()


def test_hostile_values_are_escaped(macros):
    form = Sample(MultiDict({"name": HOSTILE}))
    written = macros(form.name, {"data_x": HOSTILE}, HOSTILE)
    assert "<script>" not in "".join(written) and "&#34;&gt;&lt;script&gt;" in written[0]
