"""Public statistics and open data: the country at /statistiky and each region at
/kraj/<slug>/statistiky, with CSV and JSON of the same figures (CC BY 4.0)."""

from flask import Blueprint

bp = Blueprint("statistics", __name__)

from app.statistics import routes  # noqa: E402,F401
