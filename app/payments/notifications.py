"""Gateway notifications: verify, record once, then ask the gateway for the truth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.db import db_session, utcnow
from app.gateway_accounts.accounts import find_by_public_id
from app.gateways import build_account_gateway, gateway_for_payment, get_gateway
from app.models import (
    GatewayNotification,
    Payment,
)
from app.models.payment import contradicts_outcome
from app.payments.errors import NotificationRejected
from app.payments.status import apply_gateway_status
from app.payments.transitions import record_event
from app.validation import has_control_characters
from gateway import GatewayError, InvalidNotification, Notification


@dataclass(frozen=True)
class Intake:
    """What became of a verified notification: ``accepted`` (recorded, to be processed),
    ``duplicate`` (that event id was recorded before) or ``ignored`` (a stale event)."""

    outcome: str
    event_id: str
    notification_id: int | None = None
    payment_id: int | None = None


def receive_notification(
    gateway_name: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    query: Mapping[str, str] | None = None,
    account_public_id: str | None = None,
) -> Intake:
    """Verify a gateway notification and record it once (the caller schedules processing).

    ``account_public_id`` names the municipality's gateway account from the webhook URL
    (``/webhooks/<gateway>/<public id>``): that account's adapter (and secret) verifies the
    notification, and only that account's payments match it. ``query`` carries the URL
    parameters (GoPay notifies with a GET ``?id=``).

    The recorded row is the outbox: it stays unprocessed until a job has processed it, and
    ``sweep_notifications`` schedules any row left unprocessed, so a notification accepted
    here is never lost even when the queue is down. Duplicates and stale events are
    answered as received (gateways retry anything else for days); only forged, malformed
    or unknown notifications raise NotificationRejected (4xx)."""
    account = None
    try:
        if account_public_id is not None:
            account = find_by_public_id(gateway_name, account_public_id)
            if account is None:
                raise NotificationRejected(404, "unknown gateway account")
            gw = build_account_gateway(account)
        else:
            gw = get_gateway(gateway_name)
    except GatewayError:
        raise NotificationRejected(404, "unknown gateway") from None
    try:
        note = gw.parse_notification(body, headers, query)
    except InvalidNotification as exc:
        raise NotificationRejected(400, f"invalid notification: {exc}") from None
    problem = notification_field_problem(note)
    if problem:
        raise NotificationRejected(400, f"invalid notification: {problem}")
    # Only what the intake needs (the job loads the payment): one indexed lookup.
    stmt = select(Payment.id, Payment.state).where(
        Payment.gateway_name == gateway_name, Payment.gateway_reference == note.reference
    )
    if account is not None:
        stmt = stmt.where(Payment.gateway_account_id == account.id)
    found = db_session.execute(stmt).first()
    if found is None:
        raise NotificationRejected(404, "unknown payment reference")
    payment_id, payment_state = found
    if note.implied_status is not None and contradicts_outcome(payment_state, note.implied_status):
        return Intake("ignored", note.event_id, payment_id=payment_id)
    row = GatewayNotification(
        gateway_name=gateway_name, event_id=note.event_id, event_type=note.event_type, reference=note.reference
    )
    db_session.add(row)
    try:
        db_session.flush()
    except IntegrityError:
        db_session.rollback()
        return Intake("duplicate", note.event_id, payment_id=payment_id)
    # The payment's history gets the message when the job processes it (one write less here).
    db_session.commit()
    return Intake("accepted", note.event_id, row.id, payment_id=payment_id)


# The columns a notification's values are stored in (GatewayNotification).
_FIELD_LIMITS = (("event_id", 100), ("reference", 100), ("event_type", 60))


def notification_field_problem(note: Notification) -> str | None:
    """What is wrong with a verified notification's values, before any reaches the
    database: a validly signed body can still carry a 500-character id or a NUL byte."""
    for name, limit in _FIELD_LIMITS:
        value = getattr(note, name)
        if not isinstance(value, str):
            return f"{name} is not text"
        if len(value) > limit:
            return f"{name} is longer than {limit} characters"
        if has_control_characters(value):
            return f"{name} contains control characters"
    return None


def process_notification(notification_id: int) -> None:
    """The notification is only a trigger: ask the gateway for the truth. When the gateway
    cannot be asked, the row stays unprocessed and the error is raised, so that the job is
    retried (and the sweep schedules it again after that)."""
    note = db_session.get(GatewayNotification, notification_id)
    if note is None or note.processed_at is not None:
        return
    payment = db_session.scalar(
        select(Payment).where(Payment.gateway_name == note.gateway_name, Payment.gateway_reference == note.reference)
    )
    if payment is not None and payment.gateway_reference:
        record_event(payment, "gateway_message", note.event_type, {"event_id": note.event_id})
        status = gateway_for_payment(payment).get_status(payment.gateway_reference)
        apply_gateway_status(payment, status, source=f"notification {note.event_id}")
    db_session.execute(
        update(GatewayNotification).where(GatewayNotification.id == note.id).values(processed_at=utcnow())
    )
    db_session.commit()


def unprocessed_notification_ids(older_than: timedelta, *, limit: int = 1000) -> list[int]:
    """Notifications recorded more than ``older_than`` ago and still not processed: their
    job was never enqueued (Redis was down), was lost, or failed for good."""
    cutoff = utcnow() - older_than
    return list(
        db_session.scalars(
            select(GatewayNotification.id)
            .where(GatewayNotification.processed_at.is_(None), GatewayNotification.received_at < cutoff)
            .order_by(GatewayNotification.id)
            .limit(limit)
        )
    )
