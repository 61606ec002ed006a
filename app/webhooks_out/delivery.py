"""Delivering one event to one endpoint: a signed POST with a timeout, one log row per
try; on failure the next try after an exponentially growing wait (1 min, 2, 4 … capped
at 6 h) until three days after the event, then the delivery is given up."""

from __future__ import annotations

import time
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import select

from app.db import SessionFactory, utcnow
from app.models import WebhookAttempt, WebhookDelivery
from app.models.api import as_utc
from app.webhooks_out.signing import SIGNATURE_HEADER, sign

RETRY_FOR = timedelta(days=3)
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try."""
    return min(FIRST_WAIT * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)


def deliver(delivery_id: int) -> str:
    """Try once now; returns the delivery's status (a failed try sets ``next_attempt_at``;
    the job schedules it, see ``next_retry``). Its own session: it may run in an
    after-commit hook (inline queue) or a worker."""
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT") or 10)
    with SessionFactory() as session:
        d = session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update())
        if d is None or d.status == DELIVERED:
            return d.status if d else "missing"
        endpoint = d.endpoint
        body = d.body.encode()
        started = time.perf_counter()
        code: int | None = None
        error: str | None = None
        try:
            r = requests.post(
                endpoint.url,
                data=body,
                timeout=timeout,
                allow_redirects=False,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "PlatebniPortal-Webhooks/1",
                    SIGNATURE_HEADER: sign(endpoint.secret, body),
                    "Portal-Event": d.event_type,
                    "Portal-Event-Id": d.event_id,
                    "Portal-Delivery": str(d.id),
                },
            )
            code = r.status_code
        except requests.Timeout:
            error = f"timeout after {timeout:g} s"
        except requests.RequestException as exc:
            error = type(exc).__name__ + ": " + str(exc)[:250]
        now = utcnow()
        d.attempts += 1
        d.last_status_code = code
        d.last_error = error
        d.log.append(
            WebhookAttempt(
                status_code=code, error=error, created_at=now, duration_ms=int((time.perf_counter() - started) * 1000)
            )
        )
        if code is not None and 200 <= code < 300:
            d.status, d.delivered_at, d.next_attempt_at = DELIVERED, now, None
        else:
            wait = backoff(d.attempts)
            if now + wait > as_utc(d.created_at) + RETRY_FOR:
                d.status, d.next_attempt_at = FAILED, None
            else:
                d.status, d.next_attempt_at = PENDING, now + wait
        session.commit()
        status = d.status
    return status


def next_retry(delivery_id: int) -> timedelta | None:
    """How long until a pending delivery's next try; None when it waits for nothing."""
    with SessionFactory() as session:
        d = session.get(WebhookDelivery, delivery_id)
        if d is None or d.status != PENDING or d.next_attempt_at is None:
            return None
        return as_utc(d.next_attempt_at) - utcnow()


def due_deliveries(limit: int = 500) -> list[int]:
    """Pending deliveries whose time has come (cron's safety net for the scheduled retries)."""
    with SessionFactory() as session:
        return list(
            session.scalars(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= utcnow())
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
            )
        )
