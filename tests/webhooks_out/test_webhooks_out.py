"""Outbound webhooks against a receiver on loopback: signed bodies, a failure, a timeout
and a success in the delivery log, backoff up to three days, redelivery, test events,
events from the payment transitions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db_session, utcnow
from app.models import Obligation, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.models.api import as_utc
from app.payments.transitions import transition_payment
from app.webhooks_out.delivery import backoff, deliver
from app.webhooks_out.events import emit
from app.webhooks_out.jobs import redeliver, send_test_event
from app.webhooks_out.signing import verify
from tests.factories import make_municipality, make_payment, make_service
from tests.webhooks_out.receiver import Receiver


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    r = Receiver()
    yield r
    r.stop()


def _endpoint(
    municipality, url: str, events=("payment.paid", "obligation.paid", "payment.refunded", "payment.failed")
) -> WebhookEndpoint:  # type: ignore[no-untyped-def]
    e = WebhookEndpoint(municipality_id=municipality.id, url=url, secret="whsec_test", events=list(events))
    db_session.add(e)
    db_session.commit()
    return e


def test_fails_times_out_then_succeeds_with_a_log(app, receiver) -> None:  # type: ignore[no-untyped-def]
    app.config["WEBHOOK_TIMEOUT"] = 0.5
    m = make_municipality()
    endpoint = _endpoint(m, receiver.url)
    receiver.script = ["fail", "timeout", "fail", "timeout", "ok"]
    # Created without committing the payment transition: deliver by hand, try by try.
    [d] = emit(db_session(), m.id, "payment.paid", {"payment": {"id": "x"}}, endpoints=[endpoint])
    db_session.info.clear()
    db_session.commit()
    assert deliver(d.id) == "pending"
    assert deliver(d.id) == "pending"
    db_session.expire_all()
    d = db_session.get(WebhookDelivery, d.id)
    assert d.attempts == 2 and d.last_error.startswith("timeout")
    codes = [(a.status_code, a.error is not None) for a in d.log]
    assert codes == [(500, False), (None, True)]
    assert as_utc(d.next_attempt_at) > utcnow() + timedelta(seconds=100)  # the second wait is 2 minutes
    redeliver(d)  # the clerk's button: now
    db_session.info.clear()
    db_session.commit()
    deliver(d.id)
    deliver(d.id)
    assert deliver(d.id) == "delivered"
    db_session.expire_all()
    assert [a.status_code for a in db_session.get(WebhookDelivery, d.id).log] == [500, None, 500, None, 200]
    headers, body = receiver.received[-1]
    assert verify("whsec_test", body, headers["Portal-Signature"])
    assert not verify("whsec_test", body + b" ", headers["Portal-Signature"])
    assert not verify("whsec_test", body, headers["Portal-Signature"], now=utcnow().timestamp() + 3600)
    assert json.loads(body)["type"] == "payment.paid" and headers["Portal-Event"] == "payment.paid"


def test_backoff_grows_and_gives_up_after_three_days(app) -> None:  # type: ignore[no-untyped-def]
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(30) == timedelta(hours=6)
    m = make_municipality()
    endpoint = _endpoint(m, "http://127.0.0.1:9/nobody")
    [d] = emit(db_session(), m.id, "payment.paid", {}, endpoints=[endpoint])
    db_session.info.clear()
    d.created_at = utcnow() - timedelta(days=3)
    db_session.commit()
    assert deliver(d.id) == "failed"


def test_transitions_emit_events_and_a_test_event(app, receiver) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality()
    service = make_service(m)
    _endpoint(m, receiver.url)
    other = make_municipality()
    _endpoint(other, receiver.url + "/other")
    obligation = Obligation(
        municipality_id=m.id, service_id=service.id, customer_id="W-1", payer_name="P", amount=50000
    )
    db_session.add(obligation)
    db_session.commit()
    payment = make_payment(service, state="started", amount=50000, obligation_id=obligation.id)
    transition_payment(payment, "paid", reason="test")
    db_session.commit()  # deliveries leave after the commit (inline queue in tests)
    types = [json.loads(b)["type"] for _, b in receiver.received]
    assert types == ["payment.paid", "obligation.paid"]
    failed = make_payment(service, state="started")
    transition_payment(failed, "failed", reason="test")
    db_session.rollback()  # a rolled-back transition sends nothing
    assert len(receiver.received) == 2
    endpoint = db_session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.municipality_id == m.id))
    send_test_event(endpoint)
    db_session.commit()
    assert json.loads(receiver.received[-1][1])["type"] == "ping"
    assert db_session.scalar(select(WebhookAttempt.status_code).order_by(WebhookAttempt.id.desc()).limit(1)) == 200
    assert all("/other" not in h.get("Portal-Delivery", "") for h, _ in receiver.received)
