"""The demo gateway: a sandbox that walks the same code path as a real gateway.

It has its own hosted page (pay / decline / cancel), keeps its own ledger through a
store the host application passes in, and sends HMAC-signed notifications that the
application verifies exactly as it would a real gateway's. It is the embedded default
and every municipality's sandbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import urljoin

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

SIGNATURE_HEADER = "X-Demo-Signature"
SIGNATURE_TOLERANCE = 300  # seconds


@dataclass(frozen=True)
class DemoTransaction:
    reference: str
    external_id: str
    amount: int
    currency: str
    description: str
    return_url: str
    notify_url: str
    state: GatewayStatus = GatewayStatus.PENDING
    amount_refunded: int = 0


class DemoStore(Protocol):
    def load(self, reference: str) -> DemoTransaction | None: ...
    def save(self, txn: DemoTransaction) -> None: ...


class MemoryStore:
    """A store for tests of the adapter alone."""

    def __init__(self) -> None:
        self._items: dict[str, DemoTransaction] = {}

    def load(self, reference: str) -> DemoTransaction | None:
        return self._items.get(reference)

    def save(self, txn: DemoTransaction) -> None:
        self._items[reference_key(txn)] = txn


def reference_key(txn: DemoTransaction) -> str:
    return txn.reference


Notifier = Callable[[str, bytes, dict[str, str]], None]


def http_notifier(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST the notification from a background thread, as a real gateway would."""

    def send() -> None:
        for delay in (0.2, 1, 3, 10):
            time.sleep(delay)
            req = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    if resp.status < 300:
                        return
            except Exception:  # noqa: BLE001 - retried like a real gateway retries
                continue

    threading.Thread(target=send, daemon=True).start()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


class DemoGateway(Gateway):
    name = "demo"

    def __init__(self, *, secret: str, base_url: str, store: DemoStore, notifier: Notifier):
        if not secret:
            raise GatewayError("demo gateway needs a signing secret")
        self.secret = secret
        self.base_url = base_url
        self.store = store
        self.notifier = notifier

    # -- the interface -------------------------------------------------------------
    def create(self, request: PaymentRequest) -> CreatedPayment:
        if request.amount <= 0:
            raise GatewayError("amount must be positive")
        reference = "demo_" + secrets.token_urlsafe(16)
        self.store.save(
            DemoTransaction(
                reference=reference,
                external_id=request.external_id,
                amount=request.amount,
                currency=request.currency,
                description=request.description,
                return_url=request.return_url,
                notify_url=request.notify_url,
            )
        )
        return CreatedPayment(reference=reference, redirect_url=self.hosted_url(reference))

    def get_status(self, reference: str) -> StatusResult:
        txn = self._load(reference)
        return StatusResult(
            reference=txn.reference,
            status=txn.state,
            amount=txn.amount,
            amount_refunded=txn.amount_refunded,
            failure_reason="declined" if txn.state == GatewayStatus.FAILED else None,
        )

    def parse_notification(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str] | None = None
    ) -> Notification:
        header = _header(headers, SIGNATURE_HEADER)
        if not header:
            raise InvalidNotification("missing signature")
        try:
            parts = dict(item.split("=", 1) for item in header.split(","))
            ts = int(parts["t"])
            given = parts["v1"]
        except (ValueError, KeyError):
            raise InvalidNotification("malformed signature") from None
        if abs(time.time() - ts) > SIGNATURE_TOLERANCE:
            raise InvalidNotification("signature too old")
        expected = sign(self.secret, body, ts).split("v1=", 1)[1]
        # Bytes, not str: compare_digest raises TypeError on a non-ASCII str.
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            raise InvalidNotification("bad signature")
        try:
            data = json.loads(body)
            event_type = str(data["type"])
            return Notification(
                event_id=str(data["id"]), reference=str(data["reference"]), event_type=event_type,
                implied_status=_implied_status(event_type),
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidNotification("malformed body") from None

    def refund(self, reference: str, amount: int, reason: str = "") -> RefundResult:
        txn = self._load(reference)
        if txn.state != GatewayStatus.PAID:
            raise GatewayError("only a paid payment can be refunded")
        if amount <= 0 or txn.amount_refunded + amount > txn.amount:
            raise GatewayError("refund exceeds what remains of the payment")
        self.store.save(replace(txn, amount_refunded=txn.amount_refunded + amount))
        return RefundResult(
            reference=reference,
            refund_reference="demore_" + secrets.token_urlsafe(8),
            amount=amount,
            succeeded=True,
        )

    def cancel(self, reference: str) -> StatusResult:
        txn = self._load(reference)
        if txn.state == GatewayStatus.PENDING:
            self.store.save(replace(txn, state=GatewayStatus.CANCELLED))
        return self.get_status(reference)

    # -- the hosted page's actions -------------------------------------------------
    def hosted_url(self, reference: str) -> str:
        return urljoin(self.base_url.rstrip("/") + "/", f"demo-gateway/{reference}")

    def load(self, reference: str) -> DemoTransaction | None:
        return self.store.load(reference)

    def complete(self, reference: str, outcome: GatewayStatus) -> DemoTransaction:
        """The payer pressed pay, decline or cancel on the hosted page."""
        txn = self._load(reference)
        if txn.state != GatewayStatus.PENDING:
            return txn  # a second click changes nothing, like a real gateway
        txn = replace(txn, state=outcome)
        self.store.save(txn)
        self.notify(txn)
        return txn

    def notify(self, txn: DemoTransaction) -> None:
        body = json.dumps(
            {
                "id": "evt_" + secrets.token_urlsafe(12),
                "type": f"payment.{txn.state.value}",
                "reference": txn.reference,
                "created": int(time.time()),
            }
        ).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body)}
        self.notifier(txn.notify_url, body, headers)

    def _load(self, reference: str) -> DemoTransaction:
        txn = self.store.load(reference)
        if txn is None:
            raise GatewayError("unknown payment reference")
        return txn


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def make_demo_gateway(settings: Mapping[str, Any]) -> DemoGateway:
    return DemoGateway(
        secret=settings["DEMO_GATEWAY_SECRET"],
        base_url=settings.get("BASE_URL", "http://127.0.0.1:5000"),
        store=settings["DEMO_GATEWAY_STORE"],
        notifier=settings.get("DEMO_GATEWAY_NOTIFIER") or http_notifier,
    )


def _implied_status(event_type: str) -> GatewayStatus | None:
    """Our events are ``payment.<status>``: the status is in the name."""
    prefix, _, status = event_type.partition(".")
    if prefix != "payment" or status not in GatewayStatus.__members__.values():
        return None
    return GatewayStatus(status)
