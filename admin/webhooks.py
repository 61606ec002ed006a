"""Webhook endpoints of the municipality: add (the signing secret is shown once), choose
events, switch off; the delivery log with response codes, redeliver, send a test event."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from admin import bp
from admin.guards import current_municipality_id, scoped, scoped_get_or_404, staff_required
from app.db import db_session
from app.models import StaffRole, WebhookDelivery, WebhookEndpoint
from app.staff.audit import audit
from app.webhooks_out.events import EVENT_TYPES
from app.webhooks_out.jobs import redeliver, send_test_event


@bp.route("/webhooky", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def webhooks():  # type: ignore[no-untyped-def]
    mid = current_municipality_id()
    secret = None
    errors: list[str] = []
    if request.method == "POST":
        if mid is None:
            abort(400, _("Nejdřív vyberte obec."))
        url = (request.form.get("url") or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc or len(url) > 500:
            errors.append(_("Zadejte adresu http(s)://… (nejvýše 500 znaků)."))
        events = [e for e in EVENT_TYPES if e in request.form.getlist("events")]
        if not events:
            errors.append(_("Vyberte alespoň jednu událost."))
        if not errors:
            secret = "whsec_" + secrets.token_urlsafe(32)
            endpoint = WebhookEndpoint(municipality_id=mid, url=url, secret=secret, events=events)
            db_session.add(endpoint)
            db_session.flush()
            audit("webhook_create", endpoint, after={"url": url, "events": events}, commit=False)
            db_session.commit()
            flash(_("Webhook byl přidán. Tajný klíč pro ověření podpisu se zobrazí jen teď."), "success")
    endpoints = list(db_session.scalars(scoped(select(WebhookEndpoint), WebhookEndpoint).order_by(WebhookEndpoint.id)))
    return render_template(
        "admin/webhooks.html",
        endpoints=endpoints,
        secret=secret,
        errors=errors,
        event_types=EVENT_TYPES,
        can_create=mid is not None,
    ), 422 if errors else 200


@bp.get("/webhooky/<int:endpoint_id>")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def webhook_detail(endpoint_id: int):  # type: ignore[no-untyped-def]
    endpoint = scoped_get_or_404(WebhookEndpoint, id=endpoint_id)
    deliveries = list(
        db_session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(100)
        )
    )
    return render_template("admin/webhook_detail.html", endpoint=endpoint, deliveries=deliveries)


@bp.post("/webhooky/<int:endpoint_id>/vypnout")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def webhook_toggle(endpoint_id: int):  # type: ignore[no-untyped-def]
    endpoint = scoped_get_or_404(WebhookEndpoint, id=endpoint_id)
    endpoint.active = not endpoint.active
    audit("webhook_toggle", endpoint, after={"active": endpoint.active}, commit=False)
    db_session.commit()
    return redirect(url_for("admin.webhooks"), code=303)


@bp.post("/webhooky/<int:endpoint_id>/test")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def webhook_test(endpoint_id: int):  # type: ignore[no-untyped-def]
    endpoint = scoped_get_or_404(WebhookEndpoint, id=endpoint_id)
    send_test_event(endpoint)
    db_session.commit()
    flash(_("Testovací událost byla odeslána."), "success")
    return redirect(url_for("admin.webhook_detail", endpoint_id=endpoint.id), code=303)


@bp.post("/webhooky/dorucenky/<int:delivery_id>/znovu")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def webhook_redeliver(delivery_id: int):  # type: ignore[no-untyped-def]
    d = scoped_get_or_404(WebhookDelivery, id=delivery_id)
    redeliver(d)
    db_session.commit()
    flash(_("Událost byla odeslána znovu."), "success")
    return redirect(url_for("admin.webhook_detail", endpoint_id=d.endpoint_id), code=303)
