"""Forms of data-subject requests; Flask-WTF adds and checks the CSRF token."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.dsar.models import MAX_TEXT
from portal.dsar.texts import KINDS
from portal.web.i18n import _l

REQUIRED = _l("This field is required.")


class FileRequestForm(FlaskForm):
    kind = SelectField(_l("What do you ask for?"), choices=list(KINDS.items()), validators=[InputRequired(REQUIRED)])
    text = TextAreaField(_l("Your request"), validators=[DataRequired(REQUIRED), Length(max=MAX_TEXT)],
                         description=_l("Say what you ask for and, if it concerns particular data or a processing, which. At most 4000 characters."))


class ExtendForm(FlaskForm):
    reason = TextAreaField(_l("Why more time is needed"), validators=[DataRequired(REQUIRED), Length(max=MAX_TEXT)],
                           description=_l("The customer reads this reason (GDPR art. 12(3))."))


class AnswerForm(FlaskForm):
    text = TextAreaField(_l("Answer to the customer"), validators=[DataRequired(REQUIRED), Length(max=MAX_TEXT)],
                         description=_l("The customer reads it in the portal and receives it by e-mail."))


class CloseForm(FlaskForm):
    outcome = RadioField(_l("How the case ends"), choices=[("done", _l("Done")), ("refused", _l("Refused"))],
                         validators=[InputRequired(REQUIRED)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=MAX_TEXT)],
                           description=_l("Required when you refuse: the customer reads it (GDPR art. 12(4))."))
