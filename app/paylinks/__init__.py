"""Pay links: a signed ``/zaplatit/<token>`` that opens the pay page prefilled (service,
amount, payer, obligation and so its variable symbol), with an optional expiry; made in
the admin (a CSV of links for a whole payer list) and by the API."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("paylinks", __name__)

from app.paylinks import routes  # noqa: E402,F401  (views register on bp)

__all__ = ["bp"]
