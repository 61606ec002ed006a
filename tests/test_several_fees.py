"""Several fees in one payment: after a lookup the payer sees the open obligations of the
same customer ID or household in the municipality, ticks some, pays once; each is
credited, the receipt lists each, refunds debit the last items first."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.db import db_session
from app.models import AmountMatch, LookupMode, Obligation, Payment, PaymentItem, Receipt
from app.obligations.importing import import_obligations
from app.obligations.listeners import refunded_per_item
from app.payments.refunds import refund_payment
from tests.conftest import deliver_notifications
from tests.factories import make_municipality, make_service

WASTE = (
    "Zákaznické číslo;Jméno;Částka;Splatnost;Variabilní symbol;Domácnost;E-mail\n"
    "Z-1001;Jana Nováková;900;31. 12. 2099;2099001;LIP-12;jana@example.cz\n"
    "Z-1002;Petr Novák;900;31. 12. 2099;2099002;LIP-12;\n"
    "Z-1003;Eva Cizí;900;31. 12. 2099;2099003;;\n"
)
DOG = "Zákaznické číslo;Jméno;Částka;Variabilní symbol\nZ-1001;Jana Nováková;300;2099101\n"


def _setup():  # type: ignore[no-untyped-def]
    m = make_municipality(slug="lipa")
    waste = make_service(
        m,
        slug="odpad",
        name="Poplatek za odpad",
        lookup_mode=LookupMode.REQUIRED,
        amount_match=AmountMatch.EXACT,
        variable_symbol="1337",
    )
    dog = make_service(
        m,
        slug="pes",
        name="Poplatek ze psa",
        lookup_mode=LookupMode.OPTIONAL,
        amount_match=AmountMatch.EXACT,
        variable_symbol="2000",
    )
    assert import_obligations(waste, WASTE.encode(), "odpad.csv").imported
    assert import_obligations(dog, DOG.encode(), "pes.csv").imported
    return m, waste, dog


def _obligation(service, customer_id: str) -> Obligation:  # type: ignore[no-untyped-def]
    db_session.expire_all()
    return db_session.scalar(
        select(Obligation).where(Obligation.service_id == service.id, Obligation.customer_id == customer_id)
    )


def _form(page: str) -> dict[str, object]:
    token = re.search(r'name="household_token" value="([^"]+)"', page).group(1)
    form_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    return {"household_token": token, "form_token": form_token, "name": "Jana Nováková", "email": "jana@example.cz"}


def test_lookup_lists_the_households_open_obligations(app, client):  # type: ignore[no-untyped-def]
    m, _waste, _dog = _setup()
    page = client.post(f"/obec/{m.slug}/odpad/vyhledat", data={"customer_id": "z-1001"}).text
    text = re.sub(r"\s+", " ", page)
    # Jana's waste fee, Petr's (same household) and Jana's dog (same customer ID); not Eva's.
    assert text.count('name="item"') == 3
    assert "J*** N***" in text and "P*** N***" in text and "E*** C***" not in text
    assert "Poplatek ze psa" in text and "Celkem za všechny předpisy: <strong>2 100 Kč" in text.replace("\u00a0", " ")
    assert "Petr" not in text  # names stay masked


def test_several_fees_are_paid_in_one_payment_and_each_is_credited(app, client):  # type: ignore[no-untyped-def]
    m, waste, dog = _setup()
    page = client.post(f"/obec/{m.slug}/odpad/vyhledat", data={"customer_id": "Z-1001"}).text
    # Nothing ticked: an error, the list is shown again.
    r = client.post(f"/obec/{m.slug}/zaplatit-vice", data=_form(page))
    assert r.status_code == 422 and "Zaškrtněte alespoň jeden předpis" in r.text
    # Jana's waste fee and the dog (positions 0 and 2 of the list shown).
    r = client.post(f"/obec/{m.slug}/zaplatit-vice", data={**_form(page), "item": ["0", "2"]})
    assert r.status_code == 303
    review = r.headers["Location"]
    ext = review.rstrip("/").split("/")[-1]
    payment = db_session.scalar(select(Payment).where(Payment.external_id == ext))
    assert payment.amount == 120000 and payment.obligation_id is None
    assert [(i.obligation.customer_id, i.service_id, i.amount) for i in payment.items] == [
        ("Z-1001", waste.id, 90000),
        ("Z-1001", dog.id, 30000),
    ]
    assert payment.variable_symbol and payment.variable_symbol not in ("2099001", "2099101")
    listed = re.sub(r"\s+", " ", client.get(review).text)
    assert "Platíte 2 předpisy" in listed and "Poplatek ze psa" in listed
    # The same form again finds the same payment.
    again = client.post(f"/obec/{m.slug}/zaplatit-vice", data={**_form(page), "item": ["0", "2"]})
    assert again.headers["Location"] == review
    started = client.post(review, data={"consent": "yes"})
    assert started.status_code == 303
    assert (
        client.post(started.headers["Location"].replace("http://localhost", ""), data={"action": "pay"}).status_code
        == 303
    )
    assert deliver_notifications(app, client) == [202]
    assert _obligation(waste, "Z-1001").amount_paid == 90000
    assert _obligation(dog, "Z-1001").amount_paid == 30000
    assert _obligation(waste, "Z-1002").amount_paid == 0
    # The success page and the receipt list each item.
    success = re.sub(r"\s+", " ", client.get(f"/platba/{ext}/zaplaceno").text)
    assert "Zaplacené předpisy (2)" in success and "Poplatek ze psa" in success
    db_session.expire_all()
    receipt = db_session.scalar(select(Receipt).where(Receipt.payment_id == payment.id))
    verify = re.sub(r"\s+", " ", client.get(f"/potvrzeni/{receipt.token}").text)
    assert "Poplatek za odpad" in verify and "Poplatek ze psa" in verify and "Z-1001" in verify
    # Looking up again: Jana's waste fee is paid (with its receipt), Petr's is still open.
    page = re.sub(r"\s+", " ", client.post(f"/obec/{m.slug}/odpad/vyhledat", data={"customer_id": "Z-1001"}).text)
    assert "Zaplaceno" in page and f"/potvrzeni/{receipt.token}" in page
    assert page.count('name="item"') == 1 and "P*** N***" in page
    # A refund of the dog's fee debits the dog (the last item) only.
    refund_payment(db_session.get(Payment, payment.id), 30000, reason="pes uhynul")
    assert _obligation(dog, "Z-1001").amount_paid == 0
    assert _obligation(waste, "Z-1001").amount_paid == 90000
    refund_payment(db_session.get(Payment, payment.id), 90000, reason="vše")
    assert _obligation(waste, "Z-1001").amount_paid == 0


def test_a_forged_or_foreign_household_token_is_refused(app, client):  # type: ignore[no-untyped-def]
    m, _waste, _dog = _setup()
    other = make_municipality(slug="jinde")
    make_service(other, slug="odpad", lookup_mode=LookupMode.REQUIRED)
    page = client.post(f"/obec/{m.slug}/odpad/vyhledat", data={"customer_id": "Z-1001"}).text
    assert client.post(f"/obec/{other.slug}/zaplatit-vice", data={**_form(page), "item": ["0"]}).status_code == 422
    forged = {**_form(page), "household_token": "x" + _form(page)["household_token"], "item": ["0"]}
    assert client.post(f"/obec/{m.slug}/zaplatit-vice", data=forged).status_code == 422
    assert db_session.scalar(select(PaymentItem.id)) is None


def test_one_ticked_fee_is_an_ordinary_obligation_payment(app, client):  # type: ignore[no-untyped-def]
    m, waste, _dog = _setup()
    page = client.post(f"/obec/{m.slug}/odpad/vyhledat", data={"customer_id": "Z-1001"}).text
    r = client.post(f"/obec/{m.slug}/zaplatit-vice", data={**_form(page), "item": ["1"]})
    assert r.status_code == 303
    payment = db_session.scalar(select(Payment))
    assert payment.obligation_id == _obligation(waste, "Z-1002").id and payment.items == []
    assert payment.variable_symbol == "2099002"


def test_refunds_fall_on_the_last_items_first() -> None:
    items = [(1, 900), (2, 300)]
    assert refunded_per_item(items, 0) == [0, 0]
    assert refunded_per_item(items, 200) == [0, 200]
    assert refunded_per_item(items, 500) == [200, 300]
    assert refunded_per_item(items, 1200) == [900, 300]
