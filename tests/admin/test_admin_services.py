"""Services in the admin: create, edit, deactivate, validation, preview; municipality mode."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db_session
from app.models import AuditLog, Municipality, Service
from tests.admin.staff_helpers import login, make_staff
from tests.factories import make_municipality, make_service

GOOD = {
    "name": "Poplatek ze psů", "slug": "", "description": "Za psa a rok.", "account": "19-2000145399/0800",
    "amount_mode": "fixed", "amount": "300", "vs_rule": "per_payment", "variable_symbol": "1341",
    "constant_symbol": "0558", "allowed_gateways": ["demo"], "active": "y",
}


def _admin_client(app, m):  # type: ignore[no-untyped-def]
    c = app.test_client()
    login(c, make_staff("municipality_admin", m))
    return c


def test_create_edit_deactivate_a_service(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    c = _admin_client(app, m)
    r = c.post("/admin/sluzby/nova", data=GOOD)
    assert r.status_code == 303, r.text
    s = db_session.scalar(select(Service).where(Service.municipality_id == m.id))
    assert (s.name, s.slug, s.amount, s.iban, s.variable_symbol, s.allowed_gateways) == (
        "Poplatek ze psů", "poplatek-ze-psu", 30000, "CZ6508000000192000145399", "1341", ["demo"])
    r = c.post(f"/admin/sluzby/{s.id}/upravit", data={**GOOD, "amount_mode": "payer", "amount": "",
                                                      "amount_min": "100", "amount_max": "1 000,50"})
    assert r.status_code == 303, r.text
    db_session.expire_all()
    s = db_session.get(Service, s.id)
    assert (s.amount_mode, s.amount, s.amount_min, s.amount_max) == ("payer", None, 10000, 100050)
    assert c.post(f"/admin/sluzby/{s.id}/deaktivovat", data={"active": "0"}).status_code == 303
    db_session.expire_all()
    assert db_session.get(Service, s.id).active is False
    # The citizen no longer sees it.
    assert app.test_client().get(f"/obec/{m.slug}/{s.slug}").status_code == 404
    actions = [a.action for a in db_session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert {"service_create", "service_edit", "service_deactivate"} <= set(actions)
    edit = db_session.scalar(select(AuditLog).where(AuditLog.action == "service_edit"))
    assert edit.before["amount"] == 30000 and edit.after["amount_min"] == 10000


def _errors(app, m, **changes):  # type: ignore[no-untyped-def]
    c = _admin_client(app, m)
    r = c.post("/admin/sluzby/nova", data={**GOOD, **changes})
    assert r.status_code == 422, r.text[:200]
    assert db_session.scalar(select(Service).where(Service.municipality_id == m.id, Service.name == GOOD["name"])) is None
    return r.text


def test_validation_messages(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    cases = [
        ({"account": "19-2000145398/0800"}, "Číslo účtu není platné"),
        ({"account": "CZ6508000000192000145398"}, "Číslo účtu není platné"),
        ({"amount": ""}, "Zadejte částku"),
        ({"amount": "-5"}, "nesmí být záporná"),
        ({"amount": "0"}, "větší než nula"),
        ({"amount": "abc"}, "číslo v korunách"),
        ({"amount_mode": "payer", "amount_min": "500", "amount_max": "100"}, "alespoň tak velká"),
        ({"amount_mode": "nonsense"}, "pevnou cenu"),
        ({"vs_rule": "fixed", "variable_symbol": ""}, "1 až 10 číslic"),
        ({"vs_rule": "fixed", "variable_symbol": "12a4"}, "1 až 10 číslic"),
        ({"vs_rule": "per_payment", "variable_symbol": "12345"}, "nejvýše 4 číslice"),
        ({"constant_symbol": "12345"}, "Konstantní symbol"),
        ({"allowed_gateways": []}, "alespoň jednu"),
        ({"allowed_gateways": ["bitcoin"]}, "není v portálu zapnutá"),
        ({"name": "ab"}, "alespoň 3 znaky"),
    ]
    for changes, message in cases:
        text = _errors(app, m, **changes)
        assert message in text, (changes, message)
        assert 'aria-invalid="true"' in text or "fieldset" in text


def test_slug_must_be_unique_in_the_municipality(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    make_service(m, slug="psi")
    assert "už v obci existuje" in _errors(app, m, slug="psi")
    # Another municipality may use the same address.
    other = make_municipality()
    assert _admin_client(app, other).post("/admin/sluzby/nova", data={**GOOD, "slug": "psi"}).status_code == 303


def test_service_without_own_account_uses_the_municipalitys(app):  # type: ignore[no-untyped-def]
    m = make_municipality(iban=None)
    assert "nemá nastavený účet" in _errors(app, m, account="")
    m2 = make_municipality()
    assert _admin_client(app, m2).post("/admin/sluzby/nova", data={**GOOD, "account": ""}).status_code == 303


def test_preview_renders_the_citizen_page(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m, name="Poplatek za odpad", amount=80000, active=False)
    c = app.test_client()
    login(c, make_staff("viewer", m))
    r = c.get(f"/admin/sluzby/{s.id}/nahled")
    assert r.status_code == 200
    assert "Náhled" in r.text and "Poplatek za odpad" in r.text and "800" in r.text and "Jméno a příjmení plátce" in r.text
    r = c.post(f"/admin/sluzby/{s.id}/nahled", data={"name": "", "email": "x"})
    assert r.status_code == 200 and "Vyplňte jméno" in r.text
    r = c.post(f"/admin/sluzby/{s.id}/nahled", data={"name": "Jana Nová", "email": "jana@example.cz"})
    assert "V náhledu se platba nezakládá" in r.text
    from app.models import Payment

    assert db_session.scalar(select(Payment)) is None


def test_municipality_admin_switches_demo_and_live_mode(app):  # type: ignore[no-untyped-def]
    m = make_municipality(demo_mode=True)
    c = _admin_client(app, m)
    assert c.get(f"/admin/obec/{m.id}/nastaveni").status_code == 200
    r = c.post(f"/admin/obec/{m.id}/nastaveni", data={"mode": "live", "account": "nonsense"})
    assert r.status_code == 422 and "Číslo účtu není platné" in r.text
    assert c.post(f"/admin/obec/{m.id}/nastaveni", data={"mode": "live", "account": ""}).status_code == 303
    db_session.expire_all()
    assert db_session.get(Municipality, m.id).demo_mode is False
    m2 = make_municipality(iban=None)
    r = _admin_client(app, m2).post(f"/admin/obec/{m2.id}/nastaveni", data={"mode": "live", "account": ""})
    assert r.status_code == 422 and "vyžaduje" in r.text
    assert db_session.scalar(select(AuditLog).where(AuditLog.action == "municipality_settings")).after["demo_mode"] is False


def test_operator_must_pick_a_municipality_before_creating_a_service(app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    c = app.test_client()
    login(c, make_staff("operator", None))
    r = c.get("/admin/sluzby/nova")
    assert r.status_code == 302
    c.post("/admin/obec/vybrat", data={"municipality_id": str(m.id)})
    assert c.post("/admin/sluzby/nova", data=GOOD).status_code == 303
    assert db_session.scalar(select(Service).where(Service.municipality_id == m.id)) is not None
