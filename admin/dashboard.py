"""The dashboard, the operator's choice of municipality, the municipality's settings."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from admin import bp
from admin.context import attach_errors
from admin.forms import ActionForm, SettingsForm
from admin.guards import (
    NATIONAL_SCOPE_KEY,
    OPERATOR_SCOPE_KEY,
    current_municipality_id,
    current_region_id,
    scoped_get_or_404,
    staff_required,
)
from app.catalog.settings import update_municipality_settings
from app.db import db_session
from app.models import (
    Municipality,
    Region,
    StaffRole,
)
from app.obligations.listing import open_obligations
from app.payments import search as ap
from app.regions.scope import municipality_in_region
from app.validation import parse_id


@bp.get("/")
@staff_required()
def dashboard():  # type: ignore[no-untyped-def]
    mid = current_municipality_id()
    rid = current_region_id() if mid is None else None
    return render_template("admin/dashboard.html", stats=ap.month_stats(mid, region_id=rid),
                           latest=ap.latest_payments(mid, region_id=rid),
                           open_obligations=open_obligations(mid, region_id=rid))


@bp.post("/obec/vybrat")
@staff_required(role=StaffRole.OPERATOR)
def select_municipality():  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        abort(400)
    raw = (request.form.get("municipality_id") or "").strip()
    if not raw:
        session.pop(OPERATOR_SCOPE_KEY, None)
    elif (mid := parse_id(raw)) is not None and municipality_in_region(
        db_session.get(Municipality, mid), current_region_id()
    ):
        session[OPERATOR_SCOPE_KEY] = mid
    else:
        abort(404)  # unknown, or another region's
    return redirect(url_for("admin.dashboard"), code=303)


@bp.post("/kraj/vybrat")
@staff_required(role=StaffRole.NATIONAL)
def select_region():  # type: ignore[no-untyped-def]
    """National staff: the region in view (empty = every region)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    raw = (request.form.get("region_id") or "").strip()
    if not raw:
        session.pop(NATIONAL_SCOPE_KEY, None)
    elif (rid := parse_id(raw)) is not None and db_session.get(Region, rid) is not None:
        session[NATIONAL_SCOPE_KEY] = rid
    else:
        abort(404)
    session.pop(OPERATOR_SCOPE_KEY, None)
    return redirect(url_for("admin.dashboard"), code=303)


@bp.route("/obec/<int:municipality_id>/nastaveni", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def settings(municipality_id: int):  # type: ignore[no-untyped-def]
    m = scoped_get_or_404(Municipality, id=municipality_id)
    form = SettingsForm(mode="demo" if m.demo_mode else "live", reminder_days_before=m.reminder_days_before,
                        reminder_days_after=m.reminder_days_after)
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        errors = update_municipality_settings(
            m, demo_mode=form.mode.data == "demo", account=form.account.data or "",
            reminder_days_before=form.reminder_days_before.data, reminder_days_after=form.reminder_days_after.data,
        )
        if not errors:
            db_session.commit()
            flash(_("Nastavení obce bylo uloženo."), "success")
            return redirect(url_for("admin.settings", municipality_id=m.id), code=303)
    attach_errors(form, errors)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/settings.html", form=form, municipality=m), status
