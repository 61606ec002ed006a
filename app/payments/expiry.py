"""Housekeeping: expire abandoned payments and poll those stuck at the gateway."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.db import db_session, utcnow
from app.gateways import gateway_for_payment
from app.models import (
    Payment,
    PaymentState,
)
from app.models.payment import OPEN_STATES
from app.payments.status import sync_payment
from app.payments.transitions import transition_payment
from gateway import GatewayError

S = PaymentState


def expire_abandoned(older_than: timedelta, now: datetime | None = None) -> int:
    """Expire payments left in created/started; ask the gateway first, it may be paid."""
    cutoff = (now or utcnow()) - older_than
    ids = db_session.scalars(
        select(Payment.id).where(Payment.state.in_(sorted(OPEN_STATES)), Payment.updated_at < cutoff)
    ).all()
    expired = 0
    for pid in ids:
        payment = db_session.get(Payment, pid)
        if payment is None:
            continue
        if payment.state == S.STARTED:
            sync_payment(payment, source="expiry check")
            if payment.state != S.STARTED:
                continue
            if (payment.gateway_details or {}).get("gateway_status") == "processing":
                # Paid and waiting for the gateway's confirmation (Bitcoin blocks): not abandoned.
                continue
            try:
                gateway_for_payment(payment).cancel(payment.gateway_reference or "")
            except GatewayError:
                pass
        transition_payment(payment, S.EXPIRED, reason="abandoned")
        db_session.commit()
        expired += 1
    return expired


def poll_started(older_than: timedelta, now: datetime | None = None) -> int:
    """Ask the gateway about payments stuck in started (the payer closed the tab)."""
    cutoff = (now or utcnow()) - older_than
    ids = db_session.scalars(
        select(Payment.id).where(Payment.state == S.STARTED, Payment.updated_at < cutoff)
    ).all()
    changed = 0
    for pid in ids:
        payment = db_session.get(Payment, pid)
        if payment is not None:
            sync_payment(payment, source="status poll")
            changed += payment.state != S.STARTED
    return changed
