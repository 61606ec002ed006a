"""The admin screens of gateway accounts: new, edit (secret kept, never shown), "Otestovat
spojení" with what failed, deactivate; a clerk cannot, another municipality sees 404."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.db import db_session
from app.models import AuditLog, GatewayAccount
from tests.admin.staff_helpers import make_staff
from tests.factories import make_municipality
from tests.fakes.gopay import FakeGoPay


@pytest.fixture
def fake() -> Iterator[FakeGoPay]:
    server = FakeGoPay().start()
    yield server
    server.stop()


def _form(fake: FakeGoPay, **over: str) -> dict[str, str]:
    data = {
        "label": "GoPay obce",
        "mode": "sandbox",
        "goid": str(fake.goid),
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "gateway_url": fake.gateway_url,
        "active": "1",
    }
    data.update(over)
    return data


def test_admin_creates_tests_edits_and_deactivates(app, staff_client, fake) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(demo_mode=False)
    admin = make_staff("municipality_admin", m)
    client = staff_client(admin)
    page = client.get("/admin/brany/nova?gateway=gopay")
    assert page.status_code == 200 and "Client secret" in page.text
    r = client.post("/admin/brany/nova?gateway=gopay", data=_form(fake, client_secret="spatne-heslo-xyz"))
    assert r.status_code == 303
    account = db_session.scalar(select(GatewayAccount))
    assert account.municipality_id == m.id and account.gateway_name == "gopay"
    listing = client.get("/admin/brany")
    assert f"/webhooks/gopay/{account.public_id}" in listing.text and "zatím netestováno" in listing.text
    # Wrong credentials: the button says what failed.
    r = client.post(f"/admin/brany/{account.id}/test", follow_redirects=True)
    text = html.unescape(r.text)
    assert "selhalo" in text and "client ID or client secret refused" in text
    assert "spatne-heslo" not in r.text
    # The secret is never shown again, only masked; a blank field keeps it.
    edit = client.get(f"/admin/brany/{account.id}/upravit")
    assert "spatne-heslo-xyz" not in edit.text and "••••-xyz" in edit.text
    r = client.post(f"/admin/brany/{account.id}/upravit", data=_form(fake, client_secret="", label="GoPay (nový)"))
    assert r.status_code == 303
    r = client.post(f"/admin/brany/{account.id}/test", follow_redirects=True)
    assert "selhalo" in html.unescape(r.text)
    # The right secret: it works.
    client.post(f"/admin/brany/{account.id}/upravit", data=_form(fake))
    r = client.post(f"/admin/brany/{account.id}/test", follow_redirects=True)
    assert "funguje" in html.unescape(r.text)
    db_session.expire_all()
    assert db_session.get(GatewayAccount, account.id).last_test_ok is True
    r = client.post(f"/admin/brany/{account.id}/deaktivovat", data={"active": "0"})
    assert r.status_code == 303
    db_session.expire_all()
    assert db_session.get(GatewayAccount, account.id).active is False
    actions = [a.action for a in db_session.scalars(select(AuditLog).order_by(AuditLog.id))]
    for action in (
        "gateway_account_create",
        "gateway_account_test",
        "gateway_account_edit",
        "gateway_account_deactivate",
    ):
        assert action in actions
    assert all("spatne-heslo" not in str(a.after) + str(a.before) for a in db_session.scalars(select(AuditLog)))


def test_invalid_form_says_what_is_wrong(app, staff_client, fake) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(demo_mode=False)
    client = staff_client(make_staff("municipality_admin", m))
    r = client.post("/admin/brany/nova?gateway=gopay", data=_form(fake, goid="abc", client_secret=""))
    assert r.status_code == 422 and "Zadejte číslo." in r.text and "Vyplňte toto pole." in r.text
    assert db_session.scalar(select(GatewayAccount)) is None


def test_operator_sets_up_a_municipalitys_account(app, staff_client, fake) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(demo_mode=False)
    operator = make_staff("operator", None)
    client = staff_client(operator)
    client.post("/admin/obec/vybrat", data={"municipality_id": str(m.id)})
    r = client.post("/admin/brany/nova?gateway=gopay", data=_form(fake))
    assert r.status_code == 303
    assert db_session.scalar(select(GatewayAccount)).municipality_id == m.id
