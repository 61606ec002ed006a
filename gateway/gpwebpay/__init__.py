"""GP webpay adapter (Global Payments Europe): signed form redirect, signed return, SOAP
web service for status and refunds. Built from plain settings, one merchant per instance.

- ``create`` builds the redirect to ``<gateway>/pgw/order.do`` with the fields signed
  (``DIGEST``: RSA PKCS#1 v1.5 over the values joined by ``|``, base64) with the
  merchant's private key. The hash is a setting (``sha1`` or ``sha256``): versions of the
  gateway and of its documentation differ.
- ``ORDERNUMBER`` (numeric, at most 15 digits, unique per merchant for ever) is derived
  from our ``external_id`` by ``order_number_for``: a hash, so the same payment always
  gets the same number (a double start cannot make two orders) and nothing has to be
  stored before the redirect. Collisions: with n payments per merchant the chance of any
  is about n²/2·10¹⁵ (10⁵ payments: 5·10⁻⁶); GP webpay refuses a collision with PRCODE 14,
  so it fails visibly and never pays the wrong payment.
- ``parse_return`` verifies ``DIGEST`` and ``DIGEST1`` (the same values plus our merchant
  number) with the gateway's public key and maps PRCODE/SRCODE (``implied_status``,
  Czech ``failure_reason`` from ``DECLINE_MESSAGES``).
- ``get_status`` and ``refund`` call the web service (``/pay-ws/v1/PaymentService``,
  document/literal SOAP 1.1): request signed over its values in schema order, answers
  and faults verified with the gateway's key. The status answer carries a numeric
  ``state`` only (no amount), mapped in ``WS_STATE_MAP``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import unicodedata
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

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

TEST_URL = "https://test.3dsecure.gpwebpay.com"
PRODUCTION_URL = "https://3dsecure.gpwebpay.com"
ORDER_PATH = "/pgw/order.do"
WS_PATH = "/pay-ws/v1/PaymentService"
REQUEST_TIMEOUT = 20  # seconds
CURRENCY_CZK = "203"  # ISO 4217 numeric
DEFAULT_PROVIDER = "0100"

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
PROC_NS = "http://gpe.cz/pay/pay-ws/proc/v1"
TYPE_NS = "http://gpe.cz/pay/pay-ws/proc/v1/type"

# The request fields that DIGEST covers, in the order the specification signs them;
# absent ones are left out of the joined text.
REQUEST_FIELDS = (
    "MERCHANTNUMBER",
    "OPERATION",
    "ORDERNUMBER",
    "AMOUNT",
    "CURRENCY",
    "DEPOSITFLAG",
    "MERORDERNUM",
    "URL",
    "DESCRIPTION",
    "MD",
    "USERPARAM1",
    "VRCODE",
    "FASTPAYID",
    "PAYMETHOD",
    "DISABLEPAYMETHOD",
    "PAYMETHODS",
    "EMAIL",
    "REFERENCENUMBER",
    "ADDINFO",
)
# The return fields that DIGEST covers, in order; DIGEST1 = the same + MERCHANTNUMBER.
RESPONSE_FIELDS = (
    "OPERATION",
    "ORDERNUMBER",
    "MERORDERNUM",
    "MD",
    "PRCODE",
    "SRCODE",
    "RESULTTEXT",
    "USERPARAM1",
    "ADDINFO",
    "TOKEN",
    "EXPIRY",
    "ACSRES",
    "ACCODE",
    "PANPATTERN",
    "DAYTOCAPTURE",
    "TOKENREGSTATUS",
    "ACRC",
    "RRN",
    "PAR",
    "TRACEID",
)

# PRCODE → a Czech message fit for the payer and the clerk.
DECLINE_MESSAGES: dict[int, str] = {
    1: "Chyba v údajích platby: pole je příliš dlouhé.",
    2: "Chyba v údajích platby: pole je příliš krátké.",
    3: "Chyba v údajích platby: pole má chybný obsah.",
    4: "Chyba v údajích platby: pole je prázdné.",
    5: "Chyba v údajích platby: chybí povinné pole.",
    11: "Platební brána nezná tohoto obchodníka.",
    14: "Objednávka s tímto číslem už v platební bráně existuje.",
    15: "Platba nebyla v platební bráně nalezena.",
    17: "Částka k úhradě překročila autorizovanou částku.",
    18: "Součet vrácených částek překročil zaplacenou částku.",
    20: "Platba není ve stavu, který tuto operaci dovoluje.",
    25: "Tato operace není obchodníkovi povolena.",
    26: "Technický problém při spojení s autorizačním centrem banky. Zkuste to prosím později.",
    27: "Chybný typ objednávky.",
    28: "Ověření karty (3-D Secure) bylo zamítnuto.",
    30: "Banka platbu kartou zamítla.",
    31: "Chybný podpis požadavku.",
    35: "Platnost relace vypršela, platbu prosím opakujte.",
    50: "Platbu jste zrušili.",
    1000: "Technický problém v platební bráně. Zkuste to prosím později.",
}
# SRCODE details for PRCODE 30 (declined in the authorisation centre).
DECLINE_DETAILS_30: dict[int, str] = {
    1001: "Karta je blokovaná.",
    1002: "Autorizace byla zamítnuta.",
    1003: "Problém s kartou.",
    1004: "Technický problém v autorizačním centru.",
    1005: "Problém s účtem (např. nedostatek prostředků).",
}

# Web-service ``state`` (getPaymentStatus) → ours. Per GPE's WS documentation as we read
# it; to be checked against the GPE test environment before production.
WS_STATE_MAP: dict[int, GatewayStatus] = {
    1: GatewayStatus.PENDING,  # REQUESTED: the payer has not finished
    2: GatewayStatus.PENDING,  # PENDING
    3: GatewayStatus.PENDING,  # CREATED
    4: GatewayStatus.PROCESSING,  # APPROVED: authorised, not deposited yet
    5: GatewayStatus.CANCELLED,  # APPROVE_REVERSED
    6: GatewayStatus.FAILED,  # UNAPPROVED
    7: GatewayStatus.PAID,  # DEPOSITED_BATCH_OPENED
    8: GatewayStatus.PAID,  # DEPOSITED_BATCH_CLOSED
    9: GatewayStatus.PAID,  # ORDER_CLOSED
    10: GatewayStatus.CANCELLED,  # DELETED / cancelled by the payer
    11: GatewayStatus.PAID,  # CREDITED_BATCH_OPENED: (partly) refunded, was paid
    12: GatewayStatus.PAID,  # CREDITED_BATCH_CLOSED
    13: GatewayStatus.FAILED,  # DECLINED
}
REFUNDED_STATES = frozenset({11, 12})

_DIGITS = re.compile(r"[0-9]{1,15}")


def decline_message(prcode: int, srcode: int = 0) -> str:
    """The Czech message for a PRCODE (and SRCODE where it tells more)."""
    message = DECLINE_MESSAGES.get(prcode, "Platba se nezdařila.")
    if prcode == 30 and srcode in DECLINE_DETAILS_30:
        message = f"{message} {DECLINE_DETAILS_30[srcode]}"
    return message


def map_return_code(prcode: int, srcode: int) -> GatewayStatus:
    """PRCODE/SRCODE on the payer's return → ours."""
    if prcode == 0 and srcode == 0:
        return GatewayStatus.PAID
    if prcode == 50:
        return GatewayStatus.CANCELLED
    return GatewayStatus.FAILED


def map_ws_state(state: int) -> GatewayStatus:
    try:
        return WS_STATE_MAP[state]
    except KeyError:
        raise GatewayError(f"gpwebpay: unknown payment state {state}") from None


def order_number_for(external_id: str) -> str:
    """Our opaque external id → a 15-digit ORDERNUMBER, the same every time."""
    number = int.from_bytes(hashlib.sha256(external_id.encode()).digest()[:8], "big") % 10**15
    return str(number or 1)


def ascii_text(value: str, limit: int) -> str:
    """GP webpay takes printable ASCII only; ``|`` would break the signed text."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return "".join(c for c in folded if " " <= c <= "~" and c != "|")[:limit]


def _hash(algorithm: str) -> hashes.HashAlgorithm:
    if algorithm == "sha1":
        return hashes.SHA1()  # noqa: S303 - older GP webpay versions sign with SHA-1
    if algorithm == "sha256":
        return hashes.SHA256()
    raise GatewayError("gpwebpay: digest algorithm must be sha1 or sha256")


class GPWebpayGateway(Gateway):
    name = "gpwebpay"

    def __init__(
        self,
        *,
        merchant_number: str,
        private_key: str,
        private_key_passphrase: str | None,
        gateway_public_key: str,
        gateway_url: str = TEST_URL,
        digest_algorithm: str = "sha1",
        provider: str = DEFAULT_PROVIDER,
        ws_url: str | None = None,
    ):
        if not (merchant_number and private_key and gateway_public_key and gateway_url):
            raise GatewayError(
                "gpwebpay gateway is not configured (GPWEBPAY_MERCHANT_NUMBER, GPWEBPAY_PRIVATE_KEY, "
                "GPWEBPAY_PUBLIC_KEY, GPWEBPAY_GATEWAY_URL)"
            )
        if not re.fullmatch(r"[0-9]{1,10}", merchant_number):
            raise GatewayError("gpwebpay: merchant number must be up to 10 digits")
        if not re.fullmatch(r"[0-9]{4}", provider):
            raise GatewayError("gpwebpay: provider must be 4 digits")
        self.merchant_number = merchant_number
        self.provider = provider
        self.hash = _hash(digest_algorithm)
        self._private_pem = private_key
        self._passphrase = private_key_passphrase
        self._public_pem = gateway_public_key
        self._private: rsa.RSAPrivateKey | None = None
        self._public: rsa.RSAPublicKey | None = None
        base = gateway_url.rstrip("/")
        # A URL given with its path (…/pgw/order.do) is accepted as well as the bare host.
        for suffix in (ORDER_PATH, "/pgw"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
        self.order_url = base + ORDER_PATH
        self.ws_url = ws_url or base + WS_PATH

    # -- keys and signatures -------------------------------------------------------
    def _private_key(self) -> rsa.RSAPrivateKey:
        if self._private is None:
            password = self._passphrase.encode() if self._passphrase else None
            try:
                key = serialization.load_pem_private_key(self._private_pem.encode(), password=password)
            except (ValueError, TypeError):
                # Never say more: the message must not carry the key or the passphrase.
                raise GatewayError(
                    "gpwebpay: the merchant private key cannot be read (PEM or passphrase wrong)"
                ) from None
            if not isinstance(key, rsa.RSAPrivateKey):
                raise GatewayError("gpwebpay: the merchant private key is not an RSA key")
            self._private = key
        return self._private

    def _public_key(self) -> rsa.RSAPublicKey:
        if self._public is None:
            pem = self._public_pem.encode()
            try:
                if b"CERTIFICATE" in pem:
                    from cryptography import x509

                    key: Any = x509.load_pem_x509_certificate(pem).public_key()
                else:
                    key = serialization.load_pem_public_key(pem)
            except ValueError:
                raise GatewayError("gpwebpay: the gateway public key cannot be read (PEM expected)") from None
            if not isinstance(key, rsa.RSAPublicKey):
                raise GatewayError("gpwebpay: the gateway public key is not an RSA key")
            self._public = key
        return self._public

    def sign(self, values: Sequence[str]) -> str:
        text = "|".join(values).encode()
        return base64.b64encode(self._private_key().sign(text, padding.PKCS1v15(), self.hash)).decode()

    def _verify(self, values: Sequence[str], signature: str) -> bool:
        try:
            raw = base64.b64decode(signature, validate=True)
            self._public_key().verify(raw, "|".join(values).encode(), padding.PKCS1v15(), self.hash)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    # -- the interface -------------------------------------------------------------
    def order_fields(self, request: PaymentRequest) -> dict[str, str]:
        """The signed fields of CREATE_ORDER, DIGEST included, in signing order."""
        if request.amount <= 0:
            raise GatewayError("amount must be positive")
        if request.currency.upper() != "CZK":
            raise GatewayError("gpwebpay: only CZK payments are supported")
        if len(request.return_url) > 300 or "|" in request.return_url:
            raise GatewayError("gpwebpay: return URL too long or with '|'")
        fields = {
            "MERCHANTNUMBER": self.merchant_number,
            "OPERATION": "CREATE_ORDER",
            "ORDERNUMBER": order_number_for(request.external_id),
            "AMOUNT": str(request.amount),  # in hundredths: haléře as they are
            "CURRENCY": CURRENCY_CZK,
            "DEPOSITFLAG": "1",  # deposit at once: a fee is not held, it is paid
        }
        # MERORDERNUM reaches the merchant's bank statement: the variable symbol, when numeric.
        if request.variable_symbol and request.variable_symbol.isdigit():
            fields["MERORDERNUM"] = request.variable_symbol[:30]
        fields["URL"] = request.return_url
        description = ascii_text(request.description, 255)
        if description:
            fields["DESCRIPTION"] = description
        if request.payer_email and len(request.payer_email) <= 255 and "|" not in request.payer_email:
            fields["EMAIL"] = request.payer_email
        ordered = [fields[name] for name in REQUEST_FIELDS if name in fields]
        fields["DIGEST"] = self.sign(ordered)
        return fields

    def create(self, request: PaymentRequest) -> CreatedPayment:
        fields = self.order_fields(request)
        url = f"{self.order_url}?{urllib.parse.urlencode(fields)}"
        return CreatedPayment(reference=fields["ORDERNUMBER"], redirect_url=url)

    def parse_return(self, query: Mapping[str, str]) -> Notification:
        params = {k: v for k, v in query.items() if isinstance(v, str)}
        digest, digest1 = params.get("DIGEST"), params.get("DIGEST1")
        if not digest or not digest1:
            raise InvalidNotification("gpwebpay: return without DIGEST/DIGEST1")
        values = [params[name] for name in RESPONSE_FIELDS if name in params]
        if not self._verify(values, digest) or not self._verify([*values, self.merchant_number], digest1):
            raise InvalidNotification("gpwebpay: return signature invalid")
        order, prcode, srcode = params.get("ORDERNUMBER", ""), params.get("PRCODE", ""), params.get("SRCODE", "")
        if (
            not _DIGITS.fullmatch(order)
            or not re.fullmatch(r"[0-9]{1,4}", prcode)
            or not re.fullmatch(r"[0-9]{1,4}", srcode)
        ):
            raise InvalidNotification("gpwebpay: return without ORDERNUMBER/PRCODE/SRCODE")
        pr, sr = int(prcode), int(srcode)
        status = map_return_code(pr, sr)
        return Notification(
            # The browser may bring the same return twice (reload): one event.
            event_id=f"{order}:{pr}:{sr}",
            reference=order,
            # Ends in the status (".paid", ".failed", ".cancelled"), as the domain's stale-event
            # check reads event types; PRCODE/SRCODE are in the event id.
            event_type=f"gpwebpay.return.{status.value}",
            implied_status=status,
            failure_reason=None if status is GatewayStatus.PAID else decline_message(pr, sr),
        )

    def parse_notification(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str] | None = None
    ) -> Notification:
        """GP webpay has no separate notification: when the same signed result arrives on
        a server-to-server URL (query or form body), it is read like the return."""
        params: Mapping[str, str] | None = query
        if not params and body:
            try:
                params = dict(urllib.parse.parse_qsl(body.decode("ascii"), strict_parsing=True))
            except (UnicodeDecodeError, ValueError):
                raise InvalidNotification("gpwebpay: notification cannot be read") from None
        return self.parse_return(params or {})

    # -- the web service -----------------------------------------------------------
    def _call(
        self, operation: str, request_name: str, response_name: str, values: list[tuple[str, str]]
    ) -> dict[str, str]:
        """One signed SOAP call; returns the answer's fields, raises GatewayError on a
        fault (``primary_code`` set) or anything not signed by the gateway."""
        message_id = secrets.token_hex(16)
        fields = [("messageId", message_id), ("provider", self.provider), ("merchantNumber", self.merchant_number)]
        fields += values
        signature = self.sign([v for _, v in fields])
        envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soapenv": SOAP_NS, "v1": PROC_NS, "type": TYPE_NS})
        etree.SubElement(envelope, f"{{{SOAP_NS}}}Header")
        body = etree.SubElement(envelope, f"{{{SOAP_NS}}}Body")
        op = etree.SubElement(body, f"{{{PROC_NS}}}{operation}")
        req = etree.SubElement(op, f"{{{PROC_NS}}}{request_name}")
        for name, value in [*fields, ("signature", signature)]:
            etree.SubElement(req, f"{{{TYPE_NS}}}{name}").text = value
        payload = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
        try:
            resp = requests.post(
                self.ws_url,
                data=payload,
                headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": ""},
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException:
            raise GatewayError("gpwebpay: web service unreachable (network error or timeout)") from None
        try:
            root = etree.fromstring(resp.content, parser=etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            raise GatewayError(f"gpwebpay: web service answered HTTP {resp.status_code} without SOAP") from None
        fault = root.find(f"{{{SOAP_NS}}}Body/{{{SOAP_NS}}}Fault")
        if fault is not None:
            detail = fault.find("detail")
            exc = detail[0] if detail is not None and len(detail) else None
            if exc is None:
                raise GatewayError(f"gpwebpay: web service fault without detail (HTTP {resp.status_code})")
            answer = {etree.QName(el).localname: (el.text or "") for el in exc}
            self._check_answer(answer, message_id, ("messageId", "primaryReturnCode", "secondaryReturnCode"))
            primary, secondary = answer.get("primaryReturnCode", ""), answer.get("secondaryReturnCode", "")
            if not (primary.isdecimal() and secondary.isdecimal()):
                raise GatewayError("gpwebpay: web service fault without return codes")
            raise GPWebpayFault(int(primary), int(secondary))
        if resp.status_code != 200:
            raise GatewayError(f"gpwebpay: web service answered HTTP {resp.status_code}")
        found = root.xpath("//*[local-name()=$name]", name=response_name)
        if not found:
            raise GatewayError("gpwebpay: web service answer not understood")
        answer = {etree.QName(el).localname: (el.text or "") for el in found[0]}
        self._check_answer(answer, message_id, [etree.QName(el).localname for el in found[0]])
        return answer

    def _check_answer(self, answer: dict[str, str], message_id: str, names: Sequence[str]) -> None:
        if answer.get("messageId") != message_id:
            raise GatewayError("gpwebpay: web service answer for another message")
        values = [answer[n] for n in names if n != "signature" and n in answer]
        if not self._verify(values, answer.get("signature", "")):
            raise GatewayError("gpwebpay: web service answer not signed by the gateway (check its public key)")

    def get_status(self, reference: str) -> StatusResult:
        if not _DIGITS.fullmatch(reference or ""):
            raise GatewayError("gpwebpay: not an order number")
        try:
            answer = self._call(
                "getPaymentStatus", "paymentStatusRequest", "paymentStatusResponse", [("paymentNumber", reference)]
            )
        except GPWebpayFault as fault:
            if fault.primary == 15:
                # The payer never reached the gateway's page: nothing is there yet.
                return StatusResult(reference=reference, status=GatewayStatus.PENDING, amount=0, raw={"prcode": 15})
            raise
        try:
            state = int(answer.get("state") or "")
        except ValueError:
            raise GatewayError("gpwebpay: status answer without state") from None
        status = map_ws_state(state)
        return StatusResult(
            reference=reference,
            status=status,
            amount=0,  # the web service does not say; 0 = unknown for the domain
            failure_reason="declined" if status is GatewayStatus.FAILED else None,
            raw={"state": state, "status": answer.get("status"), "subStatus": answer.get("subStatus")},
            details={"gpwebpay_state": state, "refunded": state in REFUNDED_STATES},
        )

    def refund(self, reference: str, amount: int, reason: str = "") -> RefundResult:
        if not _DIGITS.fullmatch(reference or ""):
            raise GatewayError("gpwebpay: not an order number")
        if amount <= 0:
            raise GatewayError("refund amount must be positive")
        answer = self._call(
            "processRefund",
            "refundRequest",
            "refundRequestResponse",
            [("paymentNumber", reference), ("amount", str(amount))],
        )
        return RefundResult(reference=reference, refund_reference=answer["messageId"], amount=amount, succeeded=True)

    def cancel(self, reference: str) -> StatusResult:
        # An order with DEPOSITFLAG=1 cannot be voided from our side; the payer cancels on
        # the gateway's page or abandons it. Report where it stands.
        return self.get_status(reference)

    def check_connection(self) -> None:
        """Keys readable, the web service reachable, our signature accepted (an unknown
        order gives PRCODE 15, a bad signature 31) and the answer signed by the key we hold."""
        self._private_key()
        self._public_key()
        try:
            self._call("getPaymentStatus", "paymentStatusRequest", "paymentStatusResponse", [("paymentNumber", "1")])
        except GPWebpayFault as fault:
            if fault.primary == 15:
                return
            if fault.primary == 31:
                raise GatewayError(
                    "gpwebpay: the gateway refused our signature (PRCODE 31): the merchant key is not the "
                    "one registered with GP webpay, or the digest algorithm is wrong"
                ) from None
            if fault.primary == 11 or fault.primary in (1, 2, 3, 4, 5):
                raise GatewayError(
                    f"gpwebpay: the gateway refused the merchant number or provider (PRCODE {fault.primary})"
                ) from None
            raise


class GPWebpayFault(GatewayError):
    """A signed SOAP fault: PRCODE/SRCODE of the web service (safe to log)."""

    def __init__(self, primary: int, secondary: int):
        super().__init__(
            f"gpwebpay: refused, PRCODE {primary}/SRCODE {secondary}: {decline_message(primary, secondary)}"
        )
        self.primary = primary
        self.secondary = secondary


def make_gpwebpay_gateway(settings: Mapping[str, Any]) -> GPWebpayGateway:
    return GPWebpayGateway(
        merchant_number=str(settings.get("GPWEBPAY_MERCHANT_NUMBER") or ""),
        private_key=settings.get("GPWEBPAY_PRIVATE_KEY") or "",
        private_key_passphrase=settings.get("GPWEBPAY_PRIVATE_KEY_PASSPHRASE") or None,
        gateway_public_key=settings.get("GPWEBPAY_PUBLIC_KEY") or "",
        gateway_url=settings.get("GPWEBPAY_GATEWAY_URL") or TEST_URL,
        digest_algorithm=(settings.get("GPWEBPAY_DIGEST_ALGORITHM") or "sha1").lower(),
        provider=str(settings.get("GPWEBPAY_PROVIDER") or DEFAULT_PROVIDER),
        ws_url=settings.get("GPWEBPAY_WS_URL") or None,
    )
