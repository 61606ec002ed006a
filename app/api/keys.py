"""API keys of a municipality: created with a high-entropy secret shown once, stored as
its SHA-256, checked on every call (revoked or expired keys are refused).

The key a call names is read from a per-process cache at most ``API_KEY_CACHE_SECONDS``
old (default 5; 0 turns it off): a busy agenda system's calls skip one query each. Expiry
is checked on every call; a key revoked in this process is dropped at once, one revoked
in another worker stops working there within that time. Only usable keys are cached."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.db import db_session, utcnow
from app.errors import DomainError
from app.models import API_SCOPES, ApiKey
from app.models.api import as_utc

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
    _cache.pop(key.secret_hash, None)


@dataclass(frozen=True)
class CallerKey:
    """What a call needs of its key (a plain value: it outlives the request in the cache)."""

    id: int
    municipality_id: int
    prefix: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    last_used_at: datetime | None

    def is_usable(self, now: datetime) -> bool:
        return self.expires_at is None or as_utc(self.expires_at) > as_utc(now)


# SHA-256 of the secret → (time.monotonic() when read, the key)
_cache: dict[str, tuple[float, CallerKey]] = {}


def key_for_secret(secret: str) -> CallerKey | None:
    """The usable key with this secret, else None (unknown, revoked or expired alike)."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    digest = hash_secret(secret)
    ttl = float(current_app.config.get("API_KEY_CACHE_SECONDS", 5))
    hit = _cache.get(digest)
    if hit is not None and time.monotonic() - hit[0] < ttl:
        key = hit[1]
    else:
        row = db_session.scalar(select(ApiKey).where(ApiKey.secret_hash == digest))
        if row is None or not row.is_usable(utcnow()):
            _cache.pop(digest, None)
            return None
        key = CallerKey(
            row.id, row.municipality_id, row.prefix, tuple(row.scopes or ()), row.expires_at, row.last_used_at
        )
        if ttl > 0:
            _cache[digest] = (time.monotonic(), key)
    return key if key.is_usable(utcnow()) else None


def note_key_use(secret: str, key: CallerKey, when: datetime) -> None:
    """The cached key's last use, once written to the database (see ``audit_call``)."""
    digest = hash_secret(secret)
    hit = _cache.get(digest)
    if hit is not None and hit[1].id == key.id:
        _cache[digest] = (hit[0], dataclasses.replace(hit[1], last_used_at=when))


def bearer_secret(header: str | None) -> str | None:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
