"""Gateway status → payment state lives beside the transition table; adapters report the
status an event implies; named predicates answer the questions views and jobs ask."""

from __future__ import annotations

import json
import time

import pytest

from app.models import ALLOWED_TRANSITIONS, Payment, PaymentState
from app.models.payment import GATEWAY_STATUS_TARGET, contradicts_outcome, gateway_target
from gateway import GatewayStatus
from gateway.demo import DemoGateway, MemoryStore, sign

S = PaymentState
G = GatewayStatus


def test_every_gateway_status_has_a_meaning() -> None:
    assert set(GATEWAY_STATUS_TARGET) == set(GatewayStatus)
    # Paid but not yet confirmed (BTCPay Processing) is not paid for us: the payment stays started.
    assert GATEWAY_STATUS_TARGET[G.PROCESSING] is None and GATEWAY_STATUS_TARGET[G.PENDING] is None
    assert GATEWAY_STATUS_TARGET[G.EXPIRED] == S.EXPIRED


@pytest.mark.parametrize(
    ("state", "status", "target"),
    [
        (S.CREATED, G.PAID, S.PAID),  # through started, by the caller
        (S.STARTED, G.PAID, S.PAID),
        (S.EXPIRED, G.PAID, S.PAID),  # the gateway's truth wins over our expiry
        (S.PAID, G.PAID, None),
        (S.REFUNDED, G.PAID, None),
        (S.FAILED, G.PAID, None),
        (S.STARTED, G.FAILED, S.FAILED),
        (S.CREATED, G.FAILED, S.FAILED),
        (S.EXPIRED, G.FAILED, None),
        (S.PAID, G.FAILED, None),
        (S.STARTED, G.CANCELLED, S.CANCELLED),
        (S.PAID, G.CANCELLED, None),
        (S.STARTED, G.EXPIRED, S.EXPIRED),
        (S.CREATED, G.EXPIRED, S.EXPIRED),
        (S.PAID, G.EXPIRED, None),
        (S.STARTED, G.PROCESSING, None),
        (S.STARTED, G.PENDING, None),
    ],
)
def test_gateway_target_follows_the_table(state, status, target) -> None:  # type: ignore[no-untyped-def]
    assert gateway_target(state, status) == target
    if target is not None and state != S.CREATED:
        assert target in ALLOWED_TRANSITIONS[state]


@pytest.mark.parametrize(
    ("state", "status", "stale"),
    [
        (S.FAILED, G.PAID, True),
        (S.CANCELLED, G.PAID, True),
        (S.PAID, G.PAID, False),
        (S.REFUNDED, G.PAID, False),
        (S.EXPIRED, G.PAID, False),
        (S.PAID, G.FAILED, True),
        (S.PARTIALLY_REFUNDED, G.FAILED, True),
        (S.CANCELLED, G.FAILED, True),
        (S.STARTED, G.FAILED, False),
        (S.EXPIRED, G.FAILED, False),
        (S.PAID, G.CANCELLED, True),
        (S.FAILED, G.CANCELLED, True),
        (S.PAID, G.PROCESSING, False),
    ],
)
def test_a_status_contradicting_the_outcome_is_stale(state, status, stale) -> None:  # type: ignore[no-untyped-def]
    assert contradicts_outcome(state, status) is stale


@pytest.mark.parametrize("state", list(PaymentState))
def test_predicates(state) -> None:  # type: ignore[no-untyped-def]
    p = Payment(state=state)
    assert p.is_open == (state in (S.CREATED, S.STARTED))
    assert p.is_paid == (state in (S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED))
    assert p.is_refundable == (state in (S.PAID, S.PARTIALLY_REFUNDED))
    assert p.is_refunded == (state in (S.PARTIALLY_REFUNDED, S.REFUNDED))
    assert p.can_become_paid == (state in (S.STARTED, S.EXPIRED))
    assert p.is_final == (state in (S.FAILED, S.CANCELLED, S.REFUNDED))


def _demo_note(event_type: str):  # type: ignore[no-untyped-def]
    gw = DemoGateway(secret="s3cret", base_url="http://x", store=MemoryStore(), notifier=lambda *a: None)
    body = json.dumps({"id": "evt1", "reference": "demo_abc", "type": event_type}).encode()
    return gw.parse_notification(body, {"X-Demo-Signature": sign("s3cret", body, int(time.time()))})


@pytest.mark.parametrize(
    ("event_type", "implied"),
    [("payment.paid", G.PAID), ("payment.failed", G.FAILED), ("payment.cancelled", G.CANCELLED),
     ("payment.expired", G.EXPIRED), ("payment.pending", G.PENDING), ("payment.refunded", None), ("other", None)],
)
def test_demo_notification_carries_its_implied_status(event_type, implied) -> None:  # type: ignore[no-untyped-def]
    assert _demo_note(event_type).implied_status == implied
