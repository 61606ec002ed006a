"""A clerk's erasure of a payer (GDPR Art. 17) from the obligation list: the obligation's
personal data and that of the payments made for it go everywhere they were copied
(``app.privacy.erasure``); the accounting record stays. A municipality admin's action,
confirmed on its own page, scoped to the municipality like every admin page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from admin import bp
from admin.guards import current_staff, scoped_get_or_404, staff_required
from app.db import db_session
from app.models import Obligation, Payment, Service, StaffRole
from app.privacy.erasure import erase_personal_data


@bp.route("/sluzby/<int:service_id>/predpisy/<int:obligation_id>/vymaz", methods=["GET", "POST"])
@staff_required(StaffRole.MUNICIPALITY_ADMIN)
def erase_payer(service_id: int, obligation_id: int):  # type: ignore[no-untyped-def]
    service = scoped_get_or_404(Service, id=service_id)
    if not 0 < obligation_id < 2**31:
        abort(404)
    obligation = db_session.scalar(
        select(Obligation).where(Obligation.id == obligation_id, Obligation.service_id == service.id)
    )
    if obligation is None:
        abort(404)
    payment_ids = list(db_session.scalars(select(Payment.id).where(Payment.obligation_id == obligation.id)))
    error = None
    if request.method == "POST":
        if request.form.get("confirm") == "1":
            erase_personal_data(
                payment_ids=payment_ids, obligation_ids=[obligation.id], actor="clerk", staff_id=current_staff.id,
                commit=False,
            )
            db_session.commit()
            flash(_("Osobní údaje plátce jsou vymazány. Účetní záznamy plateb zůstaly."), "success")
            return redirect(url_for("admin.obligations", service_id=service.id), code=303)
        error = _("Potvrďte prosím, že chcete osobní údaje plátce vymazat.")
    paid = db_session.scalar(select(func.count(Payment.id)).where(Payment.obligation_id == obligation.id)) or 0
    return (
        render_template("admin/privacy_erase.html", service=service, obligation=obligation, payments=paid, error=error),
        422 if error else 200,
    )
