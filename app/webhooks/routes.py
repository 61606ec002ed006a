from __future__ import annotations

from flask import request

from app import jobs
from app.payments import jobs as payment_jobs
from app.payments.errors import DuplicateNotification, NotificationRejected
from app.payments.notifications import receive_notification
from app.webhooks import bp

MAX_BODY = 64 * 1024
# Gateways whose notification is a bare trigger (GoPay's GET ?id=, no signature, repeated
# by GoPay until it gets HTTP 200): a repeat re-checks the status and is answered 200.
TRIGGER_ONLY = frozenset({"gopay"})


def _body() -> bytes | None:
    if request.content_length and request.content_length > MAX_BODY:
        return None
    body = request.get_data(cache=False)[: MAX_BODY + 1]
    return None if len(body) > MAX_BODY else body


def _receive(gateway_name: str, account_public_id: str | None):  # type: ignore[no-untyped-def]
    body = _body()
    if body is None:
        return {"error": "body too large"}, 413
    query = {k: v[:200] for k, v in request.args.items()}
    try:
        note = receive_notification(
            gateway_name[:30], body, dict(request.headers), query=query, account_public_id=account_public_id
        )
    except DuplicateNotification as exc:
        if gateway_name in TRIGGER_ONLY:
            jobs.enqueue(payment_jobs.sync_payment, exc.payment_id)
            return {"status": "already received; status re-checked"}, 200
        return {"error": exc.reason}, exc.status
    except NotificationRejected as exc:
        return {"error": exc.reason}, exc.status
    jobs.enqueue(payment_jobs.process_notification, note.id)
    return {"status": "accepted", "event_id": note.event_id}, 200 if gateway_name in TRIGGER_ONLY else 202


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
