"""Forms of the people domain: adding a person, a scope, a person's request, moderation."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.addresses import UndeliverableAddress, deliverable
from portal.db_types import local_today
from portal.web.i18n import _l


class RoomChoices(SelectMultipleField):
    """Rooms as a list of checkboxes; the choices are only ever the customer's own rooms."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ScopeForm(FlaskForm):
    """Which rooms, whether recordings, until when."""

    rooms = RoomChoices(_l("Rooms"), coerce=int,
                        validators=[InputRequired(message=_l("Choose at least one room."))])
    recordings = BooleanField(_l("May see and download the recordings of these rooms"))
    expires_on = DateField(_l("Access ends after (optional)"), validators=[Optional()],
                           description=_l("Leave empty for access until you remove the person."))

    def __init__(self, customer, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.rooms.choices = [(room.id, room.name) for room in customer.rooms]

    def validate_expires_on(self, field):
        if field.data is not None and field.data < local_today():
            raise ValidationError(_l("The end date must not be in the past."))

    def chosen_rooms(self):
        chosen = set(self.rooms.data or ())
        return [room for room in self.customer.rooms if room.id in chosen]


class DelegateForm(ScopeForm):
    """The customer adds a person."""

    name = StringField(_l("Name"), validators=[
        DataRequired(message=_l("Enter the person's name.")), Length(max=200)])
    email = EmailField(_l("E-mail address"), validators=[
        DataRequired(message=_l("Enter the person's e-mail address.")),
        Email(message=_l("Enter an e-mail address like name@example.pl."), check_deliverability=False),
        Length(max=254)],
        description=_l("The person signs in with an account that has exactly this e-mail address."))

    def validate_email(self, field):
        from portal.people.services import live_delegate_with_email

        try:
            if field.data and not field.errors:  # an address at all; can our mail server take it?
                deliverable(field.data)
        except UndeliverableAddress as refused:
            raise ValidationError(refused.message) from None
        if field.data and live_delegate_with_email(self.customer.id, field.data):
            raise ValidationError(_l("This person is already on your list."))


class AccessRequestForm(FlaskForm):
    """A signed-in person asks a customer for access."""

    number = StringField(_l("Customer number"), validators=[
        DataRequired(message=_l("Enter the customer number.")), Length(max=32)],
        description=_l("Ask the customer for it, e.g. MCX-000123."))
    message = TextAreaField(_l("Message to the customer"), validators=[
        DataRequired(message=_l("Tell the customer who you are and which rooms you need.")), Length(max=1000)])


class ApproveForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=1000)])


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(message=_l("Give the reason for the rejection.")), Length(max=1000)])


class ConfirmForm(FlaskForm):
    """A button that confirms; the CSRF token is all it carries."""
