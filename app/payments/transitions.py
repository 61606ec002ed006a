"""The one state machine: ``transition_payment`` is the only code that changes a
payment's state (the legal moves are ``ALLOWED_TRANSITIONS`` beside the model); listeners
of other domains run inside its transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from app.bulk import ids_in, insert_rows
from app.db import db_session, utcnow
from app.models import (
    Payment,
    PaymentEvent,
    PaymentState,
)
from app.models.payment import allowed_moves
from app.payments.errors import IllegalTransition

S = PaymentState


Listener = Callable[[Payment, Session], None]
# The set-based form of a listener: the same effect for many payments that made the same
# move in one batch (``transition_payments``), given their ids.
ManyListener = Callable[[list[int], Session], None]

# Listeners run inside the transaction of a transition, after its event is appended:
# {to_state: [fn(payment, session)]}. They are registered by app.listeners.register_listeners,
# which create_app calls (the web app and the worker alike).
_listeners: dict[PaymentState, list[Listener]] = {}
_many: dict[Listener, ManyListener] = {}


def on_transition(to_state: PaymentState, fn: Listener, *, many: ManyListener | None = None) -> None:
    """Run ``fn(payment, session)`` whenever a payment moves to ``to_state``; registering the
    same function twice has no effect (every app built in one process registers again).
    ``many(payment_ids, session)``: the same for a batch (``transition_payments``); without
    it a batch calls ``fn`` once per payment."""
    registered = _listeners.setdefault(PaymentState(to_state), [])
    if fn not in registered:
        registered.append(fn)
    if many is not None:
        _many[fn] = many


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
    if to not in allowed_moves(current, locked.gateway_name):
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


BATCH = 20_000


def transition_payments(
    payment_ids: Sequence[int],
    to: PaymentState,
    *,
    reason: str,
    data: Mapping[int, Mapping[str, Any]] | None = None,
    session: Session | None = None,
) -> int:
    """``transition_payment`` for many payments at once (a bank statement's matches), with
    the same rules: the rows are locked, a payment already there is left alone, one
    illegal move refuses the whole batch (IllegalTransition; the caller rolls back), an
    event is appended per payment and the listeners run in the same transaction, in their
    set-based form. ``data``: each payment's event data by id. Does not commit; returns
    how many payments moved."""
    session = session or db_session()
    to = PaymentState(to)
    moved = 0
    ordered = sorted(set(payment_ids))
    for start in range(0, len(ordered), BATCH):
        moved += _transition_batch(session, ordered[start : start + BATCH], to, reason[:200], data or {})
    return moved


def create_payments_moved(
    rows: Sequence[dict[str, Any]],
    to: PaymentState,
    *,
    reason: str,
    data: Sequence[Mapping[str, Any]] | None = None,
    session: Session | None = None,
) -> list[int]:
    """New payments that make their first move at once — a bank transfer is paid when it
    is on the statement: created → paid. Each move is checked against the table as
    ``transition_payments`` does (``allowed_moves(created, gateway)``), the row is written
    already in ``to`` (one write instead of an insert and an update of every index), the
    created → ``to`` event is appended and the listeners of ``to`` run, set-based.
    ``data``: each row's event data, in order. Does not commit; returns the new ids."""
    session = session or db_session()
    to = PaymentState(to)
    for row in rows:
        if to not in allowed_moves(S.CREATED, row["gateway_name"]):
            raise IllegalTransition(f"a new {row['gateway_name']} payment cannot start in {to}")
    now = utcnow()
    for row in rows:
        row.update(state=str(to), updated_at=now)
        if to == S.PAID:
            row["paid_at"] = now
    ids = insert_rows(session, Payment.__table__, rows)
    events = data or [{}] * len(rows)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        moving = [(payment_id, S.CREATED) for payment_id in chunk]
        by_id = dict(zip(chunk, events[start : start + BATCH], strict=True))
        _after_move(session, moving, to, reason[:200], by_id, now)
    return ids


def _transition_batch(
    session: Session, chunk: list[int], to: PaymentState, reason: str, data: Mapping[int, Mapping[str, Any]]
) -> int:
    rows = session.execute(
        select(Payment.id, Payment.state, Payment.gateway_name, Payment.external_id)
        .where(ids_in(Payment.id, chunk, session))
        .order_by(Payment.id)
        .with_for_update()
    ).all()
    if len(rows) != len(chunk):
        raise LookupError(f"{len(chunk) - len(rows)} of the payments do not exist")
    moving: list[tuple[int, PaymentState]] = []
    for payment_id, state, gateway_name, external_id in rows:
        current = PaymentState(state)
        if current == to and to != S.PARTIALLY_REFUNDED:
            continue
        if to not in allowed_moves(current, gateway_name):
            raise IllegalTransition(f"payment {external_id}: {current} → {to} is not allowed")
        moving.append((payment_id, current))
    if not moving:
        return 0
    ids = [payment_id for payment_id, _ in moving]
    now = utcnow()
    values: dict[str, Any] = {"state": to, "updated_at": now}
    if to == S.PAID:
        values["paid_at"] = now
    session.execute(
        update(Payment).where(ids_in(Payment.id, ids, session)).values(**values)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    for payment_id in ids:  # objects of these payments already loaded must read the new state
        loaded = session.identity_map.get(identity_key(Payment, payment_id))
        if loaded is not None:
            session.expire(loaded)
    _after_move(session, moving, to, reason, data, now)
    return len(ids)


def _after_move(
    session: Session,
    moving: list[tuple[int, PaymentState]],
    to: PaymentState,
    reason: str,
    data: Mapping[int, Mapping[str, Any]],
    now: Any,
) -> None:
    """The events of a batch's moves, then the listeners of ``to`` (set-based when they can)."""
    insert_rows(
        session,
        PaymentEvent.__table__,
        [
            {"payment_id": payment_id, "kind": "transition", "from_state": str(current), "to_state": str(to),
             "reason": reason, "data": dict(data.get(payment_id) or {}), "created_at": now}
            for payment_id, current in moving
        ],
        ids=False,
    )  # fmt: skip
    ids = [payment_id for payment_id, _ in moving]
    for listener in _listeners.get(to, []):
        many = _many.get(listener)
        if many is not None:
            many(ids, session)
        else:
            for payment in session.scalars(
                select(Payment).where(ids_in(Payment.id, ids, session)).order_by(Payment.id)
            ):
                listener(payment, session)


def record_event(payment: Payment, kind: str, reason: str, data: Mapping[str, Any] | None = None) -> None:
    db_session.add(PaymentEvent(payment_id=payment.id, kind=kind, reason=reason[:200], data=dict(data or {})))
