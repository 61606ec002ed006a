"""Refunds through the gateway, via the state machine."""

from __future__ import annotations

import logging

from app.db import db_session
from app.gateways import get_gateway
from app.models import (
    Payment,
    PaymentState,
)
from app.payments.errors import PaymentError
from app.payments.status import apply_refunded
from gateway import GatewayError

log = logging.getLogger(__name__)
S = PaymentState


def refund_payment(payment: Payment, amount: int, *, reason: str, actor: str | None = None) -> Payment:
    """Refund all or part of a paid payment through its gateway, via the state machine."""
    if not payment.is_refundable:
        raise PaymentError("not_refundable")
    remaining = payment.amount - payment.amount_refunded
    if amount <= 0 or amount > remaining:
        raise PaymentError("refund_amount")
    if not reason.strip():
        raise PaymentError("refund_reason")
    try:
        result = get_gateway(payment.gateway_name).refund(payment.gateway_reference or "", amount, reason)
    except GatewayError as exc:
        raise PaymentError(f"gateway: {exc}") from None
    if not result.succeeded:
        raise PaymentError("gateway_refused_refund")
    apply_refunded(
        payment,
        payment.amount_refunded + amount,
        reason=f"refund: {reason}",
        data={"refund_reference": result.refund_reference, "amount": amount, "actor": actor},
    )
    db_session.commit()
    return payment
