"""Sign-in, callback and sign-out."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user

from portal.auth import activity_kinds  # noqa: F401  (registers log labels)
from portal.auth import backchannel, client_keys, oidc, services
from portal.auth.sessions import current_session
from portal.extensions import db, limiter
from portal.web.i18n import _, _l
from portal.web.navigation import safe_next
from portal.web.render import render

bp = Blueprint("auth", __name__, url_prefix="/auth")
blueprints = [bp, backchannel.bp, client_keys.bp]

FAILURES = {
    "state_mismatch": _l("This sign-in expired or was started in another window. Please start again."),
    "cancelled": _l("Sign-in was cancelled at your identity provider. Nothing was changed."),
    "provider_error": _l("Your identity provider could not complete the sign-in. Please try again."),
    "provider_unreachable": _l("We could not reach the identity provider. Please try again in a few minutes."),
    "provider_misconfigured": _l("The identity provider's configuration does not match ours, so we cannot trust it. Please contact MCX support."),
    "issuer_mismatch": _l("The answer came from a different identity provider than the one you chose. For your safety the sign-in was stopped."),
    "token_invalid": _l("The identity provider's answer could not be verified. For your safety the sign-in was stopped."),
    "unknown_provider": _l("This identity provider is not configured in the portal."),
    "claims_unusable": _l("Your identity provider sent an identifier we cannot use (too long or with "
                          "characters that are not allowed), so the sign-in was stopped. Nothing was "
                          "changed. Please contact your provider's administrator or MCX support."),
    "not_reauthenticated": _l("Your identity provider did not confirm that you signed in again just now, so the "
                              "action that needs it was not carried out. You are still signed in. If this "
                              "happens again, your provider may not support re-authentication: please contact "
                              "MCX support."),
    # configuration faults: nothing the person can fix by trying again
    "client_auth_refused": _l("The identity provider refused the portal's own credentials. This is a "
                              "configuration fault between MCX and the provider, not a problem with your "
                              "account; trying again will not help. Please contact MCX support."),
    "userinfo_refused": _l("The identity provider did not let the portal read your profile (UserInfo). This "
                           "is a configuration fault between MCX and the provider, not a problem with your "
                           "account; trying again will not help. Please contact MCX support."),
}


def _not_vouched_message(reason: str, provider: str) -> str:
    """Why a verified e-mail linked nothing (SPEC "Trust per identity provider")."""
    if reason == "domain":
        return _("You signed in through %(provider)s, which does not speak for your e-mail address's domain, "
                 "so we did not connect you to any customer account, invitation or staff role. Sign in "
                 "through the identity provider that manages this address.", provider=provider)
    return _("You signed in through %(provider)s, which may not confirm this e-mail address for a customer "
             "account or a staff role, so we connected nothing. Sign in through %(primary)s.",
             provider=provider, primary=oidc.providers()[0].label)


def _label(issuer: str) -> str:
    """A provider's label for the person, by its issuer (the issuer itself if no longer configured)."""
    return next((p.label for p in oidc.providers() if p.issuer == issuer), issuer)


def _signin_limit() -> str:
    return current_app.config["SIGNIN_RATE_LIMIT"]


@bp.get("/login")
@limiter.limit(_signin_limit)
def login():
    """Start sign-in with the chosen provider, or offer the choice when there are several."""
    providers = oidc.providers()
    name = request.args.get("provider")
    next_url = safe_next(request.args.get("next"), "account.home")
    told_why = session.pop("signed_out_because", None)  # the flashed reason must be seen, not skipped
    if name is None and (len(providers) > 1 or told_why):
        return render("auth/choose.html", providers=providers, next_url=next_url)
    provider = oidc.provider_named(name or providers[0].name)
    if provider is None:
        return _failure("unknown_provider", None, 400)
    session["after_sign_in"] = next_url
    try:
        return oidc.start(provider, url_for("auth.callback", _external=True),
                          force_login=request.args.get("reauth") == "1")
    except oidc.SignInError as error:
        return _failure(error.code, provider.issuer, 502, error.detail)


@bp.get("/callback")
@limiter.limit(_signin_limit)
def callback():
    """The provider sends the browser back here with a code (or an error)."""
    provider = oidc.provider_for_state(request.args.get("state"))
    try:
        assertion = oidc.finish()
    except oidc.SignInError as error:
        if error.code == "max_age_refused" and provider is not None:
            # asked once more, without max_age; that attempt's error is final, so this never loops
            try:
                return oidc.start(provider, url_for("auth.callback", _external=True), force_login=True,
                                  with_max_age=False)
            except oidc.SignInError as again:
                error = again
        status = 502 if error.code in ("provider_unreachable", "client_auth_refused", "userinfo_refused") else 400
        return _failure(error.code, provider.issuer if provider else None, status, error.detail)
    next_url = session.pop("after_sign_in", None) or url_for("account.home")
    previous = current_session()
    lang = session.get("lang")
    # a fresh session at sign-in: nothing from before survives into the signed-in session
    session.clear()
    if lang:
        session["lang"] = lang
    result = services.sign_in(assertion, user_agent=request.user_agent.string,
                              ip_address=request.remote_addr)
    if previous is not None and previous.identity_id == result.identity.id:
        # signing in again on this browser (e.g. to re-authenticate) replaces the old session
        services.supersede(previous)
    db.session.commit()
    session["sid"] = result.session.id
    login_user(result.identity)
    if result.email_unusable:
        flash(_("Your identity provider sent an e-mail address we cannot use (it must be exactly one "
                "address), so we could not connect you to a customer account, an invitation or a staff "
                "role. Please ask your provider's administrator to correct it."), "warning")
    elif result.email_unverified:
        flash(_("Your identity provider did not confirm your e-mail address, so we could not connect "
                "you to a customer account, an invitation or a staff role. Confirm your e-mail "
                "address with your provider and sign in again."), "warning")
    elif result.linked_elsewhere:
        flash(_("Your e-mail address is already connected to an account through another sign-in: "
                "%(provider)s. Sign out and sign in through %(provider)s to reach it.",
                provider=_label(result.linked_elsewhere)), "warning")
    elif result.not_vouched:
        flash(_not_vouched_message(result.not_vouched, assertion.provider.label), "warning")
    elif result.ambiguous_customer:
        flash(_("Several customer accounts use your e-mail address, so none was connected "
                "automatically. Please contact MCX support."), "warning")
    return redirect(safe_next(next_url, "account.home"))


def _failure(code: str, issuer: str | None, status: int, detail: str = ""):
    current_app.logger.info("sign-in refused: %s %s", code, detail)
    db.session.rollback()
    services.refuse_sign_in(code, issuer=issuer, detail=detail, ip_address=request.remote_addr)
    db.session.commit()
    return render("auth/failed.html", status=status, code=code, message=FAILURES.get(code, FAILURES["token_invalid"]))


@bp.post("/logout")
def logout():
    """Sign out here, then at the provider when it offers RP-initiated logout."""
    record = current_session()
    target = url_for("web.index")
    if current_user.is_authenticated and record is not None:
        provider = oidc.provider_named(record.provider)
        services.sign_out(record)
        db.session.commit()
        if provider is not None:
            target = oidc.logout_url(provider, record.id_token, url_for("auth.signed_out", _external=True)) or target
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(target, code=303)


@bp.get("/ended")
def ended_at_provider():
    """Said before signing in again: the session was ended at the identity provider."""
    return render("auth/ended_at_provider.html",
                  next_url=safe_next(request.args.get("next"), "account.home"))


@bp.get("/signed-out")
def signed_out():
    """Where the provider sends the browser after ending its own session."""
    return render("auth/signed_out.html")
