"""The one small interface every payment gateway implements.

Gateways take and return plain dataclasses; they never see an ORM object and import
nothing from ``app``. Each adapter maps its provider's statuses onto our few
``GatewayStatus`` values.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class GatewayStatus(StrEnum):
    PENDING = "pending"  # created at the gateway, the payer has not finished
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # the gateway gave up waiting for the payer (GoPay TIMEOUTED, BTCPay Expired)
    # The payer has paid but the gateway has not confirmed yet (BTCPay Processing: waiting for
    # confirmations). Not paid for us; the citizen is told to wait.
    PROCESSING = "processing"


class GatewayError(Exception):
    """The gateway refused or could not be reached; the message is safe to log."""


class InvalidNotification(GatewayError):
    """A notification that is not signed by the gateway, or cannot be read."""


@dataclass(frozen=True)
class PaymentRequest:
    external_id: str
    amount: int  # haléře
    currency: str
    description: str
    return_url: str
    notify_url: str
    payer_email: str | None = None
    variable_symbol: str | None = None
    # When our payment expires (aware UTC): a gateway whose checkout has its own deadline
    # (BTCPay's invoice) must not outlive it. None = the gateway's default.
    expires_at: datetime | None = None


@dataclass(frozen=True)
class CreatedPayment:
    reference: str
    # Where to send the payer. None when the card form is rendered on our page with the
    # gateway's own fields (Stripe.js); then ``client_secret`` is set.
    redirect_url: str | None
    client_secret: str | None = None


@dataclass(frozen=True)
class StatusResult:
    reference: str
    status: GatewayStatus
    amount: int
    amount_refunded: int = 0
    requires_action: bool = False
    failure_reason: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    # What the payer actually sent when it differs from ``amount`` (partial or over payment,
    # e.g. BTCPay PaidPartial / PaidOver); None = exactly ``amount`` once paid.
    amount_received: int | None = None
    # Facts worth keeping on the payment and the receipt (e.g. BTC amount and rate), plain values.
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notification:
    event_id: str
    reference: str
    event_type: str
    # The status this event implies, mapped by the adapter from its provider's event names
    # (None when the event says nothing about the status). Only a hint: the domain still asks
    # ``get_status`` for the truth.
    implied_status: GatewayStatus | None = None
    # Why the payment failed, when the event says so (GP webpay's PRCODE/SRCODE on the
    # payer's return, in Czech); only GP webpay's return carries a reason at all.
    failure_reason: str | None = None


@dataclass(frozen=True)
class RefundResult:
    reference: str
    refund_reference: str
    amount: int
    succeeded: bool


class Gateway(ABC):
    """A payment gateway adapter.

    ``create`` starts a payment and says where the payer goes; ``get_status`` is the
    truth (notifications only trigger a call to it); ``parse_notification`` verifies
    and reads a notification; ``refund`` and ``cancel`` act on a payment.
    """

    name: str = ""
    #: True when the card form lives on our page with the gateway's own fields.
    embedded_fields: bool = False

    @abstractmethod
    def create(self, request: PaymentRequest) -> CreatedPayment: ...

    @abstractmethod
    def get_status(self, reference: str) -> StatusResult: ...

    @abstractmethod
    def parse_notification(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str] | None = None
    ) -> Notification:
        """Verify the signature and read the event; raise InvalidNotification if not.

        ``query`` carries the URL parameters for gateways that notify with a GET
        (GoPay: ``?id=…``) or sign the payer's return (GP webpay)."""

    def parse_return(self, query: Mapping[str, str]) -> Notification | None:
        """Read the parameters the payer's browser brings back to our return page.

        Gateways that sign them (GP webpay) verify and return a Notification, raising
        InvalidNotification when tampered; the others return None and the domain asks
        ``get_status``."""
        return None

    def check_connection(self) -> None:
        """ "Test the connection" for a clerk: raise GatewayError with a message that says
        what failed (credentials refused, host unreachable…); return quietly when it works."""
        return None

    @abstractmethod
    def refund(self, reference: str, amount: int, reason: str = "") -> RefundResult: ...

    @abstractmethod
    def cancel(self, reference: str) -> StatusResult: ...
