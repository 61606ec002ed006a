"""What every admin page shares: state labels, the Prague time filter, the context
processor (the signed-in staff, the municipality in view), and small view helpers."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from admin import bp
from admin.forms import ROLE_LABELS, ActionForm
from admin.guards import (
    current_municipality,
    current_region_id,
    current_staff,
)
from app.czech import czech
from app.db import db_session
from app.models import (
    Municipality,
    Region,
    StaffUser,
)
from app.payments.labels import STATE_LABELS as PAYMENT_STATE_LABELS
from app.payments.labels import gateway_label
from app.regions.scope import region_condition
from app.timeutil import to_prague

# The words for states live with the payments (exports use them too).
STATE_LABELS = PAYMENT_STATE_LABELS


@bp.app_template_filter("prague")
def prague_filter(dt):  # type: ignore[no-untyped-def]
    local = to_prague(dt)
    return local.strftime("%d. %m. %Y %H:%M") if local else ""


@bp.context_processor
def admin_context():  # type: ignore[no-untyped-def]
    ctx: dict[str, object] = {"state_labels": STATE_LABELS, "gateway_label": gateway_label, "role_labels": ROLE_LABELS, "action_form": ActionForm()}
    user = current_staff
    if getattr(user, "is_authenticated", False) and isinstance(user._get_current_object(), StaffUser):  # type: ignore[attr-defined]
        ctx["staff"] = user
        ctx["scope_municipality"] = current_municipality()
        if user.is_operator:
            rid = current_region_id()
            ctx["scope_region"] = db_session.get(Region, rid) if rid else None
            ctx["all_municipalities"] = db_session.execute(
                select(Municipality.id, Municipality.name).where(region_condition(Municipality, rid))
                .order_by(czech(Municipality.name))).all()
        if user.is_national:
            ctx["all_regions"] = db_session.execute(
                select(Region.id, Region.slug, Region.name).order_by(czech(Region.name))).all()
    return ctx


def needs_municipality() -> Municipality:
    """Actions that belong to one municipality: the operator must pick one first."""
    m = current_municipality()
    if m is None:
        flash(_("Nejprve vyberte obec v horní liště."), "error")
        abort(redirect(url_for("admin.dashboard")))
    return m



def attach_errors(form, errors: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    for name, message in errors.items():
        if name in form._fields:
            form._fields[name].errors = [message]
        else:
            form.form_errors.append(message)
