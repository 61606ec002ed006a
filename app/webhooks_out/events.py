"""Events: created inside the transaction of what happened (one delivery row per
subscribed endpoint), enqueued for delivery once that transaction has committed."""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bulk import ids_in, insert_rows
from app.db import utcnow
from app.models import Obligation, Payment, WebhookDelivery, WebhookEndpoint

EVENT_TYPES = ("payment.paid", "payment.refunded", "payment.failed", "obligation.paid", "transfer.matched")
TEST_EVENT = "ping"
PENDING_DELIVERIES = "webhook_deliveries"


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def subscribed(session: Session, municipality_ids: Any, event_type: str) -> dict[int, list[WebhookEndpoint]]:
    """The active endpoints that chose ``event_type``, by municipality."""
    found: dict[int, list[WebhookEndpoint]] = {}
    for e in session.scalars(
        select(WebhookEndpoint).where(
            ids_in(WebhookEndpoint.municipality_id, sorted(set(municipality_ids)), session),
            WebhookEndpoint.active.is_(True),
        )
    ):
        if event_type in (e.events or []):
            found.setdefault(e.municipality_id, []).append(e)
    return found


def _body(event_id: str, event_type: str, data: dict[str, Any]) -> str:
    return json.dumps(
        {"id": event_id, "type": event_type, "created": utcnow().isoformat() + "Z", "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


def emit(
    session: Session,
    municipality_id: int,
    event_type: str,
    data: dict[str, Any],
    endpoints: list[WebhookEndpoint] | None = None,
) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the municipality that chose this event. Flushes;
    the deliveries are enqueued after the commit (``enqueue_after_commit``)."""
    if endpoints is None:
        endpoints = [
            e
            for e in session.scalars(
                select(WebhookEndpoint).where(
                    WebhookEndpoint.municipality_id == municipality_id, WebhookEndpoint.active.is_(True)
                )
            )
            if event_type in (e.events or [])
        ]
    if not endpoints:
        return []
    event_id = new_event_id()
    body = _body(event_id, event_type, data)
    rows = [
        WebhookDelivery(
            endpoint_id=e.id,
            municipality_id=municipality_id,
            event_id=event_id,
            event_type=event_type,
            body=body,
            next_attempt_at=utcnow(),
        )
        for e in endpoints
    ]
    session.add_all(rows)
    session.flush()
    session.info.setdefault(PENDING_DELIVERIES, []).extend(r.id for r in rows)
    return rows


def payment_data(payment: Payment) -> dict[str, Any]:
    return {
        "payment": {
            "id": payment.external_id,
            "service_id": payment.service_id,
            "obligation_id": payment.obligation_id,
            "amount": payment.amount,
            "amount_refunded": payment.amount_refunded,
            "currency": payment.currency,
            "state": payment.state,
            "variable_symbol": payment.variable_symbol,
            "paid_at": payment.paid_at.isoformat() + "Z" if payment.paid_at else None,
        }
    }


# -- transition listeners (registered in app.listeners) ---------------------------------
def on_paid(payment: Payment, session: Session) -> None:
    emit(session, payment.municipality_id, "payment.paid", payment_data(payment))
    if payment.obligation_id is not None:
        # Runs after credit_obligation (app.listeners): the amount is already counted.
        o = session.get(Obligation, payment.obligation_id, populate_existing=True)
        if o is not None and o.amount_paid >= o.amount:
            emit(session, payment.municipality_id, "obligation.paid", _obligation_data(o, payment.external_id))


def _obligation_data(o: Obligation, payment_external_id: str) -> dict[str, Any]:
    return {
        "obligation": {
            "id": o.id,
            "service_id": o.service_id,
            "customer_id": o.customer_id,
            "amount": o.amount,
            "amount_paid": o.amount_paid,
            "variable_symbol": o.variable_symbol,
        },
        "payment_id": payment_external_id,
    }


def on_paid_many(payment_ids: list[int], session: Session) -> None:
    """``on_paid`` for a batch (a bank statement's matches): the endpoints are read once,
    nothing more when no municipality of the batch subscribed, and the deliveries are
    inserted together. An obligation several payments of the batch paid off is announced
    once, with the last of them."""
    municipalities = session.scalars(
        select(Payment.municipality_id).where(ids_in(Payment.id, payment_ids, session)).distinct()
    ).all()
    paid_to = subscribed(session, municipalities, "payment.paid")
    obligation_to = subscribed(session, municipalities, "obligation.paid")
    if not paid_to and not obligation_to:
        return
    now = utcnow()
    rows: list[dict[str, Any]] = []

    def add(municipality_id: int, event_type: str, data: dict[str, Any], endpoints: list[WebhookEndpoint]) -> None:
        event_id = new_event_id()
        body = _body(event_id, event_type, data)
        rows.extend(
            {"endpoint_id": e.id, "municipality_id": municipality_id, "event_id": event_id,
             "event_type": event_type, "body": body, "next_attempt_at": now, "created_at": now}
            for e in endpoints
        )  # fmt: skip

    paid_off: dict[int, str] = {}
    for payment in session.scalars(
        select(Payment)
        .where(
            ids_in(Payment.id, payment_ids, session),
            Payment.municipality_id.in_(set(paid_to) | set(obligation_to)),
        )
        .order_by(Payment.id)
    ):
        if payment.municipality_id in paid_to:
            add(payment.municipality_id, "payment.paid", payment_data(payment), paid_to[payment.municipality_id])
        if payment.obligation_id is not None and payment.municipality_id in obligation_to:
            paid_off[payment.obligation_id] = payment.external_id
    if paid_off:
        # Read after credit_obligations_many (app.listeners): the amounts are counted.
        for o in session.scalars(
            select(Obligation)
            .where(ids_in(Obligation.id, sorted(paid_off), session))
            .order_by(Obligation.id)
            .execution_options(populate_existing=True)
        ):
            if o.amount_paid >= o.amount:
                add(
                    o.municipality_id,
                    "obligation.paid",
                    _obligation_data(o, paid_off[o.id]),
                    obligation_to[o.municipality_id],
                )
    ids = insert_rows(session, WebhookDelivery.__table__, rows)
    session.info.setdefault(PENDING_DELIVERIES, []).extend(ids)


def on_refunded(payment: Payment, session: Session) -> None:
    emit(session, payment.municipality_id, "payment.refunded", payment_data(payment))


def on_failed(payment: Payment, session: Session) -> None:
    emit(session, payment.municipality_id, "payment.failed", payment_data(payment))
