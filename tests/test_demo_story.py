"""The demo tells the story (issue 14): payer lists with customer IDs on lookup-enabled
services, a household to pay at once, refundable seeded payments, payments of the current
year as well as 2025, payers whose first name and surname agree in gender."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.db import db_session
from app.demo_data import (
    FEMALE_FIRST_NAMES,
    MALE_FIRST_NAMES,
    SURNAMES,
    seed_demo,
    seed_demo_payer_lists,
    seed_demo_payments,
)
from app.models import LookupMode, Municipality, Obligation, Payment, PaymentState, Service
from app.payments.refunds import refund_payment


def _gender_agrees(name: str) -> bool:
    first, last = name.split(" ", 1)
    male = {m for m, _ in SURNAMES}
    female = {f for _, f in SURNAMES}
    return (first in FEMALE_FIRST_NAMES and last in female) or (first in MALE_FIRST_NAMES and last in male)


def test_demo_has_payer_lists_a_household_refundable_and_current_payments(app, client):  # type: ignore[no-untyped-def]
    seed_demo(active_count=5)
    assert seed_demo_payer_lists() > 100
    assert seed_demo_payer_lists() == 0  # idempotent
    liberec = db_session.scalar(select(Municipality).where(Municipality.slug == "liberec"))
    waste = db_session.scalar(select(Service).where(Service.municipality_id == liberec.id, Service.slug == "odpad"))
    assert waste.lookup_mode == LookupMode.OPTIONAL and liberec.reminder_days_before == 7
    # The README's customer ID: Jana Nováková's household, three waste fees and the dog.
    page = re.sub(r"\s+", " ", client.post("/obec/liberec/odpad/vyhledat", data={"customer_id": "1001"}).text)
    assert page.count('name="item"') == 4 and "Poplatek ze psů" in page
    assert client.post("/obec/liberec/psi/vyhledat", data={"customer_id": "pes-1001"}).status_code == 200
    names = db_session.scalars(select(Obligation.payer_name)).all()
    assert all(_gender_agrees(n) for n in names)
    # Payments of the current year (here: as on 10 February 2026), refundable at the demo gateway.
    assert seed_demo_payments(2026, now=datetime(2026, 2, 10, 12, tzinfo=UTC)) > 150
    paid = db_session.scalars(select(Payment).where(Payment.state == PaymentState.PAID)).all()
    assert paid and all(p.paid_at < datetime(2026, 2, 10, 12, tzinfo=UTC) for p in paid)
    assert all(p.paid_at >= datetime(2025, 12, 31, 23, tzinfo=UTC) for p in paid)  # 1 January in Prague
    assert any(p.paid_at.month == 2 for p in paid)
    assert all(_gender_agrees(p.payer_name) for p in paid)
    refund_payment(paid[0], paid[0].amount, reason="ukázka")
    assert paid[0].state == PaymentState.REFUNDED
    assert (
        db_session.scalar(select(func.count()).select_from(Payment).where(Payment.state == PaymentState.REFUNDED)) == 1
    )
