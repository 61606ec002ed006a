"""The audit log: ``audit(action, obj, before, after)`` after every staff action, and the
operator's search through it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import or_, select

from app.db import db_session
from app.models import AuditLog, Municipality, StaffUser
from app.regions.scope import in_region
from app.timeutil import prague_midnight_utc
from app.validation import DayError, day_error_message, parse_day, parse_id


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: list[str] | None = None) -> dict[str, Any]:
    """The object's column values (for before/after), secrets left out."""
    if obj is None:
        return {}
    names = fields or [c.key for c in sa_inspect(obj).mapper.column_attrs]
    hidden = {"password_hash", "totp_secret", "token_hash", "gateway_client_secret", "form_token", "secrets_encrypted"}
    return {n: _plain(getattr(obj, n)) for n in names if n not in hidden}


def _current_staff() -> StaffUser | None:
    if not has_request_context():
        return None
    from flask_login import current_user

    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return user if isinstance(user, StaffUser) else None


def audit(
    action: str,
    obj: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    staff: StaffUser | None = None,
    municipality_id: int | None = None,
    commit: bool = True,
) -> AuditLog:
    """Record a staff action. The acting staff member is the logged-in one unless given."""
    staff = staff or _current_staff()
    object_type = object_id = None
    if obj is not None:
        object_type = type(obj).__name__
        object_id = str(getattr(obj, "external_id", None) or getattr(obj, "id", "") or "")
        if municipality_id is None:
            municipality_id = obj.id if isinstance(obj, Municipality) else getattr(obj, "municipality_id", None)
    if municipality_id is None and staff is not None:
        municipality_id = staff.municipality_id
    row = AuditLog(
        staff_id=staff.id if staff else None,
        staff_email=staff.email if staff else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        municipality_id=municipality_id,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        ip=(request.remote_addr or "")[:45] if has_request_context() else None,
    )
    db_session.add(row)
    if commit:
        db_session.commit()
    return row


AUDIT_PAGE_SIZE = 100


@dataclass
class AuditPage:
    rows: list[AuditLog]
    more: bool
    # The query arguments of the next (older) page; None on the last page.
    next_args: dict[str, str] | None
    # {argument: message} for filters that could not be read (they are ignored).
    errors: dict[str, str] = field(default_factory=dict)


def search_audit_log(args: Mapping[str, str], page_size: int = AUDIT_PAGE_SIZE,
                     region_id: int | None = None) -> AuditPage:
    """The audit log filtered by staff e-mail (substring), action, municipality and Prague
    dates (from, to inclusive), newest first, in keyset pages (``before`` = an id). With
    ``region_id``: the region's entries only (its municipalities', and its operators'
    entries that name no municipality)."""
    stmt = select(AuditLog)
    if region_id is not None:
        stmt = stmt.where(or_(
            in_region(AuditLog.municipality_id, region_id),
            AuditLog.municipality_id.is_(None)
            & AuditLog.staff_id.in_(select(StaffUser.id).where(StaffUser.region_id == region_id)),
        ))
    errors: dict[str, str] = {}
    staff_q = (args.get("staff") or "").strip()[:254]
    if staff_q:
        stmt = stmt.where(AuditLog.staff_email.ilike(f"%{staff_q.replace('%', '')}%"))
    action = (args.get("action") or "").strip()[:40]
    if action:
        stmt = stmt.where(AuditLog.action == action)
    mid = (args.get("municipality") or "").strip()
    if mid:
        if (municipality_id := parse_id(mid)) is not None:
            stmt = stmt.where(AuditLog.municipality_id == municipality_id)
        else:
            errors["municipality"] = _("Neznámá obec.")
    for key, op in (("date_from", "ge"), ("date_to", "lt")):
        text = (args.get(key) or "").strip()
        if text:
            try:
                d = parse_day(text)
            except DayError as exc:  # also 0001-01-01 or 9999-12-31 (overflow in UTC)
                errors[key] = day_error_message(exc)
                continue
            if op == "ge":
                stmt = stmt.where(AuditLog.created_at >= prague_midnight_utc(d))
            else:
                stmt = stmt.where(AuditLog.created_at < prague_midnight_utc(d + timedelta(days=1)))
    before_id = parse_id(args.get("before"))
    if before_id is not None:
        stmt = stmt.where(AuditLog.id < before_id)
    rows = list(db_session.scalars(stmt.order_by(AuditLog.id.desc()).limit(page_size + 1)))
    more = len(rows) > page_size
    rows = rows[:page_size]
    next_args = None
    if more:
        next_args = {k: v for k, v in args.items() if k != "before"}
        next_args["before"] = str(rows[-1].id)
    return AuditPage(rows, more, next_args, errors)


def audit_actions() -> list[str]:
    return list(db_session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))
