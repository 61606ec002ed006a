"""Demo gateway notifications through POST /webhooks/demo, and the jobs that ask the
gateway for the truth (expiry, polling) and refunds — all with the real demo gateway."""

from __future__ import annotations

import io
import json
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import db_session, utcnow
from app.gateways import get_gateway
from app.models import GatewayNotification, Payment, PaymentEvent, PaymentState
from app.payments.create import create_payment, start_payment
from app.payments.errors import PaymentError
from app.payments.expiry import expire_abandoned, poll_started
from app.payments.refunds import refund_payment
from gateway import GatewayStatus
from gateway.demo import SIGNATURE_HEADER, sign
from tests.conftest import deliver_notifications
from tests.factories import make_municipality, make_service

S = PaymentState
URL = "/webhooks/demo"


def started_payment(amount: int = 50000) -> Payment:
    service = make_service(make_municipality(), amount=amount)
    payment = create_payment(service, amount=None, payer_name="Jana Nováková", payer_email="jana@example.cz")
    start_payment(payment, return_url="http://localhost/platba/x/stav", notify_url="http://localhost" + URL)
    assert payment.state == S.STARTED and payment.gateway_reference
    return payment


def at_gateway(app, payment: Payment, outcome: GatewayStatus) -> None:  # type: ignore[no-untyped-def]
    """The payer finishes on the hosted page; the gateway's own notification is lost."""
    get_gateway("demo").complete(payment.gateway_reference, outcome)
    app.extensions["test_outbox"].clear()


def body_for(payment: Payment | None, event_type: str = "payment.paid", *, event_id: str | None = None, reference: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "type": event_type,
            "reference": reference or (payment.gateway_reference if payment else "demo_nope"),
            "created": int(time.time()),
        }
    ).encode()


def signed(app, body: bytes, *, secret: str | None = None, timestamp: int | None = None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret or app.config["DEMO_GATEWAY_SECRET"], body, timestamp),
    }


def snapshot(payment_id: int) -> tuple:  # type: ignore[type-arg]
    db_session.expire_all()
    p = db_session.get(Payment, payment_id)
    events = db_session.scalar(select(func.count(PaymentEvent.id)).where(PaymentEvent.payment_id == payment_id))
    notes = db_session.scalar(select(func.count(GatewayNotification.id)))
    return p.state, p.amount_refunded, p.paid_at, p.updated_at, events, notes


def state_of(payment_id: int) -> str:
    db_session.expire_all()
    return db_session.get(Payment, payment_id).state


# -- the webhook ---------------------------------------------------------------------
def test_valid_notification_is_accepted_and_the_payment_is_paid(app, client) -> None:  # type: ignore[no-untyped-def]
    payment = started_payment()
    at_gateway(app, payment, GatewayStatus.PAID)
    assert state_of(payment.id) == S.STARTED
    body = body_for(payment)
    r = client.post(URL, data=body, headers=signed(app, body))
    assert r.status_code == 202, r.json
    assert r.json["event_id"] == json.loads(body)["id"]
    assert state_of(payment.id) == S.PAID
    note = db_session.scalar(select(GatewayNotification))
    assert note.processed_at is not None and note.reference == payment.gateway_reference


def test_the_gateways_own_notification_is_accepted(app, client) -> None:  # type: ignore[no-untyped-def]
    payment = started_payment()
    get_gateway("demo").complete(payment.gateway_reference, GatewayStatus.PAID)
    assert deliver_notifications(app, client) == [202]
    assert state_of(payment.id) == S.PAID


def test_notification_is_only_a_trigger_the_gateway_decides(app, client) -> None:  # type: ignore[no-untyped-def]
    # A correctly signed "paid" event for a payment the gateway still has pending
    # does not make it paid: we ask the gateway and it says pending.
    payment = started_payment()
    body = body_for(payment)
    assert client.post(URL, data=body, headers=signed(app, body)).status_code == 202
    assert state_of(payment.id) == S.STARTED


def test_replayed_notification_is_answered_already_received_and_changes_nothing(app, client) -> None:  # type: ignore[no-untyped-def]
    # 200, not 409: a gateway retries any other answer for days.
    payment = started_payment()
    at_gateway(app, payment, GatewayStatus.PAID)
    body = body_for(payment)
    assert client.post(URL, data=body, headers=signed(app, body)).status_code == 202
    before = snapshot(payment.id)
    r = client.post(URL, data=body, headers=signed(app, body))
    assert r.status_code == 200 and r.json["status"] == "already received"
    assert snapshot(payment.id) == before


def _bad_requests(app, payment: Payment):  # type: ignore[no-untyped-def]
    good = body_for(payment)
    stranger = body_for(None)
    now = int(time.time())
    signature = signed(app, good)[SIGNATURE_HEADER]
    return {
        "forged signature": (URL, good, signed(app, good, secret="not-the-secret"), 400),
        "signature of another body": (URL, body_for(payment), {SIGNATURE_HEADER: signature}, 400),
        "missing header": (URL, good, {"Content-Type": "application/json"}, 400),
        "empty header": (URL, good, {SIGNATURE_HEADER: ""}, 400),
        "malformed header": (URL, good, {SIGNATURE_HEADER: "garbage"}, 400),
        "header without mac": (URL, good, {SIGNATURE_HEADER: f"t={now}"}, 400),
        "header with text time": (URL, good, {SIGNATURE_HEADER: "t=yesterday,v1=00"}, 400),
        "non-ascii mac": (URL, good, {SIGNATURE_HEADER: f"t={now},v1=\u00e9\u00e9"}, 400),
        "too old": (URL, good, signed(app, good, timestamp=now - 3600), 400),
        "from the future": (URL, good, signed(app, good, timestamp=now + 3600), 400),
        "malformed body": (URL, b"{not json", signed(app, b"{not json"), 400),
        "body not an object": (URL, b"[1, 2]", signed(app, b"[1, 2]"), 400),
        "body missing fields": (URL, b'{"id": "evt_1"}', signed(app, b'{"id": "evt_1"}'), 400),
        "body not utf-8": (URL, b"\xff\xfe{}", signed(app, b"\xff\xfe{}"), 400),
        "empty body": (URL, b"", signed(app, b""), 400),
        "unknown reference": (URL, stranger, signed(app, stranger), 404),
        "unknown gateway": ("/webhooks/nope", good, signed(app, good), 404),
        "very long gateway name": ("/webhooks/" + "x" * 500, good, signed(app, good), 404),
    }


CASES = [
    "forged signature", "signature of another body", "missing header", "empty header", "malformed header",
    "header without mac", "header with text time", "non-ascii mac", "too old", "from the future", "malformed body",
    "body not an object", "body missing fields", "body not utf-8", "empty body", "unknown reference",
    "unknown gateway", "very long gateway name",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_notifications_are_refused_and_change_nothing(app, client, case) -> None:  # type: ignore[no-untyped-def]
    payment = started_payment()
    at_gateway(app, payment, GatewayStatus.PAID)  # a valid notification WOULD make it paid
    cases = _bad_requests(app, payment)
    assert sorted(cases) == sorted(CASES)
    url, body, headers, status = cases[case]
    before = snapshot(payment.id)
    r = client.post(url, data=body, headers=headers)
    assert r.status_code == status, (case, r.status_code, r.data)
    assert r.is_json and r.json["error"]
    assert snapshot(payment.id) == before
    assert before[0] == S.STARTED


def test_oversized_body_is_refused(app, client) -> None:  # type: ignore[no-untyped-def]
    payment = started_payment()
    at_gateway(app, payment, GatewayStatus.PAID)
    before = snapshot(payment.id)
    body = json.dumps({**json.loads(body_for(payment)), "padding": "x" * 70_000}).encode()
    r = client.post(URL, data=body, headers=signed(app, body))
    assert r.status_code == 413
    # Also when the client does not say how long the body is (chunked).
    r = client.post(URL, input_stream=io.BytesIO(body), headers=signed(app, body))
    assert r.status_code == 413
    assert snapshot(payment.id) == before


def test_get_on_the_webhook_is_405_json(app, client) -> None:  # type: ignore[no-untyped-def]
    r = client.get(URL)
    assert r.status_code == 405 and r.is_json


def test_out_of_order_failed_event_for_a_paid_payment_is_ignored(app, client) -> None:  # type: ignore[no-untyped-def]
    payment = started_payment()
    at_gateway(app, payment, GatewayStatus.PAID)
    paid = body_for(payment)
    assert client.post(URL, data=paid, headers=signed(app, paid)).status_code == 202
    assert state_of(payment.id) == S.PAID
    before = snapshot(payment.id)
    for event_type in ("payment.failed", "payment.cancelled"):
        late = body_for(payment, event_type)
        r = client.post(URL, data=late, headers=signed(app, late))
        assert r.status_code == 200, event_type
        assert r.json["status"] == "ignored"
    assert snapshot(payment.id) == before


def test_late_paid_event_after_decline_does_not_resurrect_the_payment(app, client) -> None:  # type: ignore[no-untyped-def]
    payment = started_payment()
    at_gateway(app, payment, GatewayStatus.FAILED)
    failed = body_for(payment, "payment.failed")
    assert client.post(URL, data=failed, headers=signed(app, failed)).status_code == 202
    assert state_of(payment.id) == S.FAILED
    before = snapshot(payment.id)
    late = body_for(payment, "payment.paid")
    r = client.post(URL, data=late, headers=signed(app, late))
    assert r.status_code == 200 and r.json["status"] == "ignored"
    assert snapshot(payment.id) == before


# -- jobs: expiry and polling ----------------------------------------------------------
LATER = timedelta(hours=3)


def test_expire_abandoned_expires_created_and_pending_payments(any_db_app) -> None:  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    created = create_payment(service, amount=None, payer_name="Jan Novák", payer_email="jan@example.cz")
    pending = started_payment()
    fresh = create_payment(service, amount=None, payer_name="Jan Novák", payer_email="jan@example.cz")
    # Nothing is old enough yet.
    assert expire_abandoned(timedelta(minutes=90)) == 0
    # Three hours later both are abandoned (``fresh`` too: it was created at the same time).
    assert expire_abandoned(timedelta(minutes=90), now=utcnow() + LATER) == 3
    assert state_of(created.id) == S.EXPIRED and state_of(fresh.id) == S.EXPIRED
    assert state_of(pending.id) == S.EXPIRED
    # The gateway was told: its pending transaction is cancelled, so it cannot be paid late.
    assert get_gateway("demo").get_status(pending.gateway_reference).status == GatewayStatus.CANCELLED
    # Running again changes nothing.
    assert expire_abandoned(timedelta(minutes=90), now=utcnow() + LATER) == 0


def test_expire_abandoned_does_not_expire_a_payment_paid_at_the_gateway(any_db_app) -> None:  # type: ignore[no-untyped-def]
    payment = started_payment()
    at_gateway(any_db_app, payment, GatewayStatus.PAID)
    assert expire_abandoned(timedelta(minutes=90), now=utcnow() + LATER) == 0
    assert state_of(payment.id) == S.PAID
    db_session.expire_all()
    states = db_session.scalars(
        select(PaymentEvent.to_state).where(PaymentEvent.payment_id == payment.id, PaymentEvent.kind == "transition")
    ).all()
    assert states == ["created", "started", "paid"]


def test_poll_started_finds_a_payment_whose_notification_was_lost(any_db_app) -> None:  # type: ignore[no-untyped-def]
    paid = started_payment()
    declined = started_payment()
    waiting = started_payment()
    at_gateway(any_db_app, paid, GatewayStatus.PAID)
    at_gateway(any_db_app, declined, GatewayStatus.FAILED)
    assert poll_started(timedelta(minutes=5)) == 0  # too recent to poll
    assert poll_started(timedelta(minutes=5), now=utcnow() + LATER) == 2
    assert state_of(paid.id) == S.PAID
    assert state_of(declined.id) == S.FAILED
    assert state_of(waiting.id) == S.STARTED


# -- refunds ---------------------------------------------------------------------------
def paid_payment(app, amount: int = 50000) -> Payment:  # type: ignore[no-untyped-def]
    payment = started_payment(amount)
    at_gateway(app, payment, GatewayStatus.PAID)
    assert poll_started(timedelta(0), now=utcnow() + LATER) == 1
    db_session.expire_all()
    return db_session.get(Payment, payment.id)


def test_full_refund(app) -> None:  # type: ignore[no-untyped-def]
    payment = paid_payment(app)
    refund_payment(payment, 50000, reason="zaplaceno omylem", actor="clerk@obec.cz")
    db_session.expire_all()
    row = db_session.get(Payment, payment.id)
    assert (row.state, row.amount_refunded) == (S.REFUNDED, 50000)
    assert get_gateway("demo").get_status(row.gateway_reference).amount_refunded == 50000
    event = db_session.scalars(select(PaymentEvent).where(PaymentEvent.payment_id == row.id).order_by(PaymentEvent.id.desc())).first()
    assert event.to_state == S.REFUNDED and event.data["actor"] == "clerk@obec.cz"
    with pytest.raises(PaymentError, match="not_refundable"):
        refund_payment(row, 1, reason="again")


def test_partial_refunds_then_the_rest(app) -> None:  # type: ignore[no-untyped-def]
    payment = paid_payment(app)
    refund_payment(payment, 10000, reason="sleva")
    assert (state_of(payment.id), db_session.get(Payment, payment.id).amount_refunded) == (S.PARTIALLY_REFUNDED, 10000)
    refund_payment(payment, 15000, reason="další sleva")
    assert (state_of(payment.id), db_session.get(Payment, payment.id).amount_refunded) == (S.PARTIALLY_REFUNDED, 25000)
    refund_payment(payment, 25000, reason="zbytek")
    assert (state_of(payment.id), db_session.get(Payment, payment.id).amount_refunded) == (S.REFUNDED, 50000)


@pytest.mark.parametrize(("amount", "reason", "code"), [(50001, "moc", "refund_amount"), (0, "nula", "refund_amount"), (-100, "záporná", "refund_amount"), (100, "  ", "refund_reason")])
def test_bad_refunds_are_refused_and_change_nothing(app, amount, reason, code) -> None:  # type: ignore[no-untyped-def]
    payment = paid_payment(app)
    refund_payment(payment, 20000, reason="část")
    if amount == 50001:
        amount = 30001  # one haléř more than what remains
    before = snapshot(payment.id)
    with pytest.raises(PaymentError, match=code):
        refund_payment(payment, amount, reason=reason)
    assert snapshot(payment.id) == before
    assert get_gateway("demo").get_status(payment.gateway_reference).amount_refunded == 20000


def test_unpaid_payment_cannot_be_refunded(app) -> None:  # type: ignore[no-untyped-def]
    payment = started_payment()
    with pytest.raises(PaymentError, match="not_refundable"):
        refund_payment(payment, 100, reason="x")
    assert state_of(payment.id) == S.STARTED


def test_a_payment_whose_notification_was_dropped_is_paid_after_one_poll(any_db_app) -> None:  # type: ignore[no-untyped-def]
    from app.payments import jobs as payment_jobs

    # The delay is two minutes by default (it was five): a dropped notification costs at
    # most that plus one poll period.
    assert any_db_app.config["STUCK_PAYMENT_POLL_DELAY_SECONDS"] == 120
    delay = timedelta(seconds=120)
    payment = started_payment()
    at_gateway(any_db_app, payment, GatewayStatus.PAID)  # its notification is dropped
    assert poll_started(delay, now=utcnow() + timedelta(seconds=110)) == 0
    assert state_of(payment.id) == S.STARTED
    assert poll_started(delay, now=utcnow() + timedelta(seconds=125)) == 1
    assert state_of(payment.id) == S.PAID
    # The job (what cron's `flask payments poll` runs) reads the delay from the config.
    other = started_payment()
    at_gateway(any_db_app, other, GatewayStatus.PAID)
    assert payment_jobs.poll_started() == 0
    any_db_app.config["STUCK_PAYMENT_POLL_DELAY_SECONDS"] = 0
    result = any_db_app.test_cli_runner().invoke(args=["payments", "poll"])
    assert result.exit_code == 0 and "changed 1" in result.output, result.output
    assert state_of(other.id) == S.PAID
