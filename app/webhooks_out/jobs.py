"""Webhook jobs: deliver after the commit that created the event, retry later (RQ's
scheduler with ``enqueue_in``; ``flask webhooks retry`` from cron catches up), redeliver."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from app.db import db_session, utcnow
from app.jobs import enqueue, in_app
from app.models import WebhookDelivery, WebhookEndpoint
from app.webhooks_out import delivery
from app.webhooks_out.events import PENDING_DELIVERIES, TEST_EVENT, emit

log = logging.getLogger(__name__)


def enqueue_after_commit(session: Session) -> None:
    ids = session.info.pop(PENDING_DELIVERIES, None)
    if not ids or not has_app_context():
        return
    for delivery_id in ids:
        try:
            enqueue(deliver_webhook, delivery_id)
        except Exception:  # noqa: BLE001 - the event is stored; cron's retry sends it
            log.exception("webhook delivery %s not enqueued now", delivery_id)


def forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_DELIVERIES, None)


def schedule_retry(delivery_id: int, wait: timedelta) -> None:
    """With Redis, RQ's scheduler runs the retry (``rq worker --with-scheduler``); without
    it, ``flask webhooks retry`` (cron) picks up what is due."""
    queue = current_app.extensions.get("rq_queue")
    if queue is not None:
        queue.enqueue_in(max(wait, timedelta(seconds=1)), deliver_webhook, delivery_id)


@in_app
def deliver_webhook(delivery_id: int) -> str:
    status = delivery.deliver(delivery_id)
    wait = delivery.next_retry(delivery_id) if status == delivery.PENDING else None
    if wait is not None:
        schedule_retry(delivery_id, wait)
    return status


def retry_due() -> int:
    ids = delivery.due_deliveries()
    for delivery_id in ids:
        enqueue(deliver_webhook, delivery_id)
    return len(ids)


def redeliver(d: WebhookDelivery) -> None:
    """Send again now (a clerk's button): a delivered or given-up event gets a new try."""
    d.status, d.next_attempt_at = delivery.PENDING, utcnow()
    db_session.flush()
    db_session.info.setdefault(PENDING_DELIVERIES, []).append(d.id)


def send_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery:
    return emit(db_session(), endpoint.municipality_id, TEST_EVENT, {"message": "test"}, endpoints=[endpoint])[0]
