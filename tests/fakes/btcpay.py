"""A fake BTCPay Server (Greenfield API) on loopback, over real HTTP, for tests.

It speaks the parts of Greenfield our adapter uses, with BTCPay's shapes and error bodies:
API keys with permissions (``Authorization: token …``), stores, invoices in CZK converted at
a fixed rate (1 BTC = 2 300 000 CZK), their payment methods, marking, refunds as pull
payments, public pull payment and payout reads. The adapter cannot tell it from a server.

What a real server does on its own (a wallet paying, blocks confirming, time passing) the
test does through methods (``pay``, ``confirm``, ``expire``, ``mark``, ``complete_payout``…),
also reachable over HTTP under ``/_fake/…`` for a browser test in another thread. The
checkout page (``checkoutLink``) has the buttons "Pay", "Pay partially", "Pay too much".

Webhooks are signed like BTCPay's (``BTCPay-Sig: sha256=<HMAC-SHA256 of the body>``) and
wait in ``outbox`` until the test delivers them: in order, reordered, repeated, redelivered
(new deliveryId, same originalDeliveryId), delayed or dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import string
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from html import escape
from typing import Any

from flask import Flask, Response, abort, jsonify, redirect, request
from werkzeug.serving import make_server

RATE = Decimal("2300000")  # CZK per BTC, fixed so amounts in tests are predictable
SATS = Decimal("0.00000001")
CENTS = Decimal("0.01")
ALL_STORE_PERMISSIONS = [
    "btcpay.store.canviewinvoices",
    "btcpay.store.cancreateinvoice",
    "btcpay.store.cancreatepullpayments",
]
_ALPHABET = string.ascii_letters + string.digits
# BTCPay's permission tree, the parts we use: a permission is also granted by these.
_PARENTS = {
    "btcpay.store.canviewinvoices": ("btcpay.store.canmodifyinvoices", "btcpay.store.canmodifystoresettings"),
    "btcpay.store.cancreateinvoice": ("btcpay.store.canmodifyinvoices", "btcpay.store.canmodifystoresettings"),
    "btcpay.store.canmodifyinvoices": ("btcpay.store.canmodifystoresettings",),
    "btcpay.store.cancreatepullpayments": (
        "btcpay.store.canmanagepullpayments",
        "btcpay.store.canmodifystoresettings",
    ),
    "btcpay.store.canviewstoresettings": ("btcpay.store.canmodifystoresettings",),
}


def _id(n: int = 22) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify({"code": code, "message": message})
    response.status_code = status
    return response


def _validation(path: str, message: str) -> Response:
    response = jsonify([{"path": path, "message": message}])
    response.status_code = 422
    return response


@dataclass
class Payment:
    id: str
    value: Decimal  # BTC
    destination: str
    received: int
    status: str = "Processing"  # Processing (unconfirmed), Settled (confirmed), Invalid


@dataclass
class Invoice:
    id: str
    store_id: str
    amount: Decimal  # CZK
    currency: str
    metadata: dict[str, Any]
    checkout: dict[str, Any]
    created: int
    expires: int
    btc_due: Decimal
    address: str
    status: str = "New"
    additional: str = "None"
    payments: list[Payment] = field(default_factory=list)

    @property
    def btc_paid(self) -> Decimal:
        return sum((p.value for p in self.payments if p.status != "Invalid"), Decimal(0))


@dataclass
class Delivery:
    delivery_id: str
    original_id: str
    event: dict[str, Any]
    redelivery: bool = False

    @property
    def type(self) -> str:
        return self.event["type"]

    def body(self) -> bytes:
        event = dict(self.event, deliveryId=self.delivery_id, originalDeliveryId=self.original_id)
        event["isRedelivery"] = self.redelivery
        return json.dumps(event).encode()


class FakeBTCPay:
    def __init__(self, *, auto_settle: bool = False) -> None:
        #: Settle at once when the checkout's "Pay" is clicked (a browser test's shortcut for
        #: "the blocks came"); otherwise the invoice waits in Processing for ``confirm``.
        self.auto_settle = auto_settle
        self.lock = threading.RLock()
        self.keys: dict[str, list[str]] = {}
        self.stores: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, Invoice] = {}
        self.pull_payments: dict[str, dict[str, Any]] = {}
        self.payouts: dict[str, dict[str, Any]] = {}
        self.webhooks: list[tuple[str, str, str]] = []  # (webhook id, url, secret)
        self.outbox: list[Delivery] = []
        self.delivered: list[tuple[Delivery, int]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) the API served
        self.delay = 0.0  # seconds every API answer waits: a server too slow to answer
        self._addresses = itertools.count(1)
        self.app = self._make_app()
        self.url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> FakeBTCPay:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            # A short poll interval: shutdown() waits for it, once per test.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-btcpay",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._server = None

    def __enter__(self) -> FakeBTCPay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- setup -----------------------------------------------------------------------
    def add_store(self, name: str = "Obec Test") -> str:
        store_id = _id(44)
        self.stores[store_id] = {"id": store_id, "name": name, "defaultCurrency": "CZK"}
        return store_id

    def add_key(self, permissions: list[str]) -> str:
        key = secrets.token_hex(20)
        self.keys[key] = list(permissions)
        return key

    def add_webhook(self, url: str, secret: str) -> str:
        webhook_id = _id(22)
        self.webhooks.append((webhook_id, url, secret))
        return webhook_id

    # -- what the world does: wallets pay, blocks confirm, time passes --------------------
    def pay(self, invoice_id: str, btc: Decimal | str | None = None, *, confirmed: bool = False) -> None:
        """A wallet pays ``btc`` (default: what is due) to the invoice's address."""
        with self.lock:
            inv = self.invoices[invoice_id]
            value = Decimal(btc) if btc is not None else inv.btc_due - inv.btc_paid
            payment = Payment(
                id=f"{secrets.token_hex(32)}-0",
                value=value,
                destination=inv.address,
                received=int(time.time()),
                status="Settled" if confirmed else "Processing",
            )
            inv.payments.append(payment)
            after_expiry = inv.status == "Expired"
            self._event(
                inv,
                "InvoiceReceivedPayment",
                afterExpiration=after_expiry,
                paymentMethodId="BTC-CHAIN",
                payment=self._payment_json(payment),
            )
            paid = inv.btc_paid
            if inv.status == "New":
                if paid >= inv.btc_due:
                    inv.status = "Processing"
                    inv.additional = "PaidOver" if paid > inv.btc_due else "None"
                    self._event(inv, "InvoiceProcessing", overPaid=paid > inv.btc_due)
                else:
                    inv.additional = "PaidPartial"
            elif inv.status == "Expired":
                # BTCPay keeps a late-paid invoice Expired for good and only flags it.
                inv.additional = "PaidLate" if paid >= inv.btc_due else "PaidPartial"
            if confirmed:
                self._settle_if_confirmed(inv)

    def pay_fraction(self, invoice_id: str, fraction: str, *, confirmed: bool = False) -> None:
        with self.lock:
            due = self.invoices[invoice_id].btc_due
            self.pay(invoice_id, (due * Decimal(fraction)).quantize(SATS, rounding=ROUND_UP), confirmed=confirmed)

    def confirm(self, invoice_id: str) -> None:
        """The next block: every unconfirmed payment confirms."""
        with self.lock:
            inv = self.invoices[invoice_id]
            for payment in inv.payments:
                if payment.status == "Processing":
                    payment.status = "Settled"
                    self._event(inv, "InvoicePaymentSettled", payment=self._payment_json(payment))
            self._settle_if_confirmed(inv)

    def expire(self, invoice_id: str) -> None:
        with self.lock:
            inv = self.invoices[invoice_id]
            if inv.status != "New":
                return
            inv.status = "Expired"
            partial = inv.btc_paid > 0
            inv.additional = "PaidPartial" if partial else "None"
            inv.expires = int(time.time())
            self._event(inv, "InvoiceExpired", partiallyPaid=partial, paidAfterExpiration=False)

    def double_spend(self, invoice_id: str) -> None:
        """The payment was replaced and never confirms: BTCPay invalidates the invoice."""
        with self.lock:
            inv = self.invoices[invoice_id]
            for payment in inv.payments:
                payment.status = "Invalid"
            inv.status, inv.additional = "Invalid", "None"
            self._event(inv, "InvoiceInvalid", manuallyMarked=False)

    def mark(self, invoice_id: str, status: str) -> None:
        """What a person at the store does with "Mark as settled / invalid"."""
        with self.lock:
            inv = self.invoices[invoice_id]
            inv.status, inv.additional = status, "Marked"
            if status == "Settled":
                self._event(inv, "InvoiceSettled", manuallyMarked=True, overPaid=False)
            else:
                self._event(inv, "InvoiceInvalid", manuallyMarked=True)

    def claim(self, pull_payment_id: str, destination: str = "bcrt1qpayerwalletaddress") -> str:
        """The payer claims the refund with their wallet address (the public claim page)."""
        with self.lock:
            pull = self.pull_payments[pull_payment_id]
            payout_id = _id(22)
            self.payouts[payout_id] = {
                "id": payout_id,
                "revision": 0,
                "pullPaymentId": pull_payment_id,
                "date": int(time.time()),
                "destination": destination,
                "originalAmount": pull["amount"],
                "originalCurrency": pull["currency"],
                "payoutAmount": None,
                "payoutCurrency": "BTC",
                "payoutMethodId": "BTC-CHAIN",
                "state": "AwaitingApproval",
                "paymentProof": None,
                "metadata": {},
            }
            return payout_id

    def complete_payout(self, payout_id: str) -> None:
        """The store approved the payout and its transaction confirmed."""
        with self.lock:
            payout = self.payouts[payout_id]
            amount = Decimal(payout["originalAmount"])
            payout["payoutAmount"] = str((amount / RATE).quantize(SATS, rounding=ROUND_HALF_UP))
            payout["state"] = "Completed"
            payout["paymentProof"] = {
                "proofType": "PayoutTransactionOnChainBlob",
                "transactionId": secrets.token_hex(32),
            }

    # -- webhooks: the test decides when, in what order and whether they arrive ------------
    def deliver(self, delivery: Delivery) -> int:
        status = 0
        for _, url, secret in self.webhooks:
            body = delivery.body()
            signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            req = urllib.request.Request(
                url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "BTCPay-Sig": f"sha256={signature}"},
            )
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    status = resp.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            self.delivered.append((delivery, status))
        return status

    def flush(self, *, order: list[int] | None = None, drop: set[int] | frozenset[int] = frozenset()) -> list[int]:
        """Send what waits in the outbox (``order``: indexes in the order to send; ``drop``:
        indexes lost on the way) and empty it; returns the receiver's HTTP statuses."""
        with self.lock:
            pending, self.outbox = self.outbox, []
        indexes = order if order is not None else list(range(len(pending)))
        return [self.deliver(pending[i]) for i in indexes if i not in drop]

    def redeliver(self, delivery: Delivery) -> int:
        """BTCPay's "Redeliver": a new deliveryId, the same originalDeliveryId."""
        again = Delivery(_id(22), delivery.original_id, delivery.event, redelivery=True)
        return self.deliver(again)

    def _event(self, inv: Invoice, event_type: str, **extra: Any) -> None:
        delivery_id = _id(22)
        event = {
            "webhookId": self.webhooks[0][0] if self.webhooks else "",
            "type": event_type,
            "timestamp": int(time.time()),
            "storeId": inv.store_id,
            "invoiceId": inv.id,
            "metadata": inv.metadata,
            **extra,
        }
        self.outbox.append(Delivery(delivery_id, delivery_id, event))

    def _settle_if_confirmed(self, inv: Invoice) -> None:
        live = [p for p in inv.payments if p.status != "Invalid"]
        if inv.status == "Processing" and live and all(p.status == "Settled" for p in live):
            inv.status = "Settled"
            self._event(inv, "InvoiceSettled", manuallyMarked=False, overPaid=inv.additional == "PaidOver")

    # -- JSON shapes ------------------------------------------------------------------
    def _payment_json(self, payment: Payment) -> dict[str, Any]:
        return {
            "id": payment.id,
            "receivedDate": payment.received,
            "value": str(payment.value),
            "fee": "0.0",
            "status": payment.status,
            "destination": payment.destination,
        }

    def _invoice_json(self, inv: Invoice) -> dict[str, Any]:
        paid = inv.btc_paid
        # Paying exactly what was due reads as the invoice amount, as in BTCPay; otherwise
        # the BTC that arrived at the invoice's rate.
        paid_czk = inv.amount if paid == inv.btc_due else (paid * RATE).quantize(CENTS, rounding=ROUND_HALF_UP)
        return {
            "id": inv.id,
            "storeId": inv.store_id,
            "amount": str(inv.amount),
            "paidAmount": str(paid_czk),
            "currency": inv.currency,
            "type": "Standard",
            "checkoutLink": f"{self.url}/i/{inv.id}",
            "createdTime": inv.created,
            "expirationTime": inv.expires,
            "monitoringExpiration": inv.expires + 24 * 3600,
            "status": inv.status,
            "additionalStatus": inv.additional,
            "availableStatusesForManualMarking": [s for s in ("Settled", "Invalid") if s != inv.status],
            "archived": False,
            "metadata": inv.metadata,
            "checkout": inv.checkout,
            "receipt": {"enabled": True, "showQR": None, "showPayments": None},
        }

    def _methods_json(self, inv: Invoice) -> list[dict[str, Any]]:
        paid = inv.btc_paid
        return [
            {
                "paymentMethodId": "BTC-CHAIN",
                "currency": "BTC",
                "destination": inv.address,
                "paymentLink": f"bitcoin:{inv.address}?amount={inv.btc_due}",
                "rate": str(RATE),
                "paymentMethodPaid": str(paid),
                "totalPaid": str(paid),
                "due": str(inv.btc_due - paid),
                "amount": str(inv.btc_due),
                "paymentMethodFee": "0.0",
                "payments": [self._payment_json(p) for p in inv.payments],
                "activated": True,
                "additionalData": {"keyPath": "0/1", "payjoinEnabled": False},
            }
        ]

    def _pull_json(self, pull: dict[str, Any]) -> dict[str, Any]:
        return {**pull, "viewLink": f"{self.url}/pull-payments/{pull['id']}"}

    # -- the HTTP side ------------------------------------------------------------------
    def _authorize(self, store_id: str | None, permission: str | None) -> Response | None:
        """BTCPay's answers: no or unknown key → 401, a key without the permission → 403."""
        header = request.headers.get("Authorization", "")
        key = header[6:] if header.startswith("token ") else None
        if key is None or key not in self.keys:
            return _error(401, "unauthenticated", "Authentication is required for accessing this endpoint")
        if permission is None:
            return None
        granted = self.keys[key]
        allowed = (permission, *_PARENTS.get(permission, ()))
        if "unrestricted" in granted or any(p in granted or f"{p}:{store_id}" in granted for p in allowed):
            if store_id is not None and store_id not in self.stores:
                return _error(404, "store-not-found", "The store was not found")
            return None
        return _error(
            403,
            "missing-permission",
            f"Insufficient API Permissions. Please use an API key with permission: {permission}",
        )

    def _invoice(self, store_id: str, invoice_id: str) -> Invoice | Response:
        inv = self.invoices.get(invoice_id)
        if inv is None or inv.store_id != store_id:
            return _error(404, "invoice-not-found", "The invoice was not found")
        return inv

    def _make_app(self) -> Flask:  # noqa: C901 - one place lists every route
        app = Flask("fake_btcpay")
        fake = self

        @app.before_request
        def _log() -> None:
            fake.requests.append((request.method, request.path))
            if fake.delay and request.path.startswith("/api/"):
                time.sleep(fake.delay)

        # Greenfield ---------------------------------------------------------------------
        @app.get("/api/v1/api-keys/current")
        def current_key() -> Any:
            if denied := fake._authorize(None, None):
                return denied
            key = request.headers["Authorization"][6:]
            return jsonify({"apiKey": key, "label": "portal", "permissions": fake.keys[key]})

        @app.get("/api/v1/stores/<store_id>")
        def get_store(store_id: str) -> Any:
            if denied := fake._authorize(store_id, "btcpay.store.canviewstoresettings"):
                return denied
            return jsonify(fake.stores[store_id])

        @app.post("/api/v1/stores/<store_id>/invoices")
        def create_invoice(store_id: str) -> Any:
            if denied := fake._authorize(store_id, "btcpay.store.cancreateinvoice"):
                return denied
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                return _validation("", "The request body is not JSON")
            try:
                amount = Decimal(str(body.get("amount")))
            except InvalidOperation:
                return _validation("amount", "Amount should be a decimal")
            if not amount.is_finite() or amount <= 0:
                return _validation("amount", "Amount should be greater than 0")
            checkout = dict(body.get("checkout") or {})
            minutes = checkout.get("expirationMinutes") or 15
            if not isinstance(minutes, int | float) or minutes < 1:
                return _validation("checkout.expirationMinutes", "Expiration time must be at least 1 minute")
            now = int(time.time())
            with fake.lock:
                inv = Invoice(
                    id=_id(22),
                    store_id=store_id,
                    amount=amount,
                    currency=(body.get("currency") or "CZK").upper(),
                    metadata=dict(body.get("metadata") or {}),
                    checkout=checkout,
                    created=now,
                    expires=now + int(minutes * 60),
                    btc_due=(amount / RATE).quantize(SATS, rounding=ROUND_UP),
                    address=f"bcrt1qfakeaddress{next(fake._addresses):06d}",
                )
                fake.invoices[inv.id] = inv
                fake._event(inv, "InvoiceCreated")
                return jsonify(fake._invoice_json(inv))

        @app.get("/api/v1/stores/<store_id>/invoices")
        def list_invoices(store_id: str) -> Any:
            if denied := fake._authorize(store_id, "btcpay.store.canviewinvoices"):
                return denied
            order_ids = request.args.getlist("orderId")
            found = [
                fake._invoice_json(inv)
                for inv in reversed(list(fake.invoices.values()))
                if inv.store_id == store_id and (not order_ids or inv.metadata.get("orderId") in order_ids)
            ]
            take = request.args.get("take", type=int)
            return jsonify(found[:take] if take else found)

        @app.get("/api/v1/stores/<store_id>/invoices/<invoice_id>")
        def get_invoice(store_id: str, invoice_id: str) -> Any:
            if denied := fake._authorize(store_id, "btcpay.store.canviewinvoices"):
                return denied
            inv = fake._invoice(store_id, invoice_id)
            return inv if isinstance(inv, Response) else jsonify(fake._invoice_json(inv))

        @app.get("/api/v1/stores/<store_id>/invoices/<invoice_id>/payment-methods")
        def payment_methods(store_id: str, invoice_id: str) -> Any:
            if denied := fake._authorize(store_id, "btcpay.store.canviewinvoices"):
                return denied
            inv = fake._invoice(store_id, invoice_id)
            return inv if isinstance(inv, Response) else jsonify(fake._methods_json(inv))

        @app.post("/api/v1/stores/<store_id>/invoices/<invoice_id>/status")
        def mark_status(store_id: str, invoice_id: str) -> Any:
            if denied := fake._authorize(store_id, "btcpay.store.canmodifyinvoices"):
                return denied
            inv = fake._invoice(store_id, invoice_id)
            if isinstance(inv, Response):
                return inv
            status = (request.get_json(silent=True) or {}).get("status")
            if status not in ("Settled", "Invalid"):
                return _validation("status", "Status can only be Settled or Invalid")
            fake.mark(invoice_id, status)
            return jsonify(fake._invoice_json(inv))

        @app.post("/api/v1/stores/<store_id>/invoices/<invoice_id>/refund")
        def refund(store_id: str, invoice_id: str) -> Any:
            if denied := fake._authorize(store_id, "btcpay.store.cancreatepullpayments"):
                return denied
            inv = fake._invoice(store_id, invoice_id)
            if isinstance(inv, Response):
                return inv
            if inv.btc_paid <= 0 or inv.status in ("New", "Processing"):
                return _error(400, "non-refundable", "Cannot refund this invoice")
            body = request.get_json(silent=True) or {}
            if body.get("payoutMethodId") not in (None, "BTC-CHAIN"):
                return _validation("payoutMethodId", "Invalid payout method")
            if body.get("refundVariant") != "Custom":
                return _validation("refundVariant", "The fake supports only the Custom variant")
            try:
                amount = Decimal(str(body.get("customAmount")))
            except InvalidOperation:
                return _validation("customAmount", "Amount should be a decimal")
            if not amount.is_finite() or amount <= 0:
                return _validation("customAmount", "Amount should be greater than 0")
            pull = fake._new_pull(store_id, body.get("name"), body.get("description"), amount, "CZK")
            fake.pull_payments[pull["id"]]["payoutMethods"] = [body.get("payoutMethodId") or "BTC-CHAIN"]
            return jsonify(fake._pull_json(fake.pull_payments[pull["id"]]))

        @app.post("/api/v1/stores/<store_id>/pull-payments")
        def create_pull(store_id: str) -> Any:
            if denied := fake._authorize(store_id, "btcpay.store.cancreatepullpayments"):
                return denied
            body = request.get_json(silent=True) or {}
            try:
                amount = Decimal(str(body.get("amount")))
            except InvalidOperation:
                return _validation("amount", "Amount should be a decimal")
            currency = body.get("currency") or "CZK"
            return jsonify(fake._new_pull(store_id, body.get("name"), body.get("description"), amount, currency))

        @app.get("/api/v1/pull-payments/<pull_id>")
        def get_pull(pull_id: str) -> Any:
            pull = fake.pull_payments.get(pull_id)
            if pull is None:
                return _error(404, "pullpayment-not-found", "Pull payment not found")
            return jsonify(fake._pull_json(pull))

        @app.get("/api/v1/pull-payments/<pull_id>/payouts")
        def get_payouts(pull_id: str) -> Any:
            if pull_id not in fake.pull_payments:
                return _error(404, "pullpayment-not-found", "Pull payment not found")
            return jsonify([p for p in fake.payouts.values() if p["pullPaymentId"] == pull_id])

        # The payer's pages ------------------------------------------------------------
        @app.get("/i/<invoice_id>")
        def checkout_page(invoice_id: str) -> Any:
            inv = fake.invoices.get(invoice_id) or abort(404)
            back = inv.checkout.get("redirectURL")
            done = inv.status in ("Processing", "Settled")
            buttons = (
                f'<p><a id="return" href="{escape(back or "")}">Return to the merchant</a></p>'
                if done
                else "".join(
                    f'<form method="post" action="/i/{inv.id}/pay"><input type="hidden" name="kind" value="{kind}">'
                    f"<button>{label}</button></form>"
                    for kind, label in (("full", "Pay"), ("partial", "Pay partially"), ("over", "Pay too much"))
                )
            )
            html = (
                '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fake BTCPay checkout</title>'
                f'</head><body><main><h1>Pay {inv.btc_due} BTC</h1><p id="status">{inv.status}</p>'
                f"<p>{inv.amount} {inv.currency} to <code>{inv.address}</code></p>{buttons}</main></body></html>"
            )
            return Response(html, mimetype="text/html")

        @app.post("/i/<invoice_id>/pay")
        def checkout_pay(invoice_id: str) -> Any:
            inv = fake.invoices.get(invoice_id) or abort(404)
            kind = request.form.get("kind", "full")
            fraction = {"full": "1", "partial": "0.5", "over": "1.2"}.get(kind) or abort(400)
            fake.pay_fraction(invoice_id, fraction, confirmed=fake.auto_settle)
            back = inv.checkout.get("redirectURL")
            if kind != "partial" and back and inv.checkout.get("redirectAutomatically"):
                return redirect(
                    back.replace("{InvoiceId}", inv.id).replace("{OrderId}", inv.metadata.get("orderId", ""))
                )
            return redirect(f"/i/{invoice_id}")

        @app.get("/pull-payments/<pull_id>")
        def claim_page(pull_id: str) -> Any:
            pull = fake.pull_payments.get(pull_id) or abort(404)
            return Response(
                f"<!doctype html><title>Claim</title><h1>{escape(pull['name'] or '')}</h1>"
                f"<p>{pull['amount']} {pull['currency']}</p>"
                f'<form method="post"><input name="destination" aria-label="Address"><button>Claim</button></form>',
                mimetype="text/html",
            )

        @app.post("/pull-payments/<pull_id>")
        def claim_submit(pull_id: str) -> Any:
            if pull_id not in fake.pull_payments:
                abort(404)
            fake.claim(pull_id, request.form.get("destination") or "bcrt1qpayer")
            return redirect(f"/pull-payments/{pull_id}")

        # Test-only controls -------------------------------------------------------------
        @app.post("/_fake/invoices/<invoice_id>/<action>")
        def control(invoice_id: str, action: str) -> Any:
            if invoice_id not in fake.invoices:
                abort(404)
            body = request.get_json(silent=True) or {}
            # Shortcuts by name for a browser test: each is a wallet and blocks doing their part.
            shortcuts = {"process": "1", "pay-partial": "0.5", "pay-over": "1.2"}
            if action == "pay":
                fake.pay_fraction(invoice_id, str(body.get("fraction", "1")), confirmed=bool(body.get("confirmed")))
            elif action in shortcuts:
                fake.pay_fraction(invoice_id, shortcuts[action])
            elif action == "settle":
                if fake.invoices[invoice_id].status == "New":
                    fake.pay(invoice_id)
                fake.confirm(invoice_id)
            elif action == "pay-late":
                fake.expire(invoice_id)
                fake.pay(invoice_id, confirmed=True)
            elif action == "confirm":
                fake.confirm(invoice_id)
            elif action == "expire":
                fake.expire(invoice_id)
            elif action == "double-spend":
                fake.double_spend(invoice_id)
            elif action == "mark" and body.get("status") in ("Settled", "Invalid"):
                fake.mark(invoice_id, body["status"])
            else:
                abort(400)
            return jsonify(fake._invoice_json(fake.invoices[invoice_id]))

        @app.post("/_fake/pull-payments/<pull_id>/complete")
        def complete(pull_id: str) -> Any:
            if pull_id not in fake.pull_payments:
                abort(404)
            open_payouts = [p for p in fake.payouts.values() if p["pullPaymentId"] == pull_id]
            payout_id = open_payouts[0]["id"] if open_payouts else fake.claim(pull_id)
            fake.complete_payout(payout_id)
            return jsonify(fake.payouts[payout_id])

        @app.post("/_fake/webhooks/flush")
        def flush() -> Any:
            return jsonify(fake.flush())

        return app

    def _new_pull(
        self, store_id: str, name: str | None, description: str | None, amount: Decimal, currency: str
    ) -> dict[str, Any]:
        with self.lock:
            pull_id = _id(22)
            self.pull_payments[pull_id] = {
                "id": pull_id,
                "storeId": store_id,
                "name": name or "Refund",
                "description": description or "",
                "currency": currency,
                "amount": str(amount),
                "BOLT11Expiration": "30",
                "autoApproveClaims": False,
                "archived": False,
                "startsAt": int(time.time()),
                "expiresAt": None,
            }
            return self._pull_json(self.pull_payments[pull_id])
