"""Forms of the consents domain."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Regexp, ValidationError

from portal.consents import services
from portal.web.i18n import _l


class ConsentChoiceForm(FlaskForm):
    """One click: the button carries the state the customer wants ("1" give, "0" withdraw)."""

    granted = HiddenField(validators=[AnyOf(("0", "1"))])


class AcknowledgeForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])


class PublishPolicyForm(FlaskForm):
    version = StringField(_l("Version"), filters=[lambda value: value.strip() if value else value], validators=[
        DataRequired(_l("Give the version a name, e.g. 2.0.")),
        Regexp(services.VERSION_PATTERN.pattern + r"\Z",
               message=_l("A version starts with a digit and holds only letters, digits, dots, dashes and underscores (at most 32).")),
    ])
    text_pl = TextAreaField(_l("Policy text in Polish (Markdown)"), validators=[DataRequired(_l("The Polish text is needed.")), Length(max=100_000)])
    text_en = TextAreaField(_l("Policy text in English (Markdown)"), validators=[DataRequired(_l("The English text is needed.")), Length(max=100_000)])
    summary_pl = TextAreaField(_l("Summary of changes in Polish"), validators=[DataRequired(_l("Say in Polish what changed.")), Length(max=5_000)])
    summary_en = TextAreaField(_l("Summary of changes in English"), validators=[DataRequired(_l("Say in English what changed.")), Length(max=5_000)])

    def validate_version(self, field):
        if field.data and not services.version_is_free(field.data):
            raise ValidationError(_l("This version is already published; a published version never changes. Choose a new one."))
