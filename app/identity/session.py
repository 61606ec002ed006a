"""The citizen's login in the Flask session, under keys of its own (staff use
Flask-Login; the two never share a key)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request, session

from app.db import db_session
from app.models import Citizen

CITIZEN_KEY = "citizen_id"
AUTH_KEY = "citizen_auth"  # {"provider": name, "id_token": for the provider's logout}
_CACHE = "portal.current_citizen"


def current_citizen() -> Citizen | None:
    if not has_request_context():
        return None
    # Cached per request (not on g: an app context may outlive one request).
    if _CACHE not in request.environ:
        citizen_id = session.get(CITIZEN_KEY)
        citizen = db_session.get(Citizen, citizen_id) if isinstance(citizen_id, int) else None
        if citizen is None and citizen_id is not None:
            # The account was erased (or never existed): forget the login.
            log_out_citizen()
        request.environ[_CACHE] = citizen
    return request.environ[_CACHE]


def citizen_in_session() -> bool:
    """Whether the session names a citizen (without loading them)."""
    return has_request_context() and session.get(CITIZEN_KEY) is not None


def log_in_session(citizen: Citizen, provider: str, id_token: str | None) -> None:
    """Mark the session as the citizen's. Staff keys (Flask-Login) are left alone; the
    signed cookie is re-issued with the new content, so nothing set before login can
    stand for the citizen."""
    for key in [k for k in session if k.startswith("_state_") or k.startswith("identity_")]:
        session.pop(key, None)
    session[CITIZEN_KEY] = citizen.id
    session[AUTH_KEY] = {"provider": provider, "id_token": id_token}
    request.environ[_CACHE] = citizen


def log_out_citizen() -> dict[str, Any]:
    """Forget the citizen; returns what the provider's logout needs."""
    auth = session.pop(AUTH_KEY, None) or {}
    session.pop(CITIZEN_KEY, None)
    for key in [k for k in session if k.startswith("_state_") or k.startswith("identity_")]:
        session.pop(key, None)
    request.environ.pop(_CACHE, None)
    return auth
