"""Gateway notifications: verify, record once, then ask the gateway for the truth."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.db import db_session, utcnow
from app.gateways import get_gateway
from app.models import (
    GatewayNotification,
    Payment,
)
from app.models.payment import contradicts_outcome
from app.payments.errors import NotificationRejected
from app.payments.status import sync_payment
from app.payments.transitions import record_event
from gateway import GatewayError, InvalidNotification


def receive_notification(gateway_name: str, body: bytes, headers: Mapping[str, str]) -> GatewayNotification:
    """Verify a gateway notification and record it once; the caller enqueues processing.

    Raises NotificationRejected (4xx) for forged, malformed, replayed, unknown or stale
    notifications; nothing about the payment changes then."""
    try:
        gw = get_gateway(gateway_name)
    except GatewayError:
        raise NotificationRejected(404, "unknown gateway") from None
    try:
        note = gw.parse_notification(body, headers)
    except InvalidNotification as exc:
        raise NotificationRejected(400, f"invalid notification: {exc}") from None
    payment = db_session.scalar(
        select(Payment).where(Payment.gateway_name == gateway_name, Payment.gateway_reference == note.reference)
    )
    if payment is None:
        raise NotificationRejected(404, "unknown payment reference")
    if note.implied_status is not None and contradicts_outcome(payment.state, note.implied_status):
        raise NotificationRejected(409, f"stale event: payment is already {payment.state}")
    row = GatewayNotification(
        gateway_name=gateway_name, event_id=note.event_id, event_type=note.event_type, reference=note.reference
    )
    db_session.add(row)
    try:
        db_session.flush()
    except IntegrityError:
        db_session.rollback()
        raise NotificationRejected(409, "event already processed") from None
    record_event(payment, "gateway_message", note.event_type, {"event_id": note.event_id})
    db_session.commit()
    return row


def process_notification(notification_id: int) -> None:
    """The notification is only a trigger: ask the gateway for the truth."""
    note = db_session.get(GatewayNotification, notification_id)
    if note is None or note.processed_at is not None:
        return
    payment = db_session.scalar(
        select(Payment).where(Payment.gateway_name == note.gateway_name, Payment.gateway_reference == note.reference)
    )
    if payment is not None:
        sync_payment(payment, source=f"notification {note.event_id}")
    db_session.execute(
        update(GatewayNotification).where(GatewayNotification.id == note.id).values(processed_at=utcnow())
    )
    db_session.commit()
