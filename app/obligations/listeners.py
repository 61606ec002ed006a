"""Payments credit their obligations when paid and debit them when refunded: the one
obligation a payment pays, or each item of a payment of several (PaymentItem)."""

from __future__ import annotations

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from app.bulk import ids_in
from app.db import utcnow
from app.models import (
    Obligation,
    Payment,
    PaymentItem,
)
from app.models.payment import refunded_per_item
from app.models.refund import refund_being_applied


def _items(payment: Payment, session: Session) -> list[tuple[int, int]]:
    """(obligation id, amount) of each item, in order."""
    return list(
        session.execute(
            select(PaymentItem.obligation_id, PaymentItem.amount)
            .where(PaymentItem.payment_id == payment.id)
            .order_by(PaymentItem.position, PaymentItem.id)
        ).tuples()
    )


def _add(session: Session, obligation_id: int, delta: int) -> None:
    # One atomic UPDATE: concurrent payments of the same obligation both count.
    session.execute(
        update(Obligation)
        .where(Obligation.id == obligation_id)
        .values(amount_paid=Obligation.amount_paid + delta, updated_at=utcnow())
    )


def _subtract(session: Session, obligation_id: int, delta: int) -> None:
    session.execute(
        update(Obligation)
        .where(Obligation.id == obligation_id)
        .values(
            amount_paid=case((Obligation.amount_paid > delta, Obligation.amount_paid - delta), else_=0),
            updated_at=utcnow(),
        )
    )


def credit_obligation(payment: Payment, session: Session) -> None:
    items = _items(payment, session)
    if items:
        refunded = refunded_per_item(items, payment.amount_refunded)
        for (obligation_id, amount), back in zip(items, refunded, strict=True):
            if amount - back > 0:
                _add(session, obligation_id, amount - back)
        return
    if payment.obligation_id is None:
        return
    _add(session, payment.obligation_id, payment.amount - payment.amount_refunded)


def debit_refund(payment: Payment, session: Session) -> None:
    items = _items(payment, session)
    if payment.obligation_id is None and not items:
        return
    refund = refund_being_applied(session, payment.id)
    if refund is None:
        return
    if items:
        # The listener runs before the payment's new total is stored.
        before = refunded_per_item(items, payment.amount_refunded)
        after = refunded_per_item(items, min(payment.amount_refunded + refund.amount, payment.amount))
        for (obligation_id, _amount), old, new in zip(items, before, after, strict=True):
            if new > old:
                _subtract(session, obligation_id, new - old)
        return
    _subtract(session, payment.obligation_id, refund.amount)  # type: ignore[arg-type]


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
