"""Refunds as records: one Refund row per refund, the payment locked before the gateway
is asked (two concurrent refunds of what remains: exactly one succeeds), the audit row in
the same transaction, refunds that complete later, refunds made at the gateway, and the
obligations and the report summary counting the Refund rows."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from app.db import db_session
from app.gateways import get_gateway
from app.models import AuditLog, Obligation, Payment, PaymentState, Refund, RefundState
from app.payments.create import create_payment, start_payment
from app.payments.errors import PaymentError
from app.payments.refunds import poll_requested_refunds, refund_payment, refundable_amount
from app.payments.status import sync_payment
from app.reporting.summary import month_of, summary_month, verify_month
from gateway import GatewayError, GatewayStatus, RefundResult
from tests.factories import make_municipality, make_service

S = PaymentState
R = RefundState


def paid_payment(app, amount: int = 50000) -> Payment:  # type: ignore[no-untyped-def]
    service = make_service(make_municipality(), amount=amount)
    payment = create_payment(service, amount=None, payer_name="Jana Nováková", payer_email="jana@example.cz")
    start_payment(payment, return_url="http://localhost/r", notify_url="http://localhost/webhooks/demo")
    get_gateway("demo").complete(payment.gateway_reference, GatewayStatus.PAID)
    app.extensions["test_outbox"].clear()
    sync_payment(payment, source="test")
    assert payment.state == S.PAID
    return payment


def with_obligation(payment: Payment) -> Obligation:
    obligation = Obligation(
        municipality_id=payment.municipality_id,
        service_id=payment.service_id,
        customer_id="Z-1",
        payer_name="Jana Nováková",
        amount=payment.amount,
        amount_paid=payment.amount,
    )
    db_session.add(obligation)
    db_session.flush()
    db_session.get(Payment, payment.id).obligation_id = obligation.id
    db_session.commit()
    return obligation


def refunds_of(payment: Payment) -> list[Refund]:
    db_session.expire_all()
    return list(db_session.scalars(select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.id)))


def reload(payment: Payment) -> Payment:
    db_session.expire_all()
    return db_session.get(Payment, payment.id)


def test_a_refund_is_a_record_with_its_audit_row(app) -> None:  # type: ignore[no-untyped-def]
    payment = paid_payment(app)
    refund = refund_payment(payment, 20000, reason="přeplatek", actor="clerk@obec.cz")
    [row] = refunds_of(payment)
    assert row.id == refund.id
    assert (row.amount, row.reason, row.actor, row.state) == (20000, "přeplatek", "clerk@obec.cz", R.SUCCEEDED)
    assert row.gateway_reference.startswith("demore_") and row.requested_at and row.completed_at
    p = reload(payment)
    assert (p.state, p.amount_refunded) == (S.PARTIALLY_REFUNDED, 20000)
    [log] = db_session.scalars(select(AuditLog).where(AuditLog.action == "refund")).all()
    assert log.object_id == payment.external_id
    assert log.after["refund_id"] == row.id and log.after["refund_state"] == R.SUCCEEDED
    assert log.after["amount_refunded"] == 20000 and log.before["amount_refunded"] == 0


def test_a_refund_the_gateway_refuses_is_recorded_as_failed_and_moves_nothing(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    payment = paid_payment(app)

    def refuse(self, reference, amount, reason=""):  # type: ignore[no-untyped-def]
        raise GatewayError("insufficient balance")

    monkeypatch.setattr(type(get_gateway("demo")), "refund", refuse)
    with pytest.raises(PaymentError, match="gateway_error"):
        refund_payment(payment, 10000, reason="sleva", actor="clerk@obec.cz")
    db_session.rollback()  # what the view does: the failed record was committed already
    [row] = refunds_of(payment)
    assert row.state == R.FAILED and row.failure_reason == "insufficient balance" and row.completed_at
    assert (reload(payment).state, reload(payment).amount_refunded) == (S.PAID, 0)
    [log] = db_session.scalars(select(AuditLog).where(AuditLog.action == "refund")).all()
    assert log.after["refund_state"] == R.FAILED


@pytest.mark.postgres
def test_two_concurrent_refunds_of_what_remains_exactly_one_succeeds(postgres_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_test_app

    app = make_test_app(postgres_url)
    gateway_calls: list[int] = []
    with app.app_context():
        payment = paid_payment(app)
        payment_id = payment.id
        gw_class = type(get_gateway("demo"))
        original = gw_class.refund

        def slow_refund(self, reference, amount, reason=""):  # type: ignore[no-untyped-def]
            gateway_calls.append(amount)
            time.sleep(0.3)  # without the lock, the other clerk would pass the check meanwhile
            return original(self, reference, amount, reason)

        monkeypatch.setattr(gw_class, "refund", slow_refund)
        db_session.remove()

    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def clerk(name: str) -> None:
        with app.app_context():
            try:
                p = db_session.get(Payment, payment_id)  # each thread: its own session
                barrier.wait(timeout=10)
                refund_payment(p, 50000, reason=f"storno {name}", actor=f"{name}@obec.cz")
                outcomes[name] = "refunded"
            except PaymentError as exc:
                db_session.rollback()
                outcomes[name] = str(exc)
            except Exception as exc:  # noqa: BLE001 - shown in the assertion (e.g. a deadlock)
                outcomes[name] = repr(exc)
            finally:
                db_session.remove()

    threads = [threading.Thread(target=clerk, args=(n,)) for n in ("jana", "petr")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    try:
        # The loser waited for the winner's lock, then found the payment fully refunded.
        assert sorted(outcomes.values()) == ["not_refundable", "refunded"], outcomes
        assert gateway_calls == [50000]  # the second clerk was refused before the gateway
        with app.app_context():
            p = db_session.get(Payment, payment_id)
            assert (p.state, p.amount_refunded) == (S.REFUNDED, 50000)
            rows = db_session.scalars(select(Refund).where(Refund.payment_id == payment_id)).all()
            assert [(r.amount, r.state) for r in rows] == [(50000, R.SUCCEEDED)]
            assert get_gateway("demo").get_status(p.gateway_reference).amount_refunded == 50000
            db_session.remove()
    finally:
        app.extensions["db_engine"].dispose()


@dataclass(frozen=True)
class PullStatus:
    completed: bool


def test_a_refund_the_gateway_completes_later_stays_requested_until_polled(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    payment = paid_payment(app)
    obligation = with_obligation(payment)
    gw_class = type(get_gateway("demo"))
    paid_out: set[str] = set()
    # Like BTCPay: refund() creates a pull payment the payer claims later.
    monkeypatch.setattr(
        gw_class,
        "refund",
        lambda self, ref, amount, reason="": RefundResult(
            reference=ref, refund_reference="pp_1", amount=amount, succeeded=False
        ),
    )
    monkeypatch.setattr(gw_class, "refund_status", lambda self, ref: PullStatus(ref in paid_out), raising=False)

    refund = refund_payment(payment, 30000, reason="vráceno", actor="clerk@obec.cz")
    assert refund.state == R.REQUESTED and refund.gateway_reference == "pp_1"
    p = reload(payment)
    assert (p.state, p.amount_refunded) == (S.PAID, 0)
    # What is requested is reserved: only the rest can be refunded meanwhile.
    assert refundable_amount(p) == 20000
    with pytest.raises(PaymentError, match="refund_amount"):
        refund_payment(p, 20001, reason="moc")
    db_session.rollback()
    assert poll_requested_refunds() == 0  # not paid out yet
    paid_out.add("pp_1")
    assert poll_requested_refunds() == 1
    [row] = refunds_of(payment)
    assert row.state == R.SUCCEEDED and row.completed_at
    p = reload(payment)
    assert (p.state, p.amount_refunded) == (S.PARTIALLY_REFUNDED, 30000)
    assert db_session.get(Obligation, obligation.id).amount_paid == 20000
    assert poll_requested_refunds() == 0


def test_a_refund_made_at_the_gateway_becomes_a_record(app) -> None:  # type: ignore[no-untyped-def]
    payment = paid_payment(app)
    obligation = with_obligation(payment)
    get_gateway("demo").refund(payment.gateway_reference, 12000, "in the gateway's dashboard")
    sync_payment(reload(payment), source="status poll")
    [row] = refunds_of(payment)
    assert (row.amount, row.state, row.actor) == (12000, R.SUCCEEDED, None)
    assert "refunded at the gateway" in row.reason
    assert reload(payment).amount_refunded == 12000
    assert db_session.get(Obligation, obligation.id).amount_paid == 50000 - 12000
    # Asking again changes nothing.
    sync_payment(reload(payment), source="status poll")
    assert len(refunds_of(payment)) == 1


def test_obligation_and_report_summary_count_the_refund_records(any_db_app) -> None:  # type: ignore[no-untyped-def]
    payment = paid_payment(any_db_app)
    obligation = with_obligation(payment)
    refund_payment(payment, 10000, reason="sleva")
    refund_payment(payment, 40000, reason="zbytek")
    assert db_session.get(Obligation, obligation.id).amount_paid == 0
    rows = refunds_of(payment)
    assert [(r.amount, r.state) for r in rows] == [(10000, R.SUCCEEDED), (40000, R.SUCCEEDED)]
    m: date = month_of(rows[-1].completed_at)
    [(_paid_count, _paid_volume, refund_count, refund_volume)] = summary_month(db_session(), m.year, m.month).values()
    assert (refund_count, refund_volume) == (2, 50000)
    assert verify_month(m.year, m.month) == []
