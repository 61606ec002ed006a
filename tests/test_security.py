"""Security basics of the citizen app: headers, cookies, CSRF."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.db import db_session
from app.models import Payment
from tests.conftest import make_test_app
from tests.factories import make_municipality, make_service


def test_security_headers_on_every_page(client):  # type: ignore[no-untyped-def]
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_session_cookie_is_secure_on_https(db_url):  # type: ignore[no-untyped-def]
    app = make_test_app(db_url, BASE_URL="https://platby.example.cz", SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    r = client.get("/?lang=en")
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pay_form_without_csrf_token_is_refused(db_url):  # type: ignore[no-untyped-def]
    app = make_test_app(db_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        m = make_municipality()
        s = make_service(m)
        client = app.test_client()
        data = {"name": "Jan Novák", "email": "jan@example.cz"}
        r = client.post(f"/obec/{m.slug}/{s.slug}", data=data)
        assert r.status_code == 400
        assert "Platnost formuláře vypršela" in r.text
        assert db_session.scalar(select(func.count(Payment.id))) == 0
        page = client.get(f"/obec/{m.slug}/{s.slug}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = client.post(f"/obec/{m.slug}/{s.slug}", data={**data, "csrf_token": token})
        assert r.status_code == 303
        db_session.remove()


def test_english_switch(client):  # type: ignore[no-untyped-def]
    r = client.get("/?lang=en")
    assert '<html lang="en">' in r.text
    assert "Pay a fee to your municipality" in r.text
    # The choice sticks for the session.
    assert "Pay a fee to your municipality" in client.get("/").text
    assert "Zaplaťte poplatek své obci" in client.get("/?lang=cs").text


def test_nul_bytes_anywhere_are_a_clear_400(client):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m)
    assert client.get("/obec/a%00b").status_code == 404
    for r in (
        client.get("/?q=a%00b"),
        client.post(f"/obec/{m.slug}/{s.slug}", data={"name": "Jan\x00", "email": "jan@example.cz"}),
    ):
        assert r.status_code == 400
        assert "nepovolené znaky" in r.text
    assert db_session.scalar(select(func.count(Payment.id))) == 0
