"""Card payments on our own page (Stripe.js): finalize on the server."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.db import db_session
from app.gateways import gateway_for_payment
from app.models import (
    Payment,
    PaymentState,
)
from app.payments.errors import CardPaymentError
from app.payments.status import apply_gateway_status
from app.payments.transitions import record_event
from gateway import GatewayError, StatusResult

log = logging.getLogger(__name__)
S = PaymentState


@dataclass(frozen=True)
class CardConfirmation:
    state: str
    requires_action: bool = False
    # Only when the browser must run 3-D Secure: Stripe.js needs the intent's secret.
    client_secret: str | None = None


def confirm_card_payment(payment: Payment, card_token: str) -> CardConfirmation:
    """Finalize on the server: attach the card the browser tokenized and confirm.

    Our server sees only the token, never card data. The gateway's answer goes
    through ``apply_gateway_status``; a decline makes the payment failed. When the
    bank wants 3-D Secure the payment stays started and the browser gets the secret."""
    if payment.state != S.STARTED:
        if payment.state == S.CREATED:
            raise CardPaymentError("not_started", retryable=False)
        return CardConfirmation(state=payment.state)  # paid or ended meanwhile: show it
    try:
        gw = gateway_for_payment(payment)
    except GatewayError:
        raise CardPaymentError("gateway_unavailable") from None
    confirm = getattr(gw, "confirm_with_card", None)
    if not gw.embedded_fields or confirm is None or not payment.gateway_reference:
        raise CardPaymentError("no_card_form", retryable=False)
    try:
        status: StatusResult = confirm(payment.gateway_reference, card_token)
    except GatewayError as exc:
        code = getattr(exc, "code", "gateway_error")
        log.warning("card confirmation of %s refused: %s", payment.external_id, exc)
        record_event(payment, "gateway_message", "card confirmation refused", {"error": str(exc)[:200]})
        db_session.commit()
        raise CardPaymentError(code) from None
    payment = apply_gateway_status(payment, status, source="card confirmation")
    db_session.commit()
    needs_action = status.requires_action and payment.state == S.STARTED
    return CardConfirmation(
        state=payment.state,
        requires_action=needs_action,
        client_secret=payment.gateway_client_secret if needs_action else None,
    )
