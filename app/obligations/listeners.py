"""Payments credit their obligation when paid and debit it when refunded."""

from __future__ import annotations

from sqlalchemy import case, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import (
    Obligation,
    Payment,
)
from app.models.refund import refund_being_applied


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
    refund = refund_being_applied(session, payment.id)
    if refund is None:
        return
    delta = refund.amount
    session.execute(
        update(Obligation)
        .where(Obligation.id == payment.obligation_id)
        .values(
            amount_paid=case((Obligation.amount_paid > delta, Obligation.amount_paid - delta), else_=0),
            updated_at=utcnow(),
        )
    )
