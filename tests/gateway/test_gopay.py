"""The GoPay adapter over real HTTP against the fake GoPay (tests/fakes/gopay.py), through
the official SDK: only the gateway URL differs from the sandbox."""

from __future__ import annotations

import logging
import time
import urllib.parse
from collections.abc import Iterator

import pytest
from gopay.enums import PaymentStatus
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.wrappers import Request, Response

import gateway
from gateway import GatewayError, GatewayStatus, InvalidNotification, PaymentRequest
from gateway.gopay import STATE_MAP, GoPayGateway, make_gopay_gateway, map_state
from tests.fakes import LoopbackServer
from tests.fakes.gopay import FakeGoPay

AMOUNT = 12345  # 123,45 Kč


class Receiver:
    """Our notification endpoint as GoPay sees it: records each GET's query."""

    def __init__(self) -> None:
        self.hits: list[dict[str, str]] = []
        self.answers: list[int] = []  # HTTP statuses to answer with first, then 200

        @Request.application
        def app(request: Request) -> Response:
            self.hits.append(request.args.to_dict())
            return Response("OK", status=self.answers.pop(0) if self.answers else 200)

        self.server = LoopbackServer(app)
        self.url = self.server.url + "/webhooks/gopay"


@pytest.fixture
def fake() -> Iterator[FakeGoPay]:
    server = FakeGoPay().start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.stop()


@pytest.fixture
def gw(fake: FakeGoPay) -> GoPayGateway:
    return make_gopay_gateway(fake.settings())


def payment_request(receiver: Receiver, external_id: str = "pl_Xy7abc") -> PaymentRequest:
    return PaymentRequest(
        external_id=external_id,
        amount=AMOUNT,
        currency="CZK",
        description="Poplatek za psa – Liberec",
        return_url="https://portal.example.cz/platba/pl_Xy7abc/navrat",
        notify_url=receiver.url,
        payer_email="obcan@example.cz",
        variable_symbol="2024001",
    )


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def wait_for(condition, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# -- the mapping table on its own -----------------------------------------------------
@pytest.mark.parametrize(
    ("state", "ours"),
    [
        ("CREATED", GatewayStatus.PENDING),
        ("PAYMENT_METHOD_CHOSEN", GatewayStatus.PENDING),
        ("PAID", GatewayStatus.PAID),
        ("AUTHORIZED", GatewayStatus.PROCESSING),
        ("CANCELED", GatewayStatus.CANCELLED),
        ("TIMEOUTED", GatewayStatus.EXPIRED),
        ("REFUNDED", GatewayStatus.PAID),
        ("PARTIALLY_REFUNDED", GatewayStatus.PAID),
    ],
)
def test_state_map(state: str, ours: GatewayStatus) -> None:
    assert map_state(state) is ours


def test_state_map_covers_every_sdk_state_and_refuses_unknown() -> None:
    assert set(STATE_MAP) == {s.value for s in PaymentStatus}
    with pytest.raises(GatewayError, match="unknown payment state"):
        map_state("SOMETHING_NEW")


# -- registry and settings --------------------------------------------------------------
def test_registered_and_built_from_settings(fake: FakeGoPay) -> None:
    assert "gopay" in gateway.available()
    gw = gateway.build("gopay", fake.settings())
    assert isinstance(gw, GoPayGateway) and gw.goid == fake.goid
    with pytest.raises(GatewayError, match="not configured"):
        gateway.build("gopay", {"GOPAY_GOID": "8123456789"})


def test_building_touches_no_network(fake: FakeGoPay) -> None:
    make_gopay_gateway(fake.settings())
    assert fake.token_requests == 0


# -- create, pay, decline, cancel, timeout ------------------------------------------------
def test_create_sends_amount_order_number_payer_and_instruments(
    gw: GoPayGateway, fake: FakeGoPay, receiver: Receiver
) -> None:
    created = gw.create(payment_request(receiver))
    assert created.redirect_url and created.redirect_url.startswith(fake.url + "/gw/v3/")
    stored = fake.payments[int(created.reference)]
    assert stored.amount == AMOUNT and stored.currency == "CZK"
    assert stored.order_number == "pl_Xy7abc"
    assert stored.email == "obcan@example.cz"
    assert stored.goid == fake.goid
    assert set(stored.instruments) == {"PAYMENT_CARD", "BANK_ACCOUNT", "APPLE_PAY", "GPAY"}
    assert stored.notification_url == receiver.url
    assert gw.get_status(created.reference).status is GatewayStatus.PENDING


def test_pay_on_hosted_page_then_status_paid(gw: GoPayGateway, fake: FakeGoPay, receiver: Receiver) -> None:
    created = gw.create(payment_request(receiver))
    back = fake.pay(created.reference)
    assert back.startswith("https://portal.example.cz/platba/pl_Xy7abc/navrat?")
    assert query_of(back) == {"id": created.reference}
    status = gw.get_status(created.reference)
    assert status.status is GatewayStatus.PAID
    assert status.amount == AMOUNT and status.amount_refunded == 0
    # GoPay's GET notification reaches our endpoint; it is a trigger for get_status.
    assert wait_for(lambda: len(receiver.hits) == 1)
    note = gw.parse_notification(b"", {}, receiver.hits[0])
    assert note.reference == created.reference and note.event_id == created.reference
    assert note.implied_status is None


def test_declined_card_keeps_payment_open_until_timeout(gw: GoPayGateway, fake: FakeGoPay, receiver: Receiver) -> None:
    created = gw.create(payment_request(receiver))
    fake.decline(created.reference)
    # GoPay lets the payer try again: not failed, still pending.
    assert gw.get_status(created.reference).status is GatewayStatus.PENDING
    fake.timeout(created.reference)
    status = gw.get_status(created.reference)
    assert status.status is GatewayStatus.EXPIRED and status.failure_reason == "timeouted"


def test_cancel_on_hosted_page(gw: GoPayGateway, fake: FakeGoPay, receiver: Receiver) -> None:
    created = gw.create(payment_request(receiver))
    fake.cancel(created.reference)
    assert gw.get_status(created.reference).status is GatewayStatus.CANCELLED
    assert gw.cancel(created.reference).status is GatewayStatus.CANCELLED


# -- notifications: replayed, delayed, dropped, forged ------------------------------------
def test_repeated_notification_is_the_same_event(gw: GoPayGateway, fake: FakeGoPay, receiver: Receiver) -> None:
    fake.repeat_notifications = 2
    created = gw.create(payment_request(receiver))
    fake.pay(created.reference)
    assert wait_for(lambda: len(receiver.hits) == 2)
    first, second = (gw.parse_notification(b"", {}, q) for q in receiver.hits)
    assert first == second  # the domain records the event id once and refuses the replay


def test_notification_is_retried_until_our_endpoint_answers_200(
    gw: GoPayGateway, fake: FakeGoPay, receiver: Receiver
) -> None:
    receiver.answers = [503]
    created = gw.create(payment_request(receiver))
    fake.pay(created.reference)
    assert wait_for(lambda: len(fake.notifications_sent) == 2)
    assert [status for _, status in fake.notifications_sent] == [503, 200]
    assert {gw.parse_notification(b"", {}, q).event_id for q in receiver.hits} == {created.reference}


def test_delayed_notification_arrives_later(gw: GoPayGateway, fake: FakeGoPay, receiver: Receiver) -> None:
    fake.notification_delay = 0.6
    created = gw.create(payment_request(receiver))
    fake.pay(created.reference)
    time.sleep(0.2)
    assert receiver.hits == []
    assert gw.get_status(created.reference).status is GatewayStatus.PAID  # the return page does not wait
    assert wait_for(lambda: len(receiver.hits) == 1)


def test_dropped_notification_the_status_poll_still_sees_paid(
    gw: GoPayGateway, fake: FakeGoPay, receiver: Receiver
) -> None:
    fake.drop_notifications = True
    created = gw.create(payment_request(receiver))
    fake.pay(created.reference)
    time.sleep(0.3)
    assert receiver.hits == []
    assert gw.get_status(created.reference).status is GatewayStatus.PAID


@pytest.mark.parametrize(
    "query", [{}, {"id": ""}, {"id": "abc"}, {"id": "1; DROP"}, {"id": "1" * 30}, {"id": "123\n"}, {"id": "١٢٣"}]
)
def test_notification_without_a_payment_id_is_refused(gw: GoPayGateway, query: dict[str, str]) -> None:
    with pytest.raises(InvalidNotification):
        gw.parse_notification(b"", {}, query)


# -- refunds ------------------------------------------------------------------------------
def test_partial_then_full_refund(gw: GoPayGateway, fake: FakeGoPay, receiver: Receiver) -> None:
    created = gw.create(payment_request(receiver))
    fake.pay(created.reference)
    first = gw.refund(created.reference, 2345, "část poplatku")
    assert first.succeeded and first.amount == 2345 and first.refund_reference != created.reference
    status = gw.get_status(created.reference)
    assert (status.status, status.amount_refunded, status.raw["state"]) == (
        GatewayStatus.PAID,
        2345,
        "PARTIALLY_REFUNDED",
    )
    with pytest.raises(GatewayError, match="PAYMENT_REFUND_AMOUNT_EXCEEDED"):
        gw.refund(created.reference, AMOUNT, "víc než zbývá")
    gw.refund(created.reference, AMOUNT - 2345, "zbytek")
    status = gw.get_status(created.reference)
    assert (status.status, status.amount_refunded, status.raw["state"]) == (GatewayStatus.PAID, AMOUNT, "REFUNDED")


def test_refund_of_unpaid_payment_is_refused(gw: GoPayGateway, receiver: Receiver) -> None:
    created = gw.create(payment_request(receiver))
    with pytest.raises(GatewayError, match="refund failed"):
        gw.refund(created.reference, 100)


# -- connection check, wrong credentials, gateway down -------------------------------------
def test_check_connection_works(gw: GoPayGateway) -> None:
    gw.check_connection()


def test_wrong_credentials_are_named(fake: FakeGoPay, receiver: Receiver) -> None:
    gw = make_gopay_gateway(fake.settings(GOPAY_CLIENT_SECRET="spatne"))
    with pytest.raises(GatewayError, match="client ID or client secret refused") as info:
        gw.check_connection()
    assert "spatne" not in str(info.value)
    with pytest.raises(GatewayError, match="credentials refused"):
        gw.create(payment_request(receiver))


def test_wrong_goid_is_named(fake: FakeGoPay) -> None:
    gw = make_gopay_gateway(fake.settings(GOPAY_GOID="8000000001"))
    with pytest.raises(GatewayError, match="GoID 8000000001 refused"):
        gw.check_connection()


def test_unreachable_gateway_raises_gateway_error(fake: FakeGoPay, receiver: Receiver) -> None:
    settings = fake.settings()
    gw = make_gopay_gateway(settings)
    created = gw.create(payment_request(receiver))
    fake.stop()
    with pytest.raises(GatewayError, match="unreachable"):
        gw.get_status(created.reference)
    with pytest.raises(GatewayError, match="unreachable"):
        gw.refund(created.reference, 100)
    fresh = make_gopay_gateway(settings)  # the host that was there is gone
    with pytest.raises(GatewayError, match="unreachable"):
        fresh.check_connection()
    with pytest.raises(GatewayError):
        fresh.create(payment_request(receiver))


def test_secrets_and_token_never_logged(
    gw: GoPayGateway, fake: FakeGoPay, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        created = gw.create(payment_request(receiver))
        gw.get_status(created.reference)
    assert fake.tokens
    text = caplog.text
    assert "gopay POST /payments/payment -> 200" in text
    assert fake.client_secret not in text
    assert all(token not in text for token in fake.tokens)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "parent_id", "x"]), st.text(max_size=30)))
def test_any_notification_query_is_a_trigger_or_invalid(query: dict[str, str]) -> None:
    gw = GoPayGateway(goid="8123456789", client_id="c", client_secret="s", gateway_url="http://127.0.0.1:9/api")
    try:
        note = gw.parse_notification(b"", {}, query)
    except InvalidNotification:
        return
    assert note.reference == query["id"] and query["id"].isdigit()
