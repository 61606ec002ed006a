"""Public legal texts: the terms and the privacy notice, current and past versions."""

from flask import Blueprint

bp = Blueprint("legal", __name__)

from app.legal import accessibility, routes  # noqa: E402,F401
