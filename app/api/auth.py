"""Who calls: the bearer key (scopes, municipality), the per-key rate limit key, the
body limit, and the audit row written for every call."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy import text, update

from app.api.errors import ApiError
from app.api.keys import CallerKey, bearer_secret, key_for_secret, note_key_use
from app.db import db_session, utcnow
from app.models import ApiKey, AuditLog
from app.models.api import as_utc

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_MAX_BODY = 8 * 1024 * 1024  # 10,000 obligations take about 2 MB
LAST_USE_RESOLUTION = timedelta(minutes=1)


def rate_limit_key() -> str:
    """The key's hash (no database read: the limiter runs before the view), else the address."""
    secret = bearer_secret(request.headers.get("Authorization"))
    if secret:
        return "apikey:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return "apiaddr:" + (request.remote_addr or "")


def rate_limit_value() -> str:
    return str(current_app.config.get("API_RATE_LIMIT") or "600/minute")


def authenticate() -> None:
    """Before every /api/v1 view: the body limit, then the key."""
    request.max_content_length = int(current_app.config.get("API_MAX_BODY_BYTES") or DEFAULT_MAX_BODY)
    if request.content_length is not None and request.content_length > request.max_content_length:
        raise ApiError(413, "body_too_large", f"The body is larger than {request.max_content_length} bytes.")
    if request.endpoint in ("api.openapi", "api.docs"):
        return
    secret = bearer_secret(request.headers.get("Authorization"))
    if secret is None:
        raise ApiError(401, "unauthenticated", "Send the API key as 'Authorization: Bearer <key>'.")
    key = key_for_secret(secret)
    if key is None:
        raise ApiError(401, "invalid_key", "The API key is unknown, revoked or expired.")
    g.api_key = key


def current_key() -> CallerKey:
    return cast(CallerKey, g.api_key)


def requires(scope: str) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if scope not in (current_key().scopes or []):
                raise ApiError(403, "insufficient_scope", f"The key lacks the '{scope}' scope.")
            # A response, not a dict: spectree would otherwise walk every value of the
            # answer looking for pydantic models (most of a long list's time).
            return current_app.make_response(view(*args, **kwargs))

        return cast(F, wrapped)

    return decorator


def audit_call(response: Any) -> Any:
    """After every call: one audit row (who, what, answer) and the key's last use."""
    if request.endpoint in ("api.openapi", "api.docs"):
        return response
    key: CallerKey | None = g.get("api_key")
    try:
        if response.status_code >= 400 or not db_session().is_active:
            db_session.rollback()  # nothing half-done by a refused call is kept
        now = utcnow()
        touched = key is not None and (key.last_used_at is None or as_utc(key.last_used_at) < now - LAST_USE_RESOLUTION)
        if key is not None and touched:
            # The last use to the minute: a busy key is not rewritten on every call.
            db_session.execute(
                update(ApiKey)
                .where(ApiKey.id == key.id)
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
        if db_session.get_bind().dialect.name == "postgresql":
            # The audit row needs no wait for the disk flush (a crash may lose the last
            # fraction of a second of API audit rows, never a payment): reads stay fast.
            db_session.execute(text("SET LOCAL synchronous_commit = off"))
        db_session.add(
            AuditLog(
                staff_id=None,
                staff_email=f"api:{key.prefix}" if key else "api:anonymous",
                action=f"api.{request.method.lower()}",
                object_type=g.get("api_object_type"),
                object_id=(g.get("api_object_id") or None),
                municipality_id=key.municipality_id if key else None,
                before=None,
                after={"path": request.path[:200], "status": response.status_code, "key": key.prefix if key else None},
                ip=(request.remote_addr or "")[:45],
                created_at=now,
            )
        )
        db_session.commit()
        if key is not None and touched:
            note_key_use(bearer_secret(request.headers.get("Authorization")) or "", key, now)
    except Exception:  # noqa: BLE001 - the answer is already made; never turn it into a 500
        log.exception("api audit row not written")
        db_session.rollback()
    return response


def note_object(object_type: str, object_id: object) -> None:
    g.api_object_type = object_type
    g.api_object_id = str(object_id)[:64]


def json_response(body: dict[str, Any], status: int = 200) -> ResponseReturnValue:
    return body, status
