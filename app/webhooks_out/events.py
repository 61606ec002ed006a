"""Events: created inside the transaction of what happened (one delivery row per
subscribed endpoint), enqueued for delivery once that transaction has committed."""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Obligation, Payment, WebhookDelivery, WebhookEndpoint

EVENT_TYPES = ("payment.paid", "payment.refunded", "payment.failed", "obligation.paid", "transfer.matched")
TEST_EVENT = "ping"
PENDING_DELIVERIES = "webhook_deliveries"


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


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
    body = json.dumps(
        {"id": event_id, "type": event_type, "created": utcnow().isoformat() + "Z", "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
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
            emit(
                session,
                payment.municipality_id,
                "obligation.paid",
                {
                    "obligation": {
                        "id": o.id,
                        "service_id": o.service_id,
                        "customer_id": o.customer_id,
                        "amount": o.amount,
                        "amount_paid": o.amount_paid,
                        "variable_symbol": o.variable_symbol,
                    },
                    "payment_id": payment.external_id,
                },
            )


def on_refunded(payment: Payment, session: Session) -> None:
    emit(session, payment.municipality_id, "payment.refunded", payment_data(payment))


def on_failed(payment: Payment, session: Session) -> None:
    emit(session, payment.municipality_id, "payment.failed", payment_data(payment))
