"""The gateway's truth: bring a payment in line with what its gateway says."""

from __future__ import annotations

import logging

from app.db import db_session
from app.gateways import get_gateway
from app.models import ALLOWED_TRANSITIONS, Payment, PaymentState
from app.models.payment import gateway_target
from app.payments.refunds import record_gateway_refunds
from app.payments.transitions import record_event, transition_payment
from gateway import GatewayError, StatusResult

log = logging.getLogger(__name__)
S = PaymentState


def apply_gateway_status(payment: Payment, status: StatusResult, *, source: str) -> Payment:
    """Bring our payment in line with what the gateway says. Does not commit."""
    if status.amount and status.amount != payment.amount:
        record_event(payment, "gateway_message", "amount mismatch", {"gateway_amount": status.amount})
        log.error("amount mismatch on %s: %s != %s", payment.external_id, status.amount, payment.amount)
        return payment
    target = gateway_target(payment.state, status.status)
    if target is not None:
        if payment.state == S.CREATED and target not in ALLOWED_TRANSITIONS[S.CREATED]:
            transition_payment(payment, S.STARTED, reason=f"{source}: seen at gateway")
        if target == S.FAILED:
            payment.failure_reason = (status.failure_reason or "declined")[:200]
        payment = transition_payment(payment, target, reason=source, data={"gateway_status": status.status})
    if payment.is_refundable and status.amount_refunded > payment.amount_refunded:
        record_gateway_refunds(payment, status.amount_refunded, source=source)
    return payment


def sync_payment(payment: Payment, *, source: str) -> Payment:
    """Ask the gateway for the truth about a payment and apply it; commits."""
    if not payment.gateway_reference:
        return payment
    try:
        status = get_gateway(payment.gateway_name).get_status(payment.gateway_reference)
    except GatewayError as exc:
        log.warning("status of %s unavailable: %s", payment.external_id, exc)
        return payment
    apply_gateway_status(payment, status, source=source)
    db_session.commit()
    return payment
