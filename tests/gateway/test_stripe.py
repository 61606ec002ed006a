"""The Stripe gateway over real HTTP to localstripe (never a patched SDK): the adapter
alone, then the card endpoint, webhooks and refunds through our state machine."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import db_session
from app.gateways import get_gateway
from app.models import GatewayNotification, Payment, PaymentEvent
from app.payments.cards import confirm_card_payment
from app.payments.create import create_payment, start_payment
from app.payments.errors import CardPaymentError, PaymentError
from app.payments.expiry import expire_abandoned
from app.payments.refunds import refund_payment
from app.payments.status import sync_payment
from gateway import GatewayError, GatewayStatus, InvalidNotification, PaymentRequest
from gateway.stripe import StripeGateway, StripeGatewayError, make_stripe_gateway
from tests.conftest import make_test_app, serve_app, stripe_settings
from tests.factories import make_municipality, make_service

PK = "pk_test_portal"
WEBHOOK_SECRET = "whsec_portal_test"
VISA = "4242424242424242"
DECLINED = "4000000000000341"
THREE_DS = "4000002500003155"


# -- talking to localstripe as Stripe.js and Stripe would --------------------------
def _http(url: str, *, data: bytes | None = None, method: str = "POST", headers: dict | None = None) -> dict:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()
    return json.loads(body) if body else {}


def make_token(base: str, number: str) -> str:
    """What Stripe.js createToken does: the card goes to Stripe with the publishable key."""
    form = {"card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123", "key": PK}
    return _http(base + "/v1/tokens", data=urllib.parse.urlencode(form).encode())["id"]


def authenticate(base: str, reference: str, client_secret: str, *, success: bool) -> dict:
    """What the payer does in Stripe.js's 3-D Secure window (confirmCardPayment)."""
    url = f"{base}/v1/payment_intents/{reference}/_authenticate?success={'true' if success else 'false'}"
    return _http(url, data=json.dumps({"key": PK, "client_secret": client_secret}).encode())


def register_webhook(base: str, url: str) -> None:
    body = urllib.parse.urlencode({"url": url, "secret": WEBHOOK_SECRET}).encode()
    _http(base + "/_config/webhooks/portal", data=body)


def sign(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event_body(event_type: str, reference: str, event_id: str = "evt_portaltest1") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "api_version": "2017-08-15",
            "data": {"object": {"id": reference, "object": "payment_intent", "amount": 50000}},
        }
    ).encode()


def wait_for(predicate, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def reload(payment_id: int) -> Payment:
    """Our own view of a row another thread (the live server) may have changed."""
    db_session.rollback()
    db_session.expire_all()
    return db_session.get(Payment, payment_id)


# -- fixtures ------------------------------------------------------------------------
@pytest.fixture
def gw(stripe_server: str) -> StripeGateway:
    """The adapter alone, built from plain settings (no app)."""
    return make_stripe_gateway(stripe_settings(stripe_server))


@pytest.fixture
def stripe_app(db_url: str, stripe_server: str):  # type: ignore[no-untyped-def]
    app = make_test_app(db_url, **stripe_settings(stripe_server))
    with app.app_context():
        yield app
        db_session.remove()
    app.extensions["db_engine"].dispose()


def _request(external_id: str = "ext1", amount: int = 50000) -> PaymentRequest:
    return PaymentRequest(
        external_id=external_id,
        amount=amount,
        currency="CZK",
        description="Poplatek ze psů – Obec",
        return_url="http://localhost/r",
        notify_url="http://localhost/n",
        variable_symbol="1337000001",
    )


def started_stripe_payment(amount: int = 50000) -> Payment:
    m = make_municipality(demo_mode=False)
    s = make_service(m, amount=amount, allowed_gateways=["stripe"])
    payment = create_payment(s, amount=None, payer_name="Jana Nováková", payer_email="jana@example.cz")
    assert payment.gateway_name == "stripe"
    start_payment(payment, return_url="http://localhost/r", notify_url="http://localhost/n")
    assert payment.state == "started" and payment.gateway_reference.startswith("pi_")
    return payment


def transitions(payment: Payment) -> list[str]:
    return list(
        db_session.scalars(
            select(PaymentEvent.to_state)
            .where(PaymentEvent.payment_id == payment.id, PaymentEvent.kind == "transition")
            .order_by(PaymentEvent.id)
        )
    )


# -- the adapter ---------------------------------------------------------------------
def test_create_makes_a_payment_intent_in_halere_with_our_metadata(gw: StripeGateway) -> None:
    created = gw.create(_request(amount=12345))
    assert created.redirect_url is None and gw.embedded_fields
    assert created.client_secret.startswith(created.reference + "_secret_")
    pi = gw.client.v1.payment_intents.retrieve(created.reference)
    assert (pi.amount, pi.currency) == (12345, "czk")
    assert pi.metadata.to_dict() == {"external_id": "ext1", "variable_symbol": "1337000001"}
    status = gw.get_status(created.reference)
    assert (status.status, status.amount, status.requires_action) == (GatewayStatus.PENDING, 12345, False)


def test_get_status_for_each_state(gw: StripeGateway, stripe_server: str) -> None:
    paid = gw.create(_request("a"))
    assert gw.confirm_with_card(paid.reference, make_token(stripe_server, VISA)).status == GatewayStatus.PAID
    assert gw.get_status(paid.reference).status == GatewayStatus.PAID

    declined = gw.create(_request("b"))
    result = gw.confirm_with_card(declined.reference, make_token(stripe_server, DECLINED))
    assert (result.status, result.failure_reason) == (GatewayStatus.FAILED, "card_declined")
    assert gw.get_status(declined.reference).status == GatewayStatus.FAILED

    three_ds = gw.create(_request("c"))
    result = gw.confirm_with_card(three_ds.reference, make_token(stripe_server, THREE_DS))
    assert (result.status, result.requires_action) == (GatewayStatus.PENDING, True)
    assert gw.get_status(three_ds.reference).requires_action

    failed_3ds = gw.create(_request("d"))
    gw.confirm_with_card(failed_3ds.reference, make_token(stripe_server, THREE_DS))
    authenticate(stripe_server, failed_3ds.reference, failed_3ds.client_secret, success=False)
    result = gw.get_status(failed_3ds.reference)
    assert (result.status, result.failure_reason, result.requires_action) == (
        GatewayStatus.FAILED,
        "payment_intent_authentication_failure",
        False,
    )

    cancelled = gw.create(_request("e"))
    assert gw.cancel(cancelled.reference).status == GatewayStatus.CANCELLED
    assert gw.get_status(cancelled.reference).status == GatewayStatus.CANCELLED
    # Cancelling again, or cancelling a paid intent, changes nothing and does not raise.
    assert gw.cancel(cancelled.reference).status == GatewayStatus.CANCELLED
    assert gw.cancel(paid.reference).status == GatewayStatus.PAID


def test_3d_secure_completed_in_the_browser_pays(gw: StripeGateway, stripe_server: str) -> None:
    created = gw.create(_request())
    assert gw.confirm_with_card(created.reference, make_token(stripe_server, THREE_DS)).requires_action
    authenticate(stripe_server, created.reference, created.client_secret, success=True)
    status = gw.get_status(created.reference)
    assert (status.status, status.requires_action) == (GatewayStatus.PAID, False)


def test_confirming_again_returns_the_state_without_charging_twice(gw: StripeGateway, stripe_server: str) -> None:
    created = gw.create(_request())
    gw.confirm_with_card(created.reference, make_token(stripe_server, VISA))
    again = gw.confirm_with_card(created.reference, make_token(stripe_server, VISA))
    assert again.status == GatewayStatus.PAID
    charges = _http(f"{stripe_server}/v1/charges", method="GET", headers={"Authorization": "Bearer sk_test_portal"})
    assert [c["payment_intent"] for c in charges["data"]] == [created.reference]


def test_refunds_full_and_partial_are_summed(gw: StripeGateway, stripe_server: str) -> None:
    created = gw.create(_request(amount=50000))
    gw.confirm_with_card(created.reference, make_token(stripe_server, VISA))
    first = gw.refund(created.reference, 20000, "přeplatek")
    assert first.succeeded and first.amount == 20000 and first.refund_reference.startswith("re_")
    assert gw.get_status(created.reference).amount_refunded == 20000
    gw.refund(created.reference, 30000, "zbytek")
    status = gw.get_status(created.reference)
    assert (status.status, status.amount_refunded) == (GatewayStatus.PAID, 50000)


def test_errors_are_gateway_errors_with_safe_messages(gw: StripeGateway, stripe_server: str) -> None:
    created = gw.create(_request())
    with pytest.raises(StripeGatewayError) as missing:
        gw.get_status("pi_doesnotexist")
    assert missing.value.code == "not_found"
    with pytest.raises(StripeGatewayError) as odd:
        gw.get_status("../v1/charges")
    assert odd.value.code == "unknown_reference"
    # Only tokens and payment method ids are accepted: a raw card number never goes out.
    for bad in (VISA, "tok_doesnotexist", "card_doesnotexist", "", "tok_x; drop"):
        with pytest.raises(StripeGatewayError) as exc:
            gw.confirm_with_card(created.reference, bad)
        assert exc.value.code == "invalid_card_token", bad
    # After a bad token the intent still takes a good card.
    assert gw.confirm_with_card(created.reference, make_token(stripe_server, VISA)).status == GatewayStatus.PAID
    with pytest.raises(GatewayError):
        gw.create(_request(amount=0))


def test_unreachable_stripe_is_a_gateway_error_without_the_key() -> None:
    gw = StripeGateway(
        secret_key="sk_test_supersecret", webhook_secret=None, api_base="http://127.0.0.1:9", max_network_retries=0
    )
    with pytest.raises(StripeGatewayError) as exc:
        gw.get_status("pi_abc")
    assert exc.value.code == "stripe_unreachable" and "supersecret" not in str(exc.value)
    with pytest.raises(GatewayError):
        StripeGateway(secret_key="", webhook_secret=None)


def test_parse_notification_verifies_the_signature(gw: StripeGateway, stripe_server: str) -> None:
    body = event_body("payment_intent.succeeded", "pi_abc123")
    note = gw.parse_notification(body, {"stripe-signature": sign(body)})
    assert (note.event_id, note.reference, note.event_type) == (
        "evt_portaltest1",
        "pi_abc123",
        "payment_intent.succeeded",
    )
    for headers in (
        {},
        {"Stripe-Signature": sign(body, secret="whsec_forged")},
        {"Stripe-Signature": sign(body, timestamp=int(time.time()) - 3600)},
        {"Stripe-Signature": "garbage"},
        {"Stripe-Signature": sign(body[:-1] + b" ")},
    ):
        with pytest.raises(InvalidNotification):
            gw.parse_notification(body, headers)
    for malformed in (b"not json", b'{"id": "evt_1"}', b"\xff\xfe{}", b'{"object": "event"}'):
        with pytest.raises(InvalidNotification):
            gw.parse_notification(malformed, {"Stripe-Signature": sign(malformed)})
    no_secret = StripeGateway(secret_key="sk_test_x", webhook_secret=None, api_base=stripe_server)
    with pytest.raises(InvalidNotification):
        no_secret.parse_notification(body, {"Stripe-Signature": sign(body)})


@pytest.mark.parametrize(
    ("event_type", "implied"),
    [("payment_intent.succeeded", GatewayStatus.PAID), ("payment_intent.payment_failed", GatewayStatus.FAILED),
     ("payment_intent.canceled", GatewayStatus.CANCELLED), ("payment_intent.processing", GatewayStatus.PROCESSING),
     ("payment_intent.created", None)],
)
def test_notification_carries_the_status_its_event_implies(gw: StripeGateway, event_type, implied) -> None:  # type: ignore[no-untyped-def]
    body = event_body(event_type, "pi_abc123")
    assert gw.parse_notification(body, {"Stripe-Signature": sign(body)}).implied_status == implied


def test_gateway_package_imports_nothing_from_app() -> None:
    code = "import sys, gateway.stripe; sys.exit(any(m == 'app' or m.startswith('app.') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# -- the card endpoint and the state machine ------------------------------------------
def test_card_page_loads_stripe_js_and_no_inline_script(stripe_app, stripe_server: str) -> None:  # type: ignore[no-untyped-def]
    client = stripe_app.test_client()
    payment = started_stripe_payment()
    r = client.get(f"/platba/{payment.external_id}/karta")
    assert r.status_code == 200
    assert f'<script src="{stripe_server}/js.stripe.com/v3/"></script>' in r.text
    assert "/static/card.js" in r.text and 'data-publishable-key="pk_test_portal"' in r.text
    assert not re.findall(r"<script(?![^>]*\bsrc=)", r.text)  # CSP: no inline scripts
    assert 'role="alert"' in r.text and 'aria-labelledby="card-label"' in r.text
    csp = r.headers["Content-Security-Policy"]
    assert f"script-src 'self' {stripe_server};" in csp and f"connect-src 'self' {stripe_server}" in csp
    # The client secret is not on the page; the browser only gets it when 3-D Secure is needed.
    assert payment.gateway_client_secret not in r.text
    # Re-posting the review form of a started card payment leads back to the card page.
    r = client.post(f"/platba/{payment.external_id}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/platba/{payment.external_id}/karta")


def test_card_page_without_a_publishable_key_says_so(db_url: str, stripe_server: str) -> None:
    app = make_test_app(db_url, **{**stripe_settings(stripe_server), "STRIPE_PUBLISHABLE_KEY": None})
    with app.app_context():
        payment = started_stripe_payment()
        r = app.test_client().get(f"/platba/{payment.external_id}/karta")
        assert r.status_code == 503 and "Platba kartou není nyní dostupná" in r.text and "card.js" not in r.text
        db_session.remove()
    app.extensions["db_engine"].dispose()


def test_card_payment_succeeds_through_the_endpoint(stripe_app, stripe_server: str) -> None:  # type: ignore[no-untyped-def]
    client = stripe_app.test_client()
    payment = started_stripe_payment()
    r = client.post(f"/platba/{payment.external_id}/karta/potvrdit", json={"token": make_token(stripe_server, VISA)})
    assert r.status_code == 200, r.text
    assert r.json == {
        "state": "paid",
        "requires_action": False,
        "client_secret": None,
        "next": f"/platba/{payment.external_id}/stav",
    }
    payment = reload(payment.id)
    assert payment.state == "paid" and payment.paid_at is not None
    assert transitions(payment) == ["created", "started", "paid"]
    assert client.get(f"/platba/{payment.external_id}/karta").headers["Location"].endswith("/zaplaceno")


def test_declined_card_fails_the_payment(stripe_app, stripe_server: str) -> None:  # type: ignore[no-untyped-def]
    client = stripe_app.test_client()
    payment = started_stripe_payment()
    r = client.post(
        f"/platba/{payment.external_id}/karta/potvrdit", json={"token": make_token(stripe_server, DECLINED)}
    )
    assert r.status_code == 200 and r.json["state"] == "failed" and not r.json["requires_action"]
    payment = reload(payment.id)
    assert (payment.state, payment.failure_reason) == ("failed", "card_declined")
    page = client.get(f"/platba/{payment.external_id}/stav")
    assert page.status_code == 200 and "Platba se nezdařila" in page.text


@pytest.mark.parametrize("success, final", [(True, "paid"), (False, "failed")])
def test_3d_secure_requires_action_then_the_return_page_syncs(
    stripe_app, stripe_server: str, success: bool, final: str
) -> None:  # type: ignore[no-untyped-def]
    client = stripe_app.test_client()
    payment = started_stripe_payment()
    r = client.post(
        f"/platba/{payment.external_id}/karta/potvrdit", json={"token": make_token(stripe_server, THREE_DS)}
    )
    assert r.status_code == 200
    assert r.json["requires_action"] is True and r.json["state"] == "started"
    assert r.json["client_secret"] == payment.gateway_client_secret
    assert reload(payment.id).state == "started"
    authenticate(stripe_server, payment.gateway_reference, r.json["client_secret"], success=success)
    page = client.get(r.json["next"])
    assert reload(payment.id).state == final
    if final == "paid":
        assert page.status_code == 302 and page.headers["Location"].endswith("/zaplaceno")
    else:
        assert page.status_code == 200 and "Platba se nezdařila" in page.text


def test_card_endpoint_bad_input_is_4xx_and_changes_nothing(stripe_app, stripe_server: str) -> None:  # type: ignore[no-untyped-def]
    client = stripe_app.test_client()
    payment = started_stripe_payment()
    url = f"/platba/{payment.external_id}/karta/potvrdit"
    for kwargs in (
        {},
        {"data": "token=tok_x"},
        {"json": ["tok_x"]},
        {"json": {"token": 5}},
        {"json": {"token": "x" * 300}},
    ):
        r = client.post(url, **kwargs)
        assert r.status_code == 400 and r.json["error"], kwargs
    r = client.post(url, json={"token": "tok_doesnotexist"})
    assert r.status_code == 400 and r.json["code"] == "invalid_card_token" and "znovu" in r.json["error"]
    r = client.post(url, json={"token": VISA})  # a card number instead of a token
    assert r.status_code == 400 and r.json["code"] == "invalid_card_token"
    assert reload(payment.id).state == "started"
    r = client.post(
        "/platba/AAAAAAAAAAAAAAAAAAAAAA/karta/potvrdit", json={"token": "tok_x"}, headers={"Accept": "application/json"}
    )
    assert r.status_code == 404 and "error" in r.json
    # A payment not yet started has no intent to confirm.
    m = make_municipality(demo_mode=False)
    fresh = create_payment(
        make_service(m, allowed_gateways=["stripe"]), amount=None, payer_name="Jan", payer_email="jan@example.cz"
    )
    r = client.post(f"/platba/{fresh.external_id}/karta/potvrdit", json={"token": make_token(stripe_server, VISA)})
    assert r.status_code == 409 and r.json["code"] == "not_started"
    assert reload(fresh.id).state == "created"
    # The token still works after all of that.
    assert client.post(url, json={"token": make_token(stripe_server, VISA)}).json["state"] == "paid"


def test_card_endpoint_requires_the_csrf_header(db_url: str, stripe_server: str) -> None:
    app = make_test_app(db_url, **stripe_settings(stripe_server), WTF_CSRF_ENABLED=True)
    with app.app_context():
        payment = started_stripe_payment()
        client = app.test_client()
        url = f"/platba/{payment.external_id}/karta/potvrdit"
        token = make_token(stripe_server, VISA)
        r = client.post(url, json={"token": token}, headers={"Accept": "application/json"})
        assert r.status_code == 400 and reload(payment.id).state == "started"
        page = client.get(f"/platba/{payment.external_id}/karta")
        csrf = re.search(r'data-csrf-token="([^"]+)"', page.text).group(1)
        r = client.post(url, json={"token": token}, headers={"X-CSRFToken": csrf})
        assert r.status_code == 200 and r.json["state"] == "paid"
        db_session.remove()
    app.extensions["db_engine"].dispose()


def test_confirm_card_payment_on_a_demo_payment_is_refused(stripe_app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality()
    payment = create_payment(make_service(m), amount=None, payer_name="Jan", payer_email="jan@example.cz")
    start_payment(payment, return_url="http://localhost/r", notify_url="http://localhost/n")
    with pytest.raises(CardPaymentError) as exc:
        confirm_card_payment(payment, "tok_abc")
    assert exc.value.code == "no_card_form"
    assert stripe_app.test_client().get(f"/platba/{payment.external_id}/karta").status_code == 302


def test_stripe_without_a_secret_key_fails_the_payment_not_the_page(db_url: str, stripe_server: str) -> None:
    app = make_test_app(db_url, **{**stripe_settings(stripe_server), "STRIPE_SECRET_KEY": None})
    with app.app_context():
        m = make_municipality(demo_mode=False)
        payment = create_payment(
            make_service(m, allowed_gateways=["stripe"]), amount=None, payer_name="Jan", payer_email="jan@example.cz"
        )
        r = app.test_client().post(f"/platba/{payment.external_id}", data={"consent": "yes"})
        assert r.status_code == 302 and r.headers["Location"].endswith("/stav")
        assert (reload(payment.id).state, reload(payment.id).failure_reason) == ("failed", "gateway_error")
        db_session.remove()
    app.extensions["db_engine"].dispose()


# -- the payer chooses how to pay --------------------------------------------------------
def test_review_offers_a_choice_and_validates_it(stripe_app) -> None:  # type: ignore[no-untyped-def]
    client = stripe_app.test_client()
    m = make_municipality(demo_mode=False)
    s = make_service(m, allowed_gateways=["demo", "stripe"])
    payment = create_payment(s, amount=None, payer_name="Jan", payer_email="jan@example.cz")
    page = client.get(f"/platba/{payment.external_id}")
    assert 'name="gateway" value="demo" checked' in page.text and 'value="stripe"' in page.text
    assert "<legend>Způsob platby</legend>" in page.text
    r = client.post(f"/platba/{payment.external_id}", data={"gateway": "paypal", "consent": "yes"})
    assert r.status_code == 422 and "Vyberte jeden z nabízených způsobů platby" in r.text
    assert (reload(payment.id).state, reload(payment.id).gateway_name) == ("created", "demo")
    r = client.post(f"/platba/{payment.external_id}", data={"gateway": "stripe", "consent": "yes"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/platba/{payment.external_id}/karta")
    payment = reload(payment.id)
    assert (payment.state, payment.gateway_name) == ("started", "stripe")
    # Once started, the choice cannot change.
    r = client.post(f"/platba/{payment.external_id}", data={"gateway": "demo", "consent": "yes"})
    assert r.status_code == 302 and reload(payment.id).gateway_name == "stripe"


def test_demo_mode_and_disabled_gateways_offer_no_choice(db_url: str, stripe_server: str) -> None:
    app = make_test_app(db_url, **{**stripe_settings(stripe_server), "ENABLED_GATEWAYS": ["demo"]})
    with app.app_context():
        client = app.test_client()
        for m in (make_municipality(demo_mode=True), make_municipality(demo_mode=False)):
            payment = create_payment(
                make_service(m, allowed_gateways=["demo", "stripe"]),
                amount=None,
                payer_name="Jan",
                payer_email="jan@example.cz",
            )
            assert payment.gateway_name == "demo"
            assert 'name="gateway"' not in client.get(f"/platba/{payment.external_id}").text
            r = client.post(f"/platba/{payment.external_id}", data={"gateway": "stripe", "consent": "yes"})
            assert r.status_code == 422
        only_stripe = make_service(make_municipality(demo_mode=False), allowed_gateways=["stripe"])
        with pytest.raises(PaymentError):
            create_payment(only_stripe, amount=None, payer_name="Jan", payer_email="jan@example.cz")
        db_session.remove()
    app.extensions["db_engine"].dispose()


# -- webhooks ----------------------------------------------------------------------------
class WebhookRecorder:
    """WSGI middleware that keeps what arrived at /webhooks/ and what we answered."""

    def __init__(self, wsgi_app):  # type: ignore[no-untyped-def]
        self.wsgi_app = wsgi_app
        self.calls: list[tuple[bytes, dict[str, str], int]] = []

    def about(self, reference: str) -> list[tuple[bytes, dict[str, str], int]]:
        """Calls about one intent (localstripe may still deliver earlier tests' events)."""
        return [
            c for c in self.calls if json.loads(c[0] or b"{}").get("data", {}).get("object", {}).get("id") == reference
        ]

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        if not environ.get("PATH_INFO", "").startswith("/webhooks/"):
            return self.wsgi_app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")

        def recording_start_response(status, response_headers, exc_info=None):  # type: ignore[no-untyped-def]
            self.calls.append((body, headers, int(status.split()[0])))
            return start_response(status, response_headers, exc_info)

        return self.wsgi_app(environ, recording_start_response)


@pytest.fixture
def live_stripe_app(stripe_app, stripe_server: str):  # type: ignore[no-untyped-def]
    """The app on a real server thread with localstripe's webhook pointing at it."""
    recorder = WebhookRecorder(stripe_app.wsgi_app)
    stripe_app.wsgi_app = recorder
    with serve_app(stripe_app) as base:
        register_webhook(stripe_server, f"{base}/webhooks/stripe")
        try:
            yield recorder
        finally:
            # Registrations outlive the data flush: point this one at nothing.
            register_webhook(stripe_server, "http://127.0.0.1:9/")


def _notifications() -> int:
    db_session.rollback()
    return db_session.scalar(select(func.count()).select_from(GatewayNotification))


def _events(payment: Payment) -> int:
    db_session.rollback()
    return db_session.scalar(
        select(func.count()).select_from(PaymentEvent).where(PaymentEvent.payment_id == payment.id)
    )


def test_webhook_from_localstripe_pays_and_its_replay_is_refused(
    live_stripe_app, stripe_app, stripe_server: str
) -> None:  # type: ignore[no-untyped-def]
    payment = started_stripe_payment()
    # The payer paid at Stripe, but our page never heard back (closed tab): only the
    # webhook can tell us. Confirm at the gateway without touching our row.
    get_gateway("stripe").confirm_with_card(payment.gateway_reference, make_token(stripe_server, VISA))
    assert reload(payment.id).state == "started"
    ref = payment.gateway_reference
    assert wait_for(lambda: reload(payment.id).state == "paid" and live_stripe_app.about(ref)), live_stripe_app.calls
    [(body, headers, status)] = live_stripe_app.about(ref)
    assert status == 202 and json.loads(body)["type"] == "payment_intent.succeeded"
    note = db_session.scalar(select(GatewayNotification))
    assert note.event_id == json.loads(body)["id"] and note.processed_at is not None
    assert transitions(reload(payment.id)) == ["created", "started", "paid"]

    before = (_notifications(), _events(payment))
    replay = stripe_app.test_client().post(
        "/webhooks/stripe",
        data=body,
        headers={"Stripe-Signature": headers["Stripe-Signature"], "Content-Type": "application/json"},
    )
    assert replay.status_code == 200 and replay.json["status"] == "already received"
    assert (_notifications(), _events(payment)) == before
    assert reload(payment.id).state == "paid"


def test_payment_failed_webhook_from_localstripe_fails_the_payment(live_stripe_app, stripe_server: str) -> None:  # type: ignore[no-untyped-def]
    payment = started_stripe_payment()
    result = get_gateway("stripe").confirm_with_card(payment.gateway_reference, make_token(stripe_server, DECLINED))
    assert result.status == GatewayStatus.FAILED and reload(payment.id).state == "started"
    ref = payment.gateway_reference
    assert wait_for(lambda: reload(payment.id).state == "failed" and live_stripe_app.about(ref)), live_stripe_app.calls
    assert [(json.loads(b)["type"], st) for b, _, st in live_stripe_app.about(ref)] == [
        ("payment_intent.payment_failed", 202)
    ]
    assert reload(payment.id).failure_reason == "card_declined"


def test_forged_webhook_is_400_and_changes_nothing(stripe_app, stripe_server: str) -> None:  # type: ignore[no-untyped-def]
    client = stripe_app.test_client()
    payment = started_stripe_payment()
    get_gateway("stripe").confirm_with_card(payment.gateway_reference, make_token(stripe_server, VISA))
    body = event_body("payment_intent.succeeded", payment.gateway_reference)
    before = _events(payment)
    for headers in ({"Stripe-Signature": sign(body, secret="whsec_attacker")}, {}, {"Stripe-Signature": "t=1,v1=00"}):
        r = client.post("/webhooks/stripe", data=body, headers=headers)
        assert r.status_code == 400 and "invalid notification" in r.json["error"]
    r = client.post("/webhooks/stripe", data=b"{not json", headers={"Stripe-Signature": sign(b"{not json")})
    assert r.status_code == 400
    assert reload(payment.id).state == "started" and _notifications() == 0 and _events(payment) == before
    # Signed, but about an intent we do not know.
    other = event_body("payment_intent.succeeded", "pi_unknown123", "evt_other")
    assert client.post("/webhooks/stripe", data=other, headers={"Stripe-Signature": sign(other)}).status_code == 404


def test_out_of_order_events_keep_the_truth(stripe_app, stripe_server: str) -> None:  # type: ignore[no-untyped-def]
    client = stripe_app.test_client()
    payment = started_stripe_payment()
    gw = get_gateway("stripe")
    gw.confirm_with_card(payment.gateway_reference, make_token(stripe_server, VISA))
    # payment_failed arrives first, though the intent succeeded: we ask Stripe and pay.
    failed_first = event_body("payment_intent.payment_failed", payment.gateway_reference, "evt_late_failure")
    r = client.post("/webhooks/stripe", data=failed_first, headers={"Stripe-Signature": sign(failed_first)})
    assert r.status_code == 202 and reload(payment.id).state == "paid"
    # Another payment_failed after we are paid: stale, ignored (200, so Stripe stops
    # retrying it), nothing changes.
    before = (_notifications(), _events(payment))
    stale = event_body("payment_intent.payment_failed", payment.gateway_reference, "evt_stale_failure")
    r = client.post("/webhooks/stripe", data=stale, headers={"Stripe-Signature": sign(stale)})
    assert r.status_code == 200 and r.json["status"] == "ignored"
    assert (_notifications(), _events(payment)) == before and reload(payment.id).state == "paid"
    # The succeeded event coming late is accepted and changes nothing either.
    late = event_body("payment_intent.succeeded", payment.gateway_reference, "evt_late_success")
    assert client.post("/webhooks/stripe", data=late, headers={"Stripe-Signature": sign(late)}).status_code == 202
    assert transitions(reload(payment.id)) == ["created", "started", "paid"]


# -- refunds and housekeeping through the state machine --------------------------------
def test_partial_then_full_refund_through_the_state_machine(stripe_app, stripe_server: str) -> None:  # type: ignore[no-untyped-def]
    client = stripe_app.test_client()
    payment = started_stripe_payment(amount=50000)
    client.post(f"/platba/{payment.external_id}/karta/potvrdit", json={"token": make_token(stripe_server, VISA)})
    payment = reload(payment.id)
    refund_payment(payment, 20000, reason="přeplatek", actor="úřednice")
    assert (payment.state, payment.amount_refunded) == ("partially_refunded", 20000)
    with pytest.raises(PaymentError):
        refund_payment(payment, 30001, reason="příliš")
    with pytest.raises(PaymentError):
        refund_payment(payment, 100, reason="  ")
    assert get_gateway("stripe").get_status(payment.gateway_reference).amount_refunded == 20000
    refund_payment(payment, 30000, reason="zbytek")
    payment = reload(payment.id)
    assert (payment.state, payment.amount_refunded) == ("refunded", 50000)
    assert transitions(payment) == ["created", "started", "paid", "partially_refunded", "refunded"]
    with pytest.raises(PaymentError):
        refund_payment(payment, 1, reason="navíc")
    assert get_gateway("stripe").get_status(payment.gateway_reference).amount_refunded == 50000


def test_full_refund_at_once_and_a_refund_made_at_stripe_is_picked_up(stripe_app, stripe_server: str) -> None:  # type: ignore[no-untyped-def]
    client = stripe_app.test_client()
    full = started_stripe_payment(amount=30000)
    client.post(f"/platba/{full.external_id}/karta/potvrdit", json={"token": make_token(stripe_server, VISA)})
    refund_payment(reload(full.id), 30000, reason="storno")
    assert (reload(full.id).state, reload(full.id).amount_refunded) == ("refunded", 30000)

    elsewhere = started_stripe_payment(amount=30000)
    client.post(f"/platba/{elsewhere.external_id}/karta/potvrdit", json={"token": make_token(stripe_server, VISA)})
    get_gateway("stripe").client.v1.refunds.create(
        params={"payment_intent": elsewhere.gateway_reference, "amount": 10000}
    )
    sync_payment(reload(elsewhere.id), source="test")
    assert (reload(elsewhere.id).state, reload(elsewhere.id).amount_refunded) == ("partially_refunded", 10000)


def test_abandoned_card_payment_is_cancelled_at_stripe_and_expires(stripe_app) -> None:  # type: ignore[no-untyped-def]
    payment = started_stripe_payment()
    assert expire_abandoned(timedelta(minutes=-1)) == 1
    assert reload(payment.id).state == "expired"
    assert get_gateway("stripe").get_status(payment.gateway_reference).status == GatewayStatus.CANCELLED
