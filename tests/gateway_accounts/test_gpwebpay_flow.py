"""GP webpay end to end on the app with a municipality's own merchant account, against the
fake GP webpay over HTTP: signed redirect, signed return (tampering refused), the web
service for the poll and refunds."""

from __future__ import annotations

import urllib.parse
from datetime import timedelta

from sqlalchemy import func, select

from app.db import db_session
from app.gateway_accounts.accounts import check_account_connection
from app.models import PaymentEvent
from app.payments.expiry import poll_started
from app.payments.refunds import refund_payment
from tests.fakes.gpwebpay import new_key, private_pem
from tests.gateway_accounts.conftest import add_account, path_of, reload, start_as_citizen


def _events(payment_id: int) -> int:
    return db_session.scalar(select(func.count(PaymentEvent.id)).where(PaymentEvent.payment_id == payment_id))


def _settings(fake):  # type: ignore[no-untyped-def]
    return fake.settings(GPWEBPAY_WS_URL=fake.url + "/pay-ws/v1/PaymentService")


def test_paid_and_returned_with_a_signed_result(live, town, gpwebpay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    account = add_account(m, "gpwebpay", _settings(gpwebpay_fake))
    client = live.test_client()
    payment = start_as_citizen(client, service, "gpwebpay")
    assert payment.gateway_account_id == account.id
    back = gpwebpay_fake.pay(payment.gateway_redirect_url)
    r = client.get(path_of(back, live.extensions["live_base"]))
    assert r.status_code == 302 and r.headers["Location"].endswith("/zaplaceno")
    assert reload(payment.id).state == "paid"
    # The same return again (a reload): nothing changes.
    before = _events(payment.id)
    assert client.get(path_of(back, live.extensions["live_base"])).status_code == 302
    assert reload(payment.id).state == "paid" and _events(payment.id) == before


def test_declined_with_the_banks_reason_and_cancelled(live, town, gpwebpay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    add_account(m, "gpwebpay", _settings(gpwebpay_fake))
    client = live.test_client()
    declined = start_as_citizen(client, service, "gpwebpay")
    page = client.get(path_of(gpwebpay_fake.decline(declined.gateway_redirect_url), live.extensions["live_base"]))
    declined = reload(declined.id)
    assert declined.state == "failed" and declined.failure_reason not in (None, "declined")
    assert declined.failure_reason in page.text and "zamítla" in page.text
    cancelled = start_as_citizen(live.test_client(), service, "gpwebpay")
    page = client.get(path_of(gpwebpay_fake.cancel(cancelled.gateway_redirect_url), live.extensions["live_base"]))
    assert reload(cancelled.id).state == "cancelled" and "zrušena" in page.text


def test_tampered_return_is_refused_and_changes_nothing(live, town, gpwebpay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    add_account(m, "gpwebpay", _settings(gpwebpay_fake))
    client = live.test_client()
    payment = start_as_citizen(client, service, "gpwebpay")
    back = gpwebpay_fake.decline(payment.gateway_redirect_url)
    parts = urllib.parse.urlsplit(back)
    params = dict(urllib.parse.parse_qsl(parts.query))
    before = _events(payment.id)
    # "Declined" turned into "paid" by the payer: the signature no longer matches.
    forged = {**params, "PRCODE": "0", "SRCODE": "0"}
    r = client.get(f"{parts.path}?{urllib.parse.urlencode(forged)}")
    assert r.status_code == 400
    unsigned = {k: v for k, v in params.items() if k not in ("DIGEST", "DIGEST1")}
    assert client.get(f"{parts.path}?{urllib.parse.urlencode(unsigned)}").status_code == 400
    assert reload(payment.id).state == "started" and _events(payment.id) == before
    # Another payment's genuine return does not apply to this one.
    other = start_as_citizen(live.test_client(), service, "gpwebpay")
    other_back = urllib.parse.urlsplit(gpwebpay_fake.pay(other.gateway_redirect_url))
    r = client.get(f"{parts.path}?{other_back.query}")
    assert r.status_code == 400 and reload(payment.id).state == "started"


def test_lost_return_is_healed_by_the_poll(live, town, gpwebpay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    add_account(m, "gpwebpay", _settings(gpwebpay_fake))
    payment = start_as_citizen(live.test_client(), service, "gpwebpay")
    gpwebpay_fake.pay(payment.gateway_redirect_url)  # the payer closes the tab on the way back
    assert reload(payment.id).state == "started"
    assert poll_started(timedelta(0)) == 1
    assert reload(payment.id).state == "paid"


def test_refunds_full_and_partial(live, town, gpwebpay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    add_account(m, "gpwebpay", _settings(gpwebpay_fake))
    client = live.test_client()
    payment = start_as_citizen(client, service, "gpwebpay")
    client.get(path_of(gpwebpay_fake.pay(payment.gateway_redirect_url), live.extensions["live_base"]))
    refund_payment(reload(payment.id), 20000, reason="část")
    payment = reload(payment.id)
    assert (payment.state, payment.amount_refunded) == ("partially_refunded", 20000)
    refund_payment(payment, 30000, reason="zbytek")
    payment = reload(payment.id)
    assert (payment.state, payment.amount_refunded) == ("refunded", 50000)
    assert gpwebpay_fake.orders[payment.gateway_reference].refunded == 50000


def test_connection_test_says_what_failed(live, town, gpwebpay_fake) -> None:  # type: ignore[no-untyped-def]
    m, _service = town
    good = add_account(m, "gpwebpay", _settings(gpwebpay_fake))
    assert check_account_connection(good)[0] is True
    wrong_key = private_pem(new_key(), gpwebpay_fake.passphrase)
    bad = add_account(m, "gpwebpay", _settings(gpwebpay_fake) | {"GPWEBPAY_PRIVATE_KEY": wrong_key}, active=False)
    ok, message = check_account_connection(bad)
    assert not ok and "PRCODE 31" in message
