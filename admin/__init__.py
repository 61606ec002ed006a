"""The admin area under /admin: municipal clerks run their fees here and the regional
operator's staff help them. Imports from ``app``; ``app`` only registers ``bp``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

from admin import (  # noqa: E402,F401  (routes register on bp)
    audit,
    auth,
    banking,
    context,
    dashboard,
    exports,
    gateway_accounts,
    obligations,
    payments,
    privacy,
    services,
    team,
)
from admin.guards import current_staff, scoped, scoped_get_or_404, staff_required  # noqa: E402

__all__ = ["bp", "current_staff", "scoped", "scoped_get_or_404", "staff_required"]
