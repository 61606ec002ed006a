"""Citizen pages: home → municipality → pay form → review → gateway → return → success.

Each payment page checks the payment's state and redirects to the page of the state it
is in (pay-frontend's state enforcer)."""

from __future__ import annotations

import secrets

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.checkout import bp
from app.checkout.forms import PayForm
from app.db import autocommit_reads, db_session
from app.models import Municipality, OnboardingState, Payment, PaymentState, Service
from app.services.payments import PaymentError, create_payment, find_payment, start_payment, sync_payment

S = PaymentState


def _active_municipality(slug: str) -> Municipality:
    m = db_session.scalar(
        select(Municipality).where(Municipality.slug == slug, Municipality.onboarding_state == OnboardingState.ACTIVE)
    )
    if m is None:
        abort(404)
    return m


def _active_service(slug: str, service_slug: str) -> tuple[Municipality, Service]:
    """An active service of an active municipality, in one query (the pay page is the hottest)."""
    row = db_session.execute(
        select(Municipality, Service)
        .join(Service, Service.municipality_id == Municipality.id)
        .where(
            Municipality.slug == slug,
            Municipality.onboarding_state == OnboardingState.ACTIVE,
            Service.slug == service_slug,
            Service.active.is_(True),
        )
    ).first()
    if row is None:
        abort(404)
    return row[0], row[1]


def _payment(external_id: str) -> Payment:
    payment = find_payment(external_id)
    if payment is None:
        abort(404)
    return payment


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    autocommit_reads()
    q = (request.args.get("q") or "").strip()[:100]
    stmt = (
        select(Municipality.name, Municipality.slug, Municipality.district, func.count(Service.id))
        .outerjoin(Service, (Service.municipality_id == Municipality.id) & Service.active.is_(True))
        .where(Municipality.onboarding_state == OnboardingState.ACTIVE)
        .group_by(Municipality.id)
        .order_by(Municipality.name)
    )
    if q:
        stmt = stmt.where(Municipality.name.ilike(f"%{q.replace('%', '').replace('_', '')}%"))
    rows = db_session.execute(stmt).all()
    return render_template("checkout/home.html", municipalities=rows, q=q)


@bp.get("/obec/<slug>")
def municipality(slug: str):  # type: ignore[no-untyped-def]
    autocommit_reads()
    # One round trip: the municipality with its active services (none → one row with None).
    rows = db_session.execute(
        select(Municipality, Service)
        .outerjoin(Service, (Service.municipality_id == Municipality.id) & Service.active.is_(True))
        .where(Municipality.slug == slug, Municipality.onboarding_state == OnboardingState.ACTIVE)
        .order_by(Service.name)
    ).all()
    if not rows:
        abort(404)
    services = [s for _, s in rows if s is not None]
    return render_template("checkout/municipality.html", municipality=rows[0][0], services=services)


@bp.route("/obec/<slug>/<service_slug>", methods=["GET", "POST"])
def pay(slug: str, service_slug: str):  # type: ignore[no-untyped-def]
    if request.method == "GET":
        autocommit_reads()
    m, service = _active_service(slug, service_slug)
    if request.method == "GET":
        return render_template(
            "checkout/pay.html", municipality=m, service=service, form=PayForm(), form_token=secrets.token_urlsafe(24)
        )
    form = PayForm.from_request(request.form, service)
    form_token = (request.form.get("form_token") or "")[:64] or None
    if not form.errors:
        try:
            payment = create_payment(
                service,
                amount=form.amount,
                payer_name=form.name,
                payer_email=form.email,
                form_token=form_token,
            )
        except PaymentError:
            form.errors["form"] = _("Tuto službu nyní nelze zaplatit.")
        else:
            return redirect(url_for("checkout.review", external_id=payment.external_id), code=303)
    return (
        render_template(
            "checkout/pay.html", municipality=m, service=service, form=form, form_token=form_token or secrets.token_urlsafe(24)
        ),
        422,
    )


def _redirect_by_state(payment: Payment):  # type: ignore[no-untyped-def]
    if payment.state == S.CREATED:
        return redirect(url_for("checkout.review", external_id=payment.external_id))
    if payment.state in (S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED):
        return redirect(url_for("checkout.success", external_id=payment.external_id))
    return redirect(url_for("checkout.status", external_id=payment.external_id))


@bp.get("/platba/<external_id>")
def review(external_id: str):  # type: ignore[no-untyped-def]
    payment = _payment(external_id)
    if payment.state != S.CREATED:
        return _redirect_by_state(payment)
    return render_template("checkout/review.html", payment=payment)


@bp.post("/platba/<external_id>")
def start(external_id: str):  # type: ignore[no-untyped-def]
    payment = _payment(external_id)
    if payment.state == S.STARTED and payment.gateway_redirect_url:
        return redirect(payment.gateway_redirect_url, code=303)
    if payment.state != S.CREATED:
        return _redirect_by_state(payment)
    base = current_app.config["BASE_URL"].rstrip("/")
    payment = start_payment(
        payment,
        return_url=base + url_for("checkout.status", external_id=payment.external_id),
        notify_url=base + url_for("webhooks.receive", gateway_name=payment.gateway_name),
    )
    if payment.state != S.STARTED:
        return _redirect_by_state(payment)
    if payment.gateway_redirect_url:
        return redirect(payment.gateway_redirect_url, code=303)
    return redirect(url_for("checkout.card", external_id=payment.external_id), code=303)


@bp.get("/platba/<external_id>/stav")
def status(external_id: str):  # type: ignore[no-untyped-def]
    """The return page: ask the gateway, then show the real state."""
    payment = _payment(external_id)
    if payment.state == S.CREATED:
        return _redirect_by_state(payment)
    if payment.state in (S.STARTED, S.EXPIRED):
        payment = sync_payment(payment, source="return page")
    if payment.state in (S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED):
        return redirect(url_for("checkout.success", external_id=payment.external_id))
    return render_template("checkout/status.html", payment=payment)


@bp.get("/platba/<external_id>/zaplaceno")
def success(external_id: str):  # type: ignore[no-untyped-def]
    payment = _payment(external_id)
    if payment.state not in (S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED):
        return _redirect_by_state(payment)
    return render_template("checkout/success.html", payment=payment)


@bp.get("/platba/<external_id>/karta")
def card(external_id: str):  # type: ignore[no-untyped-def]
    """Card fields from the gateway's own script (Stripe.js); filled by the Stripe work."""
    payment = _payment(external_id)
    if payment.state != S.STARTED or payment.gateway_redirect_url:
        return _redirect_by_state(payment)
    abort(404)


__all__ = ["flash", "selectinload"]
