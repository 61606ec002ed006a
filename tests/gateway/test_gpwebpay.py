"""The GP webpay adapter over real HTTP against the fake GP webpay (tests/fakes/gpwebpay.py):
signed redirect, signed return, SOAP status and refunds. Only the base URL differs."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import given, settings
from hypothesis import strategies as st

import gateway
from gateway import GatewayError, GatewayStatus, InvalidNotification, PaymentRequest
from gateway.gpwebpay import (
    DECLINE_MESSAGES,
    WS_STATE_MAP,
    GPWebpayGateway,
    ascii_text,
    decline_message,
    make_gpwebpay_gateway,
    map_return_code,
    map_ws_state,
    order_number_for,
)
from tests.fakes.gpwebpay import FakeGPWebpay, new_key, private_pem, public_pem

AMOUNT = 12345


@pytest.fixture
def fake() -> Iterator[FakeGPWebpay]:
    server = FakeGPWebpay().start()
    yield server
    server.stop()


@pytest.fixture
def gw(fake: FakeGPWebpay) -> GPWebpayGateway:
    return make_gpwebpay_gateway(fake.settings())


def payment_request(external_id: str = "pl_Xy7abc") -> PaymentRequest:
    return PaymentRequest(
        external_id=external_id,
        amount=AMOUNT,
        currency="CZK",
        description="Poplatek za psa – Liberec | 2024",
        return_url="https://portal.example.cz/platba/pl_Xy7abc/navrat",
        notify_url="https://portal.example.cz/webhooks/gpwebpay",
        payer_email="obcan@example.cz",
        variable_symbol="2024001",
    )


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


# -- the tables on their own ------------------------------------------------------------
@pytest.mark.parametrize(
    ("prcode", "srcode", "ours"),
    [
        (0, 0, GatewayStatus.PAID),
        (50, 0, GatewayStatus.CANCELLED),
        (0, 1, GatewayStatus.FAILED),
        (28, 3000, GatewayStatus.FAILED),
        (30, 1005, GatewayStatus.FAILED),
        (35, 0, GatewayStatus.FAILED),
        (14, 0, GatewayStatus.FAILED),
        (1000, 0, GatewayStatus.FAILED),
    ],
)
def test_return_code_map(prcode: int, srcode: int, ours: GatewayStatus) -> None:
    assert map_return_code(prcode, srcode) is ours


def test_decline_messages_are_czech_and_specific() -> None:
    for code in (1, 2, 3, 4, 5, 14, 15, 17, 18, 25, 26, 28, 30, 35, 1000):
        assert code in DECLINE_MESSAGES and decline_message(code) == DECLINE_MESSAGES[code]
    assert "3-D Secure" in decline_message(28)
    assert "zamítla" in decline_message(30)
    assert "nedostatek prostředků" in decline_message(30, 1005)
    assert "vypršela" in decline_message(35)
    assert decline_message(9999) == "Platba se nezdařila."
    assert len(set(DECLINE_MESSAGES.values())) == len(DECLINE_MESSAGES)


@pytest.mark.parametrize(
    ("state", "ours"),
    [
        (1, GatewayStatus.PENDING),
        (2, GatewayStatus.PENDING),
        (3, GatewayStatus.PENDING),
        (4, GatewayStatus.PROCESSING),
        (5, GatewayStatus.CANCELLED),
        (6, GatewayStatus.FAILED),
        (7, GatewayStatus.PAID),
        (8, GatewayStatus.PAID),
        (9, GatewayStatus.PAID),
        (10, GatewayStatus.CANCELLED),
        (11, GatewayStatus.PAID),
        (12, GatewayStatus.PAID),
        (13, GatewayStatus.FAILED),
    ],
)
def test_ws_state_map(state: int, ours: GatewayStatus) -> None:
    assert map_ws_state(state) is ours


def test_ws_state_map_refuses_unknown() -> None:
    assert set(WS_STATE_MAP) == set(range(1, 14))
    with pytest.raises(GatewayError, match="unknown payment state 99"):
        map_ws_state(99)


def test_order_number_is_numeric_stable_and_distinct() -> None:
    numbers = {order_number_for(f"pl_{i}") for i in range(2000)}
    assert len(numbers) == 2000
    assert all(n.isdigit() and 1 <= len(n) <= 15 for n in numbers)
    assert order_number_for("pl_Xy7abc") == order_number_for("pl_Xy7abc")


def test_description_becomes_printable_ascii_without_pipes() -> None:
    assert ascii_text("Poplatek za psa – Liberec | 2024 Žluťoučký", 255) == "Poplatek za psa  Liberec  2024 Zlutoucky"
    assert len(ascii_text("x" * 400, 255)) == 255


# -- create ------------------------------------------------------------------------------
def test_registered_and_built_from_settings(fake: FakeGPWebpay) -> None:
    assert "gpwebpay" in gateway.available()
    assert isinstance(gateway.build("gpwebpay", fake.settings()), GPWebpayGateway)
    with pytest.raises(GatewayError, match="not configured"):
        gateway.build("gpwebpay", {"GPWEBPAY_MERCHANT_NUMBER": "123"})
    with pytest.raises(GatewayError, match="sha1 or sha256"):
        gateway.build("gpwebpay", fake.settings(GPWEBPAY_DIGEST_ALGORITHM="md5"))


def test_create_signs_the_order_fields(gw: GPWebpayGateway, fake: FakeGPWebpay) -> None:
    created = gw.create(payment_request())
    assert created.redirect_url and created.redirect_url.startswith(fake.url + "/pgw/order.do?")
    fields = query_of(created.redirect_url)
    assert fields["ORDERNUMBER"] == created.reference == order_number_for("pl_Xy7abc")
    assert {
        k: fields[k] for k in ("MERCHANTNUMBER", "OPERATION", "AMOUNT", "CURRENCY", "DEPOSITFLAG", "MERORDERNUM")
    } == {
        "MERCHANTNUMBER": fake.merchant_number,
        "OPERATION": "CREATE_ORDER",
        "AMOUNT": str(AMOUNT),
        "CURRENCY": "203",
        "DEPOSITFLAG": "1",
        "MERORDERNUM": "2024001",
    }
    assert fields["URL"] == "https://portal.example.cz/platba/pl_Xy7abc/navrat"
    assert fields["DESCRIPTION"] == "Poplatek za psa  Liberec  2024"
    # DIGEST checked here by hand against the specification's order, with the merchant's key.
    order = ["MERCHANTNUMBER", "OPERATION", "ORDERNUMBER", "AMOUNT", "CURRENCY", "DEPOSITFLAG", "MERORDERNUM"]
    text = "|".join([fields[k] for k in order] + [fields["URL"], fields["DESCRIPTION"], fields["EMAIL"]])
    fake.merchant_key.public_key().verify(
        base64.b64decode(fields["DIGEST"]),
        text.encode(),
        padding.PKCS1v15(),
        hashes.SHA1(),  # noqa: S303 - the fake's (and GP webpay's default) digest
    )
    with pytest.raises(GatewayError, match="only CZK"):
        gw.create(PaymentRequest("x", 100, "EUR", "d", "https://a/b", "https://a/c"))


# -- pay, decline, cancel, expire ---------------------------------------------------------
@pytest.mark.parametrize("digest", ["sha1", "sha256"])
def test_pay_then_return_and_status_paid(digest: str) -> None:
    fake = FakeGPWebpay(digest=digest).start()
    try:
        gw = make_gpwebpay_gateway(fake.settings())
        created = gw.create(payment_request())
        back = fake.pay(created.redirect_url or "")
        assert back.startswith("https://portal.example.cz/platba/pl_Xy7abc/navrat?")
        note = gw.parse_return(query_of(back))
        assert note.reference == created.reference
        assert note.implied_status is GatewayStatus.PAID and note.failure_reason is None
        assert (note.event_type, note.event_id) == ("gpwebpay.return.paid", f"{created.reference}:0:0")
        status = gw.get_status(created.reference)
        assert status.status is GatewayStatus.PAID and status.amount == 0  # the WS does not say the amount
        assert fake.orders[created.reference].amount == AMOUNT
    finally:
        fake.stop()


def test_digest_algorithm_mismatch_is_refused_by_the_gateway(fake: FakeGPWebpay) -> None:
    gw = make_gpwebpay_gateway(fake.settings(GPWEBPAY_DIGEST_ALGORITHM="sha256"))  # the gateway uses sha1
    back = fake.pay(gw.create(payment_request()).redirect_url or "")
    assert query_of(back)["PRCODE"] == "31" and fake.refused_digests == 1
    # Its answer is signed with sha1 too, so we cannot even trust it: refused.
    with pytest.raises(InvalidNotification):
        gw.parse_return(query_of(back))


def test_decline(gw: GPWebpayGateway, fake: FakeGPWebpay) -> None:
    created = gw.create(payment_request())
    note = gw.parse_return(query_of(fake.decline(created.redirect_url or "")))
    assert note.implied_status is GatewayStatus.FAILED
    assert note.failure_reason == "Banka platbu kartou zamítla. Problém s účtem (např. nedostatek prostředků)."
    assert gw.get_status(created.reference).status is GatewayStatus.FAILED


def test_cancel(gw: GPWebpayGateway, fake: FakeGPWebpay) -> None:
    created = gw.create(payment_request())
    note = gw.parse_return(query_of(fake.cancel(created.redirect_url or "")))
    assert note.implied_status is GatewayStatus.CANCELLED and note.failure_reason == "Platbu jste zrušili."
    assert gw.get_status(created.reference).status is GatewayStatus.CANCELLED
    assert gw.cancel(created.reference).status is GatewayStatus.CANCELLED


def test_session_expired(gw: GPWebpayGateway, fake: FakeGPWebpay) -> None:
    created = gw.create(payment_request())
    note = gw.parse_return(query_of(fake.expire(created.redirect_url or "")))
    assert note.implied_status is GatewayStatus.FAILED and "vypršela" in (note.failure_reason or "")
    # Nothing was authorised; the gateway still holds the order as requested.
    assert gw.get_status(created.reference).status is GatewayStatus.PENDING


def test_status_of_an_order_the_payer_never_opened_is_pending(gw: GPWebpayGateway) -> None:
    created = gw.create(payment_request())
    assert gw.get_status(created.reference).status is GatewayStatus.PENDING


def test_second_start_of_the_same_payment_is_a_duplicate_not_a_second_charge(
    gw: GPWebpayGateway, fake: FakeGPWebpay
) -> None:
    first = gw.create(payment_request())
    second = gw.create(payment_request())
    assert first.reference == second.reference
    fake.pay(first.redirect_url or "")
    note = gw.parse_return(query_of(fake.pay(second.redirect_url or "")))
    assert note.event_id == f"{first.reference}:14:0" and note.event_type == "gpwebpay.return.failed"
    assert "existuje" in (note.failure_reason or "")
    assert gw.get_status(first.reference).status is GatewayStatus.PAID
    assert len(fake.orders) == 1


# -- returns: replayed, tampered, forged ---------------------------------------------------
def test_replayed_return_is_the_same_event(gw: GPWebpayGateway, fake: FakeGPWebpay) -> None:
    back = query_of(fake.pay(gw.create(payment_request()).redirect_url or ""))
    assert gw.parse_return(back) == gw.parse_return(dict(back))
    assert gw.parse_notification(urllib.parse.urlencode(back).encode(), {}) == gw.parse_return(back)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda q: q.update(PRCODE="0", SRCODE="0"),
        lambda q: q.update(ORDERNUMBER="123456789012345"),
        lambda q: q.update(RESULTTEXT="OK"),
        lambda q: q.pop("DIGEST"),
        lambda q: q.pop("DIGEST1"),
        lambda q: q.update(DIGEST="bm90IGEgc2lnbmF0dXJl"),
        lambda q: q.update(DIGEST1="%%%"),
        lambda q: q.update(DIGEST1=q["DIGEST"]),
    ],
    ids=["prcode", "ordernumber", "resulttext", "no-digest", "no-digest1", "bad-digest", "garbage", "digest-as-1"],
)
def test_tampered_return_is_refused(gw: GPWebpayGateway, fake: FakeGPWebpay, tamper) -> None:  # type: ignore[no-untyped-def]
    back = query_of(fake.decline(gw.create(payment_request()).redirect_url or ""))
    gw.parse_return(dict(back))  # untouched it is fine
    tamper(back)
    with pytest.raises(InvalidNotification):
        gw.parse_return(back)


def test_return_forged_with_another_key_is_refused(gw: GPWebpayGateway, fake: FakeGPWebpay) -> None:
    created = gw.create(payment_request())
    forger = new_key()
    params = {"OPERATION": "CREATE_ORDER", "ORDERNUMBER": created.reference, "PRCODE": "0", "SRCODE": "0"}
    values = list(params.values())
    for name, signed in (("DIGEST", values), ("DIGEST1", [*values, fake.merchant_number])):
        raw = forger.sign("|".join(signed).encode(), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
        params[name] = base64.b64encode(raw).decode()
    with pytest.raises(InvalidNotification, match="signature invalid"):
        gw.parse_return(params)


def test_return_for_another_merchant_fails_digest1(fake: FakeGPWebpay) -> None:
    ours = make_gpwebpay_gateway(fake.settings())
    back = query_of(fake.pay(ours.create(payment_request()).redirect_url or ""))
    other = make_gpwebpay_gateway(fake.settings(GPWEBPAY_MERCHANT_NUMBER="999"))
    with pytest.raises(InvalidNotification):
        other.parse_return(back)


def test_tampered_request_is_refused_by_the_gateway(gw: GPWebpayGateway, fake: FakeGPWebpay) -> None:
    url = gw.create(payment_request()).redirect_url or ""
    cheaper = url.replace(f"AMOUNT={AMOUNT}", "AMOUNT=100")
    assert cheaper != url
    note = gw.parse_return(query_of(fake.pay(cheaper)))
    assert note.implied_status is GatewayStatus.FAILED and note.failure_reason == "Chybný podpis požadavku."
    assert fake.orders == {} and fake.refused_digests == 1


# -- refunds -------------------------------------------------------------------------------
def test_partial_then_full_refund(gw: GPWebpayGateway, fake: FakeGPWebpay) -> None:
    created = gw.create(payment_request())
    fake.pay(created.redirect_url or "")
    first = gw.refund(created.reference, 2345, "část")
    assert first.succeeded and first.amount == 2345 and first.refund_reference
    assert fake.orders[created.reference].refunded == 2345
    with pytest.raises(GatewayError, match="PRCODE 18"):
        gw.refund(created.reference, AMOUNT)
    gw.refund(created.reference, AMOUNT - 2345)
    assert fake.orders[created.reference].refunded == AMOUNT
    status = gw.get_status(created.reference)
    assert status.status is GatewayStatus.PAID and status.details["refunded"] is True


def test_refund_of_a_declined_payment_is_refused(gw: GPWebpayGateway, fake: FakeGPWebpay) -> None:
    created = gw.create(payment_request())
    fake.decline(created.redirect_url or "")
    with pytest.raises(GatewayError, match="PRCODE 20"):
        gw.refund(created.reference, 100)


# -- connection check, wrong keys, gateway down ----------------------------------------------
def test_check_connection_works(gw: GPWebpayGateway) -> None:
    gw.check_connection()


def test_wrong_merchant_key_is_named(fake: FakeGPWebpay) -> None:
    other = private_pem(new_key(), "heslo-klice")
    gw = make_gpwebpay_gateway(fake.settings(GPWEBPAY_PRIVATE_KEY=other))
    with pytest.raises(GatewayError, match="refused our signature"):
        gw.check_connection()


def test_wrong_passphrase_is_named_without_echoing_it(fake: FakeGPWebpay) -> None:
    gw = make_gpwebpay_gateway(fake.settings(GPWEBPAY_PRIVATE_KEY_PASSPHRASE="spatne-heslo"))
    with pytest.raises(GatewayError, match="private key cannot be read") as info:
        gw.check_connection()
    assert "spatne-heslo" not in str(info.value) and "PRIVATE KEY" not in str(info.value)


def test_wrong_gateway_public_key_is_named(fake: FakeGPWebpay) -> None:
    gw = make_gpwebpay_gateway(fake.settings(GPWEBPAY_PUBLIC_KEY=public_pem(new_key())))
    with pytest.raises(GatewayError, match="not signed by the gateway"):
        gw.check_connection()
    with pytest.raises(GatewayError, match="public key cannot be read"):
        make_gpwebpay_gateway(fake.settings(GPWEBPAY_PUBLIC_KEY="nonsense")).check_connection()


def test_wrong_merchant_number_is_named(fake: FakeGPWebpay) -> None:
    gw = make_gpwebpay_gateway(fake.settings(GPWEBPAY_MERCHANT_NUMBER="999"))
    with pytest.raises(GatewayError, match="merchant number"):
        gw.check_connection()


def test_gateway_down_raises_gateway_error(fake: FakeGPWebpay) -> None:
    gw = make_gpwebpay_gateway(fake.settings())
    created = gw.create(payment_request())
    fake.stop()
    for call in (
        gw.check_connection,
        lambda: gw.get_status(created.reference),
        lambda: gw.refund(created.reference, 1),
    ):
        with pytest.raises(GatewayError, match="unreachable"):
            call()
    # Creating needs no call to the gateway: the redirect is built and signed here.
    assert gw.create(payment_request("pl_other")).redirect_url


# -- no 500 on bad input ----------------------------------------------------------------------
_MERCHANT, _GATEWAY = new_key(), new_key()
_OFFLINE = GPWebpayGateway(
    merchant_number="1234567890",
    private_key=private_pem(_MERCHANT, None),
    private_key_passphrase=None,
    gateway_public_key=public_pem(_GATEWAY),
    gateway_url="http://127.0.0.1:9",
)
_FIELD = st.sampled_from(["OPERATION", "ORDERNUMBER", "PRCODE", "SRCODE", "RESULTTEXT", "DIGEST", "DIGEST1", "X"])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_FIELD, st.text(max_size=40)))
def test_any_return_parameters_give_a_notification_or_invalid_notification(query: dict[str, str]) -> None:
    try:
        _OFFLINE.parse_return(query)
    except InvalidNotification:
        return
    pytest.fail("an unsigned return was accepted")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_any_notification_body_is_refused_cleanly(body: bytes) -> None:
    with pytest.raises(InvalidNotification):
        _OFFLINE.parse_notification(body, {})
