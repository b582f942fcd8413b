"""Forms of the recordings pages: the deletion's confirmation and a room's retention."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField
from wtforms.validators import NumberRange, Optional

from portal.recordings.retention import MAX_MONTHS, MIN_MONTHS
from portal.web.i18n import _l


class ConfirmDeletionForm(FlaskForm):
    """Only the CSRF token: the chosen recordings travel as repeated `recording` fields, read
    and re-checked against the owner's recordings by the view."""


class RetentionForm(FlaskForm):
    keep = RadioField(_l("Keep this room's recordings"), choices=[
        ("forever", _l("until the contract ends")),
        ("months", _l("for a number of months after each recording")),
    ], default="forever")
    months = IntegerField(
        _l("Months"),
        validators=[Optional(), NumberRange(min=MIN_MONTHS, max=MAX_MONTHS,
                                            message=_l("Choose between 1 and 120 months."))])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.keep.data == "months" and self.months.data is None:
            self.months.errors.append(_l("Type how many months, between 1 and 120."))
            return False
        return True

    def chosen_months(self) -> int | None:
        return self.months.data if self.keep.data == "months" else None
