"""Forms of the termination pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.web.i18n import _l


class TerminationRequestForm(FlaskForm):
    customer_number = StringField(
        _l("Type your customer number to confirm"),
        validators=[DataRequired(message=_l("Type your customer number to confirm.")), Length(max=32)],
    )


class WithdrawForm(FlaskForm):
    """Only the CSRF token: the button says what it does."""

