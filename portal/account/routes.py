"""The account: home, contact details and sessions (what we hold about you is portal.transparency)."""
from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    redirect,
    request,
    url_for,
)
from flask_login import current_user, login_required

from portal.account import address, devices, services
from portal.account.forms import AddressForm, ConfirmEmailForm, CorrectionForm, EmailForm, PhoneForm
from portal.account.staff_routes import bp as staff_bp
from portal.auth.sessions import current_session
from portal.customers.ownership import owned_customer_or_404, owner_required
from portal.extensions import db
from portal.transparency.registry import (
    CORRECTION_FIELDS,
    CORRECTION_STATUSES,
)
from portal.web import phrases
from portal.web.i18n import _, _l
from portal.web.links import external_url
from portal.web.nav import nav_item
from portal.web.notices import request_facts
from portal.web.permissions import ends_with_the_contract
from portal.web.render import render, wants_fragment

bp = Blueprint("account", __name__, url_prefix="/account")
blueprints = [bp, staff_bp]
ends_with_the_contract(bp, endpoints={"account.contact", "account.change_email", "account.change_phone",
                                      "account.change_address", "account.request_correction",
                                      "account.confirm_email"})

nav_item("account.home", _l("Your account"), "signed_in", order=0)
nav_item("account.sessions", _l("Where you are signed in"), "signed_in", order=90)


@bp.get("/")
@login_required
def home():
    """Accounts you own, accounts you are a delegate for, and staff areas."""
    return render(
        "account/home.html",
        owned=services.owned_account(current_user),
        # the page facts already say whether there are any (portal/web/notices.py): most people
        # are no one's delegate, and their home page spares the query
        delegations=services.active_delegations(current_user) if request_facts().get("people_is_delegate") else [],
        roles=sorted(r.role for r in current_user.staff_roles),
    )


# --- contact details ----------------------------------------------------------------------------------

def _contact_page(customer, *, phone_form=None, email_form=None, correction_form=None, address_form=None,
                  status=200):
    fields = services.correctable_fields(customer)
    return render(
        "account/contact.html", status=status, customer=customer,
        phone_form=phone_form or PhoneForm(phone=customer.phone),
        address_form=address_form or AddressForm(obj=customer),
        email_form=email_form or EmailForm(),
        correction_form=(correction_form or CorrectionForm()).limit_to(fields),
        corrections=services.correction_requests(customer),
        fields=CORRECTION_FIELDS, statuses=CORRECTION_STATUSES,
    )


@bp.get("/contact")
@owner_required
def contact():
    """Change your contact phone and e-mail; ask for corrections of your name, company or tax ID."""
    return _contact_page(owned_customer_or_404(current_user))


@bp.post("/contact/phone")
@owner_required
def change_phone():
    """Change the contact phone at once."""
    customer = owned_customer_or_404(current_user)
    form = PhoneForm()
    if form.validate_on_submit():
        try:
            changed = services.change_phone(customer, current_user, form.phone.data)
        except services.AccountError as error:
            db.session.rollback()
            form.phone.errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Your contact phone was changed.") if changed else _("Nothing to change."), "info")
            return redirect(url_for("account.contact"), code=303)
    return _contact_page(customer, phone_form=form, status=400)


@bp.post("/contact/address")
@owner_required
def change_address():
    """Correct the postal address at once (GDPR art. 16)."""
    customer = owned_customer_or_404(current_user)
    form = AddressForm()
    if form.validate_on_submit():
        try:
            typed = address.parse(form.street.data, form.postal_code.data, form.city.data, form.country.data)
            changed = address.change_address(customer, current_user, typed)
        except services.AccountError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Your postal address was changed.") if changed else _("Nothing to change."), "info")
            return redirect(url_for("account.contact"), code=303)
    return _contact_page(customer, address_form=form, status=400)


@bp.post("/contact/email")
@owner_required
def change_email():
    """Send a confirmation link to the new contact e-mail."""
    customer = owned_customer_or_404(current_user)
    form = EmailForm()
    if form.validate_on_submit():
        try:
            services.request_email_change(
                customer, current_user, form.email.data,
                link_for=lambda token: external_url("account.confirm_email", token=token))
        except services.AccountError as error:
            db.session.rollback()
            form.email.errors.append(error.message)
        else:
            db.session.commit()
            flash(_("We sent a link to %(email)s. Your contact e-mail changes when you follow it.",
                    email=form.email.data.strip()), "info")
            return redirect(url_for("account.contact"), code=303)
    return _contact_page(customer, email_form=form, status=400)


@bp.route("/contact/email/confirm", methods=["GET", "POST"])
@owner_required
def confirm_email():
    """The link from the e-mail: confirm the new contact e-mail with one button."""
    customer = owned_customer_or_404(current_user)
    form = ConfirmEmailForm()
    token = (form.token.data if request.method == "POST" else request.args.get("token")) or ""
    try:
        new_email = services.email_change_target(customer, token)
    except services.AccountError as error:
        return render("account/confirm_email.html", status=400, error=error.message)
    if form.validate_on_submit():
        services.confirm_email_change(customer, current_user, token)
        db.session.commit()
        flash(_("Your contact e-mail is now %(email)s.", email=new_email), "info")
        return redirect(url_for("account.contact"), code=303)
    form.token.data = token
    return render("account/confirm_email.html", form=form, new_email=new_email)


@bp.post("/contact/corrections")
@owner_required
def request_correction():
    """Ask MCX to correct your name, company name or tax ID."""
    customer = owned_customer_or_404(current_user)
    form = CorrectionForm().limit_to(services.correctable_fields(customer))
    if form.validate_on_submit():
        try:
            services.request_correction(customer, current_user, form.field.data, form.value.data, form.note.data)
        except services.AccountError as error:
            db.session.rollback()
            getattr(form, error.field or "value").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Your request was sent to MCX. You will see the decision here and by e-mail."), "info")
            return redirect(url_for("account.contact"), code=303)
    return _contact_page(customer, correction_form=form, status=400)


# --- sessions ---------------------------------------------------------------------------------------

def _sessions_page(notice: str | None = None, status: int = 200):
    current = current_session()
    shown = services.active_sessions(current_user, limit=services.SESSIONS_SHOWN, current=current)
    rows = [(services.session_handle(s), s, devices.describe(s.user_agent), current is not None and s.id == current.id)
            for s in shown]
    total = services.active_session_count(current_user) if len(shown) == services.SESSIONS_SHOWN else len(shown)
    return render("account/sessions.html", block="sessions", status=status, notice=notice, sessions=rows,
                  others=total > 1, not_shown=total - len(shown))


def _after_session_change(message: str, level: str = "info"):
    if wants_fragment():
        return _sessions_page(notice=message)
    flash(message, level)
    return redirect(url_for("account.sessions"), code=303)


@bp.get("/sessions")
@login_required
def sessions():
    """Where you are signed in: browser, IP address, when it started and was last used."""
    return _sessions_page()


@bp.post("/sessions/<handle>/end")
@login_required
def end_session(handle: str):
    """Sign out one of your other sessions."""
    record = services.own_session_or_404(current_user, handle)
    try:
        services.end_session(current_user, record, current_session())
    except services.AccountError as error:
        db.session.rollback()
        return _after_session_change(error.message, "warning")
    db.session.commit()
    return _after_session_change(_("Signed out on %(device)s.", device=devices.describe(record.user_agent)))


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    """Sign out everywhere except this browser."""
    count = services.end_other_sessions(current_user, current_session())
    db.session.commit()
    return _after_session_change(phrases.other_sessions_ended(count))
