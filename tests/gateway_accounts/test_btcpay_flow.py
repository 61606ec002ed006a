"""Bitcoin through BTCPay end to end on the app with a municipality's own store, against
the fake Greenfield server over HTTP: signed webhooks to the account's URL, processing
(waiting for confirmations), partial and over payments, expiry, invalid, the poll, refunds
as pull payments recorded when paid out."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from email import message_from_bytes, policy

from sqlalchemy import func, select

from app.db import db_session
from app.gateway_accounts.accounts import check_account_connection
from app.models import PaymentEvent, Receipt
from app.payments.errors import PaymentError
from app.payments.expiry import poll_started
from app.payments.refund_claims import mail_refund_claim
from app.payments.refunds import poll_requested_refunds, refund_claim_url, refund_payment
from tests.admin.staff_helpers import login, make_staff
from tests.gateway_accounts.conftest import (
    BTCPAY_SECRET,
    add_account,
    btcpay_settings,
    reload,
    start_as_citizen,
)
from tests.test_receipts import smtp_server  # noqa: F401 - a real SMTP server on loopback (fixture)


def _events(payment_id: int) -> int:
    return db_session.scalar(select(func.count(PaymentEvent.id)).where(PaymentEvent.payment_id == payment_id))


def _setup(live, town, fake, **settings):  # type: ignore[no-untyped-def]
    m, service = town
    account = add_account(m, "btcpay", btcpay_settings(fake) | settings)
    fake.add_webhook(f"{live.extensions['live_base']}/webhooks/btcpay/{account.public_id}", BTCPAY_SECRET)
    client = live.test_client()
    payment = start_as_citizen(client, service, "btcpay")
    return account, client, payment


def test_processing_then_settled_with_btc_on_the_receipt(live, town, btcpay_fake) -> None:  # type: ignore[no-untyped-def]
    account, client, payment = _setup(live, town, btcpay_fake)
    assert payment.gateway_account_id == account.id
    invoice = btcpay_fake.invoices[payment.gateway_reference]
    assert invoice.metadata["orderId"] == payment.external_id
    btcpay_fake.pay(payment.gateway_reference)
    assert set(btcpay_fake.flush()) <= {202}
    page = client.get(f"/platba/{payment.external_id}/stav")
    assert reload(payment.id).state == "started"
    assert "čekáme na potvrzení" in page.text
    btcpay_fake.confirm(payment.gateway_reference)
    btcpay_fake.flush()
    payment = reload(payment.id)
    assert payment.state == "paid"
    details = payment.gateway_details
    assert details["btc_amount"] and details["rate"] == "2300000"
    page = client.get(f"/platba/{payment.external_id}/zaplaceno")
    assert page.status_code == 200, (page.status_code, page.text[-1500:])
    body = page.text[page.text.find("<main") :]
    assert "0,00021740 BTC" in body and "kurz 2\xa0300\xa0000 Kč" in body and "Platba 500" in body, body
    # The receipt states the channel, the CZK amount and the BTC amount and rate BTCPay reported.
    receipt = db_session.scalar(select(Receipt).where(Receipt.payment_id == payment.id))
    pdf = client.get(f"/potvrzeni/{receipt.token}.pdf").data
    text = " ".join(
        subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode().split()
    )
    assert "Způsob platby Bitcoin (BTCPay)" in text and "Zaplacená částka 500 Kč" in text
    assert "Zaplaceno bitcoinem 0,00021740 BTC (kurz 2 300 000 Kč za 1 BTC)" in text, text


def test_partial_stays_open_with_the_remainder_then_expires(live, town, btcpay_fake) -> None:  # type: ignore[no-untyped-def]
    _account, client, payment = _setup(live, town, btcpay_fake)
    btcpay_fake.pay_fraction(payment.gateway_reference, "0.5", confirmed=True)
    btcpay_fake.flush()
    page = client.get(f"/platba/{payment.external_id}/stav")
    payment = reload(payment.id)
    assert payment.state == "started" and 24990 <= payment.gateway_details["amount_remaining"] <= 25000
    assert "Zbývá doplatit" in page.text
    btcpay_fake.expire(payment.gateway_reference)
    btcpay_fake.flush()
    payment = reload(payment.id)
    assert payment.state == "expired"
    assert "obec vám je vrátí" in client.get(f"/platba/{payment.external_id}/stav").text


def test_overpaid_is_paid_with_the_surplus_recorded(live, town, btcpay_fake) -> None:  # type: ignore[no-untyped-def]
    _account, _client, payment = _setup(live, town, btcpay_fake)
    btcpay_fake.pay_fraction(payment.gateway_reference, "1.2", confirmed=True)
    btcpay_fake.flush()
    payment = reload(payment.id)
    # 20 % more, give or take the BTC rounding of a few haléře.
    assert payment.state == "paid" and 10000 <= payment.amount_overpaid < 10010


def test_expired_invalid_and_paid_late(live, town, btcpay_fake) -> None:  # type: ignore[no-untyped-def]
    _account, client, expired = _setup(live, town, btcpay_fake)
    btcpay_fake.expire(expired.gateway_reference)
    btcpay_fake.flush()
    assert reload(expired.id).state == "expired"
    # Paid after expiry: the gateway's truth wins (expired → paid).
    btcpay_fake.pay(expired.gateway_reference, confirmed=True)
    btcpay_fake.flush()
    assert reload(expired.id).state == "paid"
    _m, service = town
    invalid = start_as_citizen(live.test_client(), service, "btcpay")
    btcpay_fake.pay(invalid.gateway_reference)
    btcpay_fake.double_spend(invalid.gateway_reference)
    btcpay_fake.flush()
    assert reload(invalid.id).state == "failed"


def test_lost_webhooks_are_healed_by_the_poll(live, town, btcpay_fake) -> None:  # type: ignore[no-untyped-def]
    _account, _client, payment = _setup(live, town, btcpay_fake)
    btcpay_fake.pay(payment.gateway_reference, confirmed=True)
    btcpay_fake.flush(drop={0, 1, 2, 3, 4, 5})
    assert reload(payment.id).state == "started"
    assert poll_started(timedelta(0)) == 1
    assert reload(payment.id).state == "paid"


def test_replayed_reordered_and_forged_webhooks(live, town, btcpay_fake) -> None:  # type: ignore[no-untyped-def]
    account, _client, payment = _setup(live, town, btcpay_fake)
    btcpay_fake.pay(payment.gateway_reference)
    btcpay_fake.confirm(payment.gateway_reference)
    waiting = list(btcpay_fake.outbox)
    # Reordered: the settled event first, the older ones after it.
    codes = btcpay_fake.flush(order=list(reversed(range(len(waiting)))))
    assert codes[0] == 202
    assert reload(payment.id).state == "paid"
    before = _events(payment.id)
    # Redelivered (a new deliveryId, the same original): answered as received, nothing changes.
    assert btcpay_fake.redeliver(waiting[-1]) == 200
    # Signed with another secret: refused.
    btcpay_fake.webhooks[:] = [(w, url, "not-the-secret") for w, url, _s in btcpay_fake.webhooks]
    btcpay_fake.mark(payment.gateway_reference, "Invalid")
    assert btcpay_fake.flush() == [400]
    assert reload(payment.id).state == "paid" and _events(payment.id) == before
    del account


def test_refund_is_recorded_when_paid_out(live, town, btcpay_fake) -> None:  # type: ignore[no-untyped-def]
    _account, _client, payment = _setup(live, town, btcpay_fake)
    btcpay_fake.pay(payment.gateway_reference, confirmed=True)
    btcpay_fake.flush()
    payment = reload(payment.id)
    refund = refund_payment(payment, 20000, reason="část")
    payment = reload(payment.id)
    # Nothing is refunded until the payer claims and BTCPay pays out.
    assert (payment.state, payment.amount_refunded, refund.state) == ("paid", 0, "requested")
    assert refund.gateway_reference in btcpay_fake.pull_payments
    # What is waiting cannot be refunded twice.
    try:
        refund_payment(payment, 40000, reason="víc")
        raise AssertionError("refund above the remaining amount")
    except PaymentError as exc:
        assert str(exc) == "refund_amount"
    db_session.rollback()
    assert poll_requested_refunds() == 0
    btcpay_fake.complete_payout(btcpay_fake.claim(refund.gateway_reference))
    assert poll_requested_refunds() == 1
    payment = reload(payment.id)
    assert (payment.state, payment.amount_refunded) == ("partially_refunded", 20000)
    assert poll_requested_refunds() == 0
    rest = refund_payment(payment, 30000, reason="zbytek")
    btcpay_fake.complete_payout(btcpay_fake.claim(rest.gateway_reference))
    assert poll_requested_refunds() == 1
    payment = reload(payment.id)
    assert (payment.state, payment.amount_refunded) == ("refunded", 50000)


def test_connection_test_says_what_failed(live, town, btcpay_fake) -> None:  # type: ignore[no-untyped-def]
    m, _service = town
    good = add_account(m, "btcpay", btcpay_settings(btcpay_fake))
    assert check_account_connection(good)[0] is True
    bad = add_account(m, "btcpay", btcpay_settings(btcpay_fake) | {"BTCPAY_API_KEY": "0" * 40}, active=False)
    ok, message = check_account_connection(bad)
    assert not ok and "refused the API key" in message


def test_waiting_for_confirmations_is_not_expired_by_housekeeping(live, town, btcpay_fake) -> None:  # type: ignore[no-untyped-def]
    from app.payments.expiry import expire_abandoned

    _account, _client, payment = _setup(live, town, btcpay_fake)
    btcpay_fake.pay(payment.gateway_reference)  # unconfirmed
    assert expire_abandoned(timedelta(0)) == 0
    assert reload(payment.id).state == "started"
    btcpay_fake.confirm(payment.gateway_reference)
    assert poll_started(timedelta(0)) == 1
    assert reload(payment.id).state == "paid"


def test_review_and_clerk_pages_describe_the_bitcoin_payment(live, town, btcpay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    add_account(m, "gopay", {"GOPAY_GOID": "8123456789", "GOPAY_CLIENT_ID": "id", "GOPAY_CLIENT_SECRET": "s"})
    account = add_account(m, "btcpay", btcpay_settings(btcpay_fake))
    btcpay_fake.add_webhook(f"{live.extensions['live_base']}/webhooks/btcpay/{account.public_id}", BTCPAY_SECRET)
    # Two gateways to choose from: the Bitcoin choice is described by its note.
    client = live.test_client()
    form = client.get(f"/obec/{m.slug}/{service.slug}").text
    token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)
    data = {"name": "Jana Nováková", "email": "jana@example.cz", "form_token": token}
    review = client.get(client.post(f"/obec/{m.slug}/{service.slug}", data=data).headers["Location"]).text
    assert 'aria-describedby="gateway-btcpay-note"' in review and 'id="gateway-btcpay-note"' in review
    payment = start_as_citizen(client, service, "btcpay")
    btcpay_fake.pay(payment.gateway_reference, confirmed=True)
    btcpay_fake.flush()
    assert reload(payment.id).state == "paid"
    clerk = live.test_client()
    login(clerk, make_staff("clerk", m))
    detail = clerk.get(f"/admin/platby/{payment.external_id}").text
    assert "0,00021740 BTC (kurz 2\xa0300\xa0000 Kč za 1 BTC)" in detail


def test_the_payer_gets_the_claim_link_by_email(live, town, btcpay_fake, smtp_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    inbox, port = smtp_server
    live.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="portal@platby.example.cz")
    _account, _client, payment = _setup(live, town, btcpay_fake)
    btcpay_fake.pay(payment.gateway_reference, confirmed=True)
    btcpay_fake.flush()
    inbox.messages.clear()  # the receipt
    refund = refund_payment(reload(payment.id), 20000, reason="část")
    claim = refund_claim_url(payment, refund.gateway_reference)
    assert claim and claim.startswith(btcpay_fake.url)
    mails = [message_from_bytes(raw, policy=policy.default) for _f, _to, raw in inbox.messages]
    assert [(m["To"], m["Subject"]) for m in mails] == [("jana@example.cz", f"Vrácení platby – {town[0].name}")]
    body = mails[0].get_body(("plain",)).get_content()
    assert claim in body and "200\xa0Kč" in body and "adresu své bitcoinové peněženky" in body
    # An unknown refund: nothing to send.
    assert mail_refund_claim(refund.id + 1000) == "missing"
