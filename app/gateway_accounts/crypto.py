"""Secrets at rest: MultiFernet from ``SECRET_ENCRYPTION_KEYS`` (comma-separated Fernet keys).

The first key encrypts, every key decrypts; rotating means putting a new key first, then
``flask secrets rotate`` (re-encrypts every stored secret with it), then dropping the old
key. Nothing here logs a value."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class SecretsUnavailable(RuntimeError):
    """No key configured, or a stored secret no configured key can read."""


def _keys() -> list[str]:
    raw = current_app.config.get("SECRET_ENCRYPTION_KEYS") or ""
    if isinstance(raw, (list, tuple)):
        return [str(k).strip() for k in raw if str(k).strip()]
    return [k.strip() for k in str(raw).split(",") if k.strip()]


def fernet() -> MultiFernet:
    keys = _keys()
    if not keys:
        raise SecretsUnavailable("SECRET_ENCRYPTION_KEYS is not set: gateway secrets cannot be stored or read")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except (ValueError, TypeError):
        raise SecretsUnavailable("SECRET_ENCRYPTION_KEYS holds a value that is not a Fernet key") from None


def encrypt_secrets(values: dict[str, str]) -> str:
    if not values:
        return ""
    return fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode("ascii")


def decrypt_secrets(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        data = json.loads(fernet().decrypt(token.encode("ascii")))
    except InvalidToken:
        raise SecretsUnavailable("a stored gateway secret cannot be decrypted with the configured keys") from None
    return data if isinstance(data, dict) else {}


def rotate_token(token: str) -> str:
    """The same secret encrypted with the first key."""
    if not token:
        return token
    try:
        return fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretsUnavailable("a stored gateway secret cannot be decrypted with the configured keys") from None
