"""GoPay adapter through the official ``gopay`` SDK (2.3.1), built from plain settings.

The payer goes to GoPay's hosted page (``gw_url``). GoPay notifies with an unsigned HTTP
GET ``notification_url?id=<payment id>``: it proves nothing, so it is only a trigger and
``get_status`` (payment inquiry) is the truth. GoPay's states map onto ours in
``STATE_MAP`` and nowhere else.

The SDK cuts ``gateway_url`` down to scheme + host + ``/api``; the sandbox
(``SANDBOX_URL``), production (``PRODUCTION_URL``) and a loopback fake differ only in
that URL. The SDK never raises on HTTP errors (network errors come back as status 0), so
every response is checked here and turned into a ``GatewayError`` with a safe message:
GoPay's error texts can echo request data, so only its codes and names are passed on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import gopay
from gopay.enums import ContentType, Currency, PaymentInstrument, TokenScope
from gopay.http import Request, Response

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

SANDBOX_URL = "https://gw.sandbox.gopay.com/api"
PRODUCTION_URL = "https://gate.gopay.cz/api"
REQUEST_TIMEOUT = 20  # seconds; the SDK's default (3600 s) would hold a web worker for an hour

# Card, bank buttons, Apple Pay and Google Pay: what a municipality's citizens use.
ALLOWED_INSTRUMENTS = (
    PaymentInstrument.PAYMENT_CARD,
    PaymentInstrument.BANK_ACCOUNT,
    PaymentInstrument.APPLE_PAY,
    PaymentInstrument.GPAY,
)

# GoPay payment state → ours. REFUNDED / PARTIALLY_REFUNDED stay PAID for the payment
# itself; the refunded amount travels in ``StatusResult.amount_refunded``.
STATE_MAP: dict[str, GatewayStatus] = {
    "CREATED": GatewayStatus.PENDING,
    "PAYMENT_METHOD_CHOSEN": GatewayStatus.PENDING,
    "PAID": GatewayStatus.PAID,
    "AUTHORIZED": GatewayStatus.PROCESSING,
    "CANCELED": GatewayStatus.CANCELLED,
    "TIMEOUTED": GatewayStatus.EXPIRED,
    "REFUNDED": GatewayStatus.PAID,
    "PARTIALLY_REFUNDED": GatewayStatus.PAID,
}

_PAYMENT_ID = re.compile(r"[0-9]{1,20}")
log = logging.getLogger(__name__)


def map_state(state: str) -> GatewayStatus:
    """GoPay state → ours; an unknown state is an error, not a guess."""
    try:
        return STATE_MAP[state]
    except KeyError:
        raise GatewayError(f"gopay: unknown payment state {state[:40]!r}") from None


def _quiet_logger(request: Request, response: Response) -> None:
    # The SDK's default logger writes whole requests (with the bearer token) at DEBUG:
    # secrets never go to the log, so only the method, path and status do.
    log.debug("gopay %s %s -> %s", request.method.upper(), request.path, response.status_code)


def _ok(response: Response) -> bool:
    # The SDK's ``success`` is ``status < 400``, which counts its own "network error"
    # (status 0) as a success.
    return 200 <= response.status_code < 400


def _error(what: str, response: Response) -> GatewayError:
    if response.status_code == 0:
        return GatewayError(f"gopay: {what}: gateway unreachable (network error or timeout)")
    if response.status_code in (401, 403):
        return GatewayError(f"gopay: {what}: credentials refused (HTTP {response.status_code})")
    codes = []
    for err in (response.json or {}).get("errors") or []:
        if isinstance(err, dict):
            codes.append(f"{err.get('error_code')} {err.get('error_name') or ''}".strip())
    detail = f": {'; '.join(codes)[:200]}" if codes else ""
    return GatewayError(f"gopay: {what} failed (HTTP {response.status_code}){detail}")


class GoPayGateway(Gateway):
    name = "gopay"

    def __init__(self, *, goid: str | int, client_id: str, client_secret: str, gateway_url: str = SANDBOX_URL):
        if not (str(goid).strip().isdigit() and client_id and client_secret and gateway_url):
            raise GatewayError("gopay gateway is not configured (GOPAY_GOID, GOPAY_CLIENT_ID, GOPAY_CLIENT_SECRET)")
        self._config = {
            "goid": int(goid),
            "client_id": client_id,
            "client_secret": client_secret,
            "gateway_url": gateway_url,
            "timeout": REQUEST_TIMEOUT,
            "scope": TokenScope.ALL,
        }
        self._payments: gopay.Payments | None = None

    @property
    def goid(self) -> int:
        return int(self._config["goid"])

    def _api(self) -> gopay.Payments:
        # Built on first use: the SDK asks for a token as soon as it is constructed, and
        # building an adapter (e.g. for a settings screen) must not touch the network.
        if self._payments is None:
            self._payments = gopay.payments(dict(self._config), {"logger": _quiet_logger})
        return self._payments

    def _json(self, what: str, response: Response) -> dict[str, Any]:
        if not _ok(response) or not isinstance(response.json, dict):
            raise _error(what, response)
        return response.json

    # -- the interface -------------------------------------------------------------
    def create(self, request: PaymentRequest) -> CreatedPayment:
        if request.amount <= 0:
            raise GatewayError("amount must be positive")
        if request.currency.upper() != "CZK":
            raise GatewayError("gopay: only CZK payments are supported")
        description = request.description[:256] or request.external_id
        payer: dict[str, Any] = {
            "allowed_payment_instruments": [str(i) for i in ALLOWED_INSTRUMENTS],
            "default_payment_instrument": str(PaymentInstrument.PAYMENT_CARD),
        }
        if request.payer_email:
            payer["contact"] = {"email": request.payer_email}
        payment: dict[str, Any] = {
            "payer": payer,
            "amount": request.amount,  # GoPay counts in hundredths: haléře as they are
            "currency": "CZK",
            "order_number": request.external_id[:128],
            "order_description": description,
            "items": [{"type": "ITEM", "name": description, "amount": request.amount, "count": 1}],
            "callback": {"return_url": request.return_url, "notification_url": request.notify_url},
        }
        if request.variable_symbol:
            payment["additional_params"] = [{"name": "variable_symbol", "value": request.variable_symbol}]
        data = self._json("create payment", self._api().create_payment(payment))
        if not data.get("id") or not data.get("gw_url"):
            raise GatewayError("gopay: create payment: answer without id or gw_url")
        return CreatedPayment(reference=str(data["id"]), redirect_url=str(data["gw_url"]))

    def get_status(self, reference: str) -> StatusResult:
        self._check_id(reference, GatewayError)
        data = self._json("payment status", self._api().get_status(reference))
        state = str(data.get("state") or "")
        status = map_state(state)
        amount = int(data.get("amount") or 0)
        refunded = 0
        if state == "REFUNDED":
            refunded = amount
        elif state == "PARTIALLY_REFUNDED":
            refunded = self._refunded_total(reference)
        reason = None
        if state in ("CANCELED", "TIMEOUTED"):
            reason = state.lower()
        return StatusResult(
            reference=str(data.get("id") or reference),
            status=status,
            amount=amount,
            amount_refunded=refunded,
            failure_reason=reason,
            raw={
                "state": state,
                "sub_state": data.get("sub_state"),
                "payment_instrument": data.get("payment_instrument"),
            },
            details={"gopay_state": state},
        )

    def _refunded_total(self, reference: str) -> int:
        history = self._api().get_history_of_refunds(reference)
        if not _ok(history):
            raise _error("refund history", history)
        items = history.json if isinstance(history.json, list) else []
        # Only refunds GoPay has finished took the money back.
        return sum(int(r.get("amount") or 0) for r in items if isinstance(r, dict) and r.get("state") == "FINISHED")

    def parse_notification(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str] | None = None
    ) -> Notification:
        """GoPay's GET ``?id=<payment id>`` carries no signature: a trigger only. The
        event id is the payment id, so the same trigger twice is one event."""
        payment_id = (query or {}).get("id") or ""
        self._check_id(payment_id, InvalidNotification)
        return Notification(event_id=payment_id, reference=payment_id, event_type="gopay.notification")

    def check_connection(self) -> None:
        # A token proves that the host answers and the credentials hold; it is asked for
        # here (not through the SDK's token property, which hides the answer) to say why
        # it failed.
        api = self._api()
        token_request = Request(
            method="post",
            path="/oauth2/token",
            content_type=ContentType.FORM,
            body={"grant_type": "client_credentials", "scope": TokenScope.ALL},
            basic_auth=True,
        )
        response = api.gopay.api_client.send_request(token_request)
        if response.status_code in (400, 401, 403):
            raise GatewayError(
                f"gopay: client ID or client secret refused (HTTP {response.status_code}); "
                "check the credentials and sandbox vs. production"
            )
        if not _ok(response):
            raise _error("token", response)
        if not isinstance(response.json, dict) or not response.json.get("access_token"):
            raise GatewayError("gopay: token answer without access_token: is the gateway URL right?")
        # The token does not prove the GoID: ask for the e-shop's payment methods in CZK.
        instruments = api.get_payment_instruments(self.goid, Currency.CZECH_CROWNS)
        if instruments.status_code in (400, 403, 404, 409):
            raise GatewayError(
                f"gopay: GoID {self.goid} refused for these credentials (HTTP {instruments.status_code})"
            )
        if not _ok(instruments):
            raise _error("payment methods", instruments)

    def refund(self, reference: str, amount: int, reason: str = "") -> RefundResult:
        self._check_id(reference, GatewayError)
        if amount <= 0:
            raise GatewayError("refund amount must be positive")
        data = self._json("refund", self._api().refund_payment(reference, amount))
        result = str(data.get("result") or "")
        if result not in ("FINISHED", "ACCEPTED"):
            raise GatewayError(f"gopay: refund {result.lower() or 'failed'}")
        refund_reference = f"{reference}-refund"
        history = self._api().get_history_of_refunds(reference)
        if _ok(history) and isinstance(history.json, list) and history.json:
            last = history.json[-1]
            if isinstance(last, dict) and last.get("id"):
                refund_reference = str(last["id"])
        return RefundResult(reference=reference, refund_reference=refund_reference, amount=amount, succeeded=True)

    def cancel(self, reference: str) -> StatusResult:
        # GoPay has no "cancel" for an unpaid payment: the payer cancels on the hosted page
        # or it times out. We take no card authorisations, so there is nothing to void.
        return self.get_status(reference)

    @staticmethod
    def _check_id(value: str, error: type[GatewayError]) -> None:
        if not isinstance(value, str) or not _PAYMENT_ID.fullmatch(value):
            raise error("gopay: not a payment id")


def make_gopay_gateway(settings: Mapping[str, Any]) -> GoPayGateway:
    return GoPayGateway(
        goid=settings.get("GOPAY_GOID") or "",
        client_id=settings.get("GOPAY_CLIENT_ID") or "",
        client_secret=settings.get("GOPAY_CLIENT_SECRET") or "",
        gateway_url=settings.get("GOPAY_GATEWAY_URL") or SANDBOX_URL,
    )
