"""Refunds through the gateway, via the state machine."""

from __future__ import annotations

import logging

from app.db import db_session
from app.gateways import get_gateway
from app.models import (
    Payment,
    StaffUser,
)
from app.payments.errors import RefundError
from app.payments.status import apply_refunded
from app.staff.audit import audit
from gateway import GatewayError

log = logging.getLogger(__name__)


def refund_payment(payment: Payment, amount: int, *, reason: str, actor: str | None = None) -> Payment:
    """Refund all or part of a paid payment through its gateway, via the state machine."""
    if not payment.is_refundable:
        raise RefundError("not_refundable")
    remaining = payment.amount - payment.amount_refunded
    if amount <= 0 or amount > remaining:
        raise RefundError("refund_amount", max=remaining)
    if not reason.strip():
        raise RefundError("refund_reason")
    try:
        result = get_gateway(payment.gateway_name).refund(payment.gateway_reference or "", amount, reason)
    except GatewayError as exc:
        log.warning("refund of %s refused by the gateway: %s", payment.external_id, exc)
        raise RefundError("gateway_error") from None
    if not result.succeeded:
        raise RefundError("gateway_refused_refund")
    apply_refunded(
        payment,
        payment.amount_refunded + amount,
        reason=f"refund: {reason}",
        data={"refund_reference": result.refund_reference, "amount": amount, "actor": actor},
    )
    db_session.commit()
    return payment


def refund_by_staff(payment: Payment, amount: int, *, reason: str, staff: StaffUser) -> Payment:
    """A clerk's refund: refunded at the gateway (committed at once: the money has moved),
    then the audit row with the state before and after, which the request commits.
    Raises RefundError (nothing refunded, nothing logged)."""
    before = {"state": payment.state, "amount_refunded": payment.amount_refunded}
    refund_payment(payment, amount, reason=reason, actor=staff.email)
    audit("refund", payment, before=before, staff=staff, commit=False,
          after={"state": payment.state, "amount_refunded": payment.amount_refunded, "amount": amount, "reason": reason})
    return payment
