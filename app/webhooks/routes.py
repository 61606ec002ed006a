from __future__ import annotations

from flask import request

from app.payments import jobs as payment_jobs
from app.payments.errors import NotificationRejected
from app.payments.notifications import receive_notification
from app.webhooks import bp

MAX_BODY = 64 * 1024


@bp.post("/<gateway_name>")
def receive(gateway_name: str):  # type: ignore[no-untyped-def]
    if request.content_length and request.content_length > MAX_BODY:
        return {"error": "body too large"}, 413
    body = request.get_data(cache=False)[: MAX_BODY + 1]
    if len(body) > MAX_BODY:
        return {"error": "body too large"}, 413
    try:
        intake = receive_notification(gateway_name[:30], body, dict(request.headers))
    except NotificationRejected as exc:
        return {"error": exc.reason}, exc.status
    # Gateways retry anything but 2xx for days: a replay and a stale event are answered as
    # received; only forged or malformed notifications get 4xx (above).
    if intake.outcome == "duplicate":
        return {"status": "already received", "event_id": intake.event_id}, 200
    if intake.outcome == "ignored":
        return {"status": "ignored", "event_id": intake.event_id}, 200
    assert intake.notification_id is not None
    # Recorded and committed: if the queue is down now, `flask jobs sweep` schedules it.
    payment_jobs.schedule_notification(intake.notification_id)
    return {"status": "accepted", "event_id": intake.event_id}, 202
