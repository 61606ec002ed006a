"""The one payment state machine: every allowed move, every forbidden move, repeats,
and two workers racing for the same move (PostgreSQL row lock)."""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlalchemy import func, select

from app.db import SessionFactory, db_session
from app.models import ALLOWED_TRANSITIONS, Payment, PaymentEvent, PaymentState
from app.payments.errors import IllegalTransition
from app.payments.transitions import transition_payment
from tests.conftest import make_test_app
from tests.factories import make_payment

S = PaymentState
ALLOWED = sorted((a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets if a != b)
FORBIDDEN = sorted(
    (a, b) for a, b in itertools.product(PaymentState, PaymentState) if a != b and b not in ALLOWED_TRANSITIONS[a]
)


def test_the_table_covers_every_state_and_the_expected_moves() -> None:
    # Guards the parametrisation below: if the table shrinks or grows, this fails first.
    assert set(ALLOWED_TRANSITIONS) == set(PaymentState)
    assert len(ALLOWED) == 12
    assert len(ALLOWED) + len(FORBIDDEN) == len(PaymentState) * (len(PaymentState) - 1)
    assert (S.STARTED, S.PAID) in ALLOWED and (S.PAID, S.STARTED) in FORBIDDEN


def _events(payment_id: int) -> list[PaymentEvent]:
    return list(db_session.scalars(select(PaymentEvent).where(PaymentEvent.payment_id == payment_id)))


@pytest.mark.parametrize(("from_state", "to_state"), ALLOWED, ids=lambda s: str(s))
def test_allowed_transition_moves_and_appends_one_event(app, from_state, to_state) -> None:  # type: ignore[no-untyped-def]
    payment = make_payment(state=from_state)
    transition_payment(payment, to_state, reason="test", data={"k": 1})
    db_session.commit()
    db_session.expire_all()
    row = db_session.get(Payment, payment.id)
    assert row.state == to_state
    events = _events(payment.id)
    assert len(events) == 1
    assert (events[0].from_state, events[0].to_state, events[0].reason, events[0].data) == (
        from_state,
        to_state,
        "test",
        {"k": 1},
    )
    assert (row.paid_at is not None) == (to_state == S.PAID)


@pytest.mark.parametrize(("from_state", "to_state"), FORBIDDEN, ids=lambda s: str(s))
def test_forbidden_transition_raises_and_changes_nothing(app, from_state, to_state) -> None:  # type: ignore[no-untyped-def]
    payment = make_payment(state=from_state)
    db_session.expire_all()
    before = db_session.get(Payment, payment.id).updated_at
    with pytest.raises(IllegalTransition):
        transition_payment(payment, to_state, reason="test")
    db_session.commit()
    db_session.expire_all()
    row = db_session.get(Payment, payment.id)
    assert row.state == from_state
    assert row.updated_at == before and row.paid_at is None
    assert _events(payment.id) == []


@pytest.mark.parametrize("state", sorted(set(PaymentState) - {S.PARTIALLY_REFUNDED}), ids=str)
def test_repeating_a_transition_is_a_no_op(app, state) -> None:  # type: ignore[no-untyped-def]
    payment = make_payment(state=state)
    transition_payment(payment, state, reason="again")
    db_session.commit()
    assert db_session.get(Payment, payment.id).state == state
    assert _events(payment.id) == []


def test_a_second_partial_refund_is_a_real_move(app) -> None:  # type: ignore[no-untyped-def]
    payment = make_payment(state=S.PAID, amount=10000)
    transition_payment(payment, S.PARTIALLY_REFUNDED, reason="first")
    transition_payment(payment, S.PARTIALLY_REFUNDED, reason="second")
    db_session.commit()
    assert [e.reason for e in _events(payment.id)] == ["first", "second"]


def test_transition_accepts_an_id(app) -> None:  # type: ignore[no-untyped-def]
    payment = make_payment(state=S.CREATED)
    transition_payment(payment.id, S.STARTED, reason="by id")
    db_session.commit()
    assert db_session.get(Payment, payment.id).state == S.STARTED


@pytest.mark.postgres
@pytest.mark.parametrize(("from_state", "to_state"), [(S.STARTED, S.PAID), (S.CREATED, S.EXPIRED)], ids=str)
def test_two_threads_racing_for_one_move_append_one_event(postgres_url, from_state, to_state) -> None:  # type: ignore[no-untyped-def]
    app = make_test_app(postgres_url)
    with app.app_context():
        payment_id = make_payment(state=from_state).id
        db_session.remove()
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def worker() -> None:
            with app.app_context():
                session = SessionFactory()
                try:
                    # Both load the stale row before either moves it.
                    stale = session.get(Payment, payment_id)
                    assert stale.state == from_state
                    barrier.wait(timeout=10)
                    transition_payment(stale, to_state, reason="race", session=session)
                    session.commit()
                except BaseException as exc:  # noqa: BLE001
                    errors.append(exc)
                finally:
                    session.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert errors == []
        assert db_session.get(Payment, payment_id).state == to_state
        count = db_session.scalar(
            select(func.count(PaymentEvent.id)).where(PaymentEvent.payment_id == payment_id, PaymentEvent.reason == "race")
        )
        assert count == 1
        db_session.remove()
    app.extensions["db_engine"].dispose()
