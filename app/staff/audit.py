"""The audit log: ``audit(action, obj, before, after)`` after every staff action."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from sqlalchemy import inspect as sa_inspect

from app.db import db_session
from app.models import AuditLog, Municipality, StaffUser


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
