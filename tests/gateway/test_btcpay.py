"""The BTCPay adapter against the fake Greenfield server over real HTTP on loopback: every
invoice status, signed webhooks (good, bad, missing, replayed, reordered, lost), refunds as
pull payments, the connection check and a server that is down or too slow."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import gateway
from gateway import GatewayError, GatewayStatus, InvalidNotification, PaymentRequest
from gateway.btcpay import BTCPayGateway, make_btcpay_gateway, to_decimal_czk, to_halere, webhook_store_id
from gateway.btcpay.client import GreenfieldClient
from tests.fakes.btcpay import ALL_STORE_PERMISSIONS, RATE, FakeBTCPay

SECRET = "whsec-btcpay-portal"
AMOUNT = 123450  # 1 234,50 Kč


@pytest.fixture
def fake() -> Iterator[FakeBTCPay]:
    with FakeBTCPay() as server:
        yield server


@pytest.fixture
def settings(fake: FakeBTCPay) -> dict[str, object]:
    store = fake.add_store()
    return {
        "BTCPAY_URL": fake.url,
        "BTCPAY_STORE_ID": store,
        # Scoped to the one store, as a municipality's key should be.
        "BTCPAY_API_KEY": fake.add_key([f"{p}:{store}" for p in ALL_STORE_PERMISSIONS]),
        "BTCPAY_WEBHOOK_SECRET": SECRET,
        "BTCPAY_INVOICE_MINUTES": 30,
    }


@pytest.fixture
def gw(settings: dict[str, object]) -> BTCPayGateway:
    built = gateway.build("btcpay", settings)
    assert isinstance(built, BTCPayGateway)
    return built


def start(gw: BTCPayGateway, external_id: str = "pay_ext_1", **extra: object) -> str:
    request = PaymentRequest(
        external_id=external_id,
        amount=AMOUNT,
        currency="CZK",
        description="Poplatek za psa",
        return_url="http://portal.test/platba/pay_ext_1/navrat",
        notify_url="http://portal.test/webhooks/btcpay",
        **extra,  # type: ignore[arg-type]
    )
    return gw.create(request).reference


class Receiver:
    """What the portal does with a webhook, on its own server: verify, record the event id
    once (a replay gets 409), then ask the gateway for the truth and keep it."""

    def __init__(self, gw: BTCPayGateway):
        self.gw = gw
        self.seen: set[str] = set()
        self.truth: dict[str, GatewayStatus] = {}
        self.hints: list[GatewayStatus | None] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        try:
            note = self.gw.parse_notification(request.get_data(), dict(request.headers))
        except InvalidNotification:
            return Response("bad", status=400)(environ, start_response)
        with self.lock:
            if note.event_id in self.seen:
                return Response("replay", status=409)(environ, start_response)
            self.seen.add(note.event_id)
            self.hints.append(note.implied_status)
            self.truth[note.reference] = self.gw.get_status(note.reference).status
        return Response("ok")(environ, start_response)


@pytest.fixture
def receiver(fake: FakeBTCPay, gw: BTCPayGateway) -> Iterator[Receiver]:
    app = Receiver(gw)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.add_webhook(f"http://127.0.0.1:{server.server_port}/webhooks/btcpay", SECRET)
    try:
        yield app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def signed(event: dict, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, {"BTCPay-Sig": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


# -- money ---------------------------------------------------------------------------
def test_amounts_convert_without_floats() -> None:
    assert to_decimal_czk(123450) == "1234.50"
    assert to_decimal_czk(5) == "0.05"
    assert to_halere("1234.5") == 123450
    assert to_halere("0.005") == 1  # half up
    assert to_halere(Decimal("99.994")) == 9999
    with pytest.raises(GatewayError):
        to_halere("NaN")


# -- creating the invoice ---------------------------------------------------------------
def test_create_sends_czk_invoice_and_reads_btc_amount(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    created = gw.create(
        PaymentRequest(
            external_id="pay_ext_1",
            amount=AMOUNT,
            currency="CZK",
            description="Poplatek za psa",
            return_url="http://portal.test/platba/pay_ext_1/navrat",
            notify_url="http://portal.test/webhooks/btcpay",
        )
    )
    inv = fake.invoices[created.reference]
    assert created.redirect_url == f"{fake.url}/i/{created.reference}"
    assert (inv.amount, inv.currency, inv.metadata["orderId"]) == (Decimal("1234.50"), "CZK", "pay_ext_1")
    assert inv.checkout["expirationMinutes"] == 30
    assert inv.checkout["redirectURL"] == "http://portal.test/platba/pay_ext_1/navrat"
    assert inv.checkout["defaultLanguage"] == "cs-CZ"

    result = gw.get_status(created.reference)
    assert result.status == GatewayStatus.PENDING
    assert result.amount == AMOUNT and result.amount_received is None
    assert result.details["rate"] == str(RATE)
    assert Decimal(result.details["btc_amount"]) == inv.btc_due == Decimal("0.00053674")
    assert result.details["btc_address"] == inv.address


def test_invoice_never_outlives_our_payment(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    soon = start(gw, expires_at=datetime.now(UTC) + timedelta(minutes=10, seconds=30))
    assert fake.invoices[soon].checkout["expirationMinutes"] == 10
    late = start(gw, "pay_ext_2", expires_at=datetime.now(UTC) + timedelta(days=2))
    assert fake.invoices[late].checkout["expirationMinutes"] == 30  # the setting caps it
    past = start(gw, "pay_ext_3", expires_at=datetime.now(UTC) - timedelta(minutes=5))
    assert fake.invoices[past].checkout["expirationMinutes"] == 1  # BTCPay's floor


def test_create_refuses_what_btcpay_cannot_do(gw: BTCPayGateway) -> None:
    with pytest.raises(GatewayError):
        gw.create(PaymentRequest("x", 0, "CZK", "d", "http://r", "http://n"))
    with pytest.raises(GatewayError, match="CZK"):
        gw.create(PaymentRequest("x", 100, "EUR", "d", "http://r", "http://n"))


# -- every status path ----------------------------------------------------------------
def test_processing_then_settled(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    ref = start(gw)
    fake.pay(ref)
    assert gw.get_status(ref).status == GatewayStatus.PROCESSING
    fake.confirm(ref)
    result = gw.get_status(ref)
    assert result.status == GatewayStatus.PAID
    assert result.amount_received is None  # exactly the amount
    assert result.details["btc_paid"] == "0.00053674"
    assert result.raw == {"status": "Settled", "additionalStatus": "None"}


def test_overpaid_is_paid_with_the_surplus_recorded(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    ref = start(gw)
    fake.pay_fraction(ref, "1.2")
    assert gw.get_status(ref).status == GatewayStatus.PROCESSING
    fake.confirm(ref)
    result = gw.get_status(ref)
    assert result.status == GatewayStatus.PAID
    assert result.amount_received is not None and result.amount_received > AMOUNT
    assert result.details["overpaid"] is True
    assert result.details["amount_overpaid"] == result.amount_received - AMOUNT
    assert result.amount_received == to_halere(Decimal("0.00064409") * RATE)


def test_partial_stays_open_with_the_remainder(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    ref = start(gw)
    fake.pay_fraction(ref, "0.5", confirmed=True)
    result = gw.get_status(ref)
    assert result.status == GatewayStatus.PENDING
    assert result.details["partial"] is True
    assert result.amount_received == 61725  # 0.00026837 BTC at 2 300 000 = 617.251 Kč
    assert result.details["amount_remaining"] == AMOUNT - 61725
    # The payer sends the rest: the invoice completes as usual.
    fake.pay(ref)
    assert gw.get_status(ref).status == GatewayStatus.PROCESSING
    fake.confirm(ref)
    assert gw.get_status(ref).status == GatewayStatus.PAID


def test_partial_then_expired_keeps_what_arrived_for_return(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    ref = start(gw)
    fake.pay_fraction(ref, "0.5", confirmed=True)
    fake.expire(ref)
    result = gw.get_status(ref)
    assert result.status == GatewayStatus.EXPIRED
    assert result.amount_received == 61725
    assert result.details["partial"] is True and result.details["needs_attention"] is True


def test_expired(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    ref = start(gw)
    fake.expire(ref)
    result = gw.get_status(ref)
    assert result.status == GatewayStatus.EXPIRED
    assert result.amount_received is None and "needs_attention" not in result.details


def test_paid_late_counts_once_confirmed(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    ref = start(gw)
    fake.expire(ref)
    fake.pay(ref)
    assert gw.get_status(ref).status == GatewayStatus.PROCESSING  # Expired/PaidLate, unconfirmed
    fake.confirm(ref)
    result = gw.get_status(ref)
    assert result.raw == {"status": "Expired", "additionalStatus": "PaidLate"}
    assert result.status == GatewayStatus.PAID and result.details["late"] is True


def test_invalid(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    ref = start(gw)
    fake.pay(ref)
    fake.double_spend(ref)
    result = gw.get_status(ref)
    assert (result.status, result.failure_reason) == (GatewayStatus.FAILED, "invalid")


def test_marked_by_the_store(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    invalid = start(gw)
    fake.mark(invalid, "Invalid")
    result = gw.get_status(invalid)
    assert (result.status, result.failure_reason) == (GatewayStatus.FAILED, "marked_invalid")
    # An expired invoice the store settles by hand (paid some other way): paid.
    settled = start(gw, "pay_ext_2")
    fake.expire(settled)
    fake.mark(settled, "Settled")
    result = gw.get_status(settled)
    assert result.status == GatewayStatus.PAID and result.details["marked"] is True


def test_cancel_only_reports(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    ref = start(gw)
    assert gw.cancel(ref).status == GatewayStatus.PENDING
    assert fake.invoices[ref].status == "New"


def test_unknown_invoice_and_bad_reference(gw: BTCPayGateway) -> None:
    with pytest.raises(GatewayError, match="404"):
        gw.get_status("NoSuchInvoice123")
    with pytest.raises(GatewayError):
        gw.get_status("../stores")


# -- webhooks ----------------------------------------------------------------------------
def test_webhook_signature_good_bad_missing(settings: dict[str, object], gw: BTCPayGateway) -> None:
    event = {
        "deliveryId": "Dlv1",
        "originalDeliveryId": "Dlv1",
        "webhookId": "Wh1",
        "isRedelivery": False,
        "type": "InvoiceSettled",
        "timestamp": 1764600000,
        "storeId": settings["BTCPAY_STORE_ID"],
        "invoiceId": "Inv123",
        "manuallyMarked": False,
        "overPaid": False,
    }
    body, headers = signed(event)
    note = gw.parse_notification(body, headers)
    assert (note.event_id, note.reference, note.event_type) == ("Dlv1", "Inv123", "InvoiceSettled")
    assert note.implied_status == GatewayStatus.PAID
    # Header names are case-insensitive in HTTP.
    assert gw.parse_notification(body, {"btcpay-sig": headers["BTCPay-Sig"]}) == note

    with pytest.raises(InvalidNotification, match="missing"):
        gw.parse_notification(body, {})
    with pytest.raises(InvalidNotification, match="bad signature"):
        gw.parse_notification(body, signed(event, "another-secret")[1])
    with pytest.raises(InvalidNotification, match="bad signature"):
        gw.parse_notification(body.replace(b"Inv123", b"Inv124"), headers)
    with pytest.raises(InvalidNotification, match="bad signature"):
        gw.parse_notification(body, {"BTCPay-Sig": headers["BTCPay-Sig"].removeprefix("sha256=")})
    other_store = dict(event, storeId="AnotherStore")
    with pytest.raises(InvalidNotification, match="another store"):
        gw.parse_notification(*signed(other_store))
    no_invoice = {k: v for k, v in event.items() if k != "invoiceId"}
    with pytest.raises(InvalidNotification, match="names no invoice"):
        gw.parse_notification(*signed(no_invoice))
    with pytest.raises(InvalidNotification, match="malformed"):
        gw.parse_notification(*signed(["not", "an", "event"]))  # type: ignore[arg-type]


def test_webhook_store_id_routes_before_verifying() -> None:
    assert webhook_store_id(b'{"storeId": "Store1", "invoiceId": "x"}') == "Store1"
    assert webhook_store_id(b'{"storeId": "../etc"}') is None
    assert webhook_store_id(b"not json") is None
    assert webhook_store_id(b"[]") is None


def test_webhook_without_configured_secret_is_refused(settings: dict[str, object]) -> None:
    unsigned = make_btcpay_gateway({**settings, "BTCPAY_WEBHOOK_SECRET": ""})
    with pytest.raises(InvalidNotification, match="not configured"):
        unsigned.parse_notification(*signed({"deliveryId": "x"}))


def test_webhooks_reordered_still_end_at_the_truth(fake: FakeBTCPay, gw: BTCPayGateway, receiver: Receiver) -> None:
    ref = start(gw)
    fake.pay(ref)
    fake.confirm(ref)
    types = [d.type for d in fake.outbox]
    assert types == [
        "InvoiceCreated",
        "InvoiceReceivedPayment",
        "InvoiceProcessing",
        "InvoicePaymentSettled",
        "InvoiceSettled",
    ]
    # Newest first: the last to arrive is InvoiceCreated, yet the invoice is re-read.
    assert fake.flush(order=[4, 3, 2, 1, 0]) == [200] * 5
    assert receiver.truth[ref] == GatewayStatus.PAID
    assert receiver.hints == [GatewayStatus.PAID, None, GatewayStatus.PROCESSING, None, None]


def test_webhook_replays_are_recognised(fake: FakeBTCPay, gw: BTCPayGateway, receiver: Receiver) -> None:
    ref = start(gw)
    fake.expire(ref)
    pending = list(fake.outbox)
    assert fake.flush() == [200, 200]
    # The same delivery again (a retry) and BTCPay's "Redeliver" (a new deliveryId that
    # names the original): both are the event already seen.
    assert [fake.deliver(d) for d in pending] == [409, 409]
    assert [fake.redeliver(d) for d in pending] == [409, 409]
    assert json.loads(fake.delivered[-1][0].body())["isRedelivery"] is True
    assert receiver.truth[ref] == GatewayStatus.EXPIRED
    assert len(receiver.seen) == 2


def test_lost_webhooks_are_healed_by_asking(fake: FakeBTCPay, gw: BTCPayGateway, receiver: Receiver) -> None:
    ref = start(gw)
    fake.flush()  # InvoiceCreated arrives
    fake.pay(ref, confirmed=True)
    assert fake.flush(drop={0, 1, 2, 3}) == []  # every later event is lost
    assert receiver.truth[ref] == GatewayStatus.PENDING
    # The poll (or the return page) asks: the truth does not depend on webhooks.
    assert gw.get_status(ref).status == GatewayStatus.PAID


def test_delayed_webhook_after_a_newer_state(fake: FakeBTCPay, gw: BTCPayGateway, receiver: Receiver) -> None:
    ref = start(gw)
    fake.pay(ref)
    held = list(fake.outbox)
    fake.outbox.clear()
    fake.confirm(ref)
    fake.flush()  # the settle events arrive first
    assert receiver.truth[ref] == GatewayStatus.PAID
    for delivery in held:  # the old ones straggle in: still PAID
        fake.deliver(delivery)
    assert receiver.truth[ref] == GatewayStatus.PAID


def test_webhook_signed_by_the_fake_with_another_secret_is_rejected(
    fake: FakeBTCPay, gw: BTCPayGateway, receiver: Receiver
) -> None:
    fake.webhooks[0] = (fake.webhooks[0][0], fake.webhooks[0][1], "not-our-secret")
    start(gw)
    assert fake.flush() == [400]
    assert receiver.seen == set()


# -- refunds -----------------------------------------------------------------------------
def test_refund_is_a_pull_payment_completed_when_paid_out(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    ref = start(gw)
    fake.pay(ref, confirmed=True)
    result = gw.refund(ref, 50000, reason="Duplicitní platba")
    assert (result.reference, result.amount, result.succeeded) == (ref, 50000, False)
    pull = fake.pull_payments[result.refund_reference]
    assert (pull["amount"], pull["currency"], pull["description"]) == ("500.00", "CZK", "Duplicitní platba")
    assert pull["payoutMethods"] == ["BTC-CHAIN"]  # on-chain, as the invoice was paid

    status = gw.refund_status(result.refund_reference)
    assert (status.completed, status.pending, status.amount, status.amount_paid) == (False, False, 50000, 0)
    assert status.claim_url == f"{fake.url}/pull-payments/{result.refund_reference}"
    # The payer claims it on the claim page with their wallet address.
    claimed = requests.post(status.claim_url, data={"destination": "bcrt1qpayer"}, timeout=5, allow_redirects=False)
    assert claimed.status_code == 302
    status = gw.refund_status(result.refund_reference)
    assert (status.completed, status.pending) == (False, True)
    # The store approves, the transaction confirms.
    (payout_id,) = fake.payouts
    fake.complete_payout(payout_id)
    status = gw.refund_status(result.refund_reference)
    assert (status.completed, status.pending, status.amount_paid) == (True, False, 50000)


def test_refund_of_an_unpaid_invoice_is_refused(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    ref = start(gw)
    with pytest.raises(GatewayError, match="non-refundable"):
        gw.refund(ref, 100)
    with pytest.raises(GatewayError):
        gw.refund(ref, 0)
    with pytest.raises(GatewayError, match="404"):
        gw.refund_status("NoSuchPullPayment")


# -- connection check and failures -------------------------------------------------------
def test_check_connection_passes(gw: BTCPayGateway) -> None:
    gw.check_connection()


def test_check_connection_explains_what_is_wrong(fake: FakeBTCPay, settings: dict[str, object]) -> None:
    wrong_key = make_btcpay_gateway({**settings, "BTCPAY_API_KEY": "not-a-key"})
    with pytest.raises(GatewayError, match="refused the API key"):
        wrong_key.check_connection()

    store = settings["BTCPAY_STORE_ID"]
    no_refunds = fake.add_key([f"btcpay.store.canviewinvoices:{store}", f"btcpay.store.cancreateinvoice:{store}"])
    with pytest.raises(GatewayError, match="lacks the permissions btcpay.store.cancreatepullpayments"):
        make_btcpay_gateway({**settings, "BTCPAY_API_KEY": no_refunds}).check_connection()

    other_store_key = fake.add_key([f"{p}:{fake.add_store()}" for p in ALL_STORE_PERMISSIONS])
    with pytest.raises(GatewayError, match="lacks the permissions"):
        make_btcpay_gateway({**settings, "BTCPAY_API_KEY": other_store_key}).check_connection()

    # A key for every store (no ":storeId") but a store id that does not exist.
    broad = fake.add_key(["btcpay.store.canmodifystoresettings"])
    with pytest.raises(GatewayError, match="store NoSuchStore not found"):
        make_btcpay_gateway({**settings, "BTCPAY_API_KEY": broad, "BTCPAY_STORE_ID": "NoSuchStore"}).check_connection()
    make_btcpay_gateway({**settings, "BTCPAY_API_KEY": broad}).check_connection()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_server_down(settings: dict[str, object]) -> None:
    down = make_btcpay_gateway({**settings, "BTCPAY_URL": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(GatewayError, match="cannot be reached"):
        down.check_connection()
    with pytest.raises(GatewayError, match="unreachable"):
        down.get_status("Inv123")
    with pytest.raises(GatewayError, match="unreachable"):
        start(down)


def test_server_too_slow(fake: FakeBTCPay, settings: dict[str, object]) -> None:
    fake.delay = 1.0
    slow = BTCPayGateway(
        url=fake.url,
        store_id=str(settings["BTCPAY_STORE_ID"]),
        api_key=str(settings["BTCPAY_API_KEY"]),
        webhook_secret=SECRET,
        client=GreenfieldClient(fake.url, str(settings["BTCPAY_API_KEY"]), timeout=(2, 0.2)),
    )
    with pytest.raises(GatewayError, match="no answer in time"):
        slow.get_status("Inv123")


def test_errors_never_carry_the_key(fake: FakeBTCPay, settings: dict[str, object]) -> None:
    key = str(settings["BTCPAY_API_KEY"])
    with pytest.raises(GatewayError) as caught:
        make_btcpay_gateway({**settings, "BTCPAY_STORE_ID": "Elsewhere"}).get_status("Inv123")
    assert key not in str(caught.value)


def test_unconfigured_gateway_is_refused(settings: dict[str, object]) -> None:
    for missing in ("BTCPAY_URL", "BTCPAY_STORE_ID", "BTCPAY_API_KEY"):
        with pytest.raises(GatewayError, match=missing):
            gateway.build("btcpay", {**settings, missing: ""})
    assert "btcpay" in gateway.available()


# -- the fake's checkout page (what a browser test clicks) -----------------------------
def test_checkout_page_pays_and_returns(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    ref = start(gw)
    link = f"{fake.url}/i/{ref}"
    page = requests.get(link, timeout=5).text
    for button in ("Pay", "Pay partially", "Pay too much"):
        assert f"<button>{button}</button>" in page
    paid = requests.post(f"{link}/pay", data={"kind": "full"}, timeout=5, allow_redirects=False)
    assert paid.status_code == 302
    assert paid.headers["Location"] == "http://portal.test/platba/pay_ext_1/navrat"
    assert gw.get_status(ref).status == GatewayStatus.PROCESSING


def test_a_second_start_reuses_the_open_invoice(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    first = start(gw)
    assert start(gw) == first
    assert len(fake.invoices) == 1
    # Once money arrived on it (or it expired), a new start gets a new invoice.
    fake.pay_fraction(first, "0.5")
    assert start(gw) != first
    assert start(gw, "pay_ext_other") not in (first,)


@pytest.mark.parametrize(
    ("action", "body", "expected"),
    [
        ("settle", {}, GatewayStatus.PAID),
        ("process", {}, GatewayStatus.PROCESSING),
        ("pay-partial", {}, GatewayStatus.PENDING),
        ("pay-over", {}, GatewayStatus.PROCESSING),
        ("pay-late", {}, GatewayStatus.PAID),
        ("expire", {}, GatewayStatus.EXPIRED),
        ("mark", {"status": "Invalid"}, GatewayStatus.FAILED),
        ("mark", {"status": "Settled"}, GatewayStatus.PAID),
        ("pay", {"fraction": "1", "confirmed": True}, GatewayStatus.PAID),
    ],
)
def test_fake_controls_over_http(fake: FakeBTCPay, gw: BTCPayGateway, action: str, body: dict, expected: str) -> None:
    ref = start(gw)
    answer = requests.post(f"{fake.url}/_fake/invoices/{ref}/{action}", json=body, timeout=5)
    assert answer.status_code == 200
    assert gw.get_status(ref).status == expected


def test_one_adapter_serves_many_threads(fake: FakeBTCPay, gw: BTCPayGateway) -> None:
    # The app builds one adapter and shares it between its web server's threads.
    refs = [start(gw, f"pay_ext_t{i}") for i in range(8)]
    for ref in refs[::2]:
        fake.pay(ref, confirmed=True)
    results: dict[str, GatewayStatus] = {}

    def read(ref: str) -> None:
        results[ref] = gw.get_status(ref).status

    threads = [threading.Thread(target=read, args=(ref,)) for ref in refs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == {ref: GatewayStatus.PAID if i % 2 == 0 else GatewayStatus.PENDING for i, ref in enumerate(refs)}


@given(st.integers(min_value=0, max_value=10**12))
def test_amounts_round_trip(amount: int) -> None:
    assert to_halere(to_decimal_czk(amount)) == amount
