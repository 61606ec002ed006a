"""The citizen's own account: profile, payments across municipalities, open obligations,
consents, customer IDs they claim, and the GDPR export and erasure."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/ucet")

from app.account import routes  # noqa: E402,F401
