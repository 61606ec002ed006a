"""The regional operator's pages: the onboarding pipeline, a municipality's history and
state changes, new municipalities, and the monthly and yearly reports with downloads.

Mounted under /admin/operator; every view is guarded by ``operator_required`` (the admin
area's ``staff_required(operator)``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("operator", __name__, url_prefix="/admin/operator", template_folder="templates")

# One staff area: the operator's pages share the admin layout, so they get its context
# (the signed-in staff, the municipality in view, labels).
from admin.context import admin_context  # noqa: E402
from admin.operator import routes  # noqa: E402,F401

bp.context_processor(admin_context)
