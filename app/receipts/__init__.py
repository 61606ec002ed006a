"""Receipt links: the verify page and the PDF, behind an unguessable token."""

from flask import Blueprint

bp = Blueprint("receipts", __name__)

from app.receipts import routes  # noqa: E402,F401
