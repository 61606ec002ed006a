"""API keys of a municipality: created with a high-entropy secret shown once, stored as
its SHA-256, checked on every call (revoked or expired keys are refused)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select

from app.db import db_session, utcnow
from app.errors import DomainError
from app.models import API_SCOPES, ApiKey

KEY_PREFIX = "pp_"


class ApiKeyError(DomainError):
    domain = "api_key"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_api_key(
    municipality_id: int, name: str, scopes: list[str], *, expires_at: datetime | None = None, created_by: str = ""
) -> tuple[ApiKey, str]:
    """A new key and its secret (the only time the secret exists in clear). Flushes."""
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ApiKeyError("name")
    scopes = [s for s in API_SCOPES if s in set(scopes)]
    if not scopes:
        raise ApiKeyError("scopes")
    if expires_at is not None and expires_at <= utcnow():
        raise ApiKeyError("expiry")
    prefix = KEY_PREFIX + secrets.token_hex(5)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        municipality_id=municipality_id,
        name=name,
        prefix=prefix,
        secret_hash=hash_secret(secret),
        scopes=scopes,
        expires_at=expires_at,
        created_by=created_by,
    )
    db_session.add(key)
    db_session.flush()
    return key, secret


def revoke_api_key(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db_session.flush()


def key_for_secret(secret: str) -> ApiKey | None:
    """The usable key with this secret, else None (unknown, revoked or expired alike)."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    key = db_session.scalar(select(ApiKey).where(ApiKey.secret_hash == hash_secret(secret)))
    if key is None or not key.is_usable(utcnow()):
        return None
    return key


def bearer_secret(header: str | None) -> str | None:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
