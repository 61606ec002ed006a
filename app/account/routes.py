"""Account pages; every view needs a logged-in citizen and shows only their own data."""

from __future__ import annotations

import json
from functools import wraps

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.routing import BuildError

from app.account import bp
from app.account.forms import (
    CUSTOMER_ID_MESSAGE,
    MUNICIPALITY_MESSAGE,
    CustomerIdForm,
    EraseForm,
    ProfileForm,
)
from app.citizens import accounts as svc
from app.czech import czech
from app.db import db_session
from app.identity.session import current_citizen, log_out_citizen
from app.models import LookupMode, Municipality, OnboardingState
from app.obligations.lookup import obligation_token

# Endpoints the receipts room may offer for a payment's receipt, tried in order.
RECEIPT_ENDPOINTS = ("receipts.download", "receipts.receipt", "checkout.receipt")


def citizen_required(view):  # type: ignore[no-untyped-def]
    @wraps(view)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        citizen = current_citizen()
        if citizen is None:
            flash(_("Pro zobrazení účtu se prosím přihlaste."), "info")
            return redirect(url_for("auth.login", next=request.path))
        return view(citizen, *args, **kwargs)

    return wrapper


def _receipt_url(payment) -> str | None:  # type: ignore[no-untyped-def]
    for endpoint in RECEIPT_ENDPOINTS:
        try:
            return url_for(endpoint, external_id=payment.external_id)
        except BuildError:
            continue
    return None


def _provider_label(name: str) -> str:
    provider = current_app.extensions["identity"].providers.get(name)
    return provider.label if provider else name


@bp.get("/")
@citizen_required
def overview(citizen):  # type: ignore[no-untyped-def]
    payments = svc.citizen_payments(citizen)
    receipts = svc.receipts_by_payment(payments)
    receipt_urls = {p.id: _receipt_url(p) for p in payments if p.id in receipts}
    obligations = svc.citizen_obligations(citizen)
    pay_urls = {
        o.id: url_for(
            "checkout.pay_obligation",
            slug=o.service.municipality.slug,
            service_slug=o.service.slug,
            token=obligation_token(o.service, o),
        )
        for o in obligations
        if o.service.active and o.service.lookup_mode != LookupMode.NONE
    }
    municipalities = db_session.execute(
        select(Municipality.slug, Municipality.name)
        .where(Municipality.onboarding_state == OnboardingState.ACTIVE)
        .order_by(czech(Municipality.name))
    ).all()
    return render_template(
        "account/overview.html",
        citizen=citizen,
        payments=payments,
        receipt_urls=receipt_urls,
        obligations=obligations,
        pay_urls=pay_urls,
        consents=svc.citizen_consents(citizen),
        municipalities=municipalities,
        provider_label=_provider_label(citizen.provider),
    )


@bp.route("/profil", methods=["GET", "POST"])
@citizen_required
def profile(citizen):  # type: ignore[no-untyped-def]
    if request.method == "POST":
        form = ProfileForm(request.form)
        if form.validate():
            svc.update_profile(citizen, name=form.name.data, email=form.email.data)
            db_session.commit()
            flash(_("Profil je uložen."), "success")
            return redirect(url_for("account.overview"), code=303)
    else:
        form = ProfileForm(formdata=None, data={"name": citizen.name, "email": citizen.email or ""})
    errors = form.first_errors()
    return (
        render_template(
            "account/profile.html", citizen=citizen, name=form.name.data or "", email=form.email.data or "", errors=errors
        ),
        422 if errors else 200,
    )


@bp.post("/rodne-cislo/odvolat")
@citizen_required
def withdraw_birth_number(citizen):  # type: ignore[no-untyped-def]
    svc.withdraw_birth_number_consent(citizen)
    db_session.commit()
    flash(_("Souhlas s párováním podle rodného čísla je odvolán a jeho otisk smazán."), "success")
    return redirect(url_for("account.profile"), code=303)


@bp.post("/cisla-platce")
@citizen_required
def add_customer_id(citizen):  # type: ignore[no-untyped-def]
    form = CustomerIdForm(request.form)
    error = form.message() if not form.validate() else None
    if error is None:
        code = svc.claim_customer_id(citizen, form.municipality.data or "", form.customer_id.data or "")
        if code is None:
            db_session.commit()
        else:
            error = {"customer_id": CUSTOMER_ID_MESSAGE, "municipality": MUNICIPALITY_MESSAGE}[code]
    if error:
        flash(str(error), "error")
    else:
        flash(_("Číslo plátce je přidáno."), "success")
    return redirect(url_for("account.overview") + "#cisla-platce", code=303)


@bp.post("/cisla-platce/<int:claim_id>/odebrat")
@citizen_required
def remove_customer_id(citizen, claim_id: int):  # type: ignore[no-untyped-def]
    removed = svc.remove_customer_id(citizen, claim_id)
    db_session.commit()
    if removed:
        flash(_("Číslo plátce je odebráno."), "success")
    else:
        flash(_("Toto číslo plátce ve vašem účtu není."), "error")
    return redirect(url_for("account.overview") + "#cisla-platce", code=303)


@bp.get("/export")
@citizen_required
def export(citizen):  # type: ignore[no-untyped-def]
    data = svc.export_citizen_data(citizen)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="moje-udaje-platebni-portal.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/smazat", methods=["GET", "POST"])
@citizen_required
def erase(citizen):  # type: ignore[no-untyped-def]
    error = None
    if request.method == "POST":
        form = EraseForm(request.form)
        if form.validate():
            svc.erase_citizen(citizen)
            db_session.commit()
            log_out_citizen()
            flash(_("Váš účet a osobní údaje v něm jsou smazány."), "success")
            return redirect(url_for("auth.logged_out"), code=303)
        error = form.first_errors()["confirm"]
    return (
        render_template("account/erase.html", citizen=citizen, basis=svc.RETENTION_BASIS, error=error),
        422 if error else 200,
    )
