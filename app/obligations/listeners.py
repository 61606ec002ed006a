"""Payments credit their obligation when paid and debit it when refunded."""

from __future__ import annotations

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import (
    Obligation,
    Payment,
    PaymentEvent,
)


def credit_obligation(payment: Payment, session: Session) -> None:
    if payment.obligation_id is None:
        return
    # One atomic UPDATE: concurrent payments of the same obligation both count.
    session.execute(
        update(Obligation)
        .where(Obligation.id == payment.obligation_id)
        .values(amount_paid=Obligation.amount_paid + (payment.amount - payment.amount_refunded), updated_at=utcnow())
    )


def debit_refund(payment: Payment, session: Session) -> None:
    if payment.obligation_id is None:
        return
    # The listener runs before _apply_refunded stores the new total on the payment:
    # the new total is in the transition event just appended.
    data = session.scalar(
        select(PaymentEvent.data)
        .where(PaymentEvent.payment_id == payment.id, PaymentEvent.kind == "transition")
        .order_by(PaymentEvent.id.desc())
        .limit(1)
    ) or {}
    total = min(int(data.get("amount_refunded", payment.amount)), payment.amount)
    delta = total - payment.amount_refunded
    if delta <= 0:
        return
    session.execute(
        update(Obligation)
        .where(Obligation.id == payment.obligation_id)
        .values(
            amount_paid=case((Obligation.amount_paid > delta, Obligation.amount_paid - delta), else_=0),
            updated_at=utcnow(),
        )
    )

