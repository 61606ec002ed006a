"""Background jobs of the payment domain: they take ids and call the domain."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.db import db_session
from app.jobs import in_app
from app.models import Payment
from app.payments import expiry, notifications, refunds, status
from app.payments.exports import run_export_job


@in_app
def process_notification(notification_id: int) -> None:
    notifications.process_notification(notification_id)


@in_app
def sync_payment(payment_id: int) -> str:
    payment = db_session.get(Payment, payment_id)
    if payment is None:
        return "missing"
    return status.sync_payment(payment, source="job").state


@in_app
def expire_abandoned() -> int:
    return expiry.expire_abandoned(timedelta(minutes=current_app.config["PAYMENT_EXPIRY_MINUTES"]))


@in_app
def poll_started() -> int:
    return expiry.poll_started(timedelta(minutes=current_app.config["PAYMENT_POLL_AFTER_MINUTES"]))


@in_app
def settle_pending_refunds() -> int:
    return refunds.settle_pending_refunds()


def run_export(export_id: int) -> str:
    job = run_export_job(export_id)
    return job.status if job else "missing"
