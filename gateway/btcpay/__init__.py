"""BTCPay Server adapter: Bitcoin invoices through the Greenfield API.

The payer goes to BTCPay's own checkout page; BTCPay converts our CZK amount to BTC at its
rate and fixes it for the invoice's lifetime. Webhooks (``BTCPay-Sig``) only say which
invoice to ask about; ``get_status`` re-reads the invoice and its payment methods and maps
them with the table in ``states.py``. Refunds are pull payments in CZK that the payer
claims with their own wallet; ``refund_status`` says when BTCPay has paid one out.

Settings: ``BTCPAY_URL``, ``BTCPAY_STORE_ID``, ``BTCPAY_API_KEY`` (permissions: view and
create invoices, create pull payments), ``BTCPAY_WEBHOOK_SECRET``, ``BTCPAY_INVOICE_MINUTES``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

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
from gateway.btcpay import states
from gateway.btcpay.client import GreenfieldClient, GreenfieldError

SIGNATURE_HEADER = "BTCPay-Sig"
DEFAULT_INVOICE_MINUTES = 15  # BTCPay's own default
# On-chain Bitcoin: "BTC-CHAIN" since BTCPay 2.0, "BTC" before.
_ONCHAIN_IDS = ("BTC-CHAIN", "BTC")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_SIG = re.compile(r"^sha256=([0-9a-fA-F]{64})$")
# What the key needs, each with the broader permissions that include it (BTCPay's policy tree).
REQUIRED_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "btcpay.store.canviewinvoices": ("btcpay.store.canmodifyinvoices", "btcpay.store.canmodifystoresettings"),
    "btcpay.store.cancreateinvoice": ("btcpay.store.canmodifyinvoices", "btcpay.store.canmodifystoresettings"),
    "btcpay.store.cancreatepullpayments": (
        "btcpay.store.canmanagepullpayments",
        "btcpay.store.canmodifystoresettings",
    ),
}
_COMPLETED_PAYOUT = "Completed"
_OPEN_PAYOUTS = frozenset({"AwaitingApproval", "AwaitingPayment", "InProgress"})


@dataclass(frozen=True)
class RefundStatus:
    """Where a refund's pull payment stands. ``completed`` once BTCPay has paid out the whole
    amount; ``claim_url`` is the page where the payer enters their wallet address."""

    refund_reference: str
    completed: bool
    amount: int  # haléře the pull payment is for
    amount_paid: int  # haléře paid out so far (payouts BTCPay reports Completed)
    pending: bool  # a payout is claimed and waits for approval or for the transaction
    claim_url: str | None = None


def to_decimal_czk(amount: int) -> str:
    """Haléře → BTCPay's decimal string ("1234.50"), without going through float."""
    if amount < 0:
        raise GatewayError("amount must not be negative")
    return f"{amount // 100}.{amount % 100:02d}"


def to_halere(value: Any) -> int:
    """BTCPay's decimal string in CZK → haléře, rounded half up (BTC conversions leave digits)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise GatewayError("btcpay: amount is not a number") from None
    if not number.is_finite():
        raise GatewayError("btcpay: amount is not a number")
    return int((number * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _onchain(methods: list[dict[str, Any]]) -> dict[str, Any] | None:
    for wanted in _ONCHAIN_IDS:
        for method in methods:
            if method.get("paymentMethodId") == wanted:
                return method
    return next((m for m in methods if m.get("currency") == "BTC"), None)


def webhook_store_id(body: bytes) -> str | None:
    """The store a webhook says it comes from, read before any verification: only for
    choosing which municipality's settings (and secret) verify it, never trusted further.
    ``parse_notification`` then refuses an event of another store."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    store = event.get("storeId") if isinstance(event, dict) else None
    return store if isinstance(store, str) and _ID.match(store) else None


class BTCPayGateway(Gateway):
    name = "btcpay"

    def __init__(
        self,
        *,
        url: str,
        store_id: str,
        api_key: str,
        webhook_secret: str | None,
        invoice_minutes: int = DEFAULT_INVOICE_MINUTES,
        client: GreenfieldClient | None = None,
    ):
        if not url or not url.startswith(("http://", "https://")):
            raise GatewayError("btcpay gateway is not configured (BTCPAY_URL)")
        if not store_id or not _ID.match(store_id):
            raise GatewayError("btcpay gateway is not configured (BTCPAY_STORE_ID)")
        if not api_key:
            raise GatewayError("btcpay gateway is not configured (BTCPAY_API_KEY)")
        self.url = url.rstrip("/")
        self.store_id = store_id
        self.webhook_secret = webhook_secret or ""
        self.invoice_minutes = max(1, int(invoice_minutes))
        self.client = client or GreenfieldClient(self.url, api_key)

    # -- the interface -------------------------------------------------------------
    def create(self, request: PaymentRequest) -> CreatedPayment:
        if request.amount <= 0:
            raise GatewayError("amount must be positive")
        if request.currency.upper() != "CZK":
            raise GatewayError("btcpay: only CZK invoices are supported")
        reused = self._open_invoice(request)
        if reused is not None:
            return reused
        invoice = self.client.create_invoice(
            self.store_id,
            amount=to_decimal_czk(request.amount),
            currency="CZK",
            metadata={"orderId": request.external_id, "itemDesc": request.description[:200]},
            checkout={
                "expirationMinutes": self.expiration_minutes(request.expires_at),
                "redirectURL": request.return_url,
                "redirectAutomatically": True,
                "defaultLanguage": "cs-CZ",
            },
        )
        reference, link = invoice.get("id"), invoice.get("checkoutLink")
        if not (isinstance(reference, str) and _ID.match(reference) and isinstance(link, str)):
            raise GatewayError("btcpay: invoice created without id or checkout link")
        return CreatedPayment(reference=reference, redirect_url=link)

    def _open_invoice(self, request: PaymentRequest) -> CreatedPayment | None:
        """An unpaid invoice already made for this payment (a second tab, a retried start).
        Greenfield has no idempotency key, and a citizen who pays two invoices for one fee
        needs a refund in Bitcoin: reuse it while it has a few minutes left."""
        amount = to_decimal_czk(request.amount)
        soon = datetime.now(UTC).timestamp() + 120
        for invoice in self.client.list_invoices(self.store_id, take=10, order_id=request.external_id):
            if (
                invoice.get("status") == states.NEW
                and (invoice.get("additionalStatus") or "None") == "None"
                and (invoice.get("metadata") or {}).get("orderId") == request.external_id
                and to_halere(invoice.get("amount", "0")) == to_halere(amount)
                and isinstance(invoice.get("expirationTime"), int | float)
                and invoice["expirationTime"] > soon
                and isinstance(invoice.get("id"), str)
                and _ID.match(invoice["id"])
                and isinstance(invoice.get("checkoutLink"), str)
            ):
                return CreatedPayment(reference=invoice["id"], redirect_url=invoice["checkoutLink"])
        return None

    def expiration_minutes(self, expires_at: datetime | None, now: datetime | None = None) -> int:
        """The invoice never outlives our payment (the BTC amount is fixed while it runs, and
        an invoice paid after our payment expired would need a person); at least 1 minute,
        which is BTCPay's floor."""
        if expires_at is None:
            return self.invoice_minutes
        now = now or datetime.now(UTC)
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        left = int((expires_at - now).total_seconds() // 60)
        return max(1, min(self.invoice_minutes, left))

    def get_status(self, reference: str) -> StatusResult:
        self._check_id(reference)
        invoice = self.client.get_invoice(self.store_id, reference)
        methods = self.client.get_invoice_payment_methods(self.store_id, reference)
        return self._status(reference, invoice, methods)

    def parse_notification(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str] | None = None
    ) -> Notification:
        if not self.webhook_secret:
            raise InvalidNotification("webhook secret is not configured")
        signature = _header(headers, SIGNATURE_HEADER)
        if not signature:
            raise InvalidNotification("missing signature")
        match = _SIG.match(signature.strip())
        if not match:
            raise InvalidNotification("bad signature")
        expected = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, match.group(1).lower()):
            raise InvalidNotification("bad signature")
        try:
            event = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidNotification("malformed body") from None
        if not isinstance(event, dict):
            raise InvalidNotification("malformed body")
        # A redelivery (by hand or automatic) gets a new deliveryId and names the first one in
        # originalDeliveryId: keying on that makes it the same event for deduplication.
        event_id = event.get("originalDeliveryId") or event.get("deliveryId")
        event_type = event.get("type")
        reference = event.get("invoiceId")
        if not (isinstance(event_id, str) and event_id and isinstance(event_type, str) and event_type):
            raise InvalidNotification("malformed event")
        if event.get("storeId") not in (None, self.store_id):
            raise InvalidNotification("event of another store")
        if not (isinstance(reference, str) and _ID.match(reference)):
            raise InvalidNotification(f"event {event_type[:60]} names no invoice")
        return Notification(
            event_id=event_id[:100],
            reference=reference,
            event_type=event_type[:60],
            implied_status=states.implied_status(event_type),
        )

    def refund(self, reference: str, amount: int, reason: str = "") -> RefundResult:
        """Create a pull payment for ``amount`` haléře in CZK. Nothing is paid yet: the payer
        claims it with a wallet address (``refund_status(...).claim_url``) and the store
        approves the payout, so the result never says succeeded."""
        self._check_id(reference)
        if amount <= 0:
            raise GatewayError("refund amount must be positive")
        # Refund on-chain, the way the citizen paid, even if the store also offers Lightning.
        chain = _onchain(self.client.get_invoice_payment_methods(self.store_id, reference))
        pull = self.client.refund_invoice(
            self.store_id,
            reference,
            amount=to_decimal_czk(amount),
            currency="CZK",
            name=f"Vrácení platby {reference}"[:50],
            description=reason[:500],
            payout_method=chain.get("paymentMethodId") if chain else None,
        )
        pull_id = pull.get("id")
        if not (isinstance(pull_id, str) and _ID.match(pull_id)):
            raise GatewayError("btcpay: refund created without a pull payment id")
        return RefundResult(reference=reference, refund_reference=pull_id, amount=amount, succeeded=False)

    def refund_status(self, refund_reference: str) -> RefundStatus:
        self._check_id(refund_reference)
        pull = self.client.get_pull_payment(refund_reference)
        payouts = self.client.get_pull_payment_payouts(refund_reference)
        amount = to_halere(pull.get("amount", "0"))
        paid = sum(
            to_halere(p.get("originalAmount", p.get("amount", "0")))
            for p in payouts
            if p.get("state") == _COMPLETED_PAYOUT
        )
        return RefundStatus(
            refund_reference=refund_reference,
            completed=amount > 0 and paid >= amount,
            amount=amount,
            amount_paid=paid,
            pending=any(p.get("state") in _OPEN_PAYOUTS for p in payouts),
            claim_url=pull.get("viewLink") if isinstance(pull.get("viewLink"), str) else None,
        )

    def cancel(self, reference: str) -> StatusResult:
        # Marking an invoice invalid needs a broader key than we ask for, and an unpaid
        # invoice expires on its own: report where it stands.
        return self.get_status(reference)

    def check_connection(self) -> None:
        """Key, permissions and store, with a message a clerk can act on. Reads the key's own
        permissions (GET /api-keys/current) rather than the store (GET /stores/{id} needs
        "modify store settings", more than this key should have), then lists one invoice to
        prove the store exists and the key reaches it."""
        try:
            key = self.client.current_api_key()
        except GreenfieldError as exc:
            raise GatewayError(self._connection_message(exc)) from None
        granted = {p for p in key.get("permissions") or [] if isinstance(p, str)}
        missing = [need for need, broader in REQUIRED_PERMISSIONS.items() if not self._granted(granted, need, broader)]
        if missing:
            raise GatewayError("BTCPay: the API key lacks the permissions " + ", ".join(missing))
        try:
            self.client.list_invoices(self.store_id, take=1)
        except GreenfieldError as exc:
            raise GatewayError(self._connection_message(exc)) from None

    # -- helpers -------------------------------------------------------------------
    def _granted(self, granted: set[str], need: str, broader: tuple[str, ...]) -> bool:
        if "unrestricted" in granted:
            return True
        # A permission without ":storeId" covers every store of the key's owner.
        return any(p in granted or f"{p}:{self.store_id}" in granted for p in (need, *broader))

    def _connection_message(self, exc: GreenfieldError) -> str:
        if exc.status == 401:
            return "BTCPay refused the API key (BTCPAY_API_KEY): it is wrong or was revoked"
        if exc.status == 403:
            return f"BTCPay: the API key may not use store {self.store_id} (missing permission)"
        if exc.status == 404:
            return f"BTCPay: store {self.store_id} not found (BTCPAY_STORE_ID)"
        if exc.status is None:
            return f"BTCPay server at {self.url} cannot be reached ({exc})"
        return f"BTCPay answered HTTP {exc.status}"

    def _check_id(self, value: str) -> None:
        if not isinstance(value, str) or not _ID.match(value):
            raise GatewayError("btcpay: not an invoice or pull payment id")

    def _status(self, reference: str, invoice: Mapping[str, Any], methods: list[dict[str, Any]]) -> StatusResult:
        amount = to_halere(invoice.get("amount", "0"))
        chain = _onchain(methods)
        # BTCPay's paidAmount is in the invoice currency; older servers lack it, then convert.
        if invoice.get("paidAmount") is not None:
            received = to_halere(invoice["paidAmount"])
        else:
            received = sum(
                to_halere(Decimal(str(m.get("paymentMethodPaid", "0"))) * Decimal(str(m.get("rate", "0"))))
                for m in methods
            )
        payments = [p for m in methods for p in m.get("payments") or [] if p.get("status") != "Invalid"]
        mapped = states.map_invoice(
            invoice.get("status"),
            invoice.get("additionalStatus"),
            payments_confirmed=all(p.get("status") == "Settled" for p in payments),
            has_payments=bool(payments) or received > 0,
        )
        details: dict[str, Any] = {}
        if chain is not None:
            for key, source in (("btc_amount", "amount"), ("rate", "rate"), ("btc_address", "destination")):
                if isinstance(chain.get(source), str) and chain[source]:
                    details[key] = chain[source]
            if chain.get("paymentMethodPaid") not in (None, "0", "0.0", "0.00000000"):
                details["btc_paid"] = str(chain["paymentMethodPaid"])
        # BTC→CZK rounding makes an exact payment read a haléř off; only BTCPay's own flags
        # say that too little or too much arrived.
        uneven = received > 0 and (mapped.partial or mapped.overpaid or mapped.needs_attention)
        if uneven and received < amount:
            details["amount_remaining"] = amount - received
        elif uneven and received > amount:
            details["amount_overpaid"] = received - amount
        for flag in ("partial", "overpaid", "late", "marked", "needs_attention"):
            if getattr(mapped, flag):
                details[flag] = True
        failure = None
        if mapped.status == GatewayStatus.FAILED:
            failure = "marked_invalid" if mapped.marked else "invalid"
        return StatusResult(
            reference=reference,
            status=mapped.status,
            amount=amount,
            failure_reason=failure,
            raw={"status": invoice.get("status"), "additionalStatus": invoice.get("additionalStatus")},
            amount_received=received if uneven else None,
            details=details,
        )


def make_btcpay_gateway(settings: Mapping[str, Any]) -> BTCPayGateway:
    return BTCPayGateway(
        url=settings.get("BTCPAY_URL") or "",
        store_id=settings.get("BTCPAY_STORE_ID") or "",
        api_key=settings.get("BTCPAY_API_KEY") or "",
        webhook_secret=settings.get("BTCPAY_WEBHOOK_SECRET"),
        invoice_minutes=int(settings.get("BTCPAY_INVOICE_MINUTES") or DEFAULT_INVOICE_MINUTES),
    )
