"""Forms of the account domain; Flask-WTF adds and checks the CSRF token."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.transparency.registry import CORRECTION_FIELDS, CORRECTION_LIMITS
from portal.web.i18n import _l

REQUIRED = _l("This field is required.")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class PhoneForm(FlaskForm):
    phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=32)],
                        description=_l("Leave empty to remove it."))


class AddressForm(FlaskForm):
    """The postal address, corrected by the customer (GDPR art. 16); checked in account.address."""

    street = StringField(_l("Street and number"), validators=[DataRequired(REQUIRED), Length(max=200)])
    postal_code = StringField(_l("Postal code"), validators=[DataRequired(REQUIRED), Length(max=16)])
    city = StringField(_l("City"), validators=[DataRequired(REQUIRED), Length(max=100)])
    country = StringField(_l("Country code"), validators=[DataRequired(REQUIRED), Length(max=64)],
                          description=_l("Two letters, e.g. PL for Poland."))


class EmailForm(FlaskForm):
    email = StringField(_l("New contact e-mail"), validators=[DataRequired(REQUIRED), Length(max=254)])


class ConfirmEmailForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class CorrectionForm(FlaskForm):
    field = SelectField(_l("What is wrong"), validators=[InputRequired(REQUIRED)])
    value = StringField(_l("The correct value"), validators=[DataRequired(REQUIRED), Length(max=200)])
    note = TextAreaField(_l("Note for MCX (optional)"), validators=[Optional(), Length(max=2000)])

    def limit_to(self, fields: list[str]) -> CorrectionForm:
        """Offer `fields` only. Each choice carries its limit (data-maxlength, for the page's script
        to narrow the input when it is chosen); the input allows the longest of them (without
        JavaScript), and the service refuses more than the chosen field's limit."""
        self.field.choices = [(name, CORRECTION_FIELDS[name], {"data-maxlength": CORRECTION_LIMITS[name]})
                              for name in fields]
        if fields:
            self.value.render_kw = {"maxlength": max(CORRECTION_LIMITS[name] for name in fields)}
        return self


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note for the customer"), validators=[Optional(), Length(max=2000)],
                         description=_l("Required when you reject."))


class DisclosureForm(FlaskForm):
    customer_number = StringField(_l("Customer number"), validators=[DataRequired(REQUIRED), Length(max=32)])
    disclosed_on = DateField(_l("Disclosed on"), validators=[InputRequired(REQUIRED)])
    recipient = StringField(_l("Recipient"), validators=[DataRequired(REQUIRED), Length(max=300)],
                            description=_l("The authority or person the data was given to."))
    legal_basis = StringField(_l("Legal basis"), validators=[DataRequired(REQUIRED), Length(max=500)],
                              description=_l("The provision of law and, if any, the case or order number."))
    data_disclosed = TextAreaField(_l("What was disclosed"), validators=[DataRequired(REQUIRED), Length(max=5000)])
