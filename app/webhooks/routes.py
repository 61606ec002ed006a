from __future__ import annotations

from flask import request

from app import jobs
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
        note = receive_notification(gateway_name[:30], body, dict(request.headers))
    except NotificationRejected as exc:
        return {"error": exc.reason}, exc.status
    jobs.enqueue(payment_jobs.process_notification, note.id)
    return {"status": "accepted", "event_id": note.event_id}, 202
