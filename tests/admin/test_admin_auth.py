"""Staff login: password + TOTP, enrolment, lockout, rate limit, CSRF, session timeout,
invitations and password reset."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from sqlalchemy import select

from app.db import db_session, utcnow
from app.models import AuditLog, StaffInvitation, StaffUser
from app.staff.accounts import find_staff
from tests.admin.staff_helpers import PASSWORD, code_for, csrf_from, login, make_staff
from tests.conftest import make_test_app
from tests.factories import make_municipality


def _actions() -> list[str]:
    db_session.expire_all()
    return [a.action for a in db_session.scalars(select(AuditLog).order_by(AuditLog.id))]


def test_login_needs_password_then_totp(app, client):  # type: ignore[no-untyped-def]
    m = make_municipality()
    user = make_staff("clerk", m)
    assert client.get("/admin/").status_code == 302
    r = client.post("/admin/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin/login/totp")
    # Without the second factor the admin stays closed.
    assert client.get("/admin/").headers["Location"].startswith("/admin/login")
    r = client.post("/admin/login/totp", data={"code": "000000" if code_for(user) != "000000" else "111111"})
    assert r.status_code == 422 and "Kód nesouhlasí" in r.text
    r = client.post("/admin/login/totp", data={"code": code_for(user)})
    assert r.status_code == 303
    page = client.get("/admin/")
    assert page.status_code == 200 and m.name in page.text
    assert "login" in _actions() and "login_failed" in _actions()


def test_wrong_password_and_unknown_email_answer_alike(app, client):  # type: ignore[no-untyped-def]
    user = make_staff("clerk", make_municipality())
    a = client.post("/admin/login", data={"email": user.email, "password": "spatne-heslo-123"})
    b = client.post("/admin/login", data={"email": "nikdo@example.cz", "password": "spatne-heslo-123"})
    assert a.status_code == b.status_code == 422
    assert "Nesprávný e-mail nebo heslo." in a.text and "Nesprávný e-mail nebo heslo." in b.text


def test_a_totp_code_is_accepted_once(app, client):  # type: ignore[no-untyped-def]
    user = make_staff("clerk", make_municipality())
    code = code_for(user)
    client.post("/admin/login", data={"email": user.email, "password": PASSWORD})
    assert client.post("/admin/login/totp", data={"code": code}).status_code == 303
    other = app.test_client()
    other.post("/admin/login", data={"email": user.email, "password": PASSWORD})
    r = other.post("/admin/login/totp", data={"code": code})
    assert r.status_code == 422


def test_first_login_enrols_totp_with_a_qr_code(app, client):  # type: ignore[no-untyped-def]
    m = make_municipality()
    user = make_staff("viewer", m, totp_secret=None)
    user.totp_secret, user.totp_enabled = None, False
    db_session.commit()
    r = client.post("/admin/login", data={"email": user.email, "password": PASSWORD})
    assert r.headers["Location"].endswith("/admin/login/enrol")
    page = client.get("/admin/login/enrol")
    assert "<svg" in page.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    assert client.post("/admin/login/enrol", data={"code": "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"}).status_code == 422
    r = client.post("/admin/login/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 303
    db_session.expire_all()
    fresh = db_session.get(StaffUser, user.id)
    assert fresh.totp_enabled and fresh.totp_secret == secret
    assert client.get("/admin/").status_code == 200


def test_lockout_after_five_failures(app, client):  # type: ignore[no-untyped-def]
    user = make_staff("clerk", make_municipality())
    for _ in range(5):
        r = client.post("/admin/login", data={"email": user.email, "password": "spatne-heslo-123"})
        assert r.status_code == 422
    r = client.post("/admin/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 422 and "zablokován" in r.text
    db_session.expire_all()
    locked = find_staff(user.email)
    assert locked.locked_until is not None
    assert "account_locked" in _actions()
    # After the lockout the right password works again.
    locked.locked_until = utcnow() - timedelta(seconds=1)
    db_session.commit()
    login(client, user)
    assert client.get("/admin/").status_code == 200


def test_wrong_totp_codes_count_towards_lockout(app, client):  # type: ignore[no-untyped-def]
    user = make_staff("clerk", make_municipality())
    client.post("/admin/login", data={"email": user.email, "password": PASSWORD})
    bad = "000000" if code_for(user) != "000000" else "111111"
    for _ in range(4):
        assert client.post("/admin/login/totp", data={"code": bad}).status_code == 422
    r = client.post("/admin/login/totp", data={"code": bad})
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin/login")
    db_session.expire_all()
    assert find_staff(user.email).locked_until is not None


def test_login_is_rate_limited(db_url):  # type: ignore[no-untyped-def]
    app = make_test_app(db_url, RATELIMIT_ENABLED=True, ADMIN_LOGIN_RATE_LIMIT="3 per minute",
                        RATELIMIT_KEY_PREFIX="ratetest-admin")
    with app.app_context():
        client = app.test_client()
        codes = [client.post("/admin/login", data={"email": "x@example.cz", "password": "nic-nic-nic-nic"}).status_code
                 for _ in range(4)]
        assert codes == [422, 422, 422, 429]
        assert client.get("/admin/login").status_code == 200  # GET is not limited
        db_session.remove()
    app.extensions["db_engine"].dispose()


def test_csrf_is_enforced_on_admin_forms(db_url):  # type: ignore[no-untyped-def]
    app = make_test_app(db_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = make_staff("clerk", make_municipality())
        client = app.test_client()
        r = client.post("/admin/login", data={"email": user.email, "password": PASSWORD})
        assert r.status_code in (400, 422) and "/admin/login/totp" not in r.headers.get("Location", "")
        page = client.get("/admin/login")
        token = csrf_from(page.text)
        r = client.post("/admin/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 303
        page = client.get("/admin/login/totp")
        r = client.post("/admin/login/totp", data={"code": code_for(user), "csrf_token": csrf_from(page.text)})
        assert r.status_code == 303
        # A logged-in POST without the token is refused too.
        assert client.post("/admin/logout").status_code == 400
        db_session.remove()
    app.extensions["db_engine"].dispose()


def test_idle_session_times_out(app, client):  # type: ignore[no-untyped-def]
    user = make_staff("clerk", make_municipality())
    login(client, user)
    assert client.get("/admin/").status_code == 200
    with client.session_transaction() as s:
        s["admin_seen"] = s["admin_seen"] - 31 * 60
    r = client.get("/admin/")
    assert r.status_code == 302 and "expired=1" in r.headers["Location"]
    assert client.get("/admin/").status_code == 302


def test_session_cookie_is_permanent_with_idle_lifetime(app, client):  # type: ignore[no-untyped-def]
    user = make_staff("clerk", make_municipality())
    login(client, user)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=30)
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.expires is not None


def test_logout_ends_the_session(app, client):  # type: ignore[no-untyped-def]
    user = make_staff("clerk", make_municipality())
    login(client, user)
    assert client.post("/admin/logout").status_code == 303
    assert client.get("/admin/").status_code == 302
    assert "logout" in _actions()


def test_deactivated_staff_is_logged_out(app, client):  # type: ignore[no-untyped-def]
    m = make_municipality()
    user = make_staff("clerk", m)
    admin_user = make_staff("municipality_admin", m)
    login(client, user)
    admin_client = app.test_client()
    login(admin_client, admin_user)
    assert admin_client.post(f"/admin/tym/{user.id}/deaktivovat", data={"active": "0"}).status_code == 303
    assert client.get("/admin/").status_code == 302
    r = client.post("/admin/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 422 and "deaktivován" in r.text


def _invite(app, inviter, email="novy@example.cz", role="clerk"):  # type: ignore[no-untyped-def]
    c = app.test_client()
    login(c, inviter)
    r = c.post("/admin/tym/pozvat", data={"email": email, "name": "Nový Kolega", "role": role})
    assert r.status_code == 200, r.text
    return re.search(r'id="invitation-link">([^<]+)<', r.text).group(1)


def test_invitation_creates_an_account_and_enrols_totp(app, client):  # type: ignore[no-untyped-def]
    m = make_municipality()
    boss = make_staff("municipality_admin", m)
    link = _invite(app, boss)
    path = link.replace("http://localhost", "")
    page = client.get(path)
    assert page.status_code == 200 and "novy@example.cz" in page.text
    r = client.post(path, data={"name": "Nový Kolega", "password": "kratke", "password2": "kratke"})
    assert r.status_code == 422 and "12" in r.text
    r = client.post(path, data={"name": "Nový Kolega", "password": "dlouhe-heslo-1234", "password2": "dlouhe-heslo-1234"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin/login/enrol")
    created = find_staff("novy@example.cz")
    assert created.role == "clerk" and created.municipality_id == m.id
    # The link works once.
    assert client.get(path).status_code == 410
    inv = db_session.scalar(select(StaffInvitation))
    assert inv.token_hash not in link  # stored hashed
    assert {"invitation", "invitation_accepted"} <= set(_actions())


def test_expired_invitation_is_refused(app, client):  # type: ignore[no-untyped-def]
    boss = make_staff("municipality_admin", make_municipality())
    link = _invite(app, boss)
    inv = db_session.scalar(select(StaffInvitation))
    inv.expires_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    r = client.get(link.replace("http://localhost", ""))
    assert r.status_code == 410 and "vypršela" in r.text
    r = client.post(link.replace("http://localhost", ""),
                    data={"name": "X Y", "password": "dlouhe-heslo-1234", "password2": "dlouhe-heslo-1234"})
    assert r.status_code == 410 and find_staff("novy@example.cz") is None


def test_municipality_admin_cannot_invite_an_operator(app):  # type: ignore[no-untyped-def]
    boss = make_staff("municipality_admin", make_municipality())
    c = app.test_client()
    login(c, boss)
    r = c.post("/admin/tym/pozvat", data={"email": "op@example.cz", "role": "operator"})
    assert r.status_code == 422
    assert db_session.scalar(select(StaffInvitation)) is None


def test_password_reset(app, client, caplog):  # type: ignore[no-untyped-def]
    user = make_staff("clerk", make_municipality())
    r = client.post("/admin/heslo/zapomenute", data={"email": "nikdo@example.cz"})
    assert r.status_code == 200 and "Pokud k zadané adrese" in r.text
    with caplog.at_level("WARNING"):
        r = client.post("/admin/heslo/zapomenute", data={"email": user.email})
    assert r.status_code == 200
    link = re.search(r"(http://localhost/admin/heslo/obnova/\S+)", caplog.text).group(1)
    path = link.replace("http://localhost", "")
    assert client.post(path, data={"password": "nove-heslo-12345", "password2": "jine-heslo-12345"}).status_code == 422
    r = client.post(path, data={"password": "nove-heslo-12345", "password2": "nove-heslo-12345"})
    assert r.status_code == 303
    assert client.get(path).status_code == 410  # used
    login(client, user, password="nove-heslo-12345")
    assert client.get("/admin/").status_code == 200
    r = app.test_client().post("/admin/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 422


def test_expired_password_reset_is_refused(app, client):  # type: ignore[no-untyped-def]
    from app.models import PasswordReset
    from app.staff.invitations import request_password_reset

    user = make_staff("clerk", make_municipality())
    with app.test_request_context():
        token = request_password_reset(user.email)
    reset = db_session.scalar(select(PasswordReset))
    reset.expires_at = utcnow() - timedelta(seconds=5)
    db_session.commit()
    r = client.post(f"/admin/heslo/obnova/{token}", data={"password": "nove-heslo-12345", "password2": "nove-heslo-12345"})
    assert r.status_code == 410


def test_next_parameter_only_redirects_inside_admin(app, client):  # type: ignore[no-untyped-def]
    user = make_staff("clerk", make_municipality())
    r = client.get("/admin/platby?state=paid")
    assert r.status_code == 302 and "next=" in r.headers["Location"]
    client.post("/admin/login?next=https://evil.example/", data={"email": user.email, "password": PASSWORD})
    r = client.post("/admin/login/totp", data={"code": code_for(user)})
    assert r.headers["Location"].endswith("/admin/")
