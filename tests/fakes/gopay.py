"""A fake GoPay REST gateway on loopback: what the sandbox does, as far as we use it.

OAuth2 client credentials (wrong ones get 403 like GoPay), create / inquiry / refund /
refund history under ``/api/...`` (the SDK cuts the gateway URL to host + ``/api``), a
hosted page with pay / decline / cancel forms that redirects to ``return_url?id=…``, and
GET notifications to ``notification_url?id=…`` that a test can delay, drop or repeat, and
that are tried again (``notification_attempts``) until the receiver answers 200.

A declined card does not end a GoPay payment: the payer may try again until it times out,
so "decline" leaves it in PAYMENT_METHOD_CHOSEN; ``timeout(ref)`` makes it TIMEOUTED.
"""

from __future__ import annotations

import base64
import html
import itertools
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, jsonify, redirect, request

from tests.fakes import LoopbackServer


@dataclass
class FakePayment:
    id: int
    goid: int
    order_number: str
    amount: int
    currency: str
    description: str
    return_url: str
    notification_url: str
    instruments: list[str]
    email: str | None
    token: str
    state: str = "CREATED"
    refunds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def refunded(self) -> int:
        return sum(r["amount"] for r in self.refunds)

    def as_json(self) -> dict[str, Any]:
        payer: dict[str, Any] = {"allowed_payment_instruments": self.instruments}
        if self.email:
            payer["contact"] = {"email": self.email}
        return {
            "id": self.id,
            "order_number": self.order_number,
            "state": self.state,
            "amount": self.amount,
            "currency": self.currency,
            "payer": payer,
            "target": {"type": "ACCOUNT", "goid": self.goid},
            "lang": "CS",
        }


class FakeGoPay:
    def __init__(self, *, goid: int = 8123456789, client_id: str = "1234567", client_secret: str = "tajneheslo"):
        self.goid = goid
        self.client_id = client_id
        self.client_secret = client_secret
        self.payments: dict[int, FakePayment] = {}
        self.tokens: set[str] = set()
        self.token_requests = 0
        # Notification behaviour for the next state changes.
        self.notification_delay = 0.0
        self.drop_notifications = False
        self.repeat_notifications = 1
        self.notification_attempts = 3  # per notification, until HTTP 200
        self.notifications_sent: list[tuple[str, int]] = []  # (url, HTTP status or 0)
        self._ids = itertools.count(3000000001)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.app = self._make_app()
        self._server: LoopbackServer | None = None

    # -- helpers for tests ---------------------------------------------------------
    def start(self) -> FakeGoPay:
        self._server = LoopbackServer(self.app)
        return self

    def stop(self) -> None:
        for t in self._threads:
            t.join(timeout=10)
        if self._server:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server, "fake GoPay is not running"
        return self._server.url

    @property
    def gateway_url(self) -> str:
        return self.url + "/api"

    def settings(self, **overrides: Any) -> dict[str, Any]:
        values = {
            "GOPAY_GOID": str(self.goid),
            "GOPAY_CLIENT_ID": self.client_id,
            "GOPAY_CLIENT_SECRET": self.client_secret,
            "GOPAY_GATEWAY_URL": self.gateway_url,
        }
        values.update(overrides)
        return values

    def _act(self, reference: str, action: str) -> requests.Response:
        """What the payer does: open the hosted page, press a button (plain HTTP)."""
        pay = self.payments[int(reference)]
        page = requests.get(f"{self.url}/gw/v3/{pay.token}", timeout=10)
        page.raise_for_status()
        assert f'action="/gw/v3/{pay.token}/{action}"' in page.text
        return requests.post(f"{self.url}/gw/v3/{pay.token}/{action}", allow_redirects=False, timeout=10)

    def pay(self, reference: str) -> str:
        """Pay on the hosted page; returns the URL GoPay sends the payer back to."""
        return self._act(reference, "pay").headers["Location"]

    def decline(self, reference: str) -> str:
        return self._act(reference, "decline").headers["Location"]

    def cancel(self, reference: str) -> str:
        return self._act(reference, "cancel").headers["Location"]

    def timeout(self, reference: str) -> None:
        self._set_state(self.payments[int(reference)], "TIMEOUTED")

    def wait_notifications(self, count: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.notifications_sent) < count and time.monotonic() < deadline:
            time.sleep(0.02)

    # -- behaviour -----------------------------------------------------------------
    def _set_state(self, pay: FakePayment, state: str) -> None:
        pay.state = state
        # GoPay notifies on each change except into CREATED / PAYMENT_METHOD_CHOSEN.
        if state not in ("CREATED", "PAYMENT_METHOD_CHOSEN"):
            self._notify(pay)

    def _notify(self, pay: FakePayment) -> None:
        if self.drop_notifications:
            return
        sep = "&" if "?" in pay.notification_url else "?"
        url = f"{pay.notification_url}{sep}id={pay.id}"
        delay, repeat = self.notification_delay, self.repeat_notifications

        def deliver() -> None:
            # GoPay repeats a notification until it gets HTTP 200 (here: a few quick tries).
            for attempt in range(self.notification_attempts):
                try:
                    status = requests.get(url, timeout=10).status_code
                except requests.RequestException:
                    status = 0
                self.notifications_sent.append((url, status))
                if status == 200:
                    return
                time.sleep(0.05 * (attempt + 1))

        def send() -> None:
            time.sleep(delay)
            for _ in range(repeat):
                deliver()

        t = threading.Thread(target=send, daemon=True)
        self._threads.append(t)
        t.start()

    def _bearer_ok(self) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.tokens

    @staticmethod
    def _errors(status: int, code: int, name: str, field_name: str | None = None) -> Any:
        body = {
            "date_issued": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "errors": [
                {"scope": "F" if field_name else "G", "field": field_name, "error_code": code, "error_name": name}
            ],
        }
        return jsonify(body), status

    def _make_app(self) -> Flask:
        app = Flask("fake_gopay")

        @app.post("/api/oauth2/token")
        def token() -> Any:
            self.token_requests += 1
            auth = request.headers.get("Authorization", "")
            try:
                user, _, pw = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
            except ValueError:
                user, pw = "", ""
            if request.form.get("grant_type") != "client_credentials":
                return self._errors(400, 100, "INVALID_GRANT")
            if (user, pw) != (self.client_id, self.client_secret):
                return self._errors(403, 202, "AUTH_WRONG_CREDENTIALS")
            tok = secrets.token_urlsafe(24)
            self.tokens.add(tok)
            return jsonify({"token_type": "bearer", "access_token": tok, "expires_in": 1800})

        @app.get("/api/eshops/eshop/<int:goid>/payment-instruments/<currency>")
        def instruments(goid: int, currency: str) -> Any:
            if not self._bearer_ok():
                return self._errors(403, 202, "AUTH_WRONG_CREDENTIALS")
            if goid != self.goid:
                return self._errors(403, 203, "AUTH_WRONG_GOID")
            enabled = ["PAYMENT_CARD", "BANK_ACCOUNT", "APPLE_PAY", "GPAY"] if currency == "CZK" else []
            return jsonify({"enabledPaymentInstruments": [{"paymentInstrument": i} for i in enabled]})

        @app.post("/api/payments/payment")
        def create() -> Any:
            if not self._bearer_ok():
                return self._errors(403, 202, "AUTH_WRONG_CREDENTIALS")
            data = request.get_json(silent=True) or {}
            target = data.get("target") or {}
            if int(target.get("goid") or 0) != self.goid:
                return self._errors(409, 110, "INVALID", "target.goid")
            amount = data.get("amount")
            if not isinstance(amount, int) or amount <= 0:
                return self._errors(409, 110, "INVALID", "amount")
            callback = data.get("callback") or {}
            if not callback.get("return_url") or not callback.get("notification_url"):
                return self._errors(409, 111, "REQUIRED", "callback")
            payer = data.get("payer") or {}
            with self._lock:
                pay = FakePayment(
                    id=next(self._ids),
                    goid=self.goid,
                    order_number=str(data.get("order_number") or ""),
                    amount=amount,
                    currency=str(data.get("currency") or ""),
                    description=str(data.get("order_description") or ""),
                    return_url=callback["return_url"],
                    notification_url=callback["notification_url"],
                    instruments=list(payer.get("allowed_payment_instruments") or []),
                    email=(payer.get("contact") or {}).get("email"),
                    token=secrets.token_hex(16),
                )
                self.payments[pay.id] = pay
            return jsonify({**pay.as_json(), "gw_url": f"{self.url}/gw/v3/{pay.token}"})

        @app.get("/api/payments/payment/<int:pid>")
        def inquiry(pid: int) -> Any:
            if not self._bearer_ok():
                return self._errors(403, 202, "AUTH_WRONG_CREDENTIALS")
            pay = self.payments.get(pid)
            if pay is None:
                return self._errors(404, 404, "PAYMENT_NOT_FOUND")
            return jsonify(pay.as_json())

        @app.post("/api/payments/payment/<int:pid>/refund")
        def refund(pid: int) -> Any:
            if not self._bearer_ok():
                return self._errors(403, 202, "AUTH_WRONG_CREDENTIALS")
            pay = self.payments.get(pid)
            if pay is None:
                return self._errors(404, 404, "PAYMENT_NOT_FOUND")
            try:
                amount = int(request.form.get("amount", ""))
            except ValueError:
                return self._errors(409, 110, "INVALID", "amount")
            if pay.state not in ("PAID", "PARTIALLY_REFUNDED"):
                return self._errors(409, 330, "PAYMENT_REFUND_FAILED")
            if amount <= 0 or amount > pay.amount - pay.refunded:
                return self._errors(409, 331, "PAYMENT_REFUND_AMOUNT_EXCEEDED", "amount")
            pay.refunds.append({"id": next(self._ids), "amount": amount, "state": "FINISHED"})
            self._set_state(pay, "REFUNDED" if pay.refunded == pay.amount else "PARTIALLY_REFUNDED")
            return jsonify({"id": pay.id, "result": "FINISHED"})

        @app.get("/api/payments/payment/<int:pid>/refunds")
        def refunds(pid: int) -> Any:
            if not self._bearer_ok():
                return self._errors(403, 202, "AUTH_WRONG_CREDENTIALS")
            pay = self.payments.get(pid)
            if pay is None:
                return self._errors(404, 404, "PAYMENT_NOT_FOUND")
            return jsonify([{**r, "payment_id": pay.id} for r in pay.refunds])

        def by_token(token: str) -> FakePayment | None:
            return next((p for p in self.payments.values() if p.token == token), None)

        @app.get("/gw/v3/<token>")
        def hosted(token: str) -> Any:
            pay = by_token(token)
            if pay is None:
                return "Platba nenalezena", 404
            buttons = "".join(
                f'<form method="post" action="/gw/v3/{token}/{a}"><button type="submit" name="{a}">{label}</button></form>'
                for a, label in (("pay", "Zaplatit"), ("decline", "Zamítnout kartu"), ("cancel", "Zrušit platbu"))
            )
            return (
                '<!doctype html><html lang="cs"><head><meta charset="utf-8"><title>GoPay (fake)</title></head>'
                f"<body><main><h1>GoPay</h1><p>{html.escape(pay.description)}</p>"
                f'<p class="amount">{pay.amount / 100:.2f} {html.escape(pay.currency)}</p>'
                f'<p class="state">{pay.state}</p>{buttons}</main></body></html>'
            )

        @app.post("/gw/v3/<token>/<action>")
        def act(token: str, action: str) -> Any:
            pay = by_token(token)
            if pay is None or action not in ("pay", "decline", "cancel"):
                return "Neplatný požadavek", 404
            if pay.state in ("CREATED", "PAYMENT_METHOD_CHOSEN"):
                new = {"pay": "PAID", "decline": "PAYMENT_METHOD_CHOSEN", "cancel": "CANCELED"}[action]
                self._set_state(pay, new)
            sep = "&" if "?" in pay.return_url else "?"
            return redirect(f"{pay.return_url}{sep}{urllib.parse.urlencode({'id': pay.id})}", code=302)

        return app
