"""Background jobs: RQ on Redis when REDIS_URL is set, inline otherwise.

Jobs take ids, never objects, and call domain services (microblog's app/tasks.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app, has_app_context

log = logging.getLogger(__name__)


def init_queue(app) -> None:  # type: ignore[no-untyped-def]
    url = app.config.get("REDIS_URL")
    if url:
        from redis import Redis
        from rq import Queue

        app.extensions["redis"] = Redis.from_url(url)
        app.extensions["rq_queue"] = Queue(app.config["RQ_QUEUE"], connection=app.extensions["redis"])
    else:
        app.extensions["rq_queue"] = None


def enqueue(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``func(*args)`` on the queue, or now when there is no Redis."""
    queue = current_app.extensions.get("rq_queue")
    if queue is None:
        return func(*args, **kwargs)
    return queue.enqueue(func, *args, **kwargs)


def _in_app(fn: Callable[..., Any]) -> Callable[..., Any]:
    """In a worker there is no app: make one, and clean the session after the job."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return fn(*args, **kwargs)
        from app import create_app

        app = _worker_app.get("app") or create_app()
        _worker_app["app"] = app
        with app.app_context():
            return fn(*args, **kwargs)

    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__module__ = fn.__module__
    wrapper.__doc__ = fn.__doc__
    return wrapper


_worker_app: dict[str, Any] = {}


@_in_app
def process_notification(notification_id: int) -> None:
    from app.services.payments import process_notification as process

    process(notification_id)


@_in_app
def sync_payment(payment_id: int) -> str:
    from app.db import db_session
    from app.models import Payment
    from app.services.payments import sync_payment as sync

    payment = db_session.get(Payment, payment_id)
    if payment is None:
        return "missing"
    return sync(payment, source="job").state


@_in_app
def expire_abandoned() -> int:
    from app.services.payments import expire_abandoned as expire

    return expire(timedelta(minutes=current_app.config["PAYMENT_EXPIRY_MINUTES"]))


@_in_app
def poll_started() -> int:
    from app.services.payments import poll_started as poll

    return poll(timedelta(minutes=current_app.config["PAYMENT_POLL_AFTER_MINUTES"]))


@_in_app
def send_receipt_email(receipt_id: int, force: bool = False) -> str:
    from app.services.receipts import send_receipt_email as send

    return send(receipt_id, force=force)
def import_obligations_job(import_id: int) -> str:
    """Import a stored payer list (ObligationImport); progress is written on the record."""
    from app.services.obligations import run_import

    record = run_import(import_id)
    return record.status if record is not None else "missing"
def run_export(export_id: int) -> str:
    from app.services.admin_payments import run_export_job

    job = run_export_job(export_id)
    return job.status if job else "missing"


@_in_app
def send_monthly_report(today: str | None = None) -> str:
    """On the first working day of a month, e-mail last month's report to the operator's
    staff (once: later runs that month do nothing). ``today``: ISO date, for tests."""
    from datetime import date

    from app.reporting.dispatch import send_due_monthly_report

    return send_due_monthly_report(date.fromisoformat(today) if today else None)
