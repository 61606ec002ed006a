"""A municipality admin erases a payer from the obligation list; others cannot."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db_session
from app.models import AuditLog, Obligation, Payment, PaymentState
from tests.admin.staff_helpers import login, make_staff
from tests.factories import make_municipality, make_payment, make_service
from tests.privacy.privacy_helpers import make_obligation


def _setup():  # type: ignore[no-untyped-def]
    m = make_municipality()
    s = make_service(m)
    ob = make_obligation(s, customer_id="P-77", payer_name="Jana Nováková", note="volat večer")
    p = make_payment(s, state=PaymentState.PAID, obligation_id=ob.id, payer_email="jana@example.cz")
    return m, s, ob, p


def test_municipality_admin_erases_a_payer(app) -> None:  # type: ignore[no-untyped-def]
    m, s, ob, p = _setup()
    admin = make_staff("municipality_admin", m)
    client = app.test_client()
    login(client, admin)
    listing = client.get(f"/admin/sluzby/{s.id}/predpisy")
    url = f"/admin/sluzby/{s.id}/predpisy/{ob.id}/vymaz"
    assert f'href="{url}"' in listing.text and "Vymazat osobní údaje plátce P-77" in listing.text
    page = client.get(url)
    assert page.status_code == 200 and "P-77" in page.text and "Jana Nováková" in page.text
    r = client.post(url, data={})
    assert r.status_code == 422 and "Potvrďte prosím" in r.text
    r = client.post(url, data={"confirm": "1"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/admin/sluzby/{s.id}/predpisy")
    db_session.expire_all()
    o = db_session.get(Obligation, ob.id)
    assert (o.payer_name, o.note, o.customer_id, o.amount) == ("", None, "P-77", ob.amount)
    pay = db_session.get(Payment, p.id)
    assert (pay.payer_name, pay.payer_email, pay.amount, pay.state) == ("", "", p.amount, "paid")
    entry = db_session.scalar(select(AuditLog).where(AuditLog.action == "privacy.erase"))
    assert entry.staff_id == admin.id and entry.municipality_id == m.id
    assert "Nováková" not in str(entry.after) and "P-77" not in str(entry.after)
    assert "Osobní údaje plátce jsou vymazány" in client.get(r.headers["Location"]).text


def test_erasure_is_for_the_admins_of_that_municipality_only(app) -> None:  # type: ignore[no-untyped-def]
    m, s, ob, _ = _setup()
    clerk = make_staff("clerk", m)
    other_admin = make_staff("municipality_admin", make_municipality())
    url = f"/admin/sluzby/{s.id}/predpisy/{ob.id}/vymaz"
    c = app.test_client()
    login(c, clerk)
    assert "/vymaz" not in c.get(f"/admin/sluzby/{s.id}/predpisy").text
    assert c.post(url, data={"confirm": "1"}).status_code == 403
    c = app.test_client()
    login(c, other_admin)
    assert c.post(url, data={"confirm": "1"}).status_code == 404
    db_session.expire_all()
    assert db_session.get(Obligation, ob.id).payer_name == "Jana Nováková"


def test_unknown_or_mismatched_obligation_is_404(app) -> None:  # type: ignore[no-untyped-def]
    m, s, ob, _ = _setup()
    other_service = make_service(m)
    admin = make_staff("municipality_admin", m)
    c = app.test_client()
    login(c, admin)
    assert c.get(f"/admin/sluzby/{other_service.id}/predpisy/{ob.id}/vymaz").status_code == 404
    assert c.get(f"/admin/sluzby/{s.id}/predpisy/99999999999/vymaz").status_code == 404
    assert c.get(f"/admin/sluzby/{s.id}/predpisy/424242/vymaz").status_code == 404
