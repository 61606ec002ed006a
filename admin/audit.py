"""The audit log (operator only): filters and pages of who did what."""

from __future__ import annotations

from flask import (
    render_template,
    request,
)
from sqlalchemy import select

from admin import bp
from admin.guards import (
    current_region_id,
    staff_required,
)
from app.czech import czech
from app.db import db_session
from app.models import (
    Municipality,
    OnboardingState,
    StaffRole,
)
from app.regions.scope import region_condition
from app.staff.audit import audit_actions, search_audit_log
from app.staff.audit_words import action_label, describe_entries


@bp.get("/audit")
@staff_required(role=StaffRole.OPERATOR)
def audit_log():  # type: ignore[no-untyped-def]
    args = request.args
    rid = current_region_id()
    page = search_audit_log(args, region_id=rid)
    municipalities = db_session.execute(
        select(Municipality.id, Municipality.name).where(Municipality.onboarding_state != OnboardingState.NOT_CONTACTED,
                                                         region_condition(Municipality, rid))
        .order_by(czech(Municipality.name))).all()
    return render_template("admin/audit.html", rows=describe_entries(page.rows),
                           actions=[(a, action_label(a)) for a in audit_actions()], municipalities=municipalities,
                           errors=page.errors, args=args, more=page.more,
                           next_args=page.next_args or {k: v for k, v in args.items() if k != "before"})
