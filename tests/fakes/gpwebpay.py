"""A fake GP webpay on loopback: its own RSA key pair, the signed redirect, the signed
return, and the SOAP web service (getPaymentStatus, processRefund, echo).

It checks the merchant's DIGEST with the merchant's public key: a tampered order goes back
to the merchant's URL with PRCODE 31 ("wrong digest"); a web-service call with a bad
signature gets a signed SOAP fault with PRCODE 31. Its answers are signed with its own
private key. Paths are the real ones (``/pgw/order.do``, ``/pay-ws/v1/PaymentService``):
only the host differs from GPE's test environment.

The order exists at the gateway only once the payer's browser arrives, so the helpers
take the redirect URL that ``create`` returned: ``pay(url)``, ``decline(url)``,
``cancel(url)``, ``expire(url)`` press a button on the hosted page and return the URL the
gateway sends the payer back to.
"""

from __future__ import annotations

import base64
import html
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask, Response, redirect, request
from lxml import etree

from tests.fakes import LoopbackServer

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
PROC = "http://gpe.cz/pay/pay-ws/proc/v1"
TYPE = "http://gpe.cz/pay/pay-ws/proc/v1/type"

# The fake's own copy of the specification's field orders (not the adapter's: a mistake
# in one must not be mirrored by the other).
SIGNED_REQUEST = (
    "MERCHANTNUMBER OPERATION ORDERNUMBER AMOUNT CURRENCY DEPOSITFLAG MERORDERNUM URL DESCRIPTION MD "
    "USERPARAM1 VRCODE FASTPAYID PAYMETHOD DISABLEPAYMETHOD PAYMETHODS EMAIL REFERENCENUMBER ADDINFO"
).split()
SIGNED_RESPONSE = ("OPERATION", "ORDERNUMBER", "MERORDERNUM", "MD", "PRCODE", "SRCODE", "RESULTTEXT")
REQUIRED = ("MERCHANTNUMBER", "OPERATION", "ORDERNUMBER", "AMOUNT", "DEPOSITFLAG", "URL", "DIGEST")
PAID_STATES = (7, 8, 9, 11, 12)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey, passphrase: str | None) -> str:
    enc: Any = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class Order:
    number: str
    amount: int
    url: str
    merordernum: str | None
    description: str
    email: str | None
    state: int = 1  # REQUESTED
    refunded: int = 0


class FakeGPWebpay:
    def __init__(self, *, merchant_number: str = "1234567890", digest: str = "sha1", passphrase: str = "heslo-klice"):
        self.merchant_number = merchant_number
        self.provider = "0100"
        self.hash = hashes.SHA1() if digest == "sha1" else hashes.SHA256()  # noqa: S303 - what GPE signs with
        self.digest = digest
        self.passphrase = passphrase
        self.gateway_key = new_key()
        self.merchant_key = new_key()
        self.orders: dict[str, Order] = {}
        self.refused_digests = 0
        self.ws_calls: list[str] = []
        self._lock = threading.Lock()
        self.app = self._make_app()
        self._server: LoopbackServer | None = None

    # -- helpers for tests ---------------------------------------------------------
    def start(self) -> FakeGPWebpay:
        self._server = LoopbackServer(self.app)
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server, "fake GP webpay is not running"
        return self._server.url

    def settings(self, **overrides: Any) -> dict[str, Any]:
        values = {
            "GPWEBPAY_MERCHANT_NUMBER": self.merchant_number,
            "GPWEBPAY_PRIVATE_KEY": private_pem(self.merchant_key, self.passphrase),
            "GPWEBPAY_PRIVATE_KEY_PASSPHRASE": self.passphrase,
            "GPWEBPAY_PUBLIC_KEY": public_pem(self.gateway_key),
            "GPWEBPAY_GATEWAY_URL": self.url,
            "GPWEBPAY_DIGEST_ALGORITHM": self.digest,
        }
        values.update(overrides)
        return values

    def open(self, redirect_url: str) -> requests.Response:
        """The payer's browser following ``create``'s redirect (no redirects followed)."""
        return requests.get(redirect_url, allow_redirects=False, timeout=10)

    def _press(self, redirect_url: str, action: str) -> str:
        page = self.open(redirect_url)
        if page.status_code == 302:  # refused at once (wrong digest, duplicate…)
            return page.headers["Location"]
        page.raise_for_status()
        number = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect_url).query))["ORDERNUMBER"]
        action_path = f"/pgw/{number}/{action}"
        # "expire" is no button: the gateway's session runs out while the payer waits.
        assert action == "expire" or f'action="{action_path}"' in page.text
        resp = requests.post(self.url + action_path, allow_redirects=False, timeout=10)
        return resp.headers["Location"]

    def pay(self, redirect_url: str) -> str:
        return self._press(redirect_url, "pay")

    def decline(self, redirect_url: str) -> str:
        return self._press(redirect_url, "decline")

    def cancel(self, redirect_url: str) -> str:
        return self._press(redirect_url, "cancel")

    def expire(self, redirect_url: str) -> str:
        return self._press(redirect_url, "expire")

    # -- signatures ----------------------------------------------------------------
    def _sign(self, values: list[str]) -> str:
        raw = self.gateway_key.sign("|".join(values).encode(), padding.PKCS1v15(), self.hash)
        return base64.b64encode(raw).decode()

    def _merchant_signed(self, values: list[str], signature: str) -> bool:
        try:
            self.merchant_key.public_key().verify(
                base64.b64decode(signature), "|".join(values).encode(), padding.PKCS1v15(), self.hash
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def _return(self, url: str, number: str, merordernum: str | None, prcode: int, srcode: int, text: str) -> Any:
        params = {"OPERATION": "CREATE_ORDER", "ORDERNUMBER": number}
        if merordernum:
            params["MERORDERNUM"] = merordernum
        params.update({"PRCODE": str(prcode), "SRCODE": str(srcode), "RESULTTEXT": text})
        values = [params[k] for k in SIGNED_RESPONSE if k in params]
        params["DIGEST"] = self._sign(values)
        params["DIGEST1"] = self._sign([*values, self.merchant_number])
        sep = "&" if "?" in url else "?"
        return redirect(f"{url}{sep}{urllib.parse.urlencode(params)}", code=302)

    # -- SOAP ------------------------------------------------------------------------
    def _soap(self, content: etree._Element, status: int = 200) -> Response:
        env = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soapenv": SOAP})
        etree.SubElement(env, f"{{{SOAP}}}Body").append(content)
        return Response(etree.tostring(env, xml_declaration=True, encoding="UTF-8"), status, mimetype="text/xml")

    def _fault(self, message_id: str, primary: int, secondary: int, text: str) -> Response:
        fault = etree.Element(f"{{{SOAP}}}Fault")
        etree.SubElement(fault, "faultcode").text = "soapenv:Server"
        etree.SubElement(fault, "faultstring").text = text
        detail = etree.SubElement(fault, "detail")
        exc = etree.SubElement(detail, f"{{{PROC}}}serviceException", nsmap={"ns4": PROC, "ns3": TYPE})
        values = [message_id, str(primary), str(secondary)]
        for name, value in zip(("messageId", "primaryReturnCode", "secondaryReturnCode"), values, strict=True):
            etree.SubElement(exc, f"{{{TYPE}}}{name}").text = value
        etree.SubElement(exc, f"{{{TYPE}}}signature").text = self._sign(values)
        return self._soap(fault, 500)

    def _answer(self, wrapper: str, inner: str, fields: list[tuple[str, str]]) -> Response:
        outer = etree.Element(f"{{{PROC}}}{wrapper}", nsmap={"ns4": PROC, "ns3": TYPE})
        el = etree.SubElement(outer, f"{{{PROC}}}{inner}")
        for name, value in fields:
            etree.SubElement(el, f"{{{TYPE}}}{name}").text = value
        etree.SubElement(el, f"{{{TYPE}}}signature").text = self._sign([v for _, v in fields])
        return self._soap(outer)

    def _ws(self) -> Response:
        try:
            root = etree.fromstring(request.get_data(), parser=etree.XMLParser(resolve_entities=False))
            op = root.find(f"{{{SOAP}}}Body")[0]  # type: ignore[index]
        except (etree.XMLSyntaxError, TypeError, IndexError):
            return Response("bad request", 400)
        operation = etree.QName(op).localname
        self.ws_calls.append(operation)
        if operation == "echo":
            return self._soap(etree.Element(f"{{{PROC}}}echoResponse"))
        if not len(op):
            return Response("bad request", 400)
        req = op[0]
        fields = [(etree.QName(el).localname, el.text or "") for el in req]
        data = dict(fields)
        message_id = data.get("messageId", "")
        signed = [v for k, v in fields if k != "signature"]
        if not self._merchant_signed(signed, data.get("signature", "")):
            self.refused_digests += 1
            return self._fault(message_id, 31, 0, "Wrong digest")
        if data.get("merchantNumber") != self.merchant_number or data.get("provider") != self.provider:
            return self._fault(message_id, 11, 0, "Unknown merchant")
        order = self.orders.get(data.get("paymentNumber", ""))
        if order is None:
            return self._fault(message_id, 15, 0, "Object not found")
        if operation == "getPaymentStatus":
            return self._answer(
                "getPaymentStatusResponse",
                "paymentStatusResponse",
                [("messageId", message_id), ("state", str(order.state))],
            )
        if operation == "processRefund":
            try:
                amount = int(data.get("amount", ""))
            except ValueError:
                return self._fault(message_id, 3, 0, "Invalid amount")
            if order.state not in PAID_STATES:
                return self._fault(message_id, 20, 0, "Object not in valid state")
            if amount <= 0 or amount > order.amount - order.refunded:
                return self._fault(message_id, 18, 0, "Credited sum exceeded the deposited amount")
            order.refunded += amount
            order.state = 11
            return self._answer(
                "processRefundResponse",
                "refundRequestResponse",
                [("messageId", message_id), ("state", str(order.state))],
            )
        return self._fault(message_id, 25, 0, "Operation not allowed")

    # -- the app -------------------------------------------------------------------------
    def _make_app(self) -> Flask:
        app = Flask("fake_gpwebpay")

        @app.route("/pgw/order.do", methods=["GET", "POST"])
        def order() -> Any:
            params = request.values.to_dict()
            url = params.get("URL", "")
            if any(not params.get(k) for k in REQUIRED) or not url.startswith("http"):
                return "Chybí povinné pole", 400
            number, merordernum = params["ORDERNUMBER"], params.get("MERORDERNUM")
            values = [params[k] for k in SIGNED_REQUEST if k in params]
            if not self._merchant_signed(values, params["DIGEST"]):
                self.refused_digests += 1
                return self._return(url, number, merordernum, 31, 0, "Wrong digest")
            if params["MERCHANTNUMBER"] != self.merchant_number:
                return self._return(url, number, merordernum, 11, 0, "Unknown merchant")
            if params.get("CURRENCY", "203") != "203" or not params["AMOUNT"].isdigit():
                return self._return(url, number, merordernum, 3, 0, "Invalid content")
            with self._lock:
                if number in self.orders:
                    return self._return(url, number, merordernum, 14, 0, "Duplicate order number")
                self.orders[number] = Order(
                    number=number,
                    amount=int(params["AMOUNT"]),
                    url=url,
                    merordernum=merordernum,
                    description=params.get("DESCRIPTION", ""),
                    email=params.get("EMAIL"),
                )
            buttons = "".join(
                f'<form method="post" action="/pgw/{number}/{a}"><button type="submit">{label}</button></form>'
                for a, label in (("pay", "Zaplatit"), ("decline", "Zamítnout"), ("cancel", "Zrušit"))
            )
            return (
                '<!doctype html><html lang="cs"><head><meta charset="utf-8"><title>GP webpay (fake)</title></head>'
                f"<body><main><h1>GP webpay</h1><p>{html.escape(params.get('DESCRIPTION', ''))}</p>"
                f'<p class="amount">{int(params["AMOUNT"]) / 100:.2f} CZK</p>{buttons}</main></body></html>'
            )

        @app.post("/pgw/<number>/<action>")
        def act(number: str, action: str) -> Any:
            order = self.orders.get(number)
            if order is None or action not in ("pay", "decline", "cancel", "expire"):
                return "Neplatný požadavek", 404
            if order.state != 1:
                return self._return(order.url, number, order.merordernum, 20, 0, "Object not in valid state")
            if action == "pay":
                order.state = 7  # deposited at once (DEPOSITFLAG=1)
                return self._return(order.url, number, order.merordernum, 0, 0, "OK")
            if action == "decline":
                order.state = 13
                return self._return(order.url, number, order.merordernum, 30, 1005, "Declined in AC")
            if action == "cancel":
                order.state = 10
                return self._return(order.url, number, order.merordernum, 50, 0, "Cardholder cancelled")
            return self._return(order.url, number, order.merordernum, 35, 0, "Session expired")

        @app.post("/pay-ws/v1/PaymentService")
        def ws() -> Response:
            return self._ws()

        return app
