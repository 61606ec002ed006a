"""Stripe adapter: PaymentIntents through the official SDK (``stripe.StripeClient``).

The card form lives on our page with Stripe.js fields (``embedded_fields``); the card
never reaches our server. Stripe.js turns it into a token, and ``confirm_with_card``
attaches the token's card to the PaymentIntent and confirms it here ("finalize on the
server"). Only when Stripe answers ``requires_action`` does the browser run the
3-D Secure step with the PaymentIntent's client secret.

Stripe's many PaymentIntent statuses map onto our few ``GatewayStatus`` values here and
nowhere else. Webhooks are verified with the endpoint's signing secret and only say
which PaymentIntent to ask about; ``get_status`` is the truth.

``STRIPE_API_BASE`` points the SDK at another server (localstripe in tests).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import stripe

from gateway.base import (
    CreatedPayment,
    Gateway,
    GatewayError,
    GatewayStatus,
    InvalidNotification,
    Notification,
    PaymentRequest,
    RefundResult,
    StatusResult,
)

SIGNATURE_HEADER = "Stripe-Signature"
REQUEST_TIMEOUT = 20  # seconds; the SDK's default (80 s) would hold a web worker too long

_PI_ID = re.compile(r"^pi_[A-Za-z0-9]{1,100}$")
# The status an event implies (Notification.implied_status); other events imply none.
_EVENT_STATUS = {
    "payment_intent.succeeded": GatewayStatus.PAID,
    "charge.succeeded": GatewayStatus.PAID,
    "payment_intent.processing": GatewayStatus.PROCESSING,
    "payment_intent.payment_failed": GatewayStatus.FAILED,
    "charge.failed": GatewayStatus.FAILED,
    "payment_intent.canceled": GatewayStatus.CANCELLED,
}
_CARD_SOURCE = re.compile(r"^(tok|card|pm)_[A-Za-z0-9_]{1,200}$")
# Statuses in which a PaymentIntent still waits for a card or for its confirmation.
_CONFIRMABLE = frozenset({"requires_payment_method", "requires_confirmation"})
_CANCELABLE = frozenset({"requires_payment_method", "requires_confirmation", "requires_action", "requires_capture"})
# Refunds that took the money back (or will, without anyone acting again).
_REFUND_COUNTS = frozenset({"succeeded", "pending"})
# Stripe card error codes we pass on as they are: they are safe and the UI maps them.
_SAFE_CODES = frozenset(
    {
        "card_declined",
        "expired_card",
        "incorrect_cvc",
        "incorrect_number",
        "invalid_cvc",
        "invalid_expiry_month",
        "invalid_expiry_year",
        "invalid_number",
        "processing_error",
        "authentication_required",
        "payment_intent_authentication_failure",
        "insufficient_funds",
    }
)


class StripeGatewayError(GatewayError):
    """A Stripe error with a short code that is safe to log and to map to a message."""

    def __init__(self, code: str, message: str | None = None):
        super().__init__(message or code)
        self.code = code


def _safe_error(exc: stripe.StripeError) -> StripeGatewayError:
    """Never pass Stripe's raw message on: it can echo request data."""
    code = getattr(exc, "code", None) or ""
    if isinstance(exc, stripe.CardError):
        return StripeGatewayError(code if code in _SAFE_CODES else "card_error")
    if isinstance(exc, stripe.APIConnectionError):
        return StripeGatewayError("stripe_unreachable")
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return StripeGatewayError("stripe_auth")
    if isinstance(exc, stripe.RateLimitError):
        return StripeGatewayError("stripe_rate_limited")
    if isinstance(exc, stripe.InvalidRequestError):
        status = exc.http_status or 400
        return StripeGatewayError(
            "not_found" if status == 404 else "invalid_request", f"stripe: invalid request ({status})"
        )
    return StripeGatewayError("stripe_error", f"stripe: error ({exc.http_status or 'no status'})")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _get(obj: Any, key: str) -> Any:
    """A field of a StripeObject (not a dict in SDK 16) or of a dict, or None."""
    return obj[key] if obj is not None and key in obj else None


def map_status(pi: Any) -> GatewayStatus:
    """Stripe's PaymentIntent status → ours (pay-connector's two layers of status)."""
    status = _get(pi, "status")
    if status == "succeeded":
        return GatewayStatus.PAID
    if status == "canceled":
        return GatewayStatus.CANCELLED
    if status == "requires_payment_method" and _get(pi, "last_payment_error"):
        # A card was tried and declined (or failed 3-D Secure).
        return GatewayStatus.FAILED
    # requires_payment_method (no card yet), requires_confirmation, requires_action,
    # processing, requires_capture: the payer or the bank has not finished.
    return GatewayStatus.PENDING


class StripeGateway(Gateway):
    name = "stripe"
    embedded_fields = True

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str | None,
        api_base: str | None = None,
        max_network_retries: int = 2,
    ):
        if not secret_key:
            raise GatewayError("stripe gateway is not configured (STRIPE_SECRET_KEY)")
        self.webhook_secret = webhook_secret or ""
        options: dict[str, Any] = {
            "http_client": stripe.RequestsClient(timeout=REQUEST_TIMEOUT),
            "max_network_retries": max_network_retries,
        }
        if api_base:
            options["base_addresses"] = {"api": api_base.rstrip("/")}
        self.client = stripe.StripeClient(secret_key, **options)

    # -- the interface -------------------------------------------------------------
    def create(self, request: PaymentRequest) -> CreatedPayment:
        if request.amount <= 0:
            raise GatewayError("amount must be positive")
        metadata = {"external_id": request.external_id}
        if request.variable_symbol:
            metadata["variable_symbol"] = request.variable_symbol
        try:
            pi = self.client.v1.payment_intents.create(
                params={
                    "amount": request.amount,  # haléře: Stripe's smallest unit of CZK
                    "currency": request.currency.lower(),
                    "metadata": metadata,
                    # Card only: the Stripe.js card element is the one form we render.
                    "payment_method_types": ["card"],
                },
                # Starting the same payment twice (two tabs) yields one PaymentIntent.
                options={"idempotency_key": f"create-{request.external_id}"},
            )
        except stripe.StripeError as exc:
            raise _safe_error(exc) from None
        return CreatedPayment(reference=pi.id, redirect_url=None, client_secret=pi.client_secret)

    def get_status(self, reference: str) -> StatusResult:
        return self._status(self._retrieve(reference))

    def parse_notification(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str] | None = None
    ) -> Notification:
        if not self.webhook_secret:
            raise InvalidNotification("webhook signing secret is not configured")
        signature = _header(headers, SIGNATURE_HEADER)
        if not signature:
            raise InvalidNotification("missing signature")
        try:
            event = stripe.Webhook.construct_event(body, signature, self.webhook_secret)
        except stripe.SignatureVerificationError:
            raise InvalidNotification("bad signature") from None
        except (ValueError, KeyError, TypeError, IndexError):
            raise InvalidNotification("malformed body") from None
        try:
            event_id = event["id"]
            event_type = event["type"]
            obj = event["data"]["object"]
            # payment_intent.* events carry the intent; charge.* and refund events name it.
            reference = obj["id"] if _get(obj, "object") == "payment_intent" else _get(obj, "payment_intent")
        except (KeyError, TypeError, AttributeError):
            raise InvalidNotification("malformed event") from None
        if not (isinstance(event_id, str) and event_id and isinstance(event_type, str)):
            raise InvalidNotification("malformed event")
        if not (isinstance(reference, str) and _PI_ID.match(reference)):
            raise InvalidNotification(f"event {event_type[:60]} names no payment intent")
        return Notification(
            event_id=event_id[:100], reference=reference, event_type=event_type[:60],
            implied_status=_EVENT_STATUS.get(event_type),
        )

    def refund(self, reference: str, amount: int, reason: str = "") -> RefundResult:
        self._check_reference(reference)
        if amount <= 0:
            raise GatewayError("refund amount must be positive")
        try:
            refund = self.client.v1.refunds.create(
                params={
                    "payment_intent": reference,
                    "amount": amount,
                    # Stripe's own ``reason`` is an enum; our free text goes to metadata.
                    "metadata": {"reason": reason[:500]} if reason else {},
                }
            )
        except stripe.StripeError as exc:
            raise _safe_error(exc) from None
        return RefundResult(
            reference=reference,
            refund_reference=refund.id,
            amount=refund.amount,
            succeeded=_get(refund, "status") in _REFUND_COUNTS,
        )

    def cancel(self, reference: str) -> StatusResult:
        pi = self._retrieve(reference)
        if _get(pi, "status") in _CANCELABLE:
            try:
                pi = self.client.v1.payment_intents.cancel(reference)
            except stripe.StripeError as exc:
                raise _safe_error(exc) from None
        return self._status(pi)

    # -- finalize on the server ----------------------------------------------------
    def confirm_with_card(self, reference: str, card: str) -> StatusResult:
        """Attach the card Stripe.js tokenized (``tok_…``, or a ``card_``/``pm_`` id) to
        the PaymentIntent and confirm it.

        A declined card is not an error: the result says FAILED with the decline code.
        ``requires_action`` means the browser must run 3-D Secure next. A PaymentIntent
        that is past waiting for a card is returned as it is."""
        if not isinstance(card, str) or not _CARD_SOURCE.match(card):
            raise StripeGatewayError("invalid_card_token")
        pi = self._retrieve(reference)
        if _get(pi, "status") not in _CONFIRMABLE or map_status(pi) == GatewayStatus.FAILED:
            return self._status(pi)
        try:
            payment_method = card
            if card.startswith("tok_"):
                try:
                    token = self.client.v1.tokens.retrieve(card)
                except stripe.InvalidRequestError:
                    raise StripeGatewayError("invalid_card_token") from None
                if _get(token, "used") or not _get(token, "card"):
                    raise StripeGatewayError("invalid_card_token")
                payment_method = token["card"]["id"]
            try:
                self.client.v1.payment_intents.update(reference, params={"payment_method": payment_method})
                pi = self.client.v1.payment_intents.confirm(reference)
            except stripe.CardError:
                # Declined: the intent now carries last_payment_error; read it back.
                pi = self.client.v1.payment_intents.retrieve(reference)
            except stripe.InvalidRequestError as exc:
                # The intent was just read, so a missing resource is the payment method.
                if exc.http_status == 404 or getattr(exc, "param", None) == "payment_method":
                    raise StripeGatewayError("invalid_card_token") from None
                raise
        except stripe.StripeError as exc:
            raise _safe_error(exc) from None
        return self._status(pi)

    # -- helpers -------------------------------------------------------------------
    def _check_reference(self, reference: str) -> None:
        if not isinstance(reference, str) or not _PI_ID.match(reference):
            raise StripeGatewayError("unknown_reference", "not a PaymentIntent id")

    def _retrieve(self, reference: str) -> Any:
        self._check_reference(reference)
        try:
            return self.client.v1.payment_intents.retrieve(reference)
        except stripe.StripeError as exc:
            raise _safe_error(exc) from None

    def _refunded(self, reference: str) -> int:
        try:
            refunds = self.client.v1.refunds.list(params={"payment_intent": reference, "limit": 100})
            return sum(r.amount for r in refunds.auto_paging_iter() if _get(r, "status") in _REFUND_COUNTS)
        except stripe.StripeError as exc:
            raise _safe_error(exc) from None

    def _status(self, pi: Any) -> StatusResult:
        status = map_status(pi)
        error = _get(pi, "last_payment_error")
        failure = None
        if status == GatewayStatus.FAILED:
            code = _get(error, "code") if error else None
            failure = code if code in _SAFE_CODES else "declined"
        return StatusResult(
            reference=pi.id,
            status=status,
            amount=pi.amount,
            # Only a succeeded intent has a charge that refunds can belong to.
            amount_refunded=self._refunded(pi.id) if status == GatewayStatus.PAID else 0,
            requires_action=_get(pi, "status") == "requires_action",
            failure_reason=failure,
            raw={"status": _get(pi, "status"), "currency": _get(pi, "currency")},
        )


def make_stripe_gateway(settings: Mapping[str, Any]) -> StripeGateway:
    return StripeGateway(
        secret_key=settings.get("STRIPE_SECRET_KEY") or "",
        webhook_secret=settings.get("STRIPE_WEBHOOK_SECRET"),
        api_base=settings.get("STRIPE_API_BASE"),
    )
