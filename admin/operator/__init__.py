"""The regional operator's pages: the onboarding pipeline, a municipality's history and
state changes, new municipalities, and the monthly and yearly reports with downloads.

Mounted under /admin/operator. Guarded by ``operator_required`` (admin/operator/guard.py):
the admin area's ``staff_required(operator)`` when it is present, else a placeholder."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("operator", __name__, url_prefix="/admin/operator", template_folder="templates")

from admin.operator import routes  # noqa: E402,F401
