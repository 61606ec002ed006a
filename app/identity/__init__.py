"""Citizen login through identity providers (Bank iD over OpenID Connect, NIA over SAML).

``init_identity(app)`` builds the provider registry from ``IDENTITY_PROVIDERS`` and the
``auth`` blueprint serves /prihlaseni, the callbacks, /saml/<name>/metadata and
/odhlaseni. The citizen session is separate from staff login (Flask-Login): it is one key
in the Flask session, read by ``current_citizen()``.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from app.identity.base import Identity, IdentityError
from app.identity.providers import IdentityRegistry
from app.identity.session import current_citizen

bp = Blueprint("auth", __name__)


def init_identity(app: Flask) -> None:
    registry = IdentityRegistry(app)
    app.extensions["identity"] = registry
    origins = list(app.config.get("CSP_FORM_ACTION_ORIGINS") or [])
    app.config["CSP_FORM_ACTION_ORIGINS"] = origins + [o for o in registry.origins() if o not in origins]

    @app.context_processor
    def _citizen_context():  # type: ignore[no-untyped-def]
        try:
            citizen = current_citizen()
        except Exception:  # noqa: BLE001 - an error page must render even when the database is down
            citizen = None
        return {"current_citizen": citizen, "identity_enabled": bool(app.extensions["identity"].providers)}


from app.identity import routes  # noqa: E402,F401

__all__ = ["Identity", "IdentityError", "bp", "current_citizen", "init_identity"]
