"""The audit log (operator only): filters and pages of who did what."""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    render_template,
    request,
)
from flask_babel import gettext as _
from sqlalchemy import select

from admin import bp
from admin.guards import (
    staff_required,
)
from app.db import db_session
from app.models import (
    AuditLog,
    Municipality,
    OnboardingState,
    StaffRole,
)
from app.timeutil import prague_midnight_utc


@bp.get("/audit")
@staff_required(role=StaffRole.OPERATOR)
def audit_log():  # type: ignore[no-untyped-def]
    stmt = select(AuditLog)
    args = request.args
    errors = {}
    staff_q = (args.get("staff") or "").strip()[:254]
    if staff_q:
        stmt = stmt.where(AuditLog.staff_email.ilike(f"%{staff_q.replace('%', '')}%"))
    action = (args.get("action") or "").strip()[:40]
    if action:
        stmt = stmt.where(AuditLog.action == action)
    mid = (args.get("municipality") or "").strip()
    if mid:
        if mid.isdigit() and len(mid) < 10:
            stmt = stmt.where(AuditLog.municipality_id == int(mid))
        else:
            errors["municipality"] = _("Neznámá obec.")
    for key, op in (("date_from", "ge"), ("date_to", "lt")):
        text = (args.get(key) or "").strip()
        if text:
            try:
                d = date.fromisoformat(text)
            except ValueError:
                errors[key] = _("Datum zadejte ve tvaru RRRR-MM-DD.")
                continue
            if op == "ge":
                stmt = stmt.where(AuditLog.created_at >= prague_midnight_utc(d))
            else:
                stmt = stmt.where(AuditLog.created_at < prague_midnight_utc(d + timedelta(days=1)))
    before_id = (args.get("before") or "").strip()
    if before_id.isdigit() and len(before_id) < 12:
        stmt = stmt.where(AuditLog.id < int(before_id))
    rows = db_session.scalars(stmt.order_by(AuditLog.id.desc()).limit(101)).all()
    more = len(rows) > 100
    rows = rows[:100]
    actions = db_session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)).all()
    municipalities = db_session.execute(
        select(Municipality.id, Municipality.name).where(Municipality.onboarding_state != OnboardingState.NOT_CONTACTED)
        .order_by(Municipality.name)).all()
    next_args = {k: v for k, v in args.items() if k != "before"}
    if more:
        next_args["before"] = str(rows[-1].id)
    return render_template("admin/audit.html", rows=rows, actions=actions, municipalities=municipalities,
                           errors=errors, args=args, more=more, next_args=next_args)
