"""The citizen's way from the home page to a paid fee."""

from flask import Blueprint

bp = Blueprint("checkout", __name__)

from app.checkout import routes  # noqa: E402,F401
