"""The citizen account: pages, payments linked at checkout, customer IDs, GDPR export
and erasure. The citizen is logged in by the session key the login views set."""

from __future__ import annotations

import hashlib
import json
import re

from sqlalchemy import func, select

from app.citizens.accounts import birth_number_hmac, log_in_citizen
from app.db import db_session
from app.identity.base import Identity
from app.identity.session import CITIZEN_KEY
from app.models import Citizen, CitizenCustomerId, Payment, PaymentState
from tests.factories import make_municipality, make_payment, make_service


def _citizen(**kw: object) -> Citizen:
    c = Citizen(
        provider=kw.pop("provider", "bankid"),
        subject=kw.pop("subject", "sub-1"),
        name=kw.pop("name", "Jana Nováková"),
        email=kw.pop("email", "jana@example.cz"),
        **kw,
    )
    db_session.add(c)
    db_session.commit()
    return c


def _log_in(client, citizen: Citizen) -> None:  # type: ignore[no-untyped-def]
    with client.session_transaction() as s:
        s[CITIZEN_KEY] = citizen.id


def test_account_pages_need_a_logged_in_citizen(app, client) -> None:  # type: ignore[no-untyped-def]
    for method, path in [("get", "/ucet/"), ("get", "/ucet/profil"), ("get", "/ucet/export"), ("post", "/ucet/smazat")]:
        r = getattr(client, method)(path)
        assert r.status_code == 302, path
        assert "/prihlaseni?next=" in r.headers["Location"], path


def test_logged_in_payment_is_prefilled_and_linked_to_the_account(app, client) -> None:  # type: ignore[no-untyped-def]
    citizen = _citizen()
    m = make_municipality()
    s = make_service(m)
    _log_in(client, citizen)
    page = client.get(f"/obec/{m.slug}/{s.slug}")
    assert 'value="Jana Nováková"' in page.text and 'value="jana@example.cz"' in page.text
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        f"/obec/{m.slug}/{s.slug}", data={"name": "Jana Nováková", "email": "jana@example.cz", "form_token": token}
    )
    assert r.status_code == 303
    ext = r.headers["Location"].rstrip("/").split("/")[-1]
    payment = db_session.scalar(select(Payment).where(Payment.external_id == ext))
    assert payment.citizen_id == citizen.id

    anonymous = app.test_client()
    page = anonymous.get(f"/obec/{m.slug}/{s.slug}")
    assert 'value="Jana Nováková"' not in page.text
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    r = anonymous.post(
        f"/obec/{m.slug}/{s.slug}", data={"name": "Petr Novák", "email": "petr@example.cz", "form_token": token}
    )
    ext = r.headers["Location"].rstrip("/").split("/")[-1]
    assert db_session.scalar(select(Payment.citizen_id).where(Payment.external_id == ext)) is None


def test_account_lists_only_own_payments_across_municipalities(app, client) -> None:  # type: ignore[no-untyped-def]
    jana, petr = _citizen(), _citizen(subject="sub-2", name="Petr Novák")
    liberec = make_service(make_municipality(name="Liberec"), name="Poplatek ze psa")
    jablonec = make_service(make_municipality(name="Jablonec nad Nisou"), name="Komunální odpad")
    p1 = make_payment(liberec, citizen_id=jana.id, state=PaymentState.PAID)
    p2 = make_payment(jablonec, citizen_id=jana.id)
    other = make_payment(liberec, citizen_id=petr.id, payer_name="Petr Novák")
    _log_in(client, jana)
    page = client.get("/ucet/")
    assert page.status_code == 200
    assert f'data-payment="{p1.external_id}"' in page.text and f'data-payment="{p2.external_id}"' in page.text
    assert "Liberec" in page.text and "Jablonec nad Nisou" in page.text and "Poplatek ze psa" in page.text
    assert other.external_id not in page.text and "Petr Novák" not in page.text
    assert "zaplaceno" in page.text


def test_profile_edit_validates_and_saves(app, client) -> None:  # type: ignore[no-untyped-def]
    citizen = _citizen()
    _log_in(client, citizen)
    r = client.post("/ucet/profil", data={"name": "J", "email": "not-an-email"})
    assert r.status_code == 422
    assert "Vyplňte jméno a příjmení." in r.text and "Zadejte platnou e-mailovou adresu" in r.text
    assert r.text.count('aria-invalid="true"') == 2
    db_session.expire_all()
    assert db_session.get(Citizen, citizen.id).name == "Jana Nováková"
    r = client.post("/ucet/profil", data={"name": "Jana Svobodová", "email": "jana.s@example.cz"})
    assert r.status_code == 303
    db_session.expire_all()
    saved = db_session.get(Citizen, citizen.id)
    assert (saved.name, saved.email) == ("Jana Svobodová", "jana.s@example.cz")


def test_customer_ids_are_claimed_per_municipality(app, client) -> None:  # type: ignore[no-untyped-def]
    jana, petr = _citizen(), _citizen(subject="sub-2")
    m = make_municipality(name="Hrádek nad Nisou", slug="hradek")
    _log_in(client, jana)
    r = client.post(
        "/ucet/cisla-platce", data={"municipality": "hradek", "customer_id": "ODP-2026/17"}, follow_redirects=True
    )
    assert "Číslo plátce je přidáno." in r.text and "ODP-2026/17" in r.text
    r = client.post(
        "/ucet/cisla-platce", data={"municipality": "hradek", "customer_id": "<script>"}, follow_redirects=True
    )
    assert "Číslo plátce může obsahovat jen" in r.text
    r = client.post(
        "/ucet/cisla-platce", data={"municipality": "neexistuje", "customer_id": "1"}, follow_redirects=True
    )
    assert "Vyberte obec ze seznamu." in r.text
    claims = db_session.scalars(select(CitizenCustomerId)).all()
    assert [(c.citizen_id, c.municipality_id, c.customer_id) for c in claims] == [(jana.id, m.id, "ODP-2026/17")]

    # Another citizen cannot remove Jana's claim.
    other = app.test_client()
    _log_in(other, petr)
    r = other.post(f"/ucet/cisla-platce/{claims[0].id}/odebrat", follow_redirects=True)
    assert "Toto číslo plátce ve vašem účtu není." in r.text
    assert db_session.scalar(select(func.count(CitizenCustomerId.id))) == 1
    r = client.post(f"/ucet/cisla-platce/{claims[0].id}/odebrat", follow_redirects=True)
    assert "Číslo plátce je odebráno." in r.text
    assert db_session.scalar(select(func.count(CitizenCustomerId.id))) == 0


def test_birth_number_hmac_is_keyed_and_normalised(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        digest = birth_number_hmac("805517/0005")
        assert digest == birth_number_hmac("8055170005")
        assert digest != hashlib.sha256(b"8055170005").hexdigest()
        assert birth_number_hmac("12") is None
        app.config["SECRET_KEY"] = "another-secret"
        assert birth_number_hmac("8055170005") != digest


def test_birth_number_is_kept_only_with_consent(app) -> None:  # type: ignore[no-untyped-def]
    identity = Identity(provider="bankid", subject="s-9", name="Jana", birth_number="8055170005")
    with app.test_request_context():
        citizen = log_in_citizen(identity, birth_number_consent=False)
        assert citizen.birth_number_hmac is None
        citizen = log_in_citizen(identity, birth_number_consent=True)
        assert citizen.birth_number_hmac == birth_number_hmac("8055170005")
    assert db_session.scalar(select(func.count(Citizen.id))) == 1


def test_withdrawing_birth_number_consent_deletes_the_hmac(app, client) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        digest = birth_number_hmac("8055170005")
    citizen = _citizen(birth_number_hmac=digest)
    _log_in(client, citizen)
    assert "Odvolat souhlas" in client.get("/ucet/profil").text
    r = client.post("/ucet/rodne-cislo/odvolat", follow_redirects=True)
    assert "Souhlas s párováním podle rodného čísla je odvolán" in r.text
    db_session.expire_all()
    assert db_session.get(Citizen, citizen.id).birth_number_hmac is None


def test_gdpr_export_is_a_json_download_of_everything_held(app, client) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        digest = birth_number_hmac("8055170005")
    citizen = _citizen(birth_number_hmac=digest)
    m = make_municipality(name="Chrastava", slug="chrastava")
    p = make_payment(make_service(m, name="Poplatek ze psa"), citizen_id=citizen.id, amount=25000)
    db_session.add(CitizenCustomerId(citizen_id=citizen.id, municipality_id=m.id, customer_id="PES-12"))
    db_session.commit()
    _log_in(client, citizen)
    r = client.get("/ucet/export")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(r.data)
    assert data["account"]["name"] == "Jana Nováková" and data["account"]["email"] == "jana@example.cz"
    assert data["account"]["matching_by_birth_number"] is True
    assert data["customer_ids"] == [
        {"municipality": "Chrastava", "customer_id": "PES-12", "created_at": data["customer_ids"][0]["created_at"]}
    ]
    [payment] = data["payments"]
    assert payment["id"] == p.external_id and payment["amount"] == 25000 and payment["service"] == "Poplatek ze psa"
    assert any("563/1991" in line for line in data["retention"])
    assert "8055170005" not in r.text and digest not in r.text


def test_erasure_removes_personal_data_and_keeps_payments(app, client) -> None:  # type: ignore[no-untyped-def]
    citizen = _citizen()
    m = make_municipality()
    payment = make_payment(make_service(m), citizen_id=citizen.id, state=PaymentState.PAID)
    db_session.add(CitizenCustomerId(citizen_id=citizen.id, municipality_id=m.id, customer_id="X1"))
    db_session.commit()
    _log_in(client, citizen)

    page = client.get("/ucet/smazat")
    assert "zákon č. 563/1991 Sb., o účetnictví, § 31–32" in page.text
    assert "zákon č. 280/2009 Sb., daňový řád" in page.text and "10 let" in page.text

    r = client.post("/ucet/smazat", data={})
    assert r.status_code == 422 and "Potvrďte prosím" in r.text
    assert db_session.get(Citizen, citizen.id) is not None

    r = client.post("/ucet/smazat", data={"confirm": "1"}, follow_redirects=True)
    assert "Váš účet a osobní údaje v něm jsou smazány." in r.text
    db_session.expire_all()
    assert db_session.scalar(select(func.count(Citizen.id))) == 0
    assert db_session.scalar(select(func.count(CitizenCustomerId.id))) == 0
    kept = db_session.get(Payment, payment.id)
    assert kept is not None and kept.state == "paid" and kept.citizen_id is None
    # The accounting record stays (amount, state, service); the payer's data goes (issue 17).
    assert kept.amount == payment.amount and kept.payer_name == "" and kept.payer_email == ""
    r = client.get("/ucet/")
    assert r.status_code == 302 and "/prihlaseni" in r.headers["Location"]
