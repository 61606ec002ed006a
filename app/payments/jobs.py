"""Background jobs of the payment domain: they take ids and call the domain."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from app.db import db_session
from app.jobs import enqueue, in_app
from app.models import ExportJob, Payment
from app.payments import expiry, notifications, refunds, status
from app.payments.exports import run_export_job, start_export_job
from app.payments.search import PaymentFilter, count_payments, filter_dict
from app.staff.audit import audit

log = logging.getLogger(__name__)


@in_app
def process_notification(notification_id: int) -> None:
    notifications.process_notification(notification_id)


def schedule_notification(notification_id: int) -> bool:
    """Enqueue the processing of a recorded notification, at most once at a time. A queue
    that is down is not an error: the notification is recorded, the sweep schedules it."""
    try:
        enqueue(process_notification, notification_id, job_id=f"notification-{notification_id}")
    except Exception:  # noqa: BLE001 - Redis down, or processing failed inline: the sweep retries
        log.warning("notification %s: processing not scheduled now, left to the sweep", notification_id, exc_info=True)
        db_session.rollback()
        return False
    return True


def sweep_notifications(older_than: timedelta | None = None) -> int:
    """Schedule every notification still unprocessed after ``older_than`` (default
    ``NOTIFICATION_SWEEP_AFTER_SECONDS``); returns how many were scheduled."""
    if older_than is None:
        older_than = timedelta(seconds=current_app.config["NOTIFICATION_SWEEP_AFTER_SECONDS"])
    ids = notifications.unprocessed_notification_ids(older_than)
    return sum(schedule_notification(nid) for nid in ids)


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
    return expiry.poll_started(timedelta(seconds=current_app.config["STUCK_PAYMENT_POLL_DELAY_SECONDS"]))


def run_export(export_id: int) -> str:
    job = run_export_job(export_id)
    return job.status if job else "missing"


@in_app
def poll_refunds() -> int:
    """Complete the refunds a gateway has paid out since (BTCPay pull payments)."""
    return refunds.poll_requested_refunds()


@dataclass(frozen=True)
class ExportDecision:
    rows: int
    # The background job when the export is too big to stream now; None = stream it.
    job: ExportJob | None


def begin_export(staff_id: int, municipality_id: int | None, fmt: str, f: PaymentFilter,
                 region_id: int | None = None) -> ExportDecision:
    """A staff export of the filtered payment list: recorded in the audit log, streamed at
    once up to EXPORT_SYNC_LIMIT rows, beyond that built by a background job."""
    rows = count_payments(f, municipality_id, region_id=region_id)
    audit("export", None, after={"format": fmt, "rows": rows, "filters": filter_dict(f)},
          municipality_id=municipality_id)
    if rows <= current_app.config["EXPORT_SYNC_LIMIT"]:
        return ExportDecision(rows, None)
    job = start_export_job(staff_id, municipality_id, fmt, f, region_id)
    enqueue(run_export, job.id)
    return ExportDecision(rows, job)
