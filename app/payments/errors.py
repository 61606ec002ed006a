"""Errors of the payment domain; each carries a code the pages map to a message."""

from __future__ import annotations

import logging

from app.models import (
    PaymentState,
)

log = logging.getLogger(__name__)
S = PaymentState


class PaymentError(Exception):
    """A payment cannot be created or moved; the message is safe to show to staff."""


class IllegalTransition(PaymentError):
    pass


class AmountRuleError(PaymentError):
    def __init__(self, code: str, limit: int | None = None):
        super().__init__(code)
        self.code = code
        self.limit = limit




class CardPaymentError(PaymentError):
    """The card could not be submitted; ``code`` says why (safe to show, mapped to text)."""

    def __init__(self, code: str, retryable: bool = True):
        super().__init__(code)
        self.code = code
        self.retryable = retryable



class GatewayUnavailable(PaymentError):
    """The payment's gateway did not answer when the payment was started; the payment is
    kept in ``created`` (the payer may try again later or pay by transfer)."""


class NotificationRejected(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class DuplicateNotification(NotificationRejected):
    """An event already recorded (a replay, or GoPay repeating its trigger)."""

    def __init__(self, payment_id: int):
        super().__init__(409, "event already processed")
        self.payment_id = payment_id
