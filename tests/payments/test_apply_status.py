"""The gateway's truth applied through the mapping beside the transition table."""

from __future__ import annotations

import pytest

from app.models import PaymentState
from app.payments.status import apply_gateway_status
from gateway import GatewayStatus, StatusResult
from tests.factories import make_payment

S = PaymentState
G = GatewayStatus


@pytest.mark.parametrize(
    ("before", "status", "after"),
    [
        (S.STARTED, G.EXPIRED, S.EXPIRED),  # the gateway gave up waiting for the payer
        (S.CREATED, G.EXPIRED, S.EXPIRED),
        (S.STARTED, G.PROCESSING, S.STARTED),  # paid but unconfirmed: not paid for us yet
        (S.STARTED, G.PENDING, S.STARTED),
        (S.CREATED, G.PAID, S.PAID),  # through started
        (S.EXPIRED, G.PAID, S.PAID),
        (S.PAID, G.FAILED, S.PAID),  # never undone by a late failure
        (S.STARTED, G.FAILED, S.FAILED),
    ],
)
def test_gateway_status_moves_the_payment_by_the_table(app, before, status, after) -> None:  # type: ignore[no-untyped-def]
    payment = make_payment(state=before, gateway_reference="demo_ref")
    apply_gateway_status(payment, StatusResult(reference="demo_ref", status=status, amount=payment.amount), source="test")
    assert payment.state == after
    if after == S.FAILED:
        assert payment.failure_reason == "declined"
    moves = [(e.from_state, e.to_state) for e in payment.events if e.kind == "transition"]
    if before == S.CREATED and after == S.PAID:
        assert moves[-2:] == [(S.CREATED, S.STARTED), (S.STARTED, S.PAID)]
