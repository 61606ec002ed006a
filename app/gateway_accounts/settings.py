"""An account's adapter settings, decrypted: what ``app.gateways`` builds an adapter from."""

from __future__ import annotations

from typing import Any

from app.gateway_accounts.crypto import decrypt_secrets
from app.gateway_accounts.kinds import KINDS, Kind
from app.models import GatewayAccount


def kind_of(account: GatewayAccount) -> Kind:
    return KINDS[account.gateway_name]


def account_settings(account: GatewayAccount) -> dict[str, Any]:
    """The adapter's settings (``GOPAY_CLIENT_SECRET``…) with the secrets decrypted. Never log it."""
    kind = kind_of(account)
    secrets = decrypt_secrets(account.secrets_encrypted)
    plain = account.settings or {}
    settings: dict[str, Any] = {}
    for f in kind.fields:
        value = secrets.get(f.name) if f.secret else plain.get(f.name)
        if value not in (None, ""):
            settings[f.setting] = value
    if kind.url_setting and not settings.get(kind.url_setting):
        settings[kind.url_setting] = kind.default_urls.get(account.mode, "")
    return settings


__all__ = ["account_settings"]
