"""Refunds through the gateway, via the state machine.

Card gateways (Stripe, GoPay, GP webpay) refund at once. BTCPay cannot: it creates a pull
payment the payer claims with their own wallet address, and the refund is recorded only
when BTCPay reports it paid out (``settle_pending_refunds``, run by ``flask payments poll``).
Until then it is a ``refund_pending`` event and its amount is not refundable again."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from app.db import db_session
from app.gateways import gateway_for_payment
from app.models import Payment, PaymentEvent, PaymentState, StaffUser
from app.payments.errors import RefundError
from app.payments.status import apply_refunded
from app.payments.transitions import record_event
from app.staff.audit import audit
from gateway import GatewayError

log = logging.getLogger(__name__)
S = PaymentState
PENDING, COMPLETED = "refund_pending", "refund_completed"


def pending_refunds(payment: Payment) -> list[dict[str, Any]]:
    """Refunds created at the gateway and not yet paid out: [{refund_reference, amount, …}]."""
    events = db_session.scalars(
        select(PaymentEvent).where(PaymentEvent.payment_id == payment.id, PaymentEvent.kind.in_([PENDING, COMPLETED]))
    ).all()
    done = {e.data.get("refund_reference") for e in events if e.kind == COMPLETED}
    return [dict(e.data) for e in events if e.kind == PENDING and e.data.get("refund_reference") not in done]


def refund_payment(payment: Payment, amount: int, *, reason: str, actor: str | None = None) -> Payment:
    """Refund all or part of a paid payment through its gateway, via the state machine."""
    if not payment.is_refundable:
        raise RefundError("not_refundable")
    waiting = sum(int(p.get("amount") or 0) for p in pending_refunds(payment))
    remaining = payment.amount - payment.amount_refunded - waiting
    if amount <= 0 or amount > remaining:
        raise RefundError("refund_amount", max=remaining)
    if not reason.strip():
        raise RefundError("refund_reason")
    try:
        result = gateway_for_payment(payment).refund(payment.gateway_reference or "", amount, reason)
    except GatewayError as exc:
        log.warning("refund of %s refused by the gateway: %s", payment.external_id, exc)
        raise RefundError("gateway_error") from None
    if not result.succeeded:
        if payment.gateway_name != "btcpay":
            raise RefundError("gateway_refused_refund")
        record_event(
            payment,
            PENDING,
            f"refund: {reason}"[:200],
            {"refund_reference": result.refund_reference, "amount": amount, "actor": actor},
        )
        db_session.commit()
        return payment
    apply_refunded(
        payment,
        payment.amount_refunded + amount,
        reason=f"refund: {reason}",
        data={"refund_reference": result.refund_reference, "amount": amount, "actor": actor},
    )
    db_session.commit()
    return payment


def refund_claim_url(payment: Payment, refund_reference: str) -> str | None:
    """Where the payer claims a BTCPay refund with their wallet address."""
    gw = gateway_for_payment(payment)
    status = getattr(gw, "refund_status", None)
    if status is None:
        return None
    try:
        return status(refund_reference).claim_url
    except GatewayError:
        return None


def settle_pending_refunds() -> int:
    """Record the refunds BTCPay has paid out since; returns how many."""
    ids = db_session.scalars(select(PaymentEvent.payment_id).where(PaymentEvent.kind == PENDING).distinct()).all()
    settled = 0
    for pid in ids:
        payment = db_session.get(Payment, pid)
        if payment is None:
            continue
        for pending in pending_refunds(payment):
            reference = str(pending.get("refund_reference") or "")
            try:
                gw = gateway_for_payment(payment)
                status = gw.refund_status(reference)  # type: ignore[attr-defined]
            except (GatewayError, AttributeError) as exc:
                log.warning("refund %s of %s: status unavailable: %s", reference, payment.external_id, exc)
                continue
            if not status.completed:
                continue
            amount = int(pending.get("amount") or 0)
            record_event(payment, COMPLETED, "refund paid out", {"refund_reference": reference, "amount": amount})
            apply_refunded(
                payment,
                payment.amount_refunded + amount,
                reason="refund paid out",
                data={"refund_reference": reference, "amount": amount, "actor": pending.get("actor")},
            )
            db_session.commit()
            settled += 1
    return settled


def refund_by_staff(payment: Payment, amount: int, *, reason: str, staff: StaffUser) -> Payment:
    """A clerk's refund: refunded at the gateway, then written to the audit log with the
    payment's state before and after. Raises RefundError (nothing refunded, nothing logged)."""
    before = {"state": payment.state, "amount_refunded": payment.amount_refunded}
    refund_payment(payment, amount, reason=reason, actor=staff.email)
    audit(
        "refund",
        payment,
        before=before,
        staff=staff,
        after={"state": payment.state, "amount_refunded": payment.amount_refunded, "amount": amount, "reason": reason},
    )
    return payment
