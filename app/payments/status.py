"""The gateway's truth: bring a payment in line with what its gateway says."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from app.db import db_session
from app.gateways import gateway_for_payment
from app.models import ALLOWED_TRANSITIONS, Payment, PaymentState
from app.models.payment import gateway_target
from app.payments.refunds import record_gateway_refunds
from app.payments.transitions import record_event, transition_payment
from gateway import GatewayError, GatewayStatus, InvalidNotification, StatusResult

log = logging.getLogger(__name__)
S = PaymentState


def apply_gateway_status(payment: Payment, status: StatusResult, *, source: str) -> Payment:
    """Bring our payment in line with what the gateway says. Does not commit."""
    if status.amount and status.amount != payment.amount:
        record_event(payment, "gateway_message", "amount mismatch", {"gateway_amount": status.amount})
        log.error("amount mismatch on %s: %s != %s", payment.external_id, status.amount, payment.amount)
        return payment
    _remember_details(payment, status, source)
    target = gateway_target(payment.state, status.status)
    data: dict[str, Any] = {"gateway_status": status.status, **_plain(status.details)}
    if target == S.PAID and status.amount_received is not None and status.amount_received > payment.amount:
        # Paid too much (BTCPay PaidOver): paid, and the difference is recorded for return.
        payment.amount_overpaid = status.amount_received - payment.amount
        data["amount_overpaid"] = payment.amount_overpaid
    if target is not None:
        if payment.state == S.CREATED and target not in ALLOWED_TRANSITIONS[S.CREATED]:
            transition_payment(payment, S.STARTED, reason=f"{source}: seen at gateway")
        if target == S.FAILED:
            payment.failure_reason = (status.failure_reason or "declined")[:200]
        payment = transition_payment(payment, target, reason=source, data=data)
    if payment.is_refundable and status.amount_refunded > payment.amount_refunded:
        record_gateway_refunds(payment, status.amount_refunded, source=source)
    return payment


def _plain(details: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in details.items() if isinstance(v, str | int | float | bool) or v is None}


def _remember_details(payment: Payment, status: StatusResult, source: str) -> None:
    """Keep what the gateway said beyond the state (processing, BTC amount and rate, what
    is left to pay) for the status page and the receipt; a change is also an event."""
    details = {**_plain(status.details), "gateway_status": str(status.status)}
    if status.amount_received is not None:
        details["amount_received"] = status.amount_received
    previous = payment.gateway_details or {}
    changed = previous.get("gateway_status", "pending") != details["gateway_status"] or previous.get(
        "amount_received"
    ) != details.get("amount_received")
    if changed and status.status in (GatewayStatus.PROCESSING, GatewayStatus.PENDING):
        # Only the in-between news gets its own event; a move of state is a transition event.
        record_event(payment, "gateway_message", f"{source}: gateway says {status.status}", details)
    # Facts about the payment (BTC amount, rate) stay when a later answer leaves them out.
    payment.gateway_details = {**{k: v for k, v in previous.items() if k in _KEPT}, **details}


_KEPT = frozenset({"btc_amount", "rate", "btc_address", "btc_paid"})


def sync_payment(payment: Payment, *, source: str) -> Payment:
    """Ask the gateway for the truth about a payment and apply it; commits."""
    if not payment.gateway_reference:
        return payment
    try:
        status = gateway_for_payment(payment).get_status(payment.gateway_reference)
    except GatewayError as exc:
        log.warning("status of %s unavailable: %s", payment.external_id, exc)
        return payment
    apply_gateway_status(payment, status, source=source)
    db_session.commit()
    return payment


def apply_return(payment: Payment, query: Mapping[str, str], *, source: str = "return page") -> Payment:
    """The payer's browser is back with the gateway's parameters. Gateways that sign them
    (GP webpay) verify them here: InvalidNotification when tampered or for another payment,
    and nothing changes. Then the gateway is asked (its status service); when it cannot
    say, the signed result itself is applied. Commits."""
    try:
        gw = gateway_for_payment(payment)
    except GatewayError as exc:
        log.warning("gateway of %s unavailable: %s", payment.external_id, exc)
        return payment
    note = gw.parse_return(query)
    if note is None:
        return sync_payment(payment, source=source)
    if note.reference != payment.gateway_reference:
        raise InvalidNotification("return for another payment")
    if not payment.can_become_paid:
        return payment
    record_event(payment, "gateway_message", note.event_type, {"event_id": note.event_id})
    try:
        status = gw.get_status(note.reference)
    except GatewayError as exc:
        log.warning("status of %s unavailable after return: %s", payment.external_id, exc)
        status = None
    if note.implied_status is not None and (status is None or status.status == GatewayStatus.PENDING):
        status = StatusResult(reference=note.reference, status=note.implied_status, amount=0)
    if status is not None:
        if status.status == GatewayStatus.FAILED and note.failure_reason:
            status = replace(status, failure_reason=note.failure_reason)
        apply_gateway_status(payment, status, source=source)
    db_session.commit()
    return payment
