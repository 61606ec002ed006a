from __future__ import annotations

from flask import request

from app import jobs
from app.payments import jobs as payment_jobs
from app.payments.errors import NotificationRejected
from app.payments.notifications import receive_notification
from app.webhooks import bp

MAX_BODY = 64 * 1024
# Gateways whose notification is a bare trigger (GoPay's GET ?id=, no signature, the same
# for every change of the payment, repeated until it gets HTTP 200): answered 200, and a
# repeat re-checks the status.
TRIGGER_ONLY = frozenset({"gopay"})


def _receive(gateway_name: str, account_public_id: str | None):  # type: ignore[no-untyped-def]
    if request.content_length and request.content_length > MAX_BODY:
        return {"error": "body too large"}, 413
    body = request.get_data(cache=False)[: MAX_BODY + 1]
    if len(body) > MAX_BODY:
        return {"error": "body too large"}, 413
    query = {k: v[:200] for k, v in request.args.items()}
    try:
        intake = receive_notification(
            gateway_name[:30], body, dict(request.headers), query=query, account_public_id=account_public_id
        )
    except NotificationRejected as exc:
        return {"error": exc.reason}, exc.status
    # Gateways retry anything but 2xx for days: a replay and a stale event are answered as
    # received; only forged or malformed notifications get 4xx (above).
    if intake.outcome == "duplicate":
        if gateway_name in TRIGGER_ONLY and intake.payment_id is not None:
            jobs.enqueue(payment_jobs.sync_payment, intake.payment_id)
        return {"status": "already received", "event_id": intake.event_id}, 200
    if intake.outcome == "ignored":
        return {"status": "ignored", "event_id": intake.event_id}, 200
    assert intake.notification_id is not None
    # Recorded and committed: if the queue is down now, `flask jobs sweep` schedules it.
    payment_jobs.schedule_notification(intake.notification_id)
    return {"status": "accepted", "event_id": intake.event_id}, 200 if gateway_name in TRIGGER_ONLY else 202


@bp.post("/<gateway_name>")
def receive(gateway_name: str):  # type: ignore[no-untyped-def]
    return _receive(gateway_name, None)


@bp.route("/<gateway_name>/<account_id>", methods=["GET", "POST"])
def receive_for_account(gateway_name: str, account_id: str):  # type: ignore[no-untyped-def]
    """A municipality's gateway account (the URL registered at the gateway). GoPay notifies
    with a GET; the others POST."""
    if request.method == "GET" and gateway_name not in TRIGGER_ONLY:
        return {"error": "method not allowed"}, 405
    return _receive(gateway_name, account_id[:40])
