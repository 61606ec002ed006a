"""GoPay end to end on the app with a municipality's own account, against the fake GoPay
over HTTP: the citizen's pages, GET notifications to the account's webhook URL, the poll,
refunds."""

from __future__ import annotations

from datetime import timedelta

import requests
from sqlalchemy import func, select

from app.db import db_session
from app.gateway_accounts.accounts import check_account_connection
from app.models import PaymentEvent
from app.payments.expiry import poll_started
from app.payments.refunds import refund_payment
from app.receipts.issuing import receipt_for_payment
from tests.gateway_accounts.conftest import add_account, path_of, reload, start_as_citizen


def _events(payment_id: int) -> int:
    return db_session.scalar(select(func.count(PaymentEvent.id)).where(PaymentEvent.payment_id == payment_id))


def test_paid_through_the_hosted_page_notified_and_returned(live, town, gopay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    account = add_account(m, "gopay", gopay_fake.settings())
    client = live.test_client()
    review = None
    payment = start_as_citizen(client, service, "gopay")
    assert payment.gateway_account_id == account.id and payment.gateway_name == "gopay"
    fake_payment = gopay_fake.payments[int(payment.gateway_reference)]
    # The notification URL is the account's own; the invoice never outlives the payment.
    assert fake_payment.notification_url.endswith(f"/webhooks/gopay/{account.public_id}")
    assert fake_payment.amount == 50000 and fake_payment.order_number == payment.external_id
    back = gopay_fake.pay(payment.gateway_reference)
    gopay_fake.wait_notifications(1)
    assert gopay_fake.notifications_sent[0][1] == 200
    assert reload(payment.id).state == "paid"
    r = client.get(path_of(back, live.extensions["live_base"]))
    assert r.status_code == 302 and r.headers["Location"].endswith("/zaplaceno")
    assert receipt_for_payment(reload(payment.id)) is not None
    del review


def test_review_offers_the_account_and_says_gopay(live, town, gopay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    add_account(m, "gopay", gopay_fake.settings())
    from app.payments.create import create_payment

    payment = create_payment(service, amount=None, payer_name="Jan", payer_email="jan@example.cz")
    assert payment.gateway_name == "gopay"
    page = live.test_client().get(f"/platba/{payment.external_id}")
    assert page.status_code == 200 and "Kartou (GoPay)" in page.text
    assert 'name="gateway" value="gopay" checked' in page.text


def test_cancel_and_timeout(live, town, gopay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    add_account(m, "gopay", gopay_fake.settings())
    client = live.test_client()
    cancelled = start_as_citizen(client, service, "gopay")
    back = gopay_fake.cancel(cancelled.gateway_reference)
    gopay_fake.wait_notifications(1)
    page = client.get(path_of(back, live.extensions["live_base"]))
    assert reload(cancelled.id).state == "cancelled" and "zrušena" in page.text
    # A declined card does not end a GoPay payment (the payer may try again) …
    declined = start_as_citizen(live.test_client(), service, "gopay")
    back = gopay_fake.decline(declined.gateway_reference)
    page = client.get(path_of(back, live.extensions["live_base"]))
    assert reload(declined.id).state == "started" and "Čekáme na potvrzení" in page.text
    # … until GoPay times it out.
    gopay_fake.timeout(declined.gateway_reference)
    gopay_fake.wait_notifications(2)
    assert reload(declined.id).state == "expired"


def test_lost_notification_is_healed_by_the_poll(live, town, gopay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    add_account(m, "gopay", gopay_fake.settings())
    gopay_fake.drop_notifications = True
    payment = start_as_citizen(live.test_client(), service, "gopay")
    gopay_fake.pay(payment.gateway_reference)
    assert reload(payment.id).state == "started"
    assert poll_started(timedelta(0)) == 1
    assert reload(payment.id).state == "paid"


def test_replayed_and_forged_notifications_change_nothing(live, town, gopay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    account = add_account(m, "gopay", gopay_fake.settings())
    base = live.extensions["live_base"]
    payment = start_as_citizen(live.test_client(), service, "gopay")
    gopay_fake.pay(payment.gateway_reference)
    gopay_fake.wait_notifications(1)
    assert reload(payment.id).state == "paid"
    before = _events(payment.id)
    url = f"{base}/webhooks/gopay/{account.public_id}"
    # GoPay repeats its trigger until it gets 200: a repeat re-checks and changes nothing.
    assert requests.get(url, params={"id": payment.gateway_reference}, timeout=10).status_code == 200
    assert reload(payment.id).state == "paid" and _events(payment.id) == before
    # Forged: not a payment id, a payment of nobody, an account that does not exist.
    assert requests.get(url, params={"id": "1 OR 1=1"}, timeout=10).status_code == 400
    assert requests.get(url, params={"id": "999999"}, timeout=10).status_code == 404
    assert requests.get(f"{base}/webhooks/gopay/{'a' * 26}", params={"id": "1"}, timeout=10).status_code == 404
    # Another gateway's name in the URL does not reach this account.
    other = requests.get(f"{base}/webhooks/btcpay/{account.public_id}", params={"id": "1"}, timeout=10)
    assert other.status_code == 405
    assert reload(payment.id).state == "paid" and _events(payment.id) == before


def test_refunds_full_and_partial(live, town, gopay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    add_account(m, "gopay", gopay_fake.settings())
    payment = start_as_citizen(live.test_client(), service, "gopay")
    gopay_fake.pay(payment.gateway_reference)
    gopay_fake.wait_notifications(1)
    payment = reload(payment.id)
    refund_payment(payment, 10000, reason="přeplatek")
    payment = reload(payment.id)
    assert (payment.state, payment.amount_refunded) == ("partially_refunded", 10000)
    refund_payment(payment, 40000, reason="zbytek")
    payment = reload(payment.id)
    assert (payment.state, payment.amount_refunded) == ("refunded", 50000)
    assert gopay_fake.payments[int(payment.gateway_reference)].refunded == 50000


def test_gateway_down_keeps_the_payment_and_offers_a_transfer(live, town, gopay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    add_account(m, "gopay", gopay_fake.settings())
    gopay_fake.stop()
    client = live.test_client()
    from app.payments.create import create_payment

    payment = create_payment(service, amount=None, payer_name="Jan", payer_email="jan@example.cz")
    r = client.post(f"/platba/{payment.external_id}", data={"gateway": "gopay", "consent": "yes"})
    assert r.status_code == 503
    assert "Zkuste to prosím za chvíli znovu" in r.text and "převodem" in r.text
    assert reload(payment.id).state == "created"


def test_connection_test_says_what_failed(live, town, gopay_fake) -> None:  # type: ignore[no-untyped-def]
    m, _service = town
    good = add_account(m, "gopay", gopay_fake.settings())
    assert check_account_connection(good) == (True, "Spojení funguje.")
    bad = add_account(m, "gopay", gopay_fake.settings(GOPAY_CLIENT_SECRET="spatne-heslo"), active=False)
    ok, message = check_account_connection(bad)
    assert not ok and "client ID or client secret refused" in message
    assert bad.last_test_ok is False and bad.last_test_message == message
    assert "spatne-heslo" not in message
