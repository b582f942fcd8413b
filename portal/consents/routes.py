"""Consents for product notifications, their receipts, and the privacy policy's versions."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from portal.consents import activity_kinds, policy_diff, receipts, services  # noqa: F401  (activity_kinds registers log labels)
from portal.consents.forms import AcknowledgeForm, ConsentChoiceForm, PublishPolicyForm
from portal.consents.markdown import render_markdown
from portal.consents.registry import (
    CHANNEL_NAMES,
    CHANNELS,
    GIVE_LABELS,
    GIVEN_MESSAGES,
    PURPOSES,
    SOURCE_NAMES,
    WITHDRAW_LABELS,
    WITHDRAWN_MESSAGES,
)
from portal.customers.ownership import owned_customer_or_404
from portal.extensions import db
from portal.web.i18n import _, _l
from portal.web.links import external_url
from portal.web.nav import nav_item
from portal.web.notices import Notice, fact_source, notice_provider
from portal.web.permissions import ends_with_the_contract, role_required
from portal.web.render import render, wants_fragment

bp = Blueprint("consents", __name__)
policy_bp = Blueprint("policy", __name__)
blueprints = [bp, policy_bp]
ends_with_the_contract(bp)

nav_item("consents.page", _l("Consents"), "customer", order=20)
nav_item("policy.current", _l("Privacy policy"), "signed_in", order=80)
nav_item("policy.publish", _l("Policy versions"), "privacy_officer", order=90)


# --- consents ---------------------------------------------------------------------------------

def _page_context(customer, before: str | None = None) -> dict:
    history, older = services.consent_history(customer.id, before)
    return {
        "customer": customer, "states": services.current_consents(customer.id), "history": history,
        "older": older, "before": before, "purposes": PURPOSES, "channel_names": CHANNEL_NAMES,
        "give_labels": GIVE_LABELS, "withdraw_labels": WITHDRAW_LABELS, "source_names": SOURCE_NAMES,
    }


@bp.get("/account/consents")
@login_required
def page():
    """The customer's consent per channel, and the history of every change."""
    customer = owned_customer_or_404(current_user)
    return render("consents/consents.html", **_page_context(customer, request.args.get("before") or None))


@bp.post("/account/consents/<channel>")
@login_required
def choose(channel: str):
    """Give or withdraw consent for one channel: the same single click either way."""
    customer = owned_customer_or_404(current_user)
    if channel not in CHANNELS:
        abort(404)
    form = ConsentChoiceForm()
    if not form.validate_on_submit():
        abort(400)
    granted = form.granted.data == "1"
    event = services.change_consent(customer, channel, granted, actor=current_user, language=str(get_locale()))
    db.session.commit()
    if event is None:
        message = _("%(channel)s: nothing changed, this already was your choice.", channel=CHANNEL_NAMES[channel])
    else:
        message = str((GIVEN_MESSAGES if granted else WITHDRAWN_MESSAGES)[channel]) + " " + \
            _("We have sent a confirmation to %(email)s.", email=customer.email)
    if wants_fragment():
        return render("consents/consents.html", block="consents_update", announcement=message,
                      **_page_context(customer))
    flash(message, "success")
    return redirect(url_for("consents.page"), code=303)


@bp.get("/account/consents/receipts/<receipt_id>.json")
@login_required
def receipt(receipt_id: str):
    """One consent event as a Kantara consent receipt (JSON), for its owner only."""
    customer = owned_customer_or_404(current_user)
    event = services.owned_consent_event_or_404(current_user, receipt_id)
    policy_url = (external_url("policy.version", version=event.policy_version.version)
                  if event.policy_version else external_url("policy.current"))
    body = json.dumps(receipts.consent_receipt(event, customer, policy_url), ensure_ascii=False, indent=2)
    response = Response(body + "\n", mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="consent-receipt-{event.receipt_id}.json"'
    return response


# --- the privacy policy -------------------------------------------------------------------------

@fact_source(customers_only=True)
def policy_facts(params) -> dict:
    """For a customer: the version in force, whether they acknowledged it, and the newest version
    they did acknowledge (scalar subqueries, read with the other page facts in one statement)."""
    return services.policy_notice_facts(params.customer_id, params.now)


@notice_provider
def policy_notice(facts) -> list[Notice]:
    """A customer who has not acknowledged the current policy version is asked to, on every page."""
    version = facts.get("consents_policy_version")
    if version is None or facts["consents_policy_acknowledged"]:
        return []
    previous = facts["consents_previous_version"]
    if previous is not None:
        link = url_for("policy.current", _anchor="comparison", **{"from": previous, "to": version})
    else:
        link = url_for("policy.current", _anchor="acknowledge")
    return [Notice(
        message=_("MCX has published version %(version)s of the privacy policy. Please read it and confirm that you have.",
                  version=version),
        link_url=link, link_label=_("Read the privacy policy"), level="warning",
    )]


def _language() -> str:
    return "en" if str(get_locale()) == "en" else "pl"


def _text(policy) -> str:
    return policy.text_en if _language() == "en" else policy.text_pl


def _summary(policy) -> str:
    return policy.summary_en if _language() == "en" else policy.summary_pl


def _comparison(versions: list) -> dict:
    """The difference the reader asked for with ?from=…&to=…, or a reason there is none."""
    wanted_from, wanted_to = request.args.get("from"), request.args.get("to")
    if not wanted_from and not wanted_to:
        return {}
    by_name = {policy.version: policy for policy in versions}
    older, newer = by_name.get(wanted_from or ""), by_name.get(wanted_to or "")
    if older is None or newer is None:
        return {"compare_from": wanted_from, "compare_to": wanted_to,
                "compare_error": _("Choose two published versions to compare.")}
    if older is newer:
        return {"compare_from": wanted_from, "compare_to": wanted_to,
                "compare_error": _("Choose two different versions to compare.")}
    return {"compare_from": older.version, "compare_to": newer.version,
            "diff": policy_diff.compare(_text(older), _text(newer))}


def _policy_page(policy, versions: list):
    context = {"policy": policy, "versions": versions, "current": versions[0] if versions else None,
               "policy_html": render_markdown(_text(policy), heading_offset=2) if policy else None,
               "summary_html": render_markdown(_summary(policy), heading_offset=2) if policy else None,
               "to_acknowledge": None, "ack_form": AcknowledgeForm()}
    if current_user.is_authenticated and current_user.customer_id is not None:
        context["to_acknowledge"] = services.policy_to_acknowledge(current_user.customer_id)
        # a first version is announced as published; only a later one "changed" the policy
        context["acknowledged_before"] = services.last_acknowledged_policy(current_user.customer_id) is not None
    context.update(_comparison(versions))
    return render("consents/policy.html", block="comparison", **context)


@policy_bp.get("/privacy")
def current():
    """The privacy policy in force, earlier versions, and what changed between any two."""
    versions = services.policy_versions()
    return _policy_page(versions[0] if versions else None, versions)


@policy_bp.get("/privacy/<version>")
def version(version: str):
    """One published version of the privacy policy."""
    policy = services.published_version_or_404(version)
    return _policy_page(policy, services.policy_versions())


@policy_bp.post("/privacy/acknowledge")
@login_required
def acknowledge():
    """The customer confirms they have read a policy version (audited)."""
    customer = owned_customer_or_404(current_user)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        abort(400)
    policy = services.published_version_or_404(form.version.data)
    services.acknowledge_policy(customer, policy, actor=current_user)
    db.session.commit()
    flash(_("Thank you: you have confirmed that you read version %(version)s of the privacy policy.",
            version=policy.version), "success")
    return redirect(url_for("policy.current"), code=303)


@policy_bp.route("/staff/policy", methods=["GET", "POST"])
@role_required("privacy_officer")
def publish():
    """A privacy officer writes a new version, reads its preview, then publishes it."""
    versions = services.policy_versions()
    form = PublishPolicyForm()
    if request.method == "GET" and versions:
        # a new version usually changes a few paragraphs of the current one
        latest = versions[0]
        form.text_pl.data, form.text_en.data = latest.text_pl, latest.text_en
    step = request.form.get("step")
    if request.method == "POST" and step == "edit":
        return render("consents/staff_policy.html", form=PublishPolicyForm(), versions=versions)
    if form.validate_on_submit() and step != "publish":
        # one click must not publish to every customer: first the version as they will read it
        return render("consents/staff_policy.html", form=form, versions=versions, preview={
            "summary_pl": render_markdown(form.summary_pl.data, heading_offset=2),
            "summary_en": render_markdown(form.summary_en.data, heading_offset=2),
            "text_pl": render_markdown(form.text_pl.data, heading_offset=2),
            "text_en": render_markdown(form.text_en.data, heading_offset=2)})
    if form.validate_on_submit():
        try:
            policy = services.publish_policy(
                version=form.version.data, text_pl=form.text_pl.data, text_en=form.text_en.data,
                summary_pl=form.summary_pl.data, summary_en=form.summary_en.data, publisher=current_user,
            )
        except services.ConsentError as error:
            db.session.rollback()
            form.version.errors = [*form.version.errors, str(error)]
        else:
            db.session.commit()
            flash(_("Version %(version)s is published. Customers will be asked to read and acknowledge it.",
                    version=policy.version), "success")
            return redirect(url_for("policy.publish"), code=303)
    return render("consents/staff_policy.html", status=422 if form.errors else 200, form=form, versions=versions)
