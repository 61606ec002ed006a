"""Services flush, the request commits (issue 9): after each of these requests the work
and its audit row are committed, seen from a connection of its own.

A test shares the thread's session with the requests it makes, so it sees flushed rows
even when nobody commits; ``committed`` reads through another connection, which only
sees what was committed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from app.db import db_session
from app.models import StaffUser
from tests.admin.staff_helpers import login, make_staff
from tests.factories import make_municipality
from tests.identity.test_citizen_account import _citizen, _log_in

SERVICE = {
    "name": "Poplatek ze psů", "slug": "", "description": "Za psa a rok.", "account": "19-2000145399/0800",
    "amount_mode": "fixed", "amount": "300", "vs_rule": "per_payment", "variable_symbol": "1341",
    "constant_symbol": "0558", "allowed_gateways": ["demo"], "active": "y",
}


def committed(app, sql: str, **params: Any) -> Any:  # type: ignore[no-untyped-def]
    with app.extensions["db_engine"].connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _audited(app, action: str) -> int:  # type: ignore[no-untyped-def]
    return committed(app, "SELECT count(*) FROM audit_log WHERE action = :a", a=action)


def test_admin_service_and_settings_views_commit_with_their_audit_rows(app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(demo_mode=True)
    c = app.test_client()
    login(c, make_staff("municipality_admin", m))
    assert c.post("/admin/sluzby/nova", data=SERVICE).status_code == 303
    sid = committed(app, "SELECT id FROM service WHERE municipality_id = :m", m=m.id)
    assert sid is not None and _audited(app, "service_create") == 1
    assert c.post(f"/admin/sluzby/{sid}/upravit", data={**SERVICE, "amount": "400"}).status_code == 303
    assert committed(app, "SELECT amount FROM service WHERE id = :s", s=sid) == 40000
    assert _audited(app, "service_edit") == 1
    assert c.post(f"/admin/sluzby/{sid}/deaktivovat", data={"active": "0"}).status_code == 303
    assert not committed(app, "SELECT active FROM service WHERE id = :s", s=sid)
    assert _audited(app, "service_deactivate") == 1
    assert c.post(f"/admin/obec/{m.id}/nastaveni", data={"mode": "live", "account": ""}).status_code == 303
    assert not committed(app, "SELECT demo_mode FROM municipality WHERE id = :m", m=m.id)
    assert _audited(app, "municipality_settings") == 1


def test_team_views_commit_with_their_audit_rows(app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality()
    c = app.test_client()
    login(c, make_staff("municipality_admin", m))
    clerk = make_staff("clerk", m)
    assert c.post(f"/admin/tym/{clerk.id}/role", data={"role": "viewer"}).status_code == 303
    assert committed(app, "SELECT role FROM staff_user WHERE id = :s", s=clerk.id) == "viewer"
    assert _audited(app, "role_change") == 1
    assert c.post(f"/admin/tym/{clerk.id}/deaktivovat", data={"active": "0"}).status_code == 303
    assert not committed(app, "SELECT active FROM staff_user WHERE id = :s", s=clerk.id)
    assert _audited(app, "staff_deactivated") == 1
    db_session.expire_all()
    assert db_session.get(StaffUser, clerk.id).active is False


def test_citizen_account_views_commit(app, client) -> None:  # type: ignore[no-untyped-def]
    citizen = _citizen(birth_number_hmac="x" * 64)
    make_municipality(slug="hradek")
    _log_in(client, citizen)
    assert client.post("/ucet/profil", data={"name": "Jana Svobodová", "email": ""}).status_code == 303
    assert committed(app, "SELECT name FROM citizen WHERE id = :c", c=citizen.id) == "Jana Svobodová"
    assert committed(app, "SELECT email FROM citizen WHERE id = :c", c=citizen.id) is None
    client.post("/ucet/rodne-cislo/odvolat")
    assert committed(app, "SELECT birth_number_hmac FROM citizen WHERE id = :c", c=citizen.id) is None
    client.post("/ucet/cisla-platce", data={"municipality": "hradek", "customer_id": "A-1"})
    claim = committed(app, "SELECT id FROM citizen_customer_id WHERE citizen_id = :c", c=citizen.id)
    assert claim is not None
    client.post(f"/ucet/cisla-platce/{claim}/odebrat")
    assert committed(app, "SELECT count(*) FROM citizen_customer_id") == 0
    assert client.post("/ucet/smazat", data={"confirm": "1"}).status_code == 303
    assert committed(app, "SELECT count(*) FROM citizen") == 0
    assert _audited(app, "privacy.erase") == 1
