"""Payments credit their obligation when paid and debit it when refunded."""

from __future__ import annotations

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from app.bulk import ids_in
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


def credit_obligations_many(payment_ids: list[int], session: Session) -> None:
    """``credit_obligation`` for a batch paid together: one UPDATE … FROM the batch's sums."""
    totals = (
        select(Payment.obligation_id, func.sum(Payment.amount - Payment.amount_refunded).label("total"))
        .where(ids_in(Payment.id, payment_ids, session), Payment.obligation_id.is_not(None))
        .group_by(Payment.obligation_id)
        .subquery()
    )
    session.execute(
        update(Obligation)
        .where(Obligation.id == totals.c.obligation_id)
        .values(amount_paid=Obligation.amount_paid + totals.c.total, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    for loaded in list(session.identity_map.values()):  # loaded obligations read the new sums
        if isinstance(loaded, Obligation):
            session.expire(loaded)


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
