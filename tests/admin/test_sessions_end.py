"""Sessions that end: a staff cookie copied before logout, a password reset or a lockout
no longer opens the admin area; the citizen login's ``next=`` stays on this site."""

from __future__ import annotations

import pytest

from app.db import db_session
from app.identity.routes import _safe_next
from app.models import StaffUser
from app.staff.invitations import request_password_reset, reset_password
from tests.admin.staff_helpers import login, make_staff
from tests.factories import make_municipality


def _copy_of(app, client):  # type: ignore[no-untyped-def]
    """A second browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    assert thief.get("/admin/").status_code == 200
    return thief


def test_a_cookie_copied_before_logout_no_longer_opens_the_admin(app, client) -> None:  # type: ignore[no-untyped-def]
    user = make_staff("clerk", make_municipality())
    login(client, user)
    copy = _copy_of(app, client)
    assert client.post("/admin/logout").status_code == 303
    assert copy.get("/admin/").status_code == 302
    # Logging in again works, with a new session.
    login(client, user)
    assert client.get("/admin/").status_code == 200 and copy.get("/admin/").status_code == 302


def test_a_password_reset_ends_every_session(app, client) -> None:  # type: ignore[no-untyped-def]
    user = make_staff("clerk", make_municipality())
    login(client, user)
    token = request_password_reset(user.email)
    reset_password(token, "uplne-nove-heslo-456")
    db_session.commit()
    assert client.get("/admin/").status_code == 302


def test_a_lockout_ends_every_session(app, client) -> None:  # type: ignore[no-untyped-def]
    user = make_staff("clerk", make_municipality())
    login(client, user)
    guesser = app.test_client()
    for _ in range(app.config["ADMIN_LOCKOUT_ATTEMPTS"]):
        guesser.post("/admin/login", data={"email": user.email, "password": "spatne-heslo-000"})
    db_session.expire_all()
    assert db_session.get(StaffUser, user.id).locked_until is not None
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example/",
        "/\t/evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/%5Cevil.example",
        "/%2F%2Fevil.example",
        "https://evil.example/",
        "/%0d%0aSet-Cookie:x=1",
        "ucet",
        "/%252F%252Fevil.example",
    ],
)
def test_citizen_login_next_refuses_anything_but_a_path_here(app, client, target: str) -> None:  # type: ignore[no-untyped-def]
    assert _safe_next(target) is None
    assert "evil.example" not in client.get("/prihlaseni", query_string={"next": target}).text


def test_citizen_login_next_keeps_a_path_here(app) -> None:  # type: ignore[no-untyped-def]
    assert _safe_next("/ucet/") == "/ucet/"
    assert _safe_next("/platba/abc/stav?x=1") == "/platba/abc/stav?x=1"
