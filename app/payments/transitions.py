"""The one state machine: ``transition_payment`` is the only code that changes a
payment's state (the legal moves are ``ALLOWED_TRANSITIONS`` beside the model); listeners
of other domains run inside its transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import db_session, utcnow
from app.models import (
    ALLOWED_TRANSITIONS,
    Payment,
    PaymentEvent,
    PaymentState,
)
from app.payments.errors import IllegalTransition

S = PaymentState


Listener = Callable[[Payment, Session], None]

# Listeners run inside the transaction of a transition, after its event is appended:
# {to_state: [fn(payment, session)]}. They are registered by app.listeners.register_listeners,
# which create_app calls (the web app and the worker alike).
_listeners: dict[PaymentState, list[Listener]] = {}


def on_transition(to_state: PaymentState, fn: Listener) -> None:
    """Run ``fn(payment, session)`` whenever a payment moves to ``to_state``; registering the
    same function twice has no effect (every app built in one process registers again)."""
    registered = _listeners.setdefault(PaymentState(to_state), [])
    if fn not in registered:
        registered.append(fn)


def transition_payment(
    payment: Payment | int,
    to: PaymentState,
    *,
    reason: str,
    data: Mapping[str, Any] | None = None,
    session: Session | None = None,
) -> Payment:
    """Move a payment to ``to``: lock the row, ignore a repeat, refuse an illegal move,
    append an event. Does not commit; the caller's transaction does."""
    session = session or db_session()
    payment_id = payment if isinstance(payment, int) else payment.id
    locked = session.execute(
        select(Payment).where(Payment.id == payment_id).with_for_update().execution_options(
            populate_existing=True
        )
    ).scalar_one()
    current = PaymentState(locked.state)
    to = PaymentState(to)
    # partially_refunded → partially_refunded is a real move (a second partial refund).
    if current == to and to != S.PARTIALLY_REFUNDED:
        return locked
    if to not in ALLOWED_TRANSITIONS[current]:
        raise IllegalTransition(f"payment {locked.external_id}: {current} → {to} is not allowed")
    now = utcnow()
    locked.state = to
    locked.updated_at = now
    if to == S.PAID:
        locked.paid_at = now
    session.add(
        PaymentEvent(
            payment_id=locked.id,
            kind="transition",
            from_state=current,
            to_state=to,
            reason=reason[:200],
            data=dict(data or {}),
            created_at=now,
        )
    )
    session.flush()
    for listener in _listeners.get(to, []):
        listener(locked, session)
    return locked


def record_event(payment: Payment, kind: str, reason: str, data: Mapping[str, Any] | None = None) -> None:
    db_session.add(PaymentEvent(payment_id=payment.id, kind=kind, reason=reason[:200], data=dict(data or {})))
