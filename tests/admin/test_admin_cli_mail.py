"""`flask staff …` commands, demo staff, and invitation e-mails through a real SMTP server."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from app.db import db_session
from app.models import StaffUser
from app.staff.demo import seed_demo_staff
from tests.admin.staff_helpers import login, make_staff
from tests.factories import make_municipality


def test_staff_create_and_totp_commands(app):  # type: ignore[no-untyped-def]
    m = make_municipality(slug="hradek")
    runner = app.test_cli_runner()
    r = runner.invoke(args=["staff", "create", "--email", "Nova@Example.cz", "--role", "clerk",
                            "--municipality", "hradek", "--password", "dlouhe-heslo-1234"])
    assert r.exit_code == 0, r.output
    secret = re.search(r"TOTP secret:\s+(\S+)", r.output).group(1)
    assert "otpauth://totp/" in r.output
    user = db_session.scalar(select(StaffUser).where(StaffUser.email == "nova@example.cz"))
    assert user.municipality_id == m.id and user.totp_secret == secret and user.totp_enabled
    r = runner.invoke(args=["staff", "totp", "nova@example.cz"])
    assert r.output.strip() == pyotp.TOTP(secret).now()
    r = runner.invoke(args=["staff", "create", "--email", "x@example.cz", "--role", "clerk", "--municipality", "nic"])
    assert r.exit_code != 0 and "no municipality" in r.output
    r = runner.invoke(args=["staff", "create", "--email", "y@example.cz", "--role", "clerk"])
    assert r.exit_code != 0 and "Vyberte obec" in r.output


def test_seed_demo_staff_logs_in(app):  # type: ignore[no-untyped-def]
    make_municipality(name="První obec")
    logins = seed_demo_staff()
    # Two regions' operators, the municipality admin and the national coordinator.
    assert [s["role"] for s in logins] == ["operator", "municipality_admin", "operator", "national"]
    assert logins[1]["municipality"] == "První obec"
    again = seed_demo_staff()  # idempotent
    assert len(db_session.scalars(select(StaffUser)).all()) == 4 and again[0]["password"] == logins[0]["password"]
    users = {u.email: u for u in db_session.scalars(select(StaffUser))}
    assert users["operator@demo.example.cz"].region_id is not None
    assert users["operator-hk@demo.example.cz"].region_id not in (None, users["operator@demo.example.cz"].region_id)
    assert users["narodni@demo.example.cz"].region_id is None
    for s in logins:
        c = app.test_client()
        r = c.post("/admin/login", data={"email": s["email"], "password": s["password"]})
        assert r.status_code == 303
        r = c.post("/admin/login/totp", data={"code": pyotp.TOTP(s["totp_secret"]).now()})
        assert r.status_code == 303, s["email"]
        assert c.get("/admin/").status_code == 200
        db_session.expire_all()
        user = db_session.scalar(select(StaffUser).where(StaffUser.email == s["email"]))
        user.totp_last_step = None
        db_session.commit()


def test_invitation_is_mailed_through_smtp(db_url):  # type: ignore[no-untyped-def]
    import socket

    from aiosmtpd.controller import Controller

    from tests.conftest import make_test_app

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            received.append(envelope)
            return "250 OK"

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app = make_test_app(db_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        with app.app_context():
            m = make_municipality()
            c = app.test_client()
            login(c, make_staff("municipality_admin", m))
            r = c.post("/admin/tym/pozvat", data={"email": "kolega@example.cz", "role": "clerk"})
            assert r.status_code == 200 and "odeslána e-mailem" in r.text
            link = re.search(r'id="invitation-link">([^<]+)<', r.text).group(1)
            db_session.remove()
        app.extensions["db_engine"].dispose()
    finally:
        controller.stop()
    assert len(received) == 1 and received[0].rcpt_tos == ["kolega@example.cz"]
    body = received[0].content.decode("utf-8", "replace")
    assert "pozvanka" in body and link.split("/")[-1][:20] in body.replace("=\r\n", "")
