"""A small Greenfield API client: the few calls the adapter needs, over ``requests``.

The published Python clients are stale, and we need only invoices, their payment
methods, refunds as pull payments and a key check. Every call has a timeout, never follows
redirects (a redirect to a login page would read as success) and turns any failure into
``GatewayError`` with a message safe to log: never the API key, never the request body.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from gateway.base import GatewayError

log = logging.getLogger(__name__)

TIMEOUT = (5, 15)  # connect, read (seconds): short enough not to hold a web worker


class GreenfieldError(GatewayError):
    """A Greenfield call failed. ``status`` is the HTTP status (None: no answer), ``code``
    BTCPay's error code when it sent one (``unauthenticated``, ``missing-permission``…)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


def _seg(value: str) -> str:
    # Ids come from BTCPay or settings; quoting keeps any of them from changing the path.
    return quote(str(value), safe="")


class GreenfieldClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: tuple[float, float] = TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        # The adapter is built once per app and shared by the web server's threads; a
        # requests.Session is not documented as thread-safe, so each thread keeps its own
        # (and its pooled connections to the one BTCPay host).
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    # -- transport -------------------------------------------------------------
    def request(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                json=json,
                params=params,
                headers={"Authorization": f"token {self.api_key}", "Accept": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise GreenfieldError("btcpay: no answer in time") from None
        except requests.RequestException:
            raise GreenfieldError("btcpay: server unreachable") from None
        if response.status_code >= 300:
            code = _error_code(response)
            log.warning("btcpay %s %s answered %s (%s)", method, path.split("?")[0], response.status_code, code)
            raise GreenfieldError(
                f"btcpay: {method} refused with HTTP {response.status_code}" + (f" ({code})" if code else ""),
                status=response.status_code,
                code=code,
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise GreenfieldError("btcpay: answer is not JSON", status=response.status_code) from None

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        data = self.request(method, path, **kwargs)
        if not isinstance(data, dict):
            raise GreenfieldError("btcpay: unexpected answer")
        return data

    def _list(self, method: str, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        data = self.request(method, path, **kwargs)
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise GreenfieldError("btcpay: unexpected answer")
        return data

    # -- keys and stores -------------------------------------------------------
    def current_api_key(self) -> dict[str, Any]:
        return self._object("GET", "/api/v1/api-keys/current")

    def get_store(self, store_id: str) -> dict[str, Any]:
        return self._object("GET", f"/api/v1/stores/{_seg(store_id)}")

    # -- invoices --------------------------------------------------------------
    def create_invoice(
        self, store_id: str, *, amount: str, currency: str, metadata: Mapping[str, Any], checkout: Mapping[str, Any]
    ) -> dict[str, Any]:
        body = {"amount": amount, "currency": currency, "metadata": dict(metadata), "checkout": dict(checkout)}
        return self._object("POST", f"/api/v1/stores/{_seg(store_id)}/invoices", json=body)

    def get_invoice(self, store_id: str, invoice_id: str) -> dict[str, Any]:
        return self._object("GET", f"/api/v1/stores/{_seg(store_id)}/invoices/{_seg(invoice_id)}")

    def list_invoices(self, store_id: str, *, take: int = 1, order_id: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"take": take}
        if order_id is not None:
            params["orderId"] = order_id
        return self._list("GET", f"/api/v1/stores/{_seg(store_id)}/invoices", params=params)

    def get_invoice_payment_methods(self, store_id: str, invoice_id: str) -> list[dict[str, Any]]:
        return self._list("GET", f"/api/v1/stores/{_seg(store_id)}/invoices/{_seg(invoice_id)}/payment-methods")

    # -- refunds (pull payments) -----------------------------------------------
    def refund_invoice(
        self,
        store_id: str,
        invoice_id: str,
        *,
        amount: str,
        currency: str,
        name: str,
        description: str = "",
        payout_method: str | None = None,
    ) -> dict[str, Any]:
        """A pull payment for ``amount`` of ``currency`` (``Custom``: BTCPay converts at the
        rate of the day the payer claims it)."""
        body: dict[str, Any] = {
            "name": name,
            "description": description,
            "refundVariant": "Custom",
            "customAmount": amount,
            "customCurrency": currency,
        }
        if payout_method:
            # BTCPay 2.x reads payoutMethodId ("BTC-CHAIN"), 1.x read paymentMethod ("BTC");
            # each ignores the other's field, and the caller passes the id the server itself
            # reported for the invoice.
            body["payoutMethodId"] = payout_method
            body["paymentMethod"] = payout_method
        return self._object("POST", f"/api/v1/stores/{_seg(store_id)}/invoices/{_seg(invoice_id)}/refund", json=body)

    def create_pull_payment(
        self, store_id: str, *, amount: str, currency: str, name: str, description: str = ""
    ) -> dict[str, Any]:
        body = {"name": name, "description": description, "amount": amount, "currency": currency}
        return self._object("POST", f"/api/v1/stores/{_seg(store_id)}/pull-payments", json=body)

    def get_pull_payment(self, pull_payment_id: str) -> dict[str, Any]:
        return self._object("GET", f"/api/v1/pull-payments/{_seg(pull_payment_id)}")

    def get_pull_payment_payouts(self, pull_payment_id: str) -> list[dict[str, Any]]:
        return self._list("GET", f"/api/v1/pull-payments/{_seg(pull_payment_id)}/payouts")


def _error_code(response: requests.Response) -> str | None:
    """BTCPay's error ``code`` ({"code", "message"}), or the first field of a validation
    error list ([{"path", "message"}]); cut short, as it goes into logs and messages."""
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        return data["code"][:60]
    if isinstance(data, list) and data and isinstance(data[0], dict) and isinstance(data[0].get("path"), str):
        return f"invalid {data[0]['path'][:40]}"
    return None
