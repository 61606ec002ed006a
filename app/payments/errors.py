"""Errors of the payment domain; each carries a code that app.errors maps to a message."""

from __future__ import annotations

from app.errors import DomainError


class PaymentError(DomainError):
    """A payment cannot be created or moved; ``code`` says why (app.errors maps it to text)."""

    domain = "payment"


class IllegalTransition(PaymentError):
    """A move the transition table forbids: a bug of the caller, never shown to a payer."""

    def __init__(self, message: str):
        super().__init__("illegal_transition")
        self.args = (message,)


class AmountRuleError(PaymentError):
    """The amount breaks the service's rule; ``limit`` (haléře) is the bound it broke."""

    domain = "amount"

    def __init__(self, code: str, limit: int | None = None):
        super().__init__(code, limit=limit)
        self.limit = limit


class ObligationAmountError(AmountRuleError):
    """The amount breaks the rule of paying an obligation (exact, at least, at most)."""

    domain = "obligation_amount"


class RefundError(PaymentError):
    domain = "refund"


class CardPaymentError(PaymentError):
    """The card could not be submitted; ``retryable`` says whether trying again may help."""

    domain = "card"

    def __init__(self, code: str, retryable: bool = True):
        super().__init__(code)
        self.retryable = retryable



class GatewayUnavailable(PaymentError):
    """The payment's gateway did not answer when the payment was started; the payment is
    kept in ``created`` (the payer may try again later or pay by transfer)."""


class NotificationRejected(Exception):
    """A gateway notification refused with an HTTP status (for the gateway, not a person)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason

