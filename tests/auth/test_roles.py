"""Staff roles: `flask portal grant-role EMAIL ROLE`, bound at the person's next verified sign-in."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.auth.models import Identity, StaffRole
from portal.extensions import db
from tests.conftest import complete_sign_in


def grant_role(app, *args: str):
    result = app.test_cli_runner().invoke(args=["portal", "grant-role", *args])
    db.session.expire_all()
    return result


def grants() -> list[tuple[str, str, int | None]]:
    return [(r.email, r.role, r.identity_id)
            for r in db.session.scalars(select(StaffRole).order_by(StaffRole.id))]


def test_grant_role_creates_a_grant_waiting_for_the_person(app):
    result = grant_role(app, "  Ola.Moderator@MCX.example ", "moderator")

    assert result.exit_code == 0, result.output
    assert "moderator" in result.output and "ola.moderator@mcx.example" in result.output
    assert grants() == [("ola.moderator@mcx.example", "moderator", None)]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "role_granted"))
    assert event.details == {"email": "ola.moderator@mcx.example", "role": "moderator"}


def test_granting_the_same_role_again_changes_nothing(app):
    grant_role(app, "ola@mcx.example", "moderator")

    again = grant_role(app, "OLA@mcx.example", "moderator")

    assert again.exit_code == 0, again.output
    assert grants() == [("ola@mcx.example", "moderator", None)]
    assert db.session.scalar(select(func.count()).where(AuditEvent.kind == "role_granted")) == 1


def test_one_person_may_hold_both_roles(app):
    grant_role(app, "ola@mcx.example", "moderator")
    grant_role(app, "ola@mcx.example", "privacy_officer")

    assert sorted(role for _, role, _ in grants()) == ["moderator", "privacy_officer"]


@pytest.mark.parametrize("role", ["admin", "Moderator", "superuser", ""])
def test_unknown_role_is_refused_with_the_choices(app, role):
    result = grant_role(app, "ola@mcx.example", role)

    assert result.exit_code != 0
    assert "moderator" in result.output and "privacy_officer" in result.output
    assert grants() == []


@pytest.mark.parametrize("email", ["ola", "ola.mcx.example", "", "   ", "ola@", "@mcx.example", "ola@@mcx.example",
                                   "ola@mcx.example, jan@mcx.example", "ola @mcx.example"])
def test_something_that_is_not_an_email_address_is_refused(app, email):
    result = grant_role(app, email, "moderator")

    assert result.exit_code != 0
    assert "not an e-mail address" in result.output
    assert grants() == []


def test_role_binds_at_the_next_verified_sign_in_and_opens_the_staff_area(
        app, client, sign_in_via_provider):
    claims = {"sub": "ola", "email": "Ola@MCX.example", "email_verified": True, "name": "Ola"}
    sign_in_via_provider(claims)
    page = client.get("/account/").get_data(as_text=True)
    assert "data-role" not in page

    grant_role(app, "ola@mcx.example", "moderator")
    # the grant waits for the next sign-in: the running session gains nothing
    assert "data-role" not in client.get("/account/").get_data(as_text=True)
    client.submit("/auth/logout")
    sign_in_via_provider(claims)

    identity = db.session.scalar(select(Identity).where(Identity.subject == "ola"))
    assert grants() == [("ola@mcx.example", "moderator", identity.id)]
    home = client.get("/account/")
    page = home.get_data(as_text=True)
    assert home.status_code == 200
    assert "Strefy pracowników" in page and 'data-role="moderator"' in page
    assert db.session.scalar(select(AuditEvent.actor_identity_id)
                             .where(AuditEvent.kind == "identity_linked_role")) == identity.id


def test_role_does_not_bind_to_an_unverified_email(app, client, sign_in_via_provider):
    grant_role(app, "ola@mcx.example", "moderator")

    sign_in_via_provider({"sub": "fake-ola", "email": "ola@mcx.example", "email_verified": False})

    assert grants() == [("ola@mcx.example", "moderator", None)]
    assert "data-role" not in client.get("/account/").get_data(as_text=True)


def test_bound_role_stays_with_the_identity_not_the_email(app, sign_in_via_provider, partner_provider):
    """Once bound, another identity asserting the same verified e-mail does not get the role."""
    grant_role(app, "ola@mcx.example", "moderator")
    sign_in_via_provider({"sub": "ola", "email": "ola@mcx.example", "email_verified": True})

    other = app.test_client()
    partner_provider.set_user({"sub": "ola-elsewhere", "email": "ola@mcx.example", "email_verified": True})
    complete_sign_in(other, "ola-elsewhere", "partner")

    page = other.get("/account/").get_data(as_text=True)
    assert "data-role" not in page
    owner = db.session.scalar(select(Identity).where(Identity.subject == "ola"))
    assert grants() == [("ola@mcx.example", "moderator", owner.id)]
