"""The citizen pages' Flask-WTF forms (app/account/forms.py, app/checkout/forms.py): bad
input is a form error with the page's own message, never a 500, and the rules are the
ones the hand-read forms had (issue 9)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.db import db_session
from app.models import Citizen, CitizenCustomerId, ConsentRecord, Payment
from tests.factories import make_municipality, make_payment, make_service
from tests.identity.test_citizen_account import _citizen, _log_in
from tests.test_lookup import _lookup, _setup

CONTROL = "nepovolené řídicí znaky"


def test_profile_form_messages(app, client) -> None:  # type: ignore[no-untyped-def]
    citizen = _citizen()
    _log_in(client, citizen)
    page = client.get("/ucet/profil")
    assert page.status_code == 200 and 'value="Jana Nováková"' in page.text and 'value="jana@example.cz"' in page.text
    r = client.post("/ucet/profil", data={"name": "Jana\x1b Nováková", "email": "jana\x1b@example.cz"})
    assert r.status_code == 422
    assert CONTROL in r.text and "Zadejte platnou e-mailovou adresu" in r.text
    # A missing name is the name's message, not the control characters'.
    r = client.post("/ucet/profil", data={"name": "\x1b", "email": ""})
    assert r.status_code == 422 and "Vyplňte jméno a příjmení." in r.text and CONTROL not in r.text
    # No e-mail (or only spaces) is allowed and stored as none; the name is stripped.
    r = client.post("/ucet/profil", data={"name": "  Jana Svobodová ", "email": "   "})
    assert r.status_code == 303
    db_session.expire_all()
    saved = db_session.get(Citizen, citizen.id)
    assert (saved.name, saved.email) == ("Jana Svobodová", None)
    # A JSON body is not a form: nothing is read from it.
    r = client.post("/ucet/profil", json={"name": ["x"], "email": 5})
    assert r.status_code == 422 and "Vyplňte jméno a příjmení." in r.text


def test_customer_id_form_messages(app, client) -> None:  # type: ignore[no-untyped-def]
    jana = _citizen()
    make_municipality(name="Hrádek nad Nisou", slug="hradek")
    _log_in(client, jana)
    r = client.post("/ucet/cisla-platce", data={"municipality": "hra\x1bdek", "customer_id": "A-1"}, follow_redirects=True)
    assert "Vyberte obec ze seznamu." in r.text
    # The customer ID's message comes first when both are wrong.
    r = client.post("/ucet/cisla-platce", data={"municipality": "x", "customer_id": "A\x1b"}, follow_redirects=True)
    assert "Číslo plátce může obsahovat jen" in r.text and "Vyberte obec ze seznamu." not in r.text
    r = client.post("/ucet/cisla-platce", data={"customer_id": "x" * 51}, follow_redirects=True)
    assert "Číslo plátce může obsahovat jen" in r.text
    assert db_session.scalar(select(func.count(CitizenCustomerId.id))) == 0
    for _ in range(2):  # claimed twice: one row
        r = client.post("/ucet/cisla-platce", data={"municipality": "hradek", "customer_id": " A-1 "}, follow_redirects=True)
        assert "Číslo plátce je přidáno." in r.text
    assert db_session.scalars(select(CitizenCustomerId.customer_id)).all() == ["A-1"]


def test_erasure_needs_the_box_ticked_with_its_value(app, client) -> None:  # type: ignore[no-untyped-def]
    citizen = _citizen()
    _log_in(client, citizen)
    for data in ({"confirm": "0"}, {"confirm": "on"}, {"confirm": "1\x1b"}, {"confirm": ""}):
        r = client.post("/ucet/smazat", data=data)
        assert r.status_code == 422 and "Potvrďte prosím" in r.text, data
    assert db_session.get(Citizen, citizen.id) is not None


def test_review_form_refuses_a_gateway_not_offered_with_its_message(app, client) -> None:  # type: ignore[no-untyped-def]
    p = make_payment(make_service(make_municipality()))
    for gateway in ("", "demo\x1b", "x" * 300, "paypal"):
        r = client.post(f"/platba/{p.external_id}", data={"gateway": gateway, "consent": "yes"})
        assert r.status_code == 422, gateway
        assert "Vyberte jeden z nabízených způsobů platby" in r.text and CONTROL not in r.text
    r = client.post(f"/platba/{p.external_id}", data={"consent": "yes\x1b"})
    assert r.status_code == 422 and "souhlasit s obchodními podmínkami" in r.text and CONTROL not in r.text
    assert db_session.scalar(select(func.count(ConsentRecord.id))) == 0
    r = client.post(f"/platba/{p.external_id}", data={"gateway": "demo", "consent": "yes"})
    assert r.status_code == 303
    db_session.expire_all()
    assert db_session.get(Payment, p.id).state == "started"


def test_lookup_form_folds_whitespace_and_reads_only_the_form(app, client) -> None:  # type: ignore[no-untyped-def]
    m, _ = _setup()
    r = _lookup(client, m, "\tZ-1001 ")
    assert r.status_code == 200 and "J*** N***" in r.text
    r = _lookup(client, m, "Z-1001\x1b")
    assert r.status_code == 422 and "smí obsahovat jen písmena" in r.text
    r = client.post(f"/obec/{m.slug}/odpad/vyhledat", json={"customer_id": "Z-1001"})
    assert r.status_code == 422 and "Zadejte zákaznické číslo" in r.text
