"""Who may open the operator's pages: operator staff of the admin area (logged in with
TOTP), through its ``staff_required``; and the helpers the views need about them."""

from __future__ import annotations

from flask_login import current_user

from admin.guards import staff_required
from app.models import StaffRole, StaffUser
from app.staff.accounts import StaffError
from app.staff.invitations import invite_staff

operator_required = staff_required(StaffRole.OPERATOR)


def current_actor() -> StaffUser:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def invite_first_admin(municipality_id: int, email: str, name: str) -> str | None:
    """Invite the municipality's first admin (e-mailed by the admin area). Returns None
    when done, else why not (shown to the operator)."""
    try:
        invite_staff(current_actor(), email, StaffRole.MUNICIPALITY_ADMIN, municipality_id, name=name)
    except StaffError as exc:
        return str(exc)
    return None
